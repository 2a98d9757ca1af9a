package e2e

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFirstStart: on an empty data directory the server creates "admin"
// with a random password, prints it once with the URL to mount, and that
// password works.
func TestFirstStart(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverConfig{})
	out := s.proc.Stdout.String()
	m := regexp.MustCompile(`created user admin with password (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("first start did not print the admin password:\n%s", out)
	}
	pw := m[1]
	if want := s.filesURL("admin"); !strings.Contains(out, want) {
		t.Errorf("first start did not print the URL to mount, %s:\n%s", want, out)
	}
	if strings.Count(out, pw) != 1 {
		t.Errorf("the admin password appears %d times in stdout, want once", strings.Count(out, pw))
	}
	if strings.Contains(s.log(), pw) {
		t.Errorf("the admin password appears in the log (stderr)")
	}

	s.expect(t, 207, "PROPFIND", "/dav/files/admin/", "admin", pw, nil, "Depth", "0")
	s.expect(t, 401, "PROPFIND", "/dav/files/admin/", "admin", pw+"x", nil, "Depth", "0")
	resp, _ := s.do(t, "PROPFIND", "/dav/files/admin/", "", "", nil, "Depth", "0")
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("PROPFIND without credentials: %d, WWW-Authenticate %q; want 401 with a Basic challenge",
			resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// No authentication for /healthz and OPTIONS (desktop clients probe).
	s.expect(t, 200, "GET", "/healthz", "", "", nil)
	for _, p := range []string{"/", "/dav/files/admin/"} {
		resp, _ := s.do(t, "OPTIONS", p, "", "", nil)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("DAV"), "2") {
			t.Errorf("OPTIONS %s without credentials: %d, DAV %q", p, resp.StatusCode, resp.Header.Get("DAV"))
		}
	}
	if list := mustCLI(t, "", "user", "list", "--data", s.Data); !strings.Contains(list, "admin") {
		t.Errorf("user list lacks admin:\n%s", list)
	}

	// SIGINT stops it as cleanly as SIGTERM.
	s.stop(t, syscall.SIGINT)

	// A second start finds the account: no new password, the old one works.
	s2 := startServer(t, serverConfig{Data: s.Data})
	if out := s2.proc.Stdout.String(); strings.Contains(out, "password") {
		t.Errorf("second start printed a password again:\n%s", out)
	}
	s2.expect(t, 207, "PROPFIND", "/dav/files/admin/", "admin", pw, nil, "Depth", "0")
}

// TestAccountsWhileRunning: user add, passwd and del, run while the server
// runs, take effect within 5 s; del keeps the files.
func TestAccountsWhileRunning(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	addUser(t, data, "alice", "alice-pw")
	// Polling for a change costs failed logins; login throttling is not
	// what this test is about.
	s := startServer(t, serverConfig{Data: data, Env: []string{
		"DAVSHARE_AUTH_MAX_USER_FAILURES=0", "DAVSHARE_AUTH_MAX_ADDRESS_FAILURES=0"}})

	addUser(t, s.Data, "bob", "bob-pw-1")
	took := s.waitLogin(t, accountDelay, "bob", "bob-pw-1", 207)
	t.Logf("user add reached the server in %v", took)

	body := []byte("bob's file\n")
	s.expect(t, 201, "PUT", "/dav/files/bob/keep.txt", "bob", "bob-pw-1", body)
	// Nobody else's space is reachable.
	s.expect(t, 404, "GET", "/dav/files/bob/keep.txt", "alice", "alice-pw", nil)

	mustCLI(t, "bob-pw-2\n", "user", "passwd", "bob", "--data", s.Data, "--password-stdin")
	took = s.waitLogin(t, accountDelay, "bob", "bob-pw-1", 401)
	t.Logf("user passwd reached the server in %v", took)
	s.expect(t, 207, "PROPFIND", "/dav/files/bob/", "bob", "bob-pw-2", nil, "Depth", "0")

	out := mustCLI(t, "", "user", "del", "bob", "--data", s.Data)
	t.Logf("user del: %s", strings.TrimSpace(out))
	took = s.waitLogin(t, accountDelay, "bob", "bob-pw-2", 401)
	t.Logf("user del reached the server in %v", took)
	got, err := os.ReadFile(filepath.Join(s.Data, "files", "bob", "keep.txt"))
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("after user del, files/bob/keep.txt = %q, %v; want the file kept", got, err)
	}
	if list := mustCLI(t, "", "user", "list", "--data", s.Data); strings.Contains(list, "bob") {
		t.Errorf("user list still shows bob after del:\n%s", list)
	}
	// alice was never disturbed.
	s.expect(t, 207, "PROPFIND", "/dav/files/alice/", "alice", "alice-pw", nil, "Depth", "0")

	// Re-adding the name gives the data back.
	addUser(t, s.Data, "bob", "bob-pw-3")
	s.waitLogin(t, accountDelay, "bob", "bob-pw-3", 207)
	if b := s.expect(t, 200, "GET", "/dav/files/bob/keep.txt", "bob", "bob-pw-3", nil); !bytes.Equal(b, body) {
		t.Errorf("after re-adding bob, GET keep.txt = %q, want %q", b, body)
	}
}

// TestCLIFlagOrder: flags work before and after the positional arguments.
func TestCLIFlagOrder(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	mustCLI(t, "bob-pw\n", "user", "add", "bob", "--data", data, "--email", "bob@example.com", "--password-stdin")
	mustCLI(t, "carol-pw\n", "user", "--data", data, "add", "carol", "--email", "carol@example.com", "--password-stdin")
	mustCLI(t, "dave-pw\n", "user", "add", "--data", data, "dave", "--password-stdin", "--email", "dave@example.com",
		"--display-name", "Dave D.")
	for _, args := range [][]string{
		{"user", "list", "--data", data},
		{"user", "--data", data, "list"},
	} {
		out := mustCLI(t, "", args...)
		for _, want := range []string{"bob@example.com", "carol@example.com", "dave@example.com", "Dave D."} {
			if !strings.Contains(out, want) {
				t.Errorf("davshare %s lacks %q:\n%s", strings.Join(args, " "), want, out)
			}
		}
	}
	mustCLI(t, "bob-pw-2\n", "user", "--data", data, "--password-stdin", "passwd", "bob")
	mustCLI(t, "", "user", "del", "dave", "--data", data)

	// Refusals: no e-mail, no --password-stdin, unknown subcommand.
	for _, args := range [][]string{
		{"user", "add", "eve", "--data", data, "--password-stdin"},
		{"user", "add", "eve", "--data", data, "--email", "eve@example.com"},
		{"user", "frobnicate", "--data", data},
	} {
		if _, errOut, code := cli(t, "eve-pw\n", args...); code == 0 {
			t.Errorf("davshare %s: exit 0, want an error", strings.Join(args, " "))
		} else if errOut == "" {
			t.Errorf("davshare %s: exit %d without a message on stderr", strings.Join(args, " "), code)
		}
	}

	// A refused command leaves no data directory behind, and only "add"
	// makes one: a mistyped --data must not start an empty server tree.
	fresh := filepath.Join(t.TempDir(), "never")
	for _, args := range [][]string{
		{"user", "add", "eve", "--data", fresh, "--password-stdin"},
		{"user", "add", "--data", fresh, "--email", "eve@example.com", "--password-stdin"},
		{"user", "frobnicate", "--data", fresh},
		{"user", "list", "--data", fresh},
		{"user", "del", "eve", "--data", fresh},
		{"user", "passwd", "eve", "--data", fresh, "--password-stdin"},
	} {
		if _, errOut, code := cli(t, "eve-pw\n", args...); code == 0 || errOut == "" {
			t.Errorf("davshare %s: exit %d, stderr %q; want an error", strings.Join(args, " "), code, errOut)
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Fatalf("davshare %s left %s behind (stat: %v)", strings.Join(args, " "), fresh, err)
		}
	}

	s := startServer(t, serverConfig{Data: data,
		Args: []string{"--listen", "127.0.0.1:0", "--data", data}})
	if strings.Contains(s.proc.Stdout.String(), "password") {
		t.Errorf("server created an admin although accounts exist:\n%s", s.proc.Stdout.String())
	}
	s.expect(t, 207, "PROPFIND", "/dav/files/bob/", "bob", "bob-pw-2", nil, "Depth", "0")
	s.expect(t, 401, "PROPFIND", "/dav/files/bob/", "bob", "bob-pw", nil, "Depth", "0")
	s.expect(t, 207, "PROPFIND", "/dav/files/carol/", "carol", "carol-pw", nil, "Depth", "0")
	s.expect(t, 401, "PROPFIND", "/dav/files/dave/", "dave", "dave-pw", nil, "Depth", "0")
	s.expect(t, 401, "PROPFIND", "/dav/files/eve/", "eve", "eve-pw", nil, "Depth", "0")
}

// TestConfigSources: the TOML file, DAVSHARE_* variables and flags are
// honoured, flags over the environment over the file, and the default data
// directory is ./davshare-data.
func TestConfigSources(t *testing.T) {
	t.Parallel()
	writeConfig := func(t *testing.T, text string) string {
		p := filepath.Join(t.TempDir(), "davshare.toml")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hasAccounts := func(t *testing.T, data string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(data, "accounts.json")); err != nil {
			t.Errorf("data directory %s not used: %v", data, err)
		}
	}

	t.Run("config file", func(t *testing.T) {
		t.Parallel()
		data := filepath.Join(t.TempDir(), "data")
		cfg := writeConfig(t, "listen = \"127.0.0.1:0\"\ndata = "+quoteTOML(data)+"\n\n[log]\nformat = \"json\"\n")
		s := startServer(t, serverConfig{Data: data, Args: []string{"--config", cfg}})
		hasAccounts(t, data)
		if !strings.Contains(s.log(), `"msg":`) {
			t.Errorf("log.format = \"json\" from the file not applied; log:\n%s", s.proc.Stderr.String())
		}
	})

	t.Run("environment", func(t *testing.T) {
		t.Parallel()
		data := filepath.Join(t.TempDir(), "data")
		s := startServer(t, serverConfig{Data: data, Args: []string{},
			Env: []string{"DAVSHARE_LISTEN=127.0.0.1:0", "DAVSHARE_DATA=" + data, "DAVSHARE_LOG_LEVEL=warn"}})
		hasAccounts(t, data)
		// startServer has polled /healthz: at level warn that is not logged.
		if log := s.log(); strings.Contains(log, "/healthz") {
			t.Errorf("DAVSHARE_LOG_LEVEL=warn not applied; log:\n%s", log)
		}
	})

	t.Run("precedence", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		fileData, envData, flagData := filepath.Join(dir, "file"), filepath.Join(dir, "env"), filepath.Join(dir, "flag")
		// The file sets listen and data; the environment overrides data;
		// the flag overrides the environment.
		cfg := writeConfig(t, "listen = \"127.0.0.1:0\"\ndata = "+quoteTOML(fileData)+"\n")
		startServer(t, serverConfig{Data: flagData, Args: []string{"--config", cfg, "--data", flagData},
			Env: []string{"DAVSHARE_DATA=" + envData}})
		hasAccounts(t, flagData)
		startServer(t, serverConfig{Data: envData, Args: []string{"--config", cfg},
			Env: []string{"DAVSHARE_DATA=" + envData}})
		hasAccounts(t, envData)
		for _, d := range []string{fileData} {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("%s was created although overridden", d)
			}
		}
	})

	t.Run("default data directory", func(t *testing.T) {
		t.Parallel()
		wd := t.TempDir()
		startServer(t, serverConfig{Data: filepath.Join(wd, "davshare-data"), WantData: "./davshare-data",
			Dir: wd, Args: []string{"--listen", "127.0.0.1:0"}})
		hasAccounts(t, filepath.Join(wd, "davshare-data"))
	})

	t.Run("unknown key", func(t *testing.T) {
		t.Parallel()
		cfg := writeConfig(t, "listen = \"127.0.0.1:0\"\nlisen = \"x\"\n")
		_, errOut, code := cli(t, "", "serve", "--config", cfg, "--data", filepath.Join(t.TempDir(), "d"))
		if code == 0 || !strings.Contains(errOut, "lisen") {
			t.Errorf("config file with an unknown key: exit %d, stderr %q; want an error naming the key", code, errOut)
		}
	})
}

// quoteTOML quotes a path as a TOML literal string.
func quoteTOML(s string) string {
	if strings.Contains(s, "'") {
		panic("path with a quote: " + s)
	}
	return "'" + s + "'"
}

// slowUpload is a PUT whose body the test feeds chunk by chunk.
type slowUpload struct {
	pw   *io.PipeWriter
	done chan uploadResult
}

type uploadResult struct {
	status int
	err    error
}

// startSlowUpload begins a PUT of size bytes with Expect: 100-continue and
// sends first. The client sends the body only after the server's 100
// Continue, which Go's server sends when the handler first reads the body;
// so when this returns, the upload is in the handler, in flight.
func startSlowUpload(t *testing.T, url, user, pass string, size int, first []byte) *slowUpload {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("PUT", url, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(size)
	req.Header.Set("Expect", "100-continue")
	req.SetBasicAuth(user, pass)
	client := &http.Client{
		Transport: &http.Transport{ExpectContinueTimeout: requestTimeout, DisableKeepAlives: true},
		Timeout:   2 * time.Minute,
	}
	u := &slowUpload{pw: pw, done: make(chan uploadResult, 1)}
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			u.done <- uploadResult{err: err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		u.done <- uploadResult{status: resp.StatusCode}
	}()
	t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
	u.write(t, first)
	return u
}

// write sends b, failing the test if the client does not take it within
// requestTimeout.
func (u *slowUpload) write(t *testing.T, b []byte) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := u.pw.Write(b)
		errc <- err
	}()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("upload body write: %v", err)
		}
	case <-time.After(requestTimeout):
		u.pw.CloseWithError(io.ErrUnexpectedEOF)
		t.Fatalf("upload body not taken within %v", requestTimeout)
	}
}

func (u *slowUpload) result(t *testing.T) uploadResult {
	t.Helper()
	select {
	case r := <-u.done:
		return r
	case <-time.After(2 * time.Minute):
		t.Fatal("upload did not finish within 2m")
	}
	return uploadResult{}
}

// TestGracefulShutdown: SIGTERM stops accepting connections at once, lets an
// upload in flight finish, and the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	s := newServer(t, map[string]string{"alice": "alice-pw"})
	const chunk, chunks = 64 << 10, 12
	payload := make([]byte, chunk*chunks)
	rand.NewChaCha8([32]byte{1}).Read(payload)

	u := startSlowUpload(t, s.filesURL("alice")+"slow.bin", "alice", "alice-pw", len(payload), payload[:chunk])
	sent := time.Now()
	s.signal(t, syscall.SIGTERM)
	waitUntil(t, 5*time.Second, "the server to stop accepting connections", func() bool {
		return !canDial(s.Addr)
	})
	if !s.proc.Running() {
		t.Fatalf("server exited with an upload in flight: %v", s.proc.Cmd.ProcessState)
	}
	for i := 1; i < chunks; i++ {
		time.Sleep(100 * time.Millisecond)
		u.write(t, payload[i*chunk:(i+1)*chunk])
	}
	u.pw.Close()
	r := u.result(t)
	if r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("upload in flight at SIGTERM: status %d, err %v; want 201", r.status, r.err)
	}
	if code := s.waitExit(t, stopTimeout); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0", code)
	}
	t.Logf("upload finished and server exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	got, err := os.ReadFile(filepath.Join(s.Data, "files", "alice", "slow.bin"))
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("stored upload: %d bytes, err %v; want the %d bytes sent", len(got), err, len(payload))
	}
}

// TestShutdownTimeout: an upload that stalls does not hold the server
// beyond limits.shutdown_timeout, the process still exits 0, and the
// stalled upload leaves no file behind.
func TestShutdownTimeout(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	addUser(t, data, "alice", "alice-pw")
	const grace = time.Second
	s := startServer(t, serverConfig{Data: data, Env: []string{"DAVSHARE_LIMITS_SHUTDOWN_TIMEOUT=" + grace.String()}})

	u := startSlowUpload(t, s.filesURL("alice")+"stalled.bin", "alice", "alice-pw", 1<<20, make([]byte, 4096))
	sent := time.Now()
	s.signal(t, syscall.SIGTERM)
	code := s.waitExit(t, grace+10*time.Second)
	took := time.Since(sent)
	t.Logf("server exited %v after SIGTERM with status %d (shutdown_timeout %v)", took.Round(time.Millisecond), code, grace)
	if took > grace+5*time.Second {
		t.Errorf("exit took %v, want about shutdown_timeout (%v)", took, grace)
	}
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM with a stalled upload, want 0 (contract: finish in-flight requests, bounded, exit 0)\nstderr:\n%s",
			code, s.proc.Stderr.String())
	}
	u.pw.CloseWithError(io.ErrUnexpectedEOF)
	if r := u.result(t); r.err == nil && r.status < 300 {
		t.Errorf("stalled upload succeeded with status %d", r.status)
	}
	entries, err := os.ReadDir(filepath.Join(data, "files", "alice"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("a stalled, cut-off upload left files/alice/%s behind", e.Name())
	}
}

// TestSelfSignedTLS: --tls-self-signed serves HTTPS with a certificate kept
// in DATA/tls that verifies for 127.0.0.1 and survives a restart.
func TestSelfSignedTLS(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	addUser(t, data, "alice", "alice-pw")
	args := []string{"--data", data, "--listen", "127.0.0.1:0", "--tls-self-signed"}
	s := startServer(t, serverConfig{Data: data, Args: args})
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("--tls-self-signed serves %s, want https", s.URL)
	}
	// startServer verified the certificate against DATA/tls/cert.pem.
	s.expect(t, 207, "PROPFIND", "/dav/files/alice/", "alice", "alice-pw", nil, "Depth", "0")
	cert, err := os.ReadFile(filepath.Join(data, "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	s.stop(t, syscall.SIGTERM)

	s2 := startServer(t, serverConfig{Data: data, Args: args})
	s2.expect(t, 207, "PROPFIND", "/dav/files/alice/", "alice", "alice-pw", nil, "Depth", "0")
	if again, _ := os.ReadFile(filepath.Join(data, "tls", "cert.pem")); !bytes.Equal(again, cert) {
		t.Errorf("restart replaced the self-signed certificate; clients that trusted it must trust it again")
	}
}

// TestNotifySend: "davshare notify send" while the server runs puts a
// notification into the user's collection within 5 s.
func TestNotifySend(t *testing.T) {
	t.Parallel()
	s := newServer(t, map[string]string{"alice": "alice-pw", "bob": "bob-pw"})
	list := func(user, pass string) string {
		return string(s.expect(t, 207, "PROPFIND", "/dav/notifications/"+user+"/", user, pass, nil, "Depth", "1"))
	}
	before := strings.Count(list("alice", "alice-pw"), "<D:response>")
	out := mustCLI(t, "", "notify", "send", "--data", s.Data, "--to", "alice", "--level", "high", "maintenance tonight at 22:00")
	m := regexp.MustCompile(`sent (\S+) to alice`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("notify send printed %q, want \"sent NAME to alice\"", out)
	}
	waitUntil(t, accountDelay, "the notification to be listed", func() bool {
		return strings.Count(list("alice", "alice-pw"), "<D:response>") == before+1
	})
	// notifications.strict_accept (the default) wants the media type asked for.
	s.expect(t, 406, "GET", "/dav/notifications/alice/"+m[1], "alice", "alice-pw", nil)
	body := s.expect(t, 200, "GET", "/dav/notifications/alice/"+m[1], "alice", "alice-pw", nil,
		"Accept", "application/davnotification+xml")
	if !strings.Contains(string(body), "maintenance tonight at 22:00") {
		t.Errorf("GET of the notification lacks its text:\n%s", body)
	}
	if l := list("bob", "bob-pw"); strings.Contains(l, m[1]) {
		t.Errorf("bob's collection lists alice's notification:\n%s", l)
	}
	s.expect(t, 404, "GET", "/dav/notifications/alice/"+m[1], "bob", "bob-pw", nil)
}
