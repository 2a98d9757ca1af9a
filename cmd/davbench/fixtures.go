package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fixture is a file of size bytes at rel, or, when files > 0, a folder rel
// ("name/") holding files files of size bytes each.
type fixture struct {
	rel   string
	files int
	size  int64
}

func folderFixture(n int, size int64) fixture {
	return fixture{rel: fmt.Sprintf("dir-%d/", n), files: n, size: size}
}

func fileFixture(size int64) fixture {
	return fixture{rel: fmt.Sprintf("file-%d.bin", size), size: size}
}

// entryName is the name of the i-th file of a folder fixture.
func entryName(i int) string { return fmt.Sprintf("f%06d.txt", i) }

// ensureFixtures makes the fixtures on t, skipping whatever is already
// there with the right size: one PROPFIND Depth 1 on the folder (and one
// on each fixture folder) tells what exists, so a second run against the
// same server only checks.
func ensureFixtures(ctx context.Context, t *target, fxs []fixture, conc int, log io.Writer) error {
	top, err := t.listing(ctx, "")
	if err != nil {
		return fmt.Errorf("%s: listing %s: %w", t.name, t.base, err)
	}
	for _, fx := range fxs {
		start := time.Now()
		have := top[strings.TrimSuffix(fx.rel, "/")]
		var made int
		var err error
		if fx.files > 0 {
			made, err = ensureFolder(ctx, t, fx, have, conc)
		} else if have.collection || have.size != fx.size {
			made = 1
			err = putFile(ctx, t, fx.rel, fx.size)
		}
		if err != nil {
			return fmt.Errorf("%s: fixture %s: %w", t.name, t.url(fx.rel), err)
		}
		if made > 0 {
			el := time.Since(start)
			fmt.Fprintf(log, "%s: fixture %s: created %d file(s) in %.1fs (%.0f files/s)\n",
				t.name, fx.rel, made, el.Seconds(), float64(made)/el.Seconds())
		}
	}
	return nil
}

// ensureFolder creates fx's folder if need be and PUTs the files it lacks,
// conc at a time, stopping at the first error.
func ensureFolder(ctx context.Context, t *target, fx fixture, have entry, conc int) (int, error) {
	existing := map[string]entry{}
	if have.name != "" && !have.collection {
		return 0, errors.New("a file stands where the folder should be: delete it")
	}
	if have.collection {
		var err error
		if existing, err = t.listing(ctx, fx.rel); err != nil {
			return 0, err
		}
	} else if _, err := t.exchange(ctx, request{method: "MKCOL", rel: fx.rel}, nil, http.StatusCreated); err != nil {
		return 0, err
	}
	var missing []string
	for i := range fx.files {
		name := entryName(i)
		if e, ok := existing[name]; !ok || e.collection || e.size != fx.size {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, len(missing)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(missing) {
					return
				}
				if err := putFile(ctx, t, fx.rel+missing[i], fx.size); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	return len(missing), nil
}

// putFile uploads size bytes of the pattern to rel.
func putFile(ctx context.Context, t *target, rel string, size int64) error {
	_, err := t.exchange(ctx, request{method: "PUT", rel: rel, hasBody: true, bodySize: size},
		nil, http.StatusCreated, http.StatusNoContent, http.StatusOK)
	return err
}

// remove deletes rel, which may be missing.
func remove(ctx context.Context, t *target, rel string) error {
	_, err := t.exchange(ctx, request{method: "DELETE", rel: rel}, nil,
		http.StatusNoContent, http.StatusOK, http.StatusNotFound)
	return err
}

// freshFolder replaces whatever is at rel with an empty folder.
func freshFolder(ctx context.Context, t *target, rel string) error {
	if err := remove(ctx, t, rel); err != nil {
		return err
	}
	_, err := t.exchange(ctx, request{method: "MKCOL", rel: rel}, nil, http.StatusCreated)
	return err
}
