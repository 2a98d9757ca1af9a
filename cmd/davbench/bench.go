package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

// bench connects to the targets, makes the fixtures, runs the rounds and
// writes the report.
func bench(ctx context.Context, cfg config, stdout, stderr io.Writer) (err error) {
	scs, err := selectScenarios(cfg)
	if err != nil {
		return err
	}
	var owner, mount, base, ceiling *target
	var targets []*target
	defer func() {
		for _, t := range targets {
			t.close()
		}
	}()
	if cfg.url != "" {
		if owner, err = remoteTarget(ctx, cfg, "davshare", cfg.url, cfg.user, cfg.password, true); err != nil {
			return err
		}
		targets = append(targets, owner)
	}
	if cfg.mountURL != "" {
		if mount, err = remoteTarget(ctx, cfg, "mount", cfg.mountURL, cfg.mountUser, cfg.mountPassword, false); err != nil {
			return err
		}
		mount.owner = false
		targets = append(targets, mount)
	}
	if cfg.baseline {
		srv, err := startBaseline(cfg.baselineProcess)
		if err != nil {
			return err
		}
		defer func() {
			if serr := srv.stop(); serr != nil {
				fmt.Fprintf(stderr, "davbench: baseline: %v\n", serr)
			}
		}()
		if base, err = newTarget("baseline", srv.url, "", "", false); err != nil {
			return err
		}
		base.pid = srv.pid
		targets = append(targets, base)
		if err := base.probe(ctx, false); err != nil {
			return err
		}
		if cfg.ceiling && slices.ContainsFunc(scs, func(sc *scenario) bool { return sc.ceiling }) {
			if ceiling, err = newTarget("ceiling", strings.TrimSuffix(srv.url, "/")+ceilingPrefix, "", "", false); err != nil {
				return err
			}
			ceiling.pid, ceiling.owner = srv.pid, false
			targets = append(targets, ceiling)
		}
	}

	var fxs []fixture
	for _, sc := range scs {
		for _, fx := range sc.fixtures {
			if !slices.Contains(fxs, fx) {
				fxs = append(fxs, fx)
			}
		}
	}
	for _, t := range targets {
		if t.owner {
			if err := ensureFixtures(ctx, t, fxs, cfg.fixtureConc, stderr); err != nil {
				return err
			}
		}
	}
	if mount != nil {
		if err := checkMount(ctx, mount, scs); err != nil {
			return err
		}
	}

	lim := limits{duration: cfg.duration, maxOps: cfg.maxRequests, grace: cfg.timeout}
	runs := map[runKey][]*result{}
	for round := range cfg.rounds {
		for _, sc := range scs {
			order := slices.DeleteFunc(slices.Clone(targets), func(t *target) bool {
				return t == mount && !sc.mount || t == ceiling && !sc.ceiling
			})
			if round%2 == 1 {
				slices.Reverse(order) // so that neither target always runs first
			}
			for _, t := range order {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("interrupted: %w", err)
				}
				ownerOf := t
				switch t {
				case mount:
					ownerOf = owner
				case ceiling:
					ownerOf = base
				}
				res := runOnce(ctx, sc, t, ownerOf, lim, stderr)
				runs[runKey{sc.id, t.name}] = append(runs[runKey{sc.id, t.name}], res)
				fmt.Fprintf(stderr, "round %d/%d %-14s %-9s %s\n", round+1, cfg.rounds, sc.id, t.name, progressLine(sc, res))
			}
		}
	}

	rep := buildReport(cfg, scs, targets, runs)
	rep.writeTable(stdout)
	jsonOut := stdout
	if cfg.jsonPath != "" {
		f, err := os.Create(cfg.jsonPath)
		if err != nil {
			return err
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}()
		jsonOut = f
	} else {
		fmt.Fprintln(stdout)
	}
	if err := rep.writeJSON(jsonOut); err != nil {
		return err
	}
	if n := rep.failedRows(); n > 0 {
		fmt.Fprintf(stderr, "davbench: %d of %d rows had errors (see first_error in the JSON)\n", n, len(rep.rows))
	}
	return nil
}

type runKey struct{ scenario, target string }

// remoteTarget checks and probes --url or --mount-url.
func remoteTarget(ctx context.Context, cfg config, name, rawURL, user, password string, create bool) (*target, error) {
	t, err := newTarget(name, rawURL, user, password, cfg.insecure)
	if err != nil {
		return nil, err
	}
	if !cfg.allowRemote {
		if err := checkLoopback(ctx, t.base); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	t.pid = cfg.serverPID
	if err := t.probe(ctx, create); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// checkMount makes sure the mount URL shows the fixtures made through the
// owner URL: a wrong --mount-url would otherwise measure 404s.
func checkMount(ctx context.Context, mount *target, scs []*scenario) error {
	for _, sc := range scs {
		if !sc.mount {
			continue
		}
		for _, fx := range sc.fixtures {
			if _, err := mount.propfindCount(ctx, fx.rel, "0", 1); err != nil {
				return fmt.Errorf("mount: %v: is --mount-url a view of the --url folder?", err)
			}
		}
	}
	return nil
}

// runOnce runs one scenario on one target between its setup and teardown
// (done on the owner's side). A failed setup is reported as a run with
// one error rather than ending the benchmark.
func runOnce(ctx context.Context, sc *scenario, t, owner *target, lim limits, stderr io.Writer) *result {
	prep := func(f func(context.Context, *target) error) error {
		if f == nil {
			return nil
		}
		pctx, cancel := context.WithTimeout(ctx, lim.grace)
		defer cancel()
		return f(pctx, owner)
	}
	if err := prep(sc.setup); err != nil {
		return &result{ops: 1, errors: 1, hist: new(histogram), firstErr: "setup: " + err.Error()}
	}
	// Every run starts with nothing left to write back: otherwise a server
	// that fsyncs pays, in its fsyncs, for what the run before it left
	// dirty (the baseline never syncs).
	syscall.Sync()
	res := measure(ctx, sc, t, lim)
	if err := prep(sc.teardown); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "davbench: %s on %s: teardown: %v\n", sc.id, t.name, err)
	}
	return res
}

func progressLine(sc *scenario, r *result) string {
	s := fmt.Sprintf("%s %s, p50 %s, p99 %s, %d ops, %d errors in %.1fs",
		fmtRate(r.rate(sc.unit)), sc.unit, fmtDur(r.hist.quantile(0.50)), fmtDur(r.hist.quantile(0.99)),
		r.ops, r.errors, r.elapsed.Seconds())
	if r.rss.peak > 0 {
		s += fmt.Sprintf(", server peak RSS %s", fmtMB(r.rss.peak))
	}
	if r.firstErr != "" {
		s += " (first error: " + r.firstErr + ")"
	}
	return s
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
}

func fmtRate(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func fmtMB(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
