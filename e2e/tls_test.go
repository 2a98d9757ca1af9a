package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/davshare/davshare/internal/testbin"
	"golang.org/x/sys/unix"
)

// testCA is a certificate authority made for one test, with a server
// certificate for 127.0.0.1 and localhost that it signed.
type testCA struct {
	CAFile, CertFile, KeyFile string
	leaf                      *x509.Certificate
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "davshare e2e test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(mrand.Int64N(1<<62) + 2),
		Subject:      pkix.Name{CommonName: "davshare e2e server"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := testCA{
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "fullchain.pem"),
		KeyFile:  filepath.Join(dir, "privkey.pem"),
		leaf:     leaf,
	}
	pemBlock := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	for name, b := range map[string][]byte{
		c.CAFile:   pemBlock("CERTIFICATE", caDER),
		c.CertFile: append(pemBlock("CERTIFICATE", leafDER), pemBlock("CERTIFICATE", caDER)...),
		c.KeyFile:  pemBlock("PRIVATE KEY", keyDER),
	} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// h2Client is a client that verifies against the server's trusted roots
// and negotiates HTTP/2 by ALPN.
func (s *server) h2Client() *http.Client {
	cfg := s.client.Transport.(*http.Transport).TLSClientConfig.Clone()
	return &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
		TLSClientConfig:       cfg,
		ForceAttemptHTTP2:     true,
		ExpectContinueTimeout: requestTimeout,
	}}
}

