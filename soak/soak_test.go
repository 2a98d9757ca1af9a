// Package soak drives the built davshare binary with many concurrent
// WebDAV clients for a while (issue #7) and checks that it stays healthy:
// no 5xx, every GET returns a version that was written to that path, and
// the server's open file descriptors (/proc/PID/fd) and goroutines
// (go_goroutines on the metrics listener) return to their level from
// before the load once the clients' connections close.
//
// alice shares /Team read-write with carol and read-only with bob, through
// the share-resource POST and invite-reply accepts. Then 64 clients, spread
// over the three users, mix PUT/GET with content checks, PROPFIND,
// MKCOL/DELETE, MOVE, COPY, PROPPATCH/PROPFIND of a dead property, and
// LOCK/PUT with the token/UNLOCK in their homes; carol's also write through
// her mount, bob's read through his and count the 403s of their writes
// there as expected. A few contended files in the share are written by
// alice and carol and read by all three; a read must return one of the
// versions sent to that path.
//
// The load lasts 2 minutes, 10 seconds with -short; -soak.duration or
// SOAK_DURATION (a Go duration) sets it. Every server runs on loopback and
// every loop is bounded by the duration.
package soak

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/davshare/davshare/internal/testbin"
)

var duration = flag.Duration("soak.duration", 0, "how long the load lasts (default 2m, 10s with -short; or SOAK_DURATION)")

const (
	clients = 64
	// thinkMax bounds each client's pause between operations, which keeps
	// the soak from taking both cores of a CI machine from the packages
	// tested beside it.
	thinkMax = 40 * time.Millisecond
	// settleMax bounds the wait for descriptors and goroutines to return.
	settleMax = 20 * time.Second
	// Tolerances over the level before the load.
	fdSlack        = 4
	goroutineSlack = 10
	contended      = 4 // shared files written by several clients
)

var users = []string{"alice", "bob", "carol"}

func password(u string) string { return u + "-soak-pw" }

func loadDuration(t *testing.T) time.Duration {
	if *duration > 0 {
		return *duration
	}
	if s := os.Getenv("SOAK_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("SOAK_DURATION=%q: want a positive Go duration", s)
		}
		return d
	}
	if testing.Short() {
		return 10 * time.Second
	}
	return 2 * time.Minute
}

func TestSoak(t *testing.T) {
	d := loadDuration(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "davshare")
	if err := testbin.Build(t.Context(), bin); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	for _, u := range users {
		testbin.AddUser(t, bin, data, u, password(u), "--email", u+"@example.org")
	}
	srv := startServer(t, bin, data)
	s := &soak{srv: srv, t: t, valid: map[string]map[[32]byte]bool{}}
	s.setup()

	// A short warm-up makes what the server creates lazily (open homes,
	// caches, pools) part of the baseline.
	s.load(min(3*time.Second, d/4))
	s.quiesce()
	fdBefore, grBefore := srv.fds(t), srv.goroutines(t)
	s.resetCounts()

	start := time.Now()
	s.load(d)
	elapsed := time.Since(start)
	fdPeak, grPeak := s.peakFD.Load(), s.peakGR.Load()
	s.quiesce()
	fdAfter, grAfter := srv.fds(t), srv.goroutines(t)
	deadline := time.Now().Add(settleMax)
	for (fdAfter > fdBefore+fdSlack || grAfter > grBefore+goroutineSlack) && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		fdAfter, grAfter = srv.fds(t), srv.goroutines(t)
	}

	total := s.requests.Load()
	t.Logf("soak: %d clients for %v: %d requests, %.0f req/s", clients, elapsed.Round(time.Millisecond), total, float64(total)/elapsed.Seconds())
	t.Logf("soak: by class: 2xx %d, 3xx %d, expected 4xx %d (403 on bob's read-only mount %d, other %d), unexpected 4xx %d, 5xx %d, transport errors %d",
		s.class[2].Load(), s.class[3].Load(), s.expected403.Load()+s.expected4xx.Load(), s.expected403.Load(), s.expected4xx.Load(),
		s.unexpected4xx.Load(), s.class[5].Load(), s.transport.Load())
	t.Logf("soak: content checks %d (contended reads %d), mismatches %d", s.verified.Load(), s.contendedReads.Load(), s.mismatches.Load())
	t.Logf("soak: open fds %d before, peak %d, %d after; goroutines %d before, peak %d, %d after (tolerance +%d, +%d)",
		fdBefore, fdPeak, fdAfter, grBefore, grPeak, grAfter, fdSlack, goroutineSlack)
	for _, e := range s.firstErrors() {
		t.Log("soak: " + e)
	}
	if n := s.class[5].Load(); n > 0 {
		t.Errorf("%d responses were 5xx", n)
	}
	if n := s.mismatches.Load(); n > 0 {
		t.Errorf("%d reads returned content that was never written to that path", n)
	}
	if n := s.unexpected4xx.Load() + s.transport.Load(); n > 0 {
		t.Errorf("%d unexpected 4xx answers or transport errors", n)
	}
	if s.verified.Load() == 0 || s.expected403.Load() == 0 || s.contendedReads.Load() == 0 {
		t.Errorf("the load checked nothing: %d content checks, %d contended reads, %d 403s", s.verified.Load(), s.contendedReads.Load(), s.expected403.Load())
	}
	if fdAfter > fdBefore+fdSlack {
		t.Errorf("open file descriptors grew from %d to %d", fdBefore, fdAfter)
	}
	if grAfter > grBefore+goroutineSlack {
		t.Errorf("goroutines grew from %d to %d", grBefore, grAfter)
	}
	srv.stop(t)
}

