package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// rssPeak is what was seen of a server's resident memory during a run, in
// bytes; zero when unknown.
type rssPeak struct {
	before int64 // VmRSS when the run started
	peak   int64 // the larger of the sampled VmRSS maximum and VmHWM after a reset
}

// rssSampler polls /proc/PID/status while a scenario runs. Before it
// starts it resets the process's high-water mark (writing 5 to
// /proc/PID/clear_refs, Linux ≥ 4.0, allowed for our own user's
// processes), so VmHWM afterwards is the peak of this run alone, including
// spikes between two samples; when the reset is refused the sampled
// maximum of VmRSS stands alone.
type rssSampler struct {
	pid      int
	hwmReset bool
	done     chan struct{}
	out      chan rssPeak
}

const rssInterval = 10 * time.Millisecond

func startRSS(pid int) *rssSampler {
	s := &rssSampler{pid: pid, done: make(chan struct{}), out: make(chan rssPeak, 1)}
	s.hwmReset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	first, _ := readStatus(pid)
	go func() {
		p := rssPeak{before: first.rss, peak: first.rss}
		tick := time.NewTicker(rssInterval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if st, err := readStatus(pid); err == nil {
					p.peak = max(p.peak, st.rss)
				}
			case <-s.done:
				if st, err := readStatus(pid); err == nil {
					p.peak = max(p.peak, st.rss)
					if s.hwmReset {
						p.peak = max(p.peak, st.hwm)
					}
				}
				s.out <- p
				return
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() rssPeak {
	close(s.done)
	return <-s.out
}

type procStatus struct{ rss, hwm int64 } // bytes

// readStatus reads VmRSS and VmHWM from /proc/PID/status.
func readStatus(pid int) (procStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStatus{}, err
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (procStatus, error) {
	var st procStatus
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmRSS":
			dst = &st.rss
		case "VmHWM":
			dst = &st.hwm
		default:
			continue
		}
		f := bytes.Fields(val) // "12345", "kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			return st, fmt.Errorf("/proc status: %s: unexpected %q", key, val)
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return st, fmt.Errorf("/proc status: %s: %v", key, err)
		}
		*dst = kb << 10
		seen++
	}
	if seen < 2 {
		return st, fmt.Errorf("/proc status: no VmRSS and VmHWM (a kernel thread or a zombie?)")
	}
	return st, nil
}
