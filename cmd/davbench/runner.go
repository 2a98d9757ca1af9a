package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// scenario is one measurement: its fixtures, what one operation is, and
// how many run at once.
type scenario struct {
	id, desc string
	conc     int    // workers, each with one request in flight
	unit     string // "req/s", "pairs/s" (ops per second) or "MB/s" (bytes per second)
	reqsOp   int    // HTTP requests per operation
	big      bool   // a large transfer: skipped with --big=false
	optIn    bool   // run only when named (or with --scenarios all)
	mount    bool   // also run through --mount-url
	ceiling  bool   // also run on the ceiling target (baseline.go's withCeiling)
	warmup   bool   // each worker does one unmeasured op first (opens its connection)
	fixtures []fixture
	// setup and teardown run on an owner target just before and after each
	// measured run (a mount target reads the owner's fixtures); either may
	// be nil.
	setup, teardown func(ctx context.Context, t *target) error
	// op performs one operation and returns the body bytes it moved.
	op func(ctx context.Context, t *target, w *worker) (int64, error)
}

// worker is the state of one of a scenario's concurrent loops.
type worker struct {
	id   int
	seq  int64     // operations this worker started
	flip bool      // MOVE: which way the file goes next
	lean *leanConn // small GETs: the worker's own connection (lean.go)
}

// limits bound every run in time and count.
type limits struct {
	duration time.Duration // measured time
	maxOps   int64         // most operations started
	grace    time.Duration // how long the last requests may run past duration
}

// result is one run of one scenario on one target.
type result struct {
	ops, errors, bytes int64
	elapsed            time.Duration
	hist               *histogram // latency of every operation, failed ones too
	firstErr           string
	rss                rssPeak // zero unless the target has a PID
}

// okOps is the number of operations that succeeded.
func (r *result) okOps() int64 { return r.ops - r.errors }

// rate is the throughput in the scenario's unit.
func (r *result) rate(unit string) float64 {
	s := r.elapsed.Seconds()
	if s <= 0 {
		return 0
	}
	if unit == "MB/s" {
		return float64(r.bytes) / 1e6 / s
	}
	return float64(r.okOps()) / s
}

// maxConsecutiveErrors stops a worker whose every request fails (a server
// gone away) instead of spinning until the deadline.
const maxConsecutiveErrors = 1000

// measure runs sc on t: conc workers loop until the duration is over or
// maxOps operations have started, each timing every operation into its own
// histogram. The elapsed time runs from the start until the last
// operation has finished, so a slow last request counts against the rate.
func measure(ctx context.Context, sc *scenario, t *target, lim limits) *result {
	res := &result{hist: new(histogram)}
	workers := make([]*worker, sc.conc)
	for i := range workers {
		workers[i] = &worker{id: i}
	}
	defer func() {
		for _, w := range workers {
			w.closeLean()
		}
	}()
	if sc.warmup {
		var wg sync.WaitGroup
		wctx, cancel := context.WithTimeout(ctx, lim.grace)
		for _, w := range workers {
			wg.Go(func() {
				_, _ = sc.op(wctx, t, w)
				w.seq++
			})
		}
		wg.Wait()
		cancel()
	}
	var sampler *rssSampler
	if t.pid > 0 {
		sampler = startRSS(t.pid)
	}

	start := time.Now()
	deadline := start.Add(lim.duration)
	rctx, cancel := context.WithDeadline(ctx, deadline.Add(lim.grace))
	defer cancel()
	var (
		started atomic.Int64
		mu      sync.Mutex
		wg      sync.WaitGroup
	)
	for _, w := range workers {
		wg.Go(func() {
			h := new(histogram)
			var ops, errs, bytes int64
			var firstErr error
			for consecutive := 0; consecutive < maxConsecutiveErrors && rctx.Err() == nil && time.Now().Before(deadline); w.seq++ {
				if started.Add(1) > lim.maxOps {
					break
				}
				t0 := time.Now()
				n, err := sc.op(rctx, t, w)
				h.record(time.Since(t0))
				ops++
				if err != nil {
					errs++
					consecutive++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				consecutive = 0
				bytes += n
			}
			mu.Lock()
			defer mu.Unlock()
			res.hist.merge(h)
			res.ops += ops
			res.errors += errs
			res.bytes += bytes
			if firstErr != nil && res.firstErr == "" {
				res.firstErr = firstErr.Error()
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if sampler != nil {
		res.rss = sampler.stop()
	}
	return res
}
