package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"
)

// baseline is a bare golang.org/x/net/webdav server on a loopback port
// over its own temporary directory: no authentication, in-memory locks,
// nothing else. It is what davshare is compared with. It runs in this
// process, or (--baseline-process) in a child process, like the server
// under test, so that neither side shares a Go runtime with the client.
type baseline struct {
	dir    string
	url    string
	pid    int // the child's; 0 in-process
	stopFn func() error
}

// serveBaselineArg, as the only argument, makes davbench the child that
// serves the baseline (see startBaseline).
const serveBaselineArg = "__serve-baseline"

func startBaseline(process bool) (*baseline, error) {
	dir, err := os.MkdirTemp("", "davbench-baseline-")
	if err != nil {
		return nil, err
	}
	b := &baseline{dir: dir}
	if process {
		err = b.startChild()
	} else {
		b.url, b.stopFn, err = listenBaseline(dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("baseline: %w", err)
	}
	return b, nil
}

// stop ends the server and removes its directory.
func (b *baseline) stop() error {
	return errors.Join(b.stopFn(), os.RemoveAll(b.dir))
}

// listenBaseline serves dir with x/net/webdav on a free loopback port.
func listenBaseline(dir string) (string, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	dav := &webdav.Handler{FileSystem: webdav.Dir(dir), LockSystem: webdav.NewMemLS()}
	srv := &http.Server{
		Handler:           withCeiling(dir, dav),
		ReadHeaderTimeout: 10 * time.Second,
	}
	// Serve fails only on a broken listener; the requests that then fail
	// are counted as errors.
	go func() { _ = srv.Serve(ln) }()
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			return errors.Join(err, srv.Close())
		}
		return nil
	}
	return "http://" + ln.Addr().String() + "/", stop, nil
}

// ceilingPrefix is where the baseline server also answers GETs from
// memory (withCeiling); the "ceiling" target's URL.
const (
	ceilingPrefix = "/.ceiling/"
	ceilingMax    = 1 << 20
)

// withCeiling answers a GET under ceilingPrefix with the bytes of the file
// of the same name in dir, read once and kept in memory, and nothing else:
// no file system, no ETag, no conditional or range handling. What it costs
// per request is what net/http itself costs on this machine, the floor
// under any net/http server; its rate is the most a Go server can reach.
// Files over ceilingMax are refused, so the baseline's peak RSS stays its
// own. Everything else goes to next.
func withCeiling(dir string, next http.Handler) http.Handler {
	var mu sync.Mutex
	bodies := map[string][]byte{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, ceilingPrefix)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet {
			http.Error(w, "the ceiling answers GET only", http.StatusMethodNotAllowed)
			return
		}
		mu.Lock()
		body, ok := bodies[name]
		if !ok {
			var err error
			body, err = os.ReadFile(filepath.Join(dir, filepath.FromSlash(path.Clean("/"+name))))
			if err == nil && len(body) > ceilingMax {
				err = fmt.Errorf("%s: over %d bytes", name, ceilingMax)
			}
			if err != nil {
				mu.Unlock()
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			bodies[name] = body
		}
		mu.Unlock()
		h := w.Header()
		h["Content-Type"] = []string{"application/octet-stream"}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		_, _ = w.Write(body)
	})
}

// startChild runs this executable as the baseline server: it prints its
// URL on its standard output and serves until its standard input closes,
// which also happens when this process dies, so no child outlives us.
func (b *baseline) startChild() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, serveBaselineArg, b.dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	stopChild := func() error {
		stdin.Close()
		select {
		case err := <-exited:
			return err
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill() // our own child, by its PID
			<-exited
			return errors.New("the baseline process did not stop within 5s; killed")
		}
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	select {
	case line := <-lines:
		url, ok := strings.CutPrefix(strings.TrimSpace(line), "baseline serving on ")
		if !ok {
			_ = stopChild()
			return fmt.Errorf("the baseline process said %q", line)
		}
		b.url, b.pid, b.stopFn = url, cmd.Process.Pid, stopChild
		return nil
	case <-time.After(10 * time.Second):
		_ = stopChild()
		return errors.New("the baseline process printed no URL within 10s")
	}
}

// serveBaseline is the child's side of startChild.
func serveBaseline(args []string, stdin io.Reader, stdout io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "davbench %s: want one directory\n", serveBaselineArg)
		return 2
	}
	url, stop, err := listenBaseline(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "davbench %s: %v\n", serveBaselineArg, err)
		return 1
	}
	fmt.Fprintf(stdout, "baseline serving on %s\n", url)
	_, _ = io.Copy(io.Discard, stdin)
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "davbench %s: %v\n", serveBaselineArg, err)
		return 1
	}
	return 0
}
