// Package e2e tests the davshare binary from the outside: TestMain builds
// ./cmd/davshare once, each test starts it on a fresh data directory with
// --listen 127.0.0.1:0, manages accounts through its CLI, talks to it over
// HTTP and with real WebDAV clients (litmus, rclone, cadaver), and stops it
// with a signal, expecting exit status 0.
//
// A missing client binary skips its test with the Debian package to install,
// except when CI=true, where it fails the test: CI must never pass by
// skipping. Every wait in this package is bounded.
package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
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

// Bounds on every wait. The server's default shutdown grace is 15 s, so a
// stop must be allowed a little longer than that.
const (
	startTimeout   = 30 * time.Second
	stopTimeout    = 25 * time.Second
	requestTimeout = 30 * time.Second
	// accountDelay is how soon the contract says a CLI change to the
	// accounts must reach a running server.
	accountDelay = 5 * time.Second
)

// davshareBin is the binary TestMain built; empty in -short mode.
var davshareBin string

func TestMain(m *testing.M) {
	os.Exit(testbin.Main(m, "e2e", &davshareBin))
}

// binary returns the path of the davshare binary, skipping the test in
// -short mode.
func binary(t testing.TB) string {
	t.Helper()
	return testbin.Binary(t, davshareBin)
}

// requireTool returns the path of an external program, or skips the test
// naming the Debian package that provides it. Under CI=true a missing
// program is a failure.
func requireTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found (CI=true, so this is a failure): apt-get install %s", name, pkg)
	}
	t.Skipf("%s not found: apt-get install %s", name, pkg)
	return ""
}

// cli runs the davshare binary with args and stdin and returns its output
// and exit code.
func cli(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return testbin.Run(t, binary(t), stdin, args...)
}

// mustCLI is cli that fails the test unless davshare exits 0.
func mustCLI(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	return testbin.MustRun(t, binary(t), stdin, args...)
}

// addUser creates an account with the CLI, as an admin would.
func addUser(t testing.TB, data, name, password string) {
	t.Helper()
	testbin.AddUser(t, binary(t), data, name, password, "--email", name+"@example.com", "--display-name", "User "+name)
}

// server is one running davshare process.
type server struct {
	t      testing.TB
	Data   string // the data directory
	URL    string // http://127.0.0.1:PORT (or https://), no trailing slash
	Addr   string // 127.0.0.1:PORT
	client *http.Client
	proc   *testbin.Process
}

// serverConfig says how to start a server. The zero value starts
// "serve --data DATA --listen 127.0.0.1:0 --log-level debug" in a new
// temporary data directory.
type serverConfig struct {
	Data     string   // data directory; a new temporary one when empty
	Args     []string // replaces the default arguments after "serve"
	Env      []string // added to the (DAVSHARE_-free) environment
	Dir      string   // working directory; the test's when empty
	WantData string   // the directory the serving line must name; Data when empty
	// CACert is the PEM certificate an https server is verified with;
	// DATA/tls/cert.pem (--tls-self-signed) when empty.
	CACert string
}

