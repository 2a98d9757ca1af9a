package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"
)

// report is the outcome of all rounds: one row per scenario and target.
type report struct {
	cfg      config
	scs      []*scenario
	targets  []*target
	rows     []*row
	finished time.Time
}

// row aggregates the rounds of one scenario on one target: the rate is the
// median of the rounds' rates, the percentiles come from the merged
// histograms, and each ratio is the median of the per-round ratios (the
// two runs of a round ran back to back, so they saw the same machine).
type row struct {
	sc                  *scenario
	t                   *target
	runs                []*result
	ops, errors, bytes  int64
	elapsed             time.Duration
	hist                *histogram
	rate                float64
	vsBaseline, vsOwner float64 // NaN: no such comparison
	rssBefore, rssPeak  int64   // 0: not sampled
	firstErr            string
}

func buildReport(cfg config, scs []*scenario, targets []*target, runs map[runKey][]*result) *report {
	rep := &report{cfg: cfg, scs: scs, targets: targets, finished: time.Now()}
	for _, sc := range scs {
		for _, t := range targets {
			rs := runs[runKey{sc.id, t.name}]
			if len(rs) == 0 {
				continue
			}
			r := &row{sc: sc, t: t, runs: rs, hist: new(histogram), vsBaseline: math.NaN(), vsOwner: math.NaN()}
			rates := make([]float64, len(rs))
			for i, res := range rs {
				r.ops += res.ops
				r.errors += res.errors
				r.bytes += res.bytes
				r.elapsed += res.elapsed
				r.hist.merge(res.hist)
				rates[i] = res.rate(sc.unit)
				if res.rss.peak > r.rssPeak {
					r.rssPeak = res.rss.peak
				}
				if res.rss.before > 0 && (r.rssBefore == 0 || res.rss.before < r.rssBefore) {
					r.rssBefore = res.rss.before
				}
				if r.firstErr == "" {
					r.firstErr = res.firstErr
				}
			}
			r.rate = median(rates)
			if t.name != "baseline" {
				r.vsBaseline = ratioOf(rs, runs[runKey{sc.id, "baseline"}], sc.unit)
			}
			if t.name == "mount" {
				r.vsOwner = ratioOf(rs, runs[runKey{sc.id, "davshare"}], sc.unit)
			}
			rep.rows = append(rep.rows, r)
		}
	}
	return rep
}

// ratioOf is the median over rounds of a's rate divided by b's; NaN when b
// did not run or had a zero rate in every round.
func ratioOf(a, b []*result, unit string) float64 {
	var ratios []float64
	for i := range min(len(a), len(b)) {
		if d := b[i].rate(unit); d > 0 {
			ratios = append(ratios, a[i].rate(unit)/d)
		}
	}
	if len(ratios) == 0 {
		return math.NaN()
	}
	return median(ratios)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func (rep *report) failedRows() int {
	n := 0
	for _, r := range rep.rows {
		if r.errors > 0 {
			n++
		}
	}
	return n
}

func (rep *report) writeTable(w io.Writer) {
	fmt.Fprintf(w, "davbench: %d round(s) of %v per scenario and target, GOMAXPROCS=%d, %s, finished %s\n",
		rep.cfg.rounds, rep.cfg.duration, runtime.GOMAXPROCS(0), runtime.Version(), rep.finished.Format(time.RFC3339))
	for _, t := range rep.targets {
		where := ""
		switch {
		case t.pid > 0:
			where = fmt.Sprintf(" (server PID %d)", t.pid)
		case t.name == "baseline":
			where = " (in davbench's process)"
		}
		fmt.Fprintf(w, "  %-9s %s%s\n", t.name, t.base, where)
	}
	fmt.Fprintln(w)
	for _, sc := range rep.scs {
		fmt.Fprintf(w, "  %-15s %s\n", sc.id, sc.desc)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tTARGET\tC\tOPS\tERRORS\tRATE\tUNIT\tP50\tP99\tPEAK RSS\tVS BASELINE\tVS OWNER")
	for _, r := range rep.rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.sc.id, r.t.name, r.sc.conc, r.ops, r.errors, fmtRate(r.rate), r.sc.unit,
			fmtDur(r.hist.quantile(0.50)), fmtDur(r.hist.quantile(0.99)),
			orDash(r.rssPeak > 0, func() string { return fmtMB(r.rssPeak) }),
			fmtRatio(r.vsBaseline), fmtRatio(r.vsOwner))
	}
	tw.Flush()
	for _, r := range rep.rows {
		if r.firstErr != "" {
			fmt.Fprintf(w, "  %s on %s: %d errors, first: %s\n", r.sc.id, r.t.name, r.errors, r.firstErr)
		}
	}
}

func orDash(ok bool, f func() string) string {
	if !ok {
		return "-"
	}
	return f()
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}

// jsonRow is one line of the JSON output.
type jsonRow struct {
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	Target          string   `json:"target"`
	URL             string   `json:"url"`
	ServerPID       int      `json:"server_pid,omitempty"` // whose RSS was sampled
	Concurrency     int      `json:"concurrency"`
	Rounds          int      `json:"rounds"`
	Seconds         float64  `json:"seconds"` // measured time, all rounds
	Ops             int64    `json:"ops"`
	Requests        int64    `json:"requests"` // HTTP requests: ops × requests per op
	Errors          int64    `json:"errors"`
	Bytes           int64    `json:"bytes"` // response bodies read (uploads: bodies sent)
	Unit            string   `json:"unit"`
	Rate            float64  `json:"rate"`
	ReqPerS         *float64 `json:"req_per_s,omitempty"`
	MBPerS          *float64 `json:"mb_per_s,omitempty"`
	P50ms           float64  `json:"p50_ms"`
	P99ms           float64  `json:"p99_ms"`
	VsBaseline      *float64 `json:"ratio_to_baseline,omitempty"`
	VsOwner         *float64 `json:"ratio_to_owner,omitempty"`
	ServerRSSMB     *float64 `json:"server_rss_before_mb,omitempty"`
	ServerPeakRSSMB *float64 `json:"server_peak_rss_mb,omitempty"`
	FirstError      string   `json:"first_error,omitempty"`
}

func (rep *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, r := range rep.rows {
		j := jsonRow{
			Name:        r.sc.id,
			Description: r.sc.desc,
			Target:      r.t.name,
			URL:         r.t.base,
			ServerPID:   r.t.pid,
			Concurrency: r.sc.conc,
			Rounds:      len(r.runs),
			Seconds:     round3(r.elapsed.Seconds()),
			Ops:         r.ops,
			Requests:    r.ops * int64(r.sc.reqsOp),
			Errors:      r.errors,
			Bytes:       r.bytes,
			Unit:        r.sc.unit,
			Rate:        round3(r.rate),
			P50ms:       round3(float64(r.hist.quantile(0.50)) / 1e6),
			P99ms:       round3(float64(r.hist.quantile(0.99)) / 1e6),
			VsBaseline:  optional(r.vsBaseline),
			VsOwner:     optional(r.vsOwner),
			FirstError:  r.firstErr,
		}
		if r.sc.unit == "MB/s" {
			j.MBPerS = &j.Rate
		} else if r.sc.reqsOp == 1 {
			j.ReqPerS = &j.Rate
		} else {
			j.ReqPerS = optional(r.rate * float64(r.sc.reqsOp))
		}
		if r.rssPeak > 0 {
			j.ServerRSSMB = optional(float64(r.rssBefore) / 1e6)
			j.ServerPeakRSSMB = optional(float64(r.rssPeak) / 1e6)
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

func optional(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	v = round3(v)
	return &v
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
