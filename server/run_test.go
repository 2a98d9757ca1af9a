package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davshare/davshare/server"
)

// TestRunWaitsForCutOffHandlers: when the grace period ends with an upload
// still stalled, Run cuts its connection off and returns only once the
// handler has seen the cut and cleaned up (an upload removes its temporary
// file then), since the process exits right after Run. Without the wait,
// a cut-off upload's temporary file was sometimes left behind
// (e2e TestShutdownTimeout).
func TestRunWaitsForCutOffHandlers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	var cleaned atomic.Bool
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		io.Copy(io.Discard, r.Body)        // stalls until the connection is cut
		time.Sleep(200 * time.Millisecond) // the cleanup after the cut
		cleaned.Store(true)
	})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, srv, func() error { return srv.Serve(ln) }, 100*time.Millisecond) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nfirst bytes")
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the upload never reached its handler")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, server.ErrShutdownForced) {
			t.Fatalf("Run: %v, want ErrShutdownForced", err)
		}
	case <-time.After(100*time.Millisecond + server.CutOffWait + 5*time.Second):
		t.Fatal("Run did not return")
	}
	if !cleaned.Load() {
		t.Fatal("Run returned while the cut-off handler was still cleaning up")
	}
}
