package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestChainKeepsWriterCapabilities: the access log and metrics wrapper must
// hand handlers a writer that still has io.ReaderFrom (so GET reaches
// sendfile) and http.Flusher, and that unwraps for http.ResponseController.
func TestChainKeepsWriterCapabilities(t *testing.T) {
	s := &Server{Options: Options{Metrics: NewMetrics(), BodyIdleTimeout: time.Second}, log: slog.New(slog.DiscardHandler)}
	h := s.recoverer(s.accessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("the writer lost io.ReaderFrom")
		}
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the writer lost http.Flusher")
		}
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("ResponseController through the chain: %v", err)
		}
		io.Copy(w, strings.NewReader("hello")) // through ReadFrom
	})))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Errorf("body %q", b)
	}
}

// TestBodyDeadlineClearedAfterBody: once the body has been read, the idle
// deadline must not linger: net/http's background read would hit it and
// cancel a request that is still working on its answer.
func TestBodyDeadlineClearedAfterBody(t *testing.T) {
	const idle = 200 * time.Millisecond
	s := &Server{Options: Options{BodyIdleTimeout: idle}, log: slog.New(slog.DiscardHandler)}
	h := s.accessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("reading the body: %v", err)
		}
		select {
		case <-r.Context().Done():
			t.Error("the request was cancelled after its body was read")
		case <-time.After(3 * idle): // a slow answer: fsync, a large listing
		}
		w.Write([]byte("done"))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader(strings.Repeat("b", 100000)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "done" {
		t.Errorf("status %d body %q", resp.StatusCode, b)
	}
}