// startServer starts davshare and waits until it prints its serving line
// and answers /healthz. The server is stopped with SIGTERM when the test
// ends, and must then exit 0; its output is logged if the test failed.
func startServer(t testing.TB, c serverConfig) *server {
	t.Helper()
	bin := binary(t)
	if c.Data == "" {
		c.Data = filepath.Join(t.TempDir(), "data")
	}
	args := c.Args
	if args == nil {
		args = []string{"--data", c.Data, "--listen", "127.0.0.1:0", "--log-level", "debug"}
	}
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = append(testbin.Env(), c.Env...)
	cmd.Dir = c.Dir
	s := &server{t: t, Data: c.Data, proc: testbin.Start(t, cmd)}
	t.Cleanup(func() {
		if s.proc.Running() {
			s.stop(t, syscall.SIGTERM)
		}
		if t.Failed() {
			s.dumpLogs(t)
		}
	})

	serving := s.proc.WaitServing(t, startTimeout)
	want := c.WantData
	if want == "" {
		want = c.Data
	}
	if serving.Data != want {
		t.Errorf("serving line names data directory %q, want %q", serving.Data, want)
	}
	s.URL, s.Addr = serving.URL, serving.Addr
	s.client = &http.Client{Timeout: requestTimeout}
	if strings.HasPrefix(s.URL, "https:") {
		ca := c.CACert
		if ca == "" {
			ca = filepath.Join(s.Data, "tls", "cert.pem")
		}
		pem, err := os.ReadFile(ca)
		if err != nil {
			t.Fatalf("https server: reading its certificate: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatalf("https server: no certificate in %s", ca)
		}
		s.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	testbin.WaitHealthy(t, s.client, s.URL, startTimeout)
	return s
}

// newServer starts a server on a new data directory that holds the given
// accounts (user name → password), created with the CLI before the start.
func newServer(t testing.TB, users map[string]string) *server {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	for name, pw := range users {
		addUser(t, data, name, pw)
	}
	return startServer(t, serverConfig{Data: data})
}

// log is the server's standard error once what it logged so far is out:
// it writes Info lines within 200 ms (cmd/davshare logbuf.go), so this
// waits a second first.
func (s *server) log() string {
	time.Sleep(time.Second)
	return s.proc.Stderr.String()
}

// signal sends sig to the server process (only ever to the process this
// test started).
func (s *server) signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := s.proc.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// waitExit waits at most d for the process to exit and returns its exit
// code; it kills the process and fails the test if it does not exit.
func (s *server) waitExit(t testing.TB, d time.Duration) int {
	t.Helper()
	code, ok := s.proc.WaitExit(d)
	if !ok {
		t.Fatalf("davshare did not exit within %v; killed", d)
	}
	return code
}

// stop sends sig and requires a clean exit (status 0) within stopTimeout.
func (s *server) stop(t testing.TB, sig os.Signal) {
	t.Helper()
	s.proc.Stop(t, sig, stopTimeout)
}

func (s *server) dumpLogs(t testing.TB) {
	t.Helper()
	const max = 256 << 10
	t.Logf("davshare stdout:\n%s", s.proc.Stdout.Tail(max))
	t.Logf("davshare stderr (log):\n%s", s.proc.Stderr.Tail(max))
}

// filesURL is the URL of a user's home collection, with a trailing slash.
func (s *server) filesURL(user string) string {
	return s.URL + "/dav/files/" + user + "/"
}

// do sends one request with Basic credentials (none when user is empty) and
// returns the response with its body read.
func (s *server) do(t testing.TB, method, path, user, pass string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = s.URL + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, b
}

// expect is do that requires a status code.
func (s *server) expect(t testing.TB, want int, method, path, user, pass string, body []byte, header ...string) []byte {
	t.Helper()
	resp, b := s.do(t, method, path, user, pass, body, header...)
	if resp.StatusCode != want {
		t.Fatalf("%s %s as %q: status %d, want %d\n%s", method, path, user, resp.StatusCode, want, b)
	}
	return b
}

// loginStatus is the status of a Depth 0 PROPFIND of the user's home with
// the given credentials: 207 when they work, 401 when they do not.
func (s *server) loginStatus(t testing.TB, user, pass string) int {
	t.Helper()
	resp, _ := s.do(t, "PROPFIND", "/dav/files/"+user+"/", user, pass, nil, "Depth", "0")
	return resp.StatusCode
}

// waitLogin polls until the credentials give status want, for at most d.
func (s *server) waitLogin(t testing.TB, d time.Duration, user, pass string, want int) time.Duration {
	t.Helper()
	start := time.Now()
	last := 0
	waitUntil(t, d, fmt.Sprintf("login as %s to give %d", user, want), func() bool {
		last = s.loginStatus(t, user, pass)
		return last == want
	})
	return time.Since(start)
}

// waitUntil polls cond every 50 ms until it holds, failing the test after d.
func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runTool runs an external program with a deadline and returns its combined
// output and exit code; a program that overruns is killed and fails the
// test.
func runTool(t testing.TB, d time.Duration, dir string, env []string, stdin io.Reader, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(testbin.Env(), env...)
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: killed after %v\n%s", name, strings.Join(args, " "), d, out.String())
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("%s: %v", name, err)
	return "", -1
}

// canDial reports whether a TCP connection to addr can be opened now.
func canDial(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
