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
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/davshare/davshare/internal/testbin"
)

const (
	startTimeout = 20 * time.Second
	stopTimeout  = 30 * time.Second
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

// newData makes a data directory with the given users (name → password).
func newData(t testing.TB, users map[string]string) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	for name, pw := range users {
		testbin.AddUser(t, binary(t), data, name, pw, "--email", name+"@example.com")
	}
	return data
}

// proc is one running davshare server.
type proc struct {
	process *testbin.Process
	URL     string // http://127.0.0.1:PORT
	Addr    string
	Metrics string // the metrics URL, when metrics.listen is set
	client  *http.Client
}

// start launches "davshare serve" on data with env added, and waits for
// its serving line and /healthz. The caller kills or stops it; a cleanup
// kills it if it still runs.
func start(t testing.TB, data string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--data", data, "--listen", "127.0.0.1:0")
	cmd.Env = append(testbin.Env(), env...)
	p := &proc{process: testbin.Start(t, cmd)}
	serving := p.process.WaitServing(t, startTimeout)
	p.URL, p.Addr, p.Metrics = serving.URL, serving.Addr, serving.Metrics
	p.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	t.Cleanup(p.client.CloseIdleConnections)
	testbin.WaitHealthy(t, p.client, p.URL, startTimeout)
	return p
}

// kill sends SIGKILL, waits for the process to be gone and drops the
// client's connections to it.
func (p *proc) kill() {
	p.process.Kill()
	p.client.CloseIdleConnections()
}

// stop sends SIGTERM and requires a clean exit within stopTimeout.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	p.process.Stop(t, syscall.SIGTERM, stopTimeout)
}

// waitLog waits, bounded, until the server's log has a line containing s.
func (p *proc) waitLog(t testing.TB, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.process.Stderr.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line %q within %v\n%s", s, d, p.process.Stderr.String())
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
