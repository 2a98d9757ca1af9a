package main

import (
	"math/bits"
	"time"
)

// histogram records latencies in fixed memory, HDR-style: exact below
// 2^subBits ns, above that 2^subBits buckets per power of two, so a
// percentile is off by at most 1/2^(subBits+1) (1.6%) of its value
// whatever the request rate. One histogram is 16 KiB; each worker has its
// own, merged when the scenario ends.
type histogram struct {
	counts   [64 << subBits]uint64
	n        uint64
	min, max int64
}

const subBits = 5

func bucketOf(v int64) int {
	if v < 1<<subBits {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - 1 // top bit, ≥ subBits
	m := int(v>>(e-subBits)) & (1<<subBits - 1)
	return (e-subBits+1)<<subBits | m
}

// bucketMid is the middle of bucket i's value range.
func bucketMid(i int) int64 {
	k, m := i>>subBits, int64(i&(1<<subBits-1))
	if k == 0 {
		return m
	}
	lo := (1<<subBits + m) << (k - 1)
	return lo + (int64(1)<<(k-1))/2
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.counts[bucketOf(v)]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile is the q-quantile (0 < q ≤ 1), clamped to the recorded range;
// 0 when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketMid(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}