// server is the running binary.
type server struct {
	proc    *testbin.Process
	url     string
	metrics string
}

func startServer(t *testing.T, bin, data string) *server {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", "127.0.0.1:0")
	// The login throttle keeps its defaults: 64 clients of three users on
	// one address, every password right, must never see a 429.
	cmd.Env = append(testbin.Env(), "DAVSHARE_METRICS_LISTEN=127.0.0.1:0", "DAVSHARE_LOG_LEVEL=warn")
	s := &server{proc: testbin.Start(t, cmd)}
	serving := s.proc.WaitServing(t, 30*time.Second)
	if serving.Metrics == "" {
		t.Fatalf("davshare printed no metrics line:\n%s", s.proc.Stdout.String())
	}
	s.url, s.metrics = serving.URL, serving.Metrics
	return s
}

// countFDs counts the server's open file descriptors.
func (s *server) countFDs() (int, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(s.proc.Cmd.Process.Pid) + "/fd")
	return len(ents), err
}

var goroutinesRE = regexp.MustCompile(`(?m)^go_goroutines (\d+)$`)

// countGoroutines reads go_goroutines from the metrics listener, on a
// connection of its own that is closed at once.
func (s *server) countGoroutines() (int, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(s.metrics)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := goroutinesRE.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no go_goroutines in the metrics")
	}
	return strconv.Atoi(string(m[1]))
}

func (s *server) fds(t *testing.T) int {
	n, err := s.countFDs()
	if err != nil {
		t.Fatalf("counting the server's descriptors: %v", err)
	}
	return n
}

func (s *server) goroutines(t *testing.T) int {
	n, err := s.countGoroutines()
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return n
}

// stop sends SIGTERM and waits, bounded; unlike e2e and crashtest, the
// soak does not assert the exit status.
func (s *server) stop(t *testing.T) {
	s.proc.Cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := s.proc.WaitExit(30 * time.Second); !ok {
		t.Error("davshare did not stop within 30s of SIGTERM; killed")
	}
	if t.Failed() {
		t.Logf("server log (tail):\n%s", s.proc.Stderr.Tail(4000))
	}
}

// soak is the load and its tallies.
type soak struct {
	t       *testing.T
	srv     *server
	client  *http.Client
	mounts  map[string]string // sharee → instance path of /Team in their home
	clients []*client

	mu     sync.Mutex
	valid  map[string]map[[32]byte]bool // contended path (alice's) → versions sent
	errors []string
	seq    atomic.Int64

	requests, transport, unexpected4xx, expected403, expected4xx atomic.Int64
	verified, contendedReads, mismatches                         atomic.Int64
	class                                                        [6]atomic.Int64
	peakFD, peakGR                                               atomic.Int64
}

func (s *soak) resetCounts() {
	for _, c := range []*atomic.Int64{&s.requests, &s.transport, &s.unexpected4xx, &s.expected403, &s.expected4xx,
		&s.verified, &s.contendedReads, &s.mismatches, &s.class[2], &s.class[3], &s.class[4], &s.class[5], &s.peakFD, &s.peakGR} {
		c.Store(0)
	}
	s.mu.Lock()
	s.errors = nil
	s.mu.Unlock()
}

// fail records an unexpected answer (the first few are logged).
func (s *soak) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errors) < 10 {
		s.errors = append(s.errors, fmt.Sprintf(format, args...))
	}
}

func (s *soak) firstErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errors...)
}

