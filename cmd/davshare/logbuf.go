package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Why a buffer: every request writes one access-log line, and written
// straight to standard error that is one write(2) per request, a few per
// cent of a small request (perf, MOVE: ~5%). Lines at Info and below (the
// access log, routine events) are collected and written every
// logFlushEvery, when the buffer fills, and at exit; a line at Warn or
// above (a 5xx, a failure) is written at once, together with what came
// before it, so nothing that needs attention waits and the order stays.
// The price: after a crash that kills the process outright (not a panic in
// a handler, which is recovered and logged), the access lines of the last
// logFlushEvery may be missing.
const logFlushEvery = 200 * time.Millisecond

// logBuffer is a buffered, goroutine-safe writer with Flush.
type logBuffer struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newLogBuffer(w io.Writer) *logBuffer {
	return &logBuffer{w: bufio.NewWriterSize(w, 64<<10)}
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes out what is buffered.
func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// flushEvery flushes every d until ctx ends, then once more.
func (b *logBuffer) flushEvery(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			b.Flush()
			return
		case <-t.C:
			b.Flush()
		}
	}
}

// flushAtWarn is a slog.Handler that flushes its buffer after every record
// at Warn or above.
type flushAtWarn struct {
	slog.Handler
	buf *logBuffer
}

func (h flushAtWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.buf.Flush()
	}
	return err
}

func (h flushAtWarn) WithAttrs(as []slog.Attr) slog.Handler {
	return flushAtWarn{h.Handler.WithAttrs(as), h.buf}
}

func (h flushAtWarn) WithGroup(name string) slog.Handler {
	return flushAtWarn{h.Handler.WithGroup(name), h.buf}
}
