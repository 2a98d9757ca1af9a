package testbin

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// CLITimeout bounds one run of a CLI command such as "davshare user add".
const CLITimeout = 30 * time.Second

// pollInterval is how often the waits here look again: short, since
// crashtest restarts the server a hundred times.
const pollInterval = 5 * time.Millisecond

// Env is the test process's environment without DAVSHARE_* variables, so
// that a developer's settings cannot leak into the binary under test.
func Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DAVSHARE_") {
			env = append(env, kv)
		}
	}
	return env
}

// Buffer collects a process's output for one writer and concurrent readers.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail is the last n bytes written, after "…" when there were more.
func (b *Buffer) Tail(n int) string {
	s := b.String()
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// Run runs bin with args and stdin, in Env, for at most CLITimeout, and
// returns its standard output and error and its exit code. It fails the
// test when bin cannot be run or overruns.
func Run(t testing.TB, bin, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CLITimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = Env()
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		code = exit.ExitCode()
	default:
		t.Fatalf("%s %s: %v (stderr: %s)", filepath.Base(bin), strings.Join(args, " "), err, e.String())
	}
	return o.String(), e.String(), code
}

// MustRun is Run that fails the test unless bin exits 0; it returns the
// standard output.
func MustRun(t testing.TB, bin, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := Run(t, bin, stdin, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", filepath.Base(bin), strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// AddUser creates an account on data as an admin would: "davshare user add
// NAME --data DATA --password-stdin" followed by args (such as --email).
func AddUser(t testing.TB, bin, data, name, password string, args ...string) {
	t.Helper()
	MustRun(t, bin, password+"\n", append([]string{"user", "add", name, "--data", data, "--password-stdin"}, args...)...)
}

// Process is a process a test started, with its standard output and error
// collected, reaped in the background.
type Process struct {
	Cmd     *exec.Cmd
	Stdout  *Buffer
	Stderr  *Buffer
	Started time.Time // just before the start
	exited  chan struct{}
}

// Start starts cmd, replacing its Stdout and Stderr with Buffers; cmd.Env
// is the caller's (usually Env plus settings). A cleanup kills the process
// if it still runs when the test ends: a cleanup that wants a clean stop
// must be registered after Start, so that it runs first.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Cmd: cmd, Stdout: &Buffer{}, Stderr: &Buffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Stdout, p.Stderr
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", filepath.Base(cmd.Path), err)
	}
	go func() {
		cmd.Wait() // the exit status is read from Cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(p.Kill)
	return p
}

// Exited is closed once the process has exited and been reaped.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL (only ever to this process, by its PID) and waits
// until it is gone; it does nothing to a process that has exited.
func (p *Process) Kill() {
	p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// WaitExit waits at most d for the process to exit and returns its exit
// code. A process still running then is killed, and ok is false.
func (p *Process) WaitExit(d time.Duration) (code int, ok bool) {
	select {
	case <-p.exited:
		return p.Cmd.ProcessState.ExitCode(), true
	case <-time.After(d):
		p.Kill()
		return -1, false
	}
}

// Stop sends sig and requires the process to exit within d (the test
// fails at once otherwise, and the process is killed) with status 0 (an
// error otherwise).
func (p *Process) Stop(t testing.TB, sig os.Signal, d time.Duration) {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	code, ok := p.WaitExit(d)
	if !ok {
		t.Fatalf("davshare did not exit within %v of %v; killed", d, sig)
	}
	if code != 0 {
		t.Errorf("davshare exited with status %d after %v, want 0\n%s", code, sig, p.Stderr.Tail(logTail))
	}
}

// logTail is how much of a log a failure message quotes.
const logTail = 64 << 10

// Serving is what "davshare serve" printed once ready.
type Serving struct {
	Data    string // the data directory it serves
	URL     string // http://HOST:PORT or https://HOST:PORT
	Addr    string // HOST:PORT
	Metrics string // the metrics URL; "" unless metrics.listen is set
}

var (
	servingLine = regexp.MustCompile(`(?m)^davshare serving (.+) on (https?://(\S+))$`)
	metricsLine = regexp.MustCompile(`(?m)^davshare metrics on (http://\S+)$`)
)

// WaitServing waits at most d for the serving line of "davshare serve",
// failing the test if the process exits first or d passes. serve prints
// that line last, so the metrics line, if any, is already out.
func (p *Process) WaitServing(t testing.TB, d time.Duration) Serving {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		out := p.Stdout.String()
		if m := servingLine.FindStringSubmatch(out); m != nil {
			s := Serving{Data: m[1], URL: m[2], Addr: m[3]}
			if mm := metricsLine.FindStringSubmatch(out); mm != nil {
				s.Metrics = mm[1]
			}
			return s
		}
		select {
		case <-p.exited:
			t.Fatalf("davshare exited during start: %v\n%s", p.Cmd.ProcessState, p.Stderr.Tail(logTail))
		case <-time.After(pollInterval):
		}
		if time.Now().After(deadline) {
			t.Fatalf("davshare printed no serving line within %v\n%s", d, p.Stderr.Tail(logTail))
		}
	}
}

// WaitHealthy polls GET URL/healthz through client until it answers 200,
// failing the test after d.
func WaitHealthy(t testing.TB, client *http.Client, url string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var last string
		resp, err := client.Get(url + "/healthz")
		if err != nil {
			last = err.Error()
		} else {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz did not answer 200 within %v; last: %s", url, d, last)
		}
		time.Sleep(pollInterval)
	}
}
