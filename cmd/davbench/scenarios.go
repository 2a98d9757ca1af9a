package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// scenarios lists every scenario in the order they run.
func scenarios(sz sizes) []*scenario {
	small := fileFixture(sz.small)
	getBig := fileFixture(sz.getBig)
	putBigRel := fmt.Sprintf("upload-%d.bin", sz.putBig)
	putDir := "put-" + sizeLabel(sz.small) + "/"
	const mkcolDir, moveDir, moveConc = "mkcol/", "move/", 8

	propfindDir := func(n, conc int, optIn bool) *scenario {
		fx := folderFixture(n, sz.entry)
		return &scenario{
			id:       "propfind-" + countLabel(n),
			desc:     fmt.Sprintf("PROPFIND Depth 1, folder of %d files, 5 props, c=%d", n, conc),
			conc:     conc,
			unit:     "req/s",
			reqsOp:   1,
			optIn:    optIn,
			mount:    !optIn,
			warmup:   !optIn,
			fixtures: []fixture{fx},
			op: func(ctx context.Context, t *target, _ *worker) (int64, error) {
				return t.propfindCount(ctx, fx.rel, "1", n+1)
			},
		}
	}
	// get measures GETs of fx; lean ones go through leanGet, the others
	// through net/http.
	get := func(fx fixture, conc int, unit string, big, lean bool) *scenario {
		return &scenario{
			id:       "get-" + sizeLabel(fx.size),
			desc:     fmt.Sprintf("GET %s file, c=%d, keep-alive", sizeText(fx.size), conc),
			conc:     conc,
			unit:     unit,
			reqsOp:   1,
			big:      big,
			mount:    true,
			ceiling:  !big,
			warmup:   !big,
			fixtures: []fixture{fx},
			op: func(ctx context.Context, t *target, w *worker) (int64, error) {
				var n int64
				var err error
				if lean {
					n, err = t.leanGet(ctx, w, fx.rel)
				} else {
					n, err = t.exchange(ctx, request{method: "GET", rel: fx.rel}, nil, http.StatusOK)
				}
				if err == nil && n != fx.size {
					err = fmt.Errorf("GET %s: %d bytes, want %d", t.url(fx.rel), n, fx.size)
				}
				return n, err
			},
		}
	}
	put := func(ctx context.Context, t *target, rel string, size int64) (int64, error) {
		return size, putFile(ctx, t, rel, size)
	}

	return []*scenario{
		propfindDir(sz.dirLarge, 1, false),
		propfindDir(sz.dirMedium, 8, false),
		{
			id:       "propfind-file",
			desc:     fmt.Sprintf("PROPFIND Depth 0 on a %s file, 5 props, c=8", sizeText(sz.small)),
			conc:     8,
			unit:     "req/s",
			reqsOp:   1,
			mount:    true,
			warmup:   true,
			fixtures: []fixture{small},
			op: func(ctx context.Context, t *target, _ *worker) (int64, error) {
				return t.propfindCount(ctx, small.rel, "0", 1)
			},
		},
		get(small, 64, "req/s", false, true),
		get(getBig, 1, "MB/s", true, false),
		{
			id:       "put-" + sizeLabel(sz.putBig),
			desc:     fmt.Sprintf("PUT %s (overwriting), streamed, c=1", sizeText(sz.putBig)),
			conc:     1,
			unit:     "MB/s",
			reqsOp:   1,
			big:      true,
			setup:    func(ctx context.Context, t *target) error { return remove(ctx, t, putBigRel) },
			teardown: func(ctx context.Context, t *target) error { return remove(ctx, t, putBigRel) },
			op: func(ctx context.Context, t *target, _ *worker) (int64, error) {
				return put(ctx, t, putBigRel, sz.putBig)
			},
		},
		{
			id:       "put-" + sizeLabel(sz.small),
			desc:     fmt.Sprintf("PUT %s new files, c=8", sizeText(sz.small)),
			conc:     8,
			unit:     "req/s",
			reqsOp:   1,
			warmup:   true,
			setup:    func(ctx context.Context, t *target) error { return freshFolder(ctx, t, putDir) },
			teardown: func(ctx context.Context, t *target) error { return remove(ctx, t, putDir) },
			op: func(ctx context.Context, t *target, w *worker) (int64, error) {
				return put(ctx, t, fmt.Sprintf("%sw%02d-%d.bin", putDir, w.id, w.seq), sz.small)
			},
		},
		{
			id:       "mkcol-delete",
			desc:     "MKCOL then DELETE of a new folder, c=8 (one op = both)",
			conc:     8,
			unit:     "pairs/s",
			reqsOp:   2,
			warmup:   true,
			setup:    func(ctx context.Context, t *target) error { return freshFolder(ctx, t, mkcolDir) },
			teardown: func(ctx context.Context, t *target) error { return remove(ctx, t, mkcolDir) },
			op: func(ctx context.Context, t *target, w *worker) (int64, error) {
				rel := fmt.Sprintf("%sw%02d-%d/", mkcolDir, w.id, w.seq)
				if _, err := t.exchange(ctx, request{method: "MKCOL", rel: rel}, nil, http.StatusCreated); err != nil {
					return 0, err
				}
				_, err := t.exchange(ctx, request{method: "DELETE", rel: rel}, nil, http.StatusNoContent, http.StatusOK)
				return 0, err
			},
		},
		{
			id:     "move",
			desc:   "MOVE a file to a new name and back, c=8 (one file per worker)",
			conc:   moveConc,
			unit:   "req/s",
			reqsOp: 1,
			warmup: true,
			setup: func(ctx context.Context, t *target) error {
				if err := freshFolder(ctx, t, moveDir); err != nil {
					return err
				}
				for i := range moveConc {
					if err := putFile(ctx, t, moveName(moveDir, i, false), sz.entry); err != nil {
						return err
					}
				}
				return nil
			},
			teardown: func(ctx context.Context, t *target) error { return remove(ctx, t, moveDir) },
			op: func(ctx context.Context, t *target, w *worker) (int64, error) {
				from, to := moveName(moveDir, w.id, w.flip), moveName(moveDir, w.id, !w.flip)
				_, err := t.exchange(ctx, request{method: "MOVE", rel: from, header: map[string]string{
					"Destination": t.url(to),
					"Overwrite":   "F",
				}}, nil, http.StatusCreated, http.StatusNoContent)
				if err == nil {
					w.flip = !w.flip
				}
				return 0, err
			},
		},
		propfindDir(sz.dirHuge, 1, true),
	}
}

// moveName is worker i's file in the MOVE scenario: its "a" or "b" name.
func moveName(dir string, i int, b bool) string {
	if b {
		return fmt.Sprintf("%sw%02d-b.txt", dir, i)
	}
	return fmt.Sprintf("%sw%02d-a.txt", dir, i)
}

// countLabel writes 10000 as "10k"; counts that are not whole thousands
// stay as they are.
func countLabel(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// sizeParts splits n into a whole number of MiB or KiB where it is one.
func sizeParts(n int64) (int64, string) {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return n >> 20, "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return n >> 10, "KiB"
	}
	return n, "B"
}

// sizeLabel writes 4096 as "4k" and 64 MiB as "64m"; other sizes stay in
// bytes.
func sizeLabel(n int64) string {
	v, unit := sizeParts(n)
	if unit == "B" {
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%d%s", v, strings.ToLower(unit[:1]))
}

// sizeText writes 4096 as "4 KiB".
func sizeText(n int64) string {
	v, unit := sizeParts(n)
	return fmt.Sprintf("%d %s", v, unit)
}