// TestTLSCertFlags: --tls-cert/--tls-key serve HTTPS with the given chain
// (verified against the test's own CA), HTTP/2 is negotiated, every WebDAV
// method works over HTTP/2, Expect: 100-continue is answered over TLS, and
// plain HTTP and TLS 1.1 are refused.
func TestTLSCertFlags(t *testing.T) {
	binary(t)
	t.Parallel()
	ca := newTestCA(t)
	data := filepath.Join(t.TempDir(), "data")
	addUser(t, data, "alice", "alice-pw")
	s := startServer(t, serverConfig{Data: data, CACert: ca.CAFile, Args: []string{
		"--data", data, "--listen", "127.0.0.1:0", "--tls-cert", ca.CertFile, "--tls-key", ca.KeyFile}})
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("--tls-cert/--tls-key: serving %s, want https", s.URL)
	}
	// startServer's client verified the chain against ca.pem for 127.0.0.1.
	resp, _ := s.do(t, "PROPFIND", "/dav/files/alice/", "alice", "alice-pw", nil, "Depth", "0")
	if resp.StatusCode != 207 || resp.TLS == nil {
		t.Fatalf("PROPFIND over TLS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	if got := resp.TLS.PeerCertificates[0]; !got.Equal(ca.leaf) {
		t.Errorf("server presents %q (serial %v), want the certificate of --tls-cert (serial %v)",
			got.Subject, got.SerialNumber, ca.leaf.SerialNumber)
	}
	if len(resp.TLS.PeerCertificates) != 2 {
		t.Errorf("server sends %d certificates, want the chain of --tls-cert (2)", len(resp.TLS.PeerCertificates))
	}
	if _, err := os.Stat(filepath.Join(data, "tls")); !os.IsNotExist(err) {
		t.Errorf("DATA/tls with --tls-cert: %v; want no self-signed certificate made", err)
	}

	// A client without the CA refuses the server.
	_, err := (&http.Client{Timeout: requestTimeout}).Get(s.URL + "/healthz")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("GET with the system roots: %v; want an unknown-authority error", err)
	}

	// Plain HTTP to the TLS port: Go's 400, nothing served.
	plain, err := (&http.Client{Timeout: requestTimeout}).Get("http://" + s.Addr + "/healthz")
	if err != nil {
		t.Errorf("plain HTTP to the TLS port: %v; want Go's 400 answer", err)
	} else {
		plain.Body.Close()
		if plain.StatusCode != 400 {
			t.Errorf("plain HTTP to the TLS port: %d, want 400", plain.StatusCode)
		}
	}

	// TLS 1.1 is refused (Go's server minimum is TLS 1.2).
	old := s.client.Transport.(*http.Transport).TLSClientConfig.Clone()
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if c, err := tls.DialWithDialer(&net.Dialer{Timeout: requestTimeout}, "tcp", s.Addr, old); err == nil {
		c.Close()
		t.Errorf("a TLS 1.1 handshake succeeded (%x)", c.ConnectionState().Version)
	} else if !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.1 handshake: %v; want a protocol version alert", err)
	}

	t.Run("http2", func(t *testing.T) {
		h2 := s.h2Client()
		send := func(method, path string, body io.Reader, size int64, header ...string) (*http.Response, []byte) {
			t.Helper()
			req, err := http.NewRequest(method, s.URL+path, body)
			if err != nil {
				t.Fatal(err)
			}
			if body != nil {
				req.ContentLength = size
			}
			req.SetBasicAuth("alice", "alice-pw")
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := h2.Do(req)
			if err != nil {
				t.Fatalf("%s %s over HTTP/2: %v", method, path, err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.ProtoMajor != 2 {
				t.Errorf("%s %s: %s, want HTTP/2 (ForceAttemptHTTP2, ALPN h2)", method, path, resp.Proto)
			}
			return resp, b
		}
		want := func(resp *http.Response, b []byte, status int) {
			t.Helper()
			if resp.StatusCode != status {
				t.Errorf("%s %s over HTTP/2: %d, want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, b)
			}
		}
		resp, b := send("OPTIONS", "/", nil, 0)
		want(resp, b, 200)
		if !strings.Contains(resp.Header.Get("DAV"), "2") {
			t.Errorf("OPTIONS over HTTP/2: DAV %q", resp.Header.Get("DAV"))
		}
		resp, b = send("MKCOL", "/dav/files/alice/h2/", nil, 0)
		want(resp, b, 201)
		// A body of unknown length: HTTP/2 frames it without Content-Length
		// (the HTTP/2 form of a chunked upload).
		payload := make([]byte, 1<<20)
		mrand.NewChaCha8([32]byte{2}).Read(payload)
		resp, b = send("PUT", "/dav/files/alice/h2/big.bin", io.MultiReader(bytes.NewReader(payload)), -1,
			"X-Expected-Entity-Length", strconv.Itoa(len(payload)))
		want(resp, b, 201)
		if got, err := os.ReadFile(filepath.Join(data, "files", "alice", "h2", "big.bin")); err != nil || !bytes.Equal(got, payload) {
			t.Errorf("PUT over HTTP/2 stored %d bytes, %v; want the %d sent", len(got), err, len(payload))
		}
		resp, b = send("PUT", "/dav/files/alice/h2/huge.bin", io.MultiReader(bytes.NewReader(payload[:4096])), -1,
			"X-Expected-Entity-Length", strconv.FormatInt(1<<62, 10))
		want(resp, b, 507)
		resp, b = send("GET", "/dav/files/alice/h2/big.bin", nil, 0)
		want(resp, b, 200)
		if !bytes.Equal(b, payload) {
			t.Errorf("GET over HTTP/2: %d bytes that differ from the %d put", len(b), len(payload))
		}
		resp, b = send("PROPFIND", "/dav/files/alice/h2", nil, 0, "Depth", "1")
		want(resp, b, 207)
		if ms, err := parseMultistatus(b); err != nil || len(ms) != 2 || ms.find("/dav/files/alice/h2/big.bin") == nil {
			t.Errorf("PROPFIND Depth 1 over HTTP/2: %v, %q", err, ms.hrefs())
		}
		lockBody := `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>h2</D:owner></D:lockinfo>`
		resp, b = send("LOCK", "/dav/files/alice/h2/big.bin", strings.NewReader(lockBody), int64(len(lockBody)), "Timeout", "Second-60")
		want(resp, b, 200)
		token := resp.Header.Get("Lock-Token")
		resp, b = send("PROPPATCH", "/dav/files/alice/h2/big.bin", strings.NewReader(win32Patch), int64(len(win32Patch)), "If", "("+token+")")
		want(resp, b, 207)
		if strings.Count(string(b), "200 OK") != 1 || strings.Contains(string(b), "403") {
			t.Errorf("PROPPATCH Win32* over HTTP/2:\n%s", b)
		}
		resp, b = send("UNLOCK", "/dav/files/alice/h2/big.bin", nil, 0, "Lock-Token", token)
		want(resp, b, 204)
		resp, b = send("COPY", "/dav/files/alice/h2/big.bin", nil, 0, "Destination", s.URL+"/dav/files/alice/h2/copy.bin")
		want(resp, b, 201)
		resp, b = send("MOVE", "/dav/files/alice/h2/copy.bin", nil, 0, "Destination", s.URL+"/dav/files/alice/h2/moved.bin")
		want(resp, b, 201)
		resp, b = send("DELETE", "/dav/files/alice/h2/", nil, 0)
		want(resp, b, 204)
		if _, err := os.Stat(filepath.Join(data, "files", "alice", "h2")); !os.IsNotExist(err) {
			t.Errorf("after DELETE over HTTP/2: %v", err)
		}
	})

	// litmus cannot test Expect: 100-continue over TLS (its http suite
	// skips expect100 "for SSL server"), so it is tested here, for
	// HTTP/1.1 and HTTP/2.
	t.Run("expect-continue", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			major  int
			client *http.Client
		}{
			{"HTTP/1.1", 1, &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
				TLSClientConfig: s.client.Transport.(*http.Transport).TLSClientConfig.Clone(), ExpectContinueTimeout: requestTimeout}}},
			{"HTTP/2", 2, s.h2Client()},
		} {
			got100 := false
			trace := &httptrace.ClientTrace{Got100Continue: func() { got100 = true }}
			body := bytes.Repeat([]byte("x"), 100)
			name := "/dav/files/alice/expect100-" + strings.ReplaceAll(c.name, "/", "")
			req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "PUT", s.URL+name, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Expect", "100-continue")
			req.SetBasicAuth("alice", "alice-pw")
			resp, err := c.client.Do(req)
			if err != nil {
				t.Fatalf("%s PUT with Expect: 100-continue: %v", c.name, err)
			}
			resp.Body.Close()
			if resp.StatusCode != 201 || !got100 || resp.ProtoMajor != c.major {
				t.Errorf("%s PUT with Expect: 100-continue: %s %d, 100 Continue received: %v; want %s 201 after a 100",
					c.name, resp.Proto, resp.StatusCode, got100, c.name)
			}
		}
	})
}

