package main

import (
	"io"
	"math/rand/v2"
)

// pattern is the content of every file davbench writes: a fixed 64 KiB of
// pseudo-random bytes, repeated. Uploads of any size stream from it, so
// the client never holds a buffer of the upload's size.
var pattern = func() []byte {
	b := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(0xdab, 0xbe4c))
	for i := 0; i < len(b); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}()

// patternReader yields the first n bytes of the endless pattern.
type patternReader struct {
	left int64
	off  int
}

func newPattern(n int64) *patternReader { return &patternReader{left: n} }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], pattern[r.off:])
		r.off = (r.off + c) % len(pattern)
		n += c
	}
	r.left -= int64(n)
	return n, nil
}

// WriteTo writes the rest in pattern-sized pieces, without a copy into an
// intermediate buffer when io.Copy is handed the reader directly.
func (r *patternReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.left > 0 {
		chunk := pattern[r.off:]
		if int64(len(chunk)) > r.left {
			chunk = chunk[:r.left]
		}
		n, err := w.Write(chunk)
		total += int64(n)
		r.left -= int64(n)
		r.off = (r.off + n) % len(pattern)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
