// Package crashtest tests davshare under faults and hostile clients:
//
//   - crash safety (crash_test.go): the built binary is SIGKILLed at random
//     moments while clients overwrite files and notifications are written,
//     restarted, and checked: every file holds exactly one version ever
//     written, no temporary file is visible, stale ones are swept, every
//     notification parses;
//   - hostile clients against the binary (binary_test.go): login throttling,
//     the separate metrics listener, a slowloris header dribble, a body
//     that stalls;
//   - hostile XML bodies in-process (bodies_test.go), where heap growth can
//     be measured.
//
// TestMain builds ./cmd/davshare once (not in -short mode, where the binary
// tests skip). Every wait is bounded, and every server runs on loopback.
package crashtest

import (
	"context"
	"github.com/davshare/davshare/internal/testbin"
	"io"
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

const (
	startTimeout = 20 * time.Second
	cliTimeout   = 30 * time.Second
)

var davshareBin string

func TestMain(m *testing.M) {
	os.Exit(testbin.Main(m, "crashtest", &davshareBin))
}

// binary returns the path of the davshare binary, skipping the test in
// -short mode.
func binary(t testing.TB) string {
	t.Helper()
	return testbin.Binary(t, davshareBin)
}

// baseEnv is the environment without DAVSHARE_* variables.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DAVSHARE_") {
			env = append(env, kv)
		}
	}
	return env
}

// cli runs the binary to completion and fails the test unless it exits 0.
func cli(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = baseEnv()
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("davshare %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newData makes a data directory with the given users (name → password),
// skipping the test where the file system has no user xattrs.
func newData(t testing.TB, users map[string]string) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	for name, pw := range users {
		cli(t, pw+"\n", "user", "add", name, "--data", data, "--email", name+"@example.com", "--password-stdin")
	}
	return data
}

// lockedBuffer collects a process's output for concurrent readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// proc is one running davshare server.
type proc struct {
	cmd      *exec.Cmd
	URL      string // http://127.0.0.1:PORT
	Addr     string
	Metrics  string // the metrics URL, when metrics.listen is set
	launched time.Time
	stdout   lockedBuffer
	stderr   lockedBuffer
	exited   chan struct{}
	client   *http.Client
}

var (
	servingLine = regexp.MustCompile(`(?m)^davshare serving .+ on (http://(\S+))$`)
	metricsLine = regexp.MustCompile(`(?m)^davshare metrics on (http://\S+)$`)
)

// start launches "davshare serve" on data with env added, and waits for
// its serving line and /healthz. The caller kills or stops it; a cleanup
// kills it if it still runs.
func start(t testing.TB, data string, env ...string) *proc {
	t.Helper()
	p := &proc{exited: make(chan struct{}), launched: time.Now()}
	p.cmd = exec.Command(binary(t), "serve", "--data", data, "--listen", "127.0.0.1:0")
	p.cmd.Env = append(baseEnv(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(startTimeout)
	for {
		if m := servingLine.FindStringSubmatch(p.stdout.String()); m != nil {
			p.URL, p.Addr = m[1], m[2]
			if mm := metricsLine.FindStringSubmatch(p.stdout.String()); mm != nil {
				p.Metrics = mm[1]
			}
			break
		}
		select {
		case <-p.exited:
			t.Fatalf("davshare exited during start: %v\n%s", p.cmd.ProcessState, p.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("davshare printed no serving line within %v\n%s", startTimeout, p.stderr.String())
		}
	}
	p.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for {
		resp, err := p.client.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz did not answer 200 within %v: %v", startTimeout, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.client.CloseIdleConnections()
}

// stop sends SIGTERM and waits, bounded, for a clean exit.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("davshare did not stop within 30s of SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("davshare exited %d after SIGTERM\n%s", code, p.stderr.String())
	}
}

// waitLog waits, bounded, until the server's log has a line containing s.
func (p *proc) waitLog(t testing.TB, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q within %v\n%s", s, d, p.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// do sends one request and returns the status and body; a transport error
// is returned, not fatal, since a killed server is expected here.
func (p *proc) do(method, path, user, pass string, body io.Reader, hdr ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, p.URL+path, body)
	if err != nil {
		return 0, nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// must is do that fails the test on a transport error or another status.
func (p *proc) must(t testing.TB, want int, method, path, user, pass string, body io.Reader, hdr ...string) []byte {
	t.Helper()
	code, b, err := p.do(method, path, user, pass, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if code != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", method, path, code, want, b)
	}
	return b
}