// do sends a request as user and returns the response with its body read.
// want lists the statuses that are right; anything else is counted as
// unexpected (5xx separately).
func (s *soak) do(user, method, p string, body []byte, want []int, hdr ...string) (*http.Response, []byte) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.url+p, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.SetBasicAuth(user, password(user))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	s.requests.Add(1)
	resp, err := s.client.Do(req)
	if err != nil {
		s.transport.Add(1)
		s.fail("%s %s as %s: %v", method, p, user, err)
		return nil, nil
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		s.transport.Add(1)
		s.fail("%s %s as %s: reading the body: %v", method, p, user, err)
		return nil, nil
	}
	if c := resp.StatusCode / 100; c >= 2 && c <= 5 {
		s.class[c].Add(1)
	}
	for _, w := range want {
		if resp.StatusCode == w {
			if w >= 400 {
				if w == http.StatusForbidden {
					s.expected403.Add(1)
				} else {
					s.expected4xx.Add(1)
				}
			}
			return resp, b
		}
	}
	if resp.StatusCode < 500 {
		s.unexpected4xx.Add(1)
	}
	s.fail("%s %s as %s: %d, want %v: %.200s", method, p, user, resp.StatusCode, want, b)
	return nil, nil
}

func codes(c ...int) []int { return c }

var (
	ok200       = codes(http.StatusOK)
	created     = codes(http.StatusCreated, http.StatusNoContent)
	multistatus = codes(http.StatusMultiStatus)
	noContent   = codes(http.StatusNoContent)
)

const davsharing = "application/davsharing+xml; charset=utf-8"

var inviteRE = regexp.MustCompile(`<D:href>(/dav/notifications/[^<]*/share-[^<]*)</D:href>`)

// setup shares alice's /Team with carol (read-write) and bob (read), both
// accepting through their invitations, and writes the contended files.
func (s *soak) setup() {
	t := s.t
	s.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	s.do("alice", "MKCOL", "/dav/files/alice/Team/", nil, codes(http.StatusCreated))
	s.do("alice", "POST", "/dav/files/alice/Team/", []byte(`<?xml version="1.0" encoding="utf-8"?><D:share-resource xmlns:D="DAV:">`+
		`<D:sharee><D:href>/dav/principals/carol/</D:href><D:share-access><D:read-write/></D:share-access></D:sharee>`+
		`<D:sharee><D:href>mailto:bob@example.org</D:href><D:share-access><D:read/></D:share-access></D:sharee>`+
		`</D:share-resource>`), codes(http.StatusOK, http.StatusNoContent), "Content-Type", davsharing)
	s.mounts = map[string]string{}
	for _, u := range []string{"bob", "carol"} {
		_, list := s.do(u, "PROPFIND", "/dav/notifications/"+u+"/", nil, multistatus, "Depth", "1")
		m := inviteRE.FindSubmatch(list)
		if m == nil {
			t.Fatalf("%s has no invitation: %s", u, list)
		}
		resp, _ := s.do(u, "POST", string(m[1]), []byte(`<D:invite-reply xmlns:D="DAV:"><D:invite-accepted/><D:create-in><D:href>/dav/files/`+u+`/</D:href></D:create-in></D:invite-reply>`),
			codes(http.StatusCreated), "Content-Type", davsharing)
		if resp == nil {
			t.Fatalf("%s could not accept: %v", u, s.firstErrors())
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.Path, "/dav/files/"+u+"/") {
			t.Fatalf("%s's instance: Location %q", u, resp.Header.Get("Location"))
		}
		s.mounts[u] = strings.TrimSuffix(loc.Path, "/")
	}
	for k := range contended {
		s.putContended("alice", k, 0)
	}
	if n := s.class[5].Load() + s.unexpected4xx.Load() + s.transport.Load(); n > 0 {
		t.Fatalf("setup failed: %v", s.firstErrors())
	}
}

// contendedPath is contended file k in alice's share, as user reaches it.
func (s *soak) contendedPath(user string, k int) string {
	if user == "alice" {
		return fmt.Sprintf("/dav/files/alice/Team/contended-%d.txt", k)
	}
	return fmt.Sprintf("%s/contended-%d.txt", s.mounts[user], k)
}

// content is a version of a file: a header naming it, then filler whose
// length (up to 32 KiB) depends on the version.
func content(name string, v int64) []byte {
	header := fmt.Sprintf("%s version %d\n", name, v)
	n := int(64 + (v*7919)%(32<<10))
	b := make([]byte, 0, len(header)+n)
	b = append(b, header...)
	for i := range n {
		b = append(b, byte('a'+(int64(i)+v)%26))
	}
	return b
}

