package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// logInfo travels in the request context so that handlers deeper in the
// chain can name the user in the access log line.
type logInfo struct{ user string }

type logInfoKey struct{}

func setLogUser(ctx context.Context, user string) {
	if li, ok := ctx.Value(logInfoKey{}).(*logInfo); ok {
		li.user = user
	}
}

// statusWriter records the status and size of a response. It keeps
// io.ReaderFrom so that GET still reaches sendfile.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Handler returns the full chain: recover, access log (with metrics and the
// request body's idle deadline, body.go), router.
func (s *Server) Handler() http.Handler {
	return s.recoverer(s.accessLog(s))
}

// accessLog writes one line per request (style.md §24).
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		li := &logInfo{}
		sw := &statusWriter{ResponseWriter: w}
		// The body is replaced on the handler's copy of the request only:
		// net/http looks at its own (Expect: 100-continue, keep-alive).
		hr := r.WithContext(context.WithValue(r.Context(), logInfoKey{}, li))
		body := s.watchBody(w, hr)
		next.ServeHTTP(sw, hr)
		body.finish(sw)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.Metrics.observe(r, sw.status, body.bytes(), sw.bytes, time.Since(start))
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn // a server failure is written out at once (cmd/davshare logbuf.go)
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("user", li.user),
		)
	})
}

// recoverer turns a panic into a 500 and a log line instead of a dropped
// connection; http.ErrAbortHandler keeps its meaning.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