const win32Patch = `<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>` +
	`<Z:Win32LastModifiedTime>Thu, 05 Mar 2020 10:00:00 GMT</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>` +
	`</D:prop></D:set></D:propertyupdate>`

// The litmus suites over HTTPS. litmus's http suite skips expect100 for
// https URLs (litmus 0.13 src/http.c: "skipping for SSL server"), so over
// TLS 103 of the 104 tests run; TestTLSCertFlags covers Expect:
// 100-continue over TLS instead.
var litmusTLSSuites = func() []litmusSuite {
	suites := slices.Clone(litmusSuites)
	for i := range suites {
		if suites[i].name == "http" {
			suites[i].tests-- // expect100
		}
	}
	return suites
}()

var litmusExpect100Skip = regexp.MustCompile(`expect100\.+ +SKIPPED \(skipping for SSL server\)`)

// TestLitmusTLS runs every litmus suite against a home served with
// --tls-self-signed. litmus needs no option for the untrusted certificate:
// it registers a verification callback with neon (ne_ssl_set_verify) that
// accepts any server certificate.
func TestLitmusTLS(t *testing.T) {
	litmus := requireTool(t, "litmus", "litmus")
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	addUser(t, data, "alice", "alice-pw")
	s := startServer(t, serverConfig{Data: data, Args: []string{"--data", data, "--listen", "127.0.0.1:0", "--tls-self-signed"}})
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("serving %s, want https", s.URL)
	}
	r := runLitmus(t, litmus, s.filesURL("alice"), " over TLS", litmusTLSSuites)
	// Exactly one skip: litmus's own expect100 skip for TLS.
	if !litmusExpect100Skip.MatchString(r.out) {
		t.Errorf("litmus output lacks the expected skip of expect100 for SSL servers")
	}
	skips := litmusSkipped.FindAllString(litmusExpect100Skip.ReplaceAllString(r.out, ""), -1)
	if len(skips) != 1 || !strings.Contains(skips[0], "1 test was skipped") {
		t.Errorf("litmus skipped other tests than expect100: %q", skips)
	}
	if !strings.Contains(s.log(), "method=PROPPATCH") {
		t.Errorf("the server logged no PROPPATCH: litmus did not reach it")
	}
	r.check(t, " over HTTPS (expect100 skipped by litmus for SSL)")
}

// openPTY opens a pseudo-terminal pair: cadaver asks whether to accept an
// untrusted certificate only when its standard input is a terminal (on a
// pipe it prints "Certificate rejected." and does not connect).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatalf("pseudo-terminal number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("opening /dev/pts/%d: %v", n, err)
	}
	return m, s
}