func (s *soak) putContended(user string, k int, v int64) {
	key := fmt.Sprintf("contended-%d", k)
	b := content(key, v)
	s.mu.Lock()
	if s.valid[key] == nil {
		s.valid[key] = map[[32]byte]bool{}
	}
	s.valid[key][sha256.Sum256(b)] = true // before the PUT: a reader may see it at once
	s.mu.Unlock()
	s.do(user, "PUT", s.contendedPath(user, k), b, created)
}

func (s *soak) getContended(user string, k int) {
	resp, b := s.do(user, "GET", s.contendedPath(user, k), nil, ok200)
	if resp == nil {
		return
	}
	key := fmt.Sprintf("contended-%d", k)
	s.mu.Lock()
	ok := s.valid[key][sha256.Sum256(b)]
	s.mu.Unlock()
	s.contendedReads.Add(1)
	s.check(ok, "%s read %d bytes from %s that were never written there (%.40q)", user, len(b), key, b)
}

func (s *soak) check(ok bool, format string, args ...any) {
	if ok {
		s.verified.Add(1)
		return
	}
	s.mismatches.Add(1)
	s.fail(format, args...)
}

// load runs the clients for d.
func (s *soak) load(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if s.clients == nil {
		seed := uint64(time.Now().UnixNano())
		s.t.Logf("soak: seed %d", seed)
		for i := range clients {
			s.clients = append(s.clients, &client{s: s, id: i, user: users[i%len(users)], rnd: rand.New(rand.NewPCG(uint64(i), seed))})
		}
	}
	var wg sync.WaitGroup
	for _, c := range s.clients {
		wg.Go(func() { c.run(ctx) })
	}
	wg.Go(func() { // the server's peak figures
		for ctx.Err() == nil {
			if n, err := s.srv.countFDs(); err == nil && int64(n) > s.peakFD.Load() {
				s.peakFD.Store(int64(n))
			}
			if n, err := s.srv.countGoroutines(); err == nil && int64(n) > s.peakGR.Load() {
				s.peakGR.Store(int64(n))
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	})
	wg.Wait()
}

// quiesce closes the clients' idle connections, so that the server's
// connection goroutines and sockets can go.
func (s *soak) quiesce() {
	s.client.CloseIdleConnections()
	time.Sleep(500 * time.Millisecond)
}

// client is one WebDAV client working in its own folder.
type client struct {
	s     *soak
	id    int
	user  string
	rnd   *rand.Rand
	dir   string            // its folder, a URL path with a trailing slash
	files map[string][]byte // its files (name → content; nil: absent)
	locks int
}

func (c *client) run(ctx context.Context) {
	s := c.s
	c.dir = fmt.Sprintf("/dav/files/%s/soak-%d/", c.user, c.id)
	if c.files == nil {
		c.files = map[string][]byte{}
		s.do(c.user, "MKCOL", c.dir, nil, codes(http.StatusCreated, http.StatusMethodNotAllowed))
	}
	for ctx.Err() == nil {
		c.step()
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(c.rnd.Int64N(int64(thinkMax)))):
		}
	}
}

// version returns new content for name.
func (c *client) version(name string) []byte {
	return content(fmt.Sprintf("%s%s", c.dir, name), c.s.seq.Add(1))
}

