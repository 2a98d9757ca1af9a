package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	dsfs "github.com/davshare/davshare/fs"
)

// DefaultBodyIdleTimeout is Options.BodyIdleTimeout's default.
const DefaultBodyIdleTimeout = time.Minute

// Why an idle deadline and not http.Server.ReadTimeout: ReadTimeout bounds
// the whole request, body included, so any value that stops a client
// dribbling a body also cuts a large upload over a slow link. Instead, each
// read of the body must receive something within BodyIdleTimeout: a client
// that makes progress is never cut, one that stalls (or announced more bytes
// than it sends, and waits) loses the connection after BodyIdleTimeout, and
// its upload is discarded, leaving the old content (fs.Namespace.Put writes
// to a temporary file). Headers are bounded by http.Server.ReadHeaderTimeout,
// idle keep-alive connections by IdleTimeout.
//
// The deadline is set with http.ResponseController, which works for HTTP/1
// connections and HTTP/2 streams alike, and is cleared as soon as the body
// has been read to its end: net/http then reads the connection in the
// background to notice a client that goes away, and a deadline left behind
// would cancel a request that is still writing its response.

// watchedBody wraps a request body: it keeps the idle deadline, counts the
// bytes read, and turns read failures into errors the one error mapping
// understands.
type watchedBody struct {
	rc   io.ReadCloser
	ctl  *http.ResponseController
	idle time.Duration

	n       atomic.Int64 // bytes read
	armedAt time.Time    // when the deadline was last pushed back
	ended   bool         // the body has been read to its end or failed
	stalled atomic.Bool  // the idle deadline expired
}

// watchBody replaces r.Body (when there is one) with a watchedBody.
func (s *Server) watchBody(w http.ResponseWriter, r *http.Request) *watchedBody {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b := &watchedBody{rc: r.Body, ctl: http.NewResponseController(w), idle: s.BodyIdleTimeout}
	r.Body = b
	return b
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if !b.ended {
		// Push the deadline back at most every idle/4: the timeout that
		// applies is between 3/4 of idle and idle, for a timer change per
		// many reads rather than per read.
		if now := time.Now(); now.Sub(b.armedAt) > b.idle/4 {
			b.armedAt = now
			b.ctl.SetReadDeadline(now.Add(b.idle)) // ErrNotSupported: no deadline, as before
		}
	}
	n, err := b.rc.Read(p)
	b.n.Add(int64(n))
	if err != nil && !b.ended {
		b.ended = true
		if err == io.EOF {
			b.ctl.SetReadDeadline(time.Time{})
		}
		// After a failure the deadline stays: net/http reads what is left
		// of the body after the handler, and must not wait for ever on a
		// client that stalls.
	}
	switch {
	case err == nil, err == io.EOF:
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.stalled.Store(true)
		err = fmt.Errorf("server: request body stalled for %v: %w", b.idle, err) // 408 in errorStatus
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The client sent less than its Content-Length and closed.
		err = fmt.Errorf("%w: %w", dsfs.ErrIncomplete, err)
	}
	return n, err
}

func (b *watchedBody) Close() error { return b.rc.Close() }

// bytes returns how many bytes were read; zero for a nil body.
func (b *watchedBody) bytes() int64 {
	if b == nil {
		return 0
	}
	return b.n.Load()
}

// finish runs after the handler. When the handler left part of the body
// unread (a 401, a 413), net/http reads up to 256 KiB of it to keep the
// connection; the idle deadline bounds that too. When the body stalled and
// the handler, seeing its context-like error, wrote nothing, finish answers
// 408 Request Timeout: without it, net/http would answer 200 to an upload
// that was discarded. (PUT answers a stalled upload itself: errorStatus
// maps the deadline to 408.)
func (b *watchedBody) finish(sw *statusWriter) {
	if b == nil {
		return
	}
	if !b.ended {
		b.ctl.SetReadDeadline(time.Now().Add(b.idle))
	}
	if !b.stalled.Load() || sw.status != 0 {
		return
	}
	sw.Header().Set("Connection", "close")
	http.Error(sw, "request body stalled", http.StatusRequestTimeout)
}
