package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/net/webdav"
)

// baselineServer is a bare golang.org/x/net/webdav server on a loopback
// port over its own temporary directory: no authentication, in-memory
// locks, nothing else. It is what davshare is compared with.
type baselineServer struct {
	dir string
	srv *http.Server
	url string
}

func startBaseline() (*baselineServer, error) {
	dir, err := os.MkdirTemp("", "davbench-baseline-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b := &baselineServer{
		dir: dir,
		srv: &http.Server{
			Handler:           &webdav.Handler{FileSystem: webdav.Dir(dir), LockSystem: webdav.NewMemLS()},
			ReadHeaderTimeout: 10 * time.Second,
		},
		url: "http://" + ln.Addr().String() + "/",
	}
	// Serve fails only on a broken listener; the requests that then fail
	// are counted as errors.
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

// stop closes the server and removes its directory.
func (b *baselineServer) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.srv.Shutdown(ctx)
	if err != nil {
		b.srv.Close()
	}
	return errors.Join(err, os.RemoveAll(b.dir))
}