// startCadaverTTY starts cadaver on url with a terminal as its standard
// input (output still goes to a pipe) and answers y to its certificate
// question, as a user accepting a self-signed certificate does.
func startCadaverTTY(t *testing.T, bin, url, home, dir string) *cadaver {
	t.Helper()
	master, slave := openPTY(t)
	c := &cadaver{t: t, cmd: exec.Command(bin, url), out: &testbin.Buffer{}, exited: make(chan struct{}), stdin: master}
	c.cmd.Dir = dir
	// TERM=dumb: readline echoes plain text, without escape sequences.
	c.cmd.Env = append(testbin.Env(), "HOME="+home, "TERM=dumb")
	c.cmd.Stdin = slave
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting cadaver: %v", err)
	}
	slave.Close()
	// The terminal echoes what is typed to the master side until readline
	// takes over; nobody needs it, but it must be read.
	go io.Copy(io.Discard, master)
	go func() {
		c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		io.WriteString(master, "quit\n")
		waitOrKill(t, "cadaver", c.cmd, c.exited)
		master.Close()
		if t.Failed() {
			t.Logf("cadaver session:\n%s", c.out.String())
		}
	})
	// The question goes to stdout, a pipe that cadaver's stdio buffers
	// until the answer is read, so the answer is typed ahead: the terminal
	// keeps it until cadaver reads its first line, the answer.
	if _, err := io.WriteString(master, "y\n"); err != nil {
		t.Fatal(err)
	}
	c.waitPrompt()
	if out := c.out.String(); !strings.Contains(out, "Do you wish to accept the certificate? (y/n)") {
		t.Fatalf("cadaver connected without asking about the untrusted certificate:\n%s", out)
	}
	return c
}

// TestCadaverTLS drives cadaver against --tls-self-signed: the certificate
// is accepted at cadaver's prompt, then put, get, propset/propget, lock,
// put under the lock, unlock, copy, move and rm, each checked on disk or
// over HTTP.
func TestCadaverTLS(t *testing.T) {
	bin := requireTool(t, "cadaver", "cadaver")
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	addUser(t, data, "alice", "alice-pw")
	s := startServer(t, serverConfig{Data: data, Args: []string{"--data", data, "--listen", "127.0.0.1:0", "--tls-self-signed"}})
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine 127.0.0.1\nlogin alice\npassword alice-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	v1 := make([]byte, 200<<10)
	mrand.NewChaCha8([32]byte{9}).Read(v1)
	v2 := []byte("second version, under a lock, over TLS\n")
	for name, b := range map[string][]byte{"v1.bin": v1, "v2.txt": v2} {
		if err := os.WriteFile(filepath.Join(work, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	disk := func(rel string) string { return filepath.Join(data, "files", "alice", filepath.FromSlash(rel)) }
	onDisk := func(rel string, want []byte) {
		t.Helper()
		if got, err := os.ReadFile(disk(rel)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("files/alice/%s on disk: %d bytes, %v; want %d bytes", rel, len(got), err, len(want))
		}
	}
	gone := func(rel string) {
		t.Helper()
		if _, err := os.Lstat(disk(rel)); !os.IsNotExist(err) {
			t.Errorf("files/alice/%s: %v; want it gone", rel, err)
		}
	}

	c := startCadaverTTY(t, bin, s.filesURL("alice"), home, work)
	if out := c.out.String(); !strings.Contains(out, "Issued to: davshare self-signed") {
		t.Errorf("cadaver did not show the self-signed certificate:\n%s", out)
	}
	c.do("put v1.bin a.bin", "succeeded")
	onDisk("a.bin", v1)
	c.do("get a.bin got.bin", "succeeded")
	if got, err := os.ReadFile(filepath.Join(work, "got.bin")); err != nil || !bytes.Equal(got, v1) {
		t.Errorf("get a.bin: %d bytes, %v; want the %d put", len(got), err, len(v1))
	}
	c.do("propset a.bin color green", "succeeded")
	c.do("propget a.bin color", "Value of color is: green")
	c.do("lock a.bin", "succeeded")
	s.expect(t, 423, "PUT", "/dav/files/alice/a.bin", "alice", "alice-pw", []byte("intruder"))
	c.do("put v2.txt a.bin", "succeeded")
	onDisk("a.bin", v2)
	c.do("unlock a.bin", "succeeded")
	c.do("copy a.bin b.bin", "succeeded")
	onDisk("b.bin", v2)
	c.do("propget b.bin color", "Value of color is: green")
	c.do("move b.bin c.bin", "succeeded")
	gone("b.bin")
	onDisk("c.bin", v2)
	c.do("rm a.bin", "succeeded")
	gone("a.bin")
	if out := c.do("ls", "succeeded"); !strings.Contains(out, "c.bin") || strings.Contains(out, "a.bin") {
		t.Errorf("ls: want c.bin only:\n%s", out)
	}
}