func (c *client) step() {
	s, u, r := c.s, c.user, c.rnd
	f := fmt.Sprintf("f-%d.txt", r.IntN(4))
	switch op := r.IntN(20); {
	case op < 4: // PUT and GET back
		b := c.version(f)
		if resp, _ := s.do(u, "PUT", c.dir+f, b, created); resp != nil {
			c.files[f] = b
		}
		c.get(f)
	case op < 6:
		c.get(f)
	case op < 7:
		s.do(u, "PROPFIND", c.dir, nil, multistatus, "Depth", "1")
	case op < 8: // MKCOL and DELETE
		d := fmt.Sprintf("%sd-%d/", c.dir, r.IntN(1000))
		s.do(u, "MKCOL", d, nil, codes(http.StatusCreated))
		s.do(u, "DELETE", d, nil, noContent)
	case op < 9: // MOVE away and back
		if c.files[f] == nil {
			return
		}
		s.do(u, "MOVE", c.dir+f, nil, created, "Destination", s.srv.url+c.dir+"moved.txt", "Overwrite", "T")
		c.files["moved.txt"], c.files[f] = c.files[f], nil
		c.get("moved.txt")
		s.do(u, "MOVE", c.dir+"moved.txt", nil, created, "Destination", s.srv.url+c.dir+f, "Overwrite", "T")
		c.files[f], c.files["moved.txt"] = c.files["moved.txt"], nil
		c.get(f)
	case op < 10: // COPY
		if c.files[f] == nil {
			return
		}
		s.do(u, "COPY", c.dir+f, nil, created, "Destination", s.srv.url+c.dir+"copy.txt", "Overwrite", "T")
		c.files["copy.txt"] = c.files[f]
		c.get("copy.txt")
	case op < 11: // a dead property
		if c.files[f] == nil {
			return
		}
		val := fmt.Sprintf("v%d", r.IntN(1e6))
		s.do(u, "PROPPATCH", c.dir+f, []byte(`<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:S="urn:soak"><D:set><D:prop><S:tag>`+val+`</S:tag></D:prop></D:set></D:propertyupdate>`),
			multistatus, "Content-Type", "application/xml")
		if resp, b := s.do(u, "PROPFIND", c.dir+f, []byte(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:S="urn:soak"><D:prop><S:tag/></D:prop></D:propfind>`),
			multistatus, "Depth", "0", "Content-Type", "application/xml"); resp != nil {
			s.check(bytes.Contains(b, []byte(">"+val+"<")), "%s: PROPFIND does not show the dead property just set (%s): %.300s", c.dir+f, val, b)
		}
	case op < 12: // LOCK, PUT with the token, UNLOCK
		c.lockedPut()
	case op < 15:
		c.shared(r.IntN(contended))
	default:
		c.mount(f)
	}
}

// get reads name and compares it with what this client last wrote.
func (c *client) get(name string) {
	want := c.files[name]
	if want == nil {
		c.s.do(c.user, "GET", c.dir+name, nil, codes(http.StatusNotFound))
		return
	}
	if resp, b := c.s.do(c.user, "GET", c.dir+name, nil, ok200); resp != nil {
		c.s.check(bytes.Equal(b, want), "%s%s: GET returns %d bytes (%.40q), not the %d last written", c.dir, name, len(b), b, len(want))
	}
}

const lockBody = `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>soak</D:owner></D:lockinfo>`

func (c *client) lockedPut() {
	s, u := c.s, c.user
	resp, _ := s.do(u, "LOCK", c.dir+"locked.txt", []byte(lockBody), codes(http.StatusOK, http.StatusCreated), "Timeout", "Second-60", "Content-Type", "application/xml")
	if resp == nil {
		return
	}
	tok := strings.Trim(resp.Header.Get("Lock-Token"), "<>")
	b := c.version("locked.txt")
	if r, _ := s.do(u, "PUT", c.dir+"locked.txt", b, created, "If", "(<"+tok+">)"); r != nil {
		c.files["locked.txt"] = b
	}
	s.do(u, "UNLOCK", c.dir+"locked.txt", nil, noContent, "Lock-Token", "<"+tok+">")
	c.get("locked.txt")
}

// shared works on contended file k: alice and carol write it, everyone
// reads it.
func (c *client) shared(k int) {
	if c.user != "bob" && c.rnd.IntN(2) == 0 {
		c.s.putContended(c.user, k, c.s.seq.Add(1))
	}
	c.s.getContended(c.user, k)
}

// mount works through the user's instance of /Team: carol writes her own
// files there, bob lists it and is refused writes; alice lists the original.
func (c *client) mount(f string) {
	s, u := c.s, c.user
	switch u {
	case "alice":
		s.do(u, "PROPFIND", "/dav/files/alice/Team/", nil, multistatus, "Depth", "1")
	case "bob":
		s.do(u, "PROPFIND", s.mounts[u]+"/", nil, multistatus, "Depth", "1")
		s.do(u, "PUT", fmt.Sprintf("%s/bob-%d.txt", s.mounts[u], c.id), []byte("no"), codes(http.StatusForbidden))
		s.do(u, "MKCOL", fmt.Sprintf("%s/bob-%d/", s.mounts[u], c.id), nil, codes(http.StatusForbidden))
	case "carol":
		p := fmt.Sprintf("%s/carol-%d-%s", s.mounts[u], c.id, f)
		b := content(p, s.seq.Add(1))
		if resp, _ := s.do(u, "PUT", p, b, created); resp == nil {
			return
		}
		if resp, got := s.do(u, "GET", p, nil, ok200); resp != nil {
			s.check(bytes.Equal(got, b), "%s: GET through the mount returns %d bytes, not the %d written", p, len(got), len(b))
		}
	}
}
