package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/webdav"
)

func TestMain(m *testing.M) {
	// The child of --baseline-process is this test binary.
	if len(os.Args) > 1 && os.Args[1] == serveBaselineArg {
		os.Exit(serveBaseline(os.Args[2:], os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// testSizes keep the fixtures small enough for a test under -race.
var testSizes = sizes{
	dirLarge:  300,
	dirMedium: 50,
	dirHuge:   500,
	entry:     64,
	small:     4 << 10,
	getBig:    1 << 20,
	putBig:    2 << 20,
}

const testUser, testPassword = "alice", "s3cret"

// davServer is an in-process x/net/webdav server standing in for davshare:
// Basic authentication, the owner's view of a folder under
// /dav/files/alice/ and a second view of the same files under /mount/
// (like a share mount). wrap, if set, sits between authentication and
// WebDAV.
type davServer struct {
	*httptest.Server
	dir      string
	requests atomic.Int64
	puts     atomic.Int64
}

func newDAVServer(t *testing.T, wrap func(http.Handler) http.Handler) *davServer {
	t.Helper()
	s := &davServer{dir: t.TempDir()}
	ls := webdav.NewMemLS()
	mux := http.NewServeMux()
	mux.Handle("/dav/files/alice/", &webdav.Handler{Prefix: "/dav/files/alice", FileSystem: webdav.Dir(s.dir), LockSystem: ls})
	mux.Handle("/mount/", &webdav.Handler{Prefix: "/mount", FileSystem: webdav.Dir(s.dir), LockSystem: ls})
	var h http.Handler = mux
	if wrap != nil {
		h = wrap(h)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if r.Method == http.MethodPut {
			s.puts.Add(1)
		}
		if u, p, ok := r.BasicAuth(); !ok || u != testUser || p != testPassword {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// target is the owner's view, probed (and so created).
func (s *davServer) target(t *testing.T) *target {
	t.Helper()
	tg, err := newTarget("davshare", s.ownerURL(), testUser, testPassword, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.probe(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.close)
	return tg
}

func (s *davServer) ownerURL() string { return s.URL + "/dav/files/alice/bench/" }
func (s *davServer) mountURL() string { return s.URL + "/mount/bench/" }

// benchArgs runs bench with parsed flags and the test sizes; it returns
// the table and the JSON rows.
func benchArgs(t *testing.T, args ...string) (string, []jsonRow) {
	t.Helper()
	jsonPath := filepath.Join(t.TempDir(), "out.json")
	args = append(args, "--json", jsonPath)
	var stderr bytes.Buffer
	cfg, err := parseFlags(args, func(k string) string {
		if k == "DAVBENCH_PASSWORD" {
			return testPassword
		}
		return ""
	}, &stderr)
	if err != nil {
		t.Fatalf("parseFlags(%q): %v", args, err)
	}
	cfg.sizes = testSizes
	var stdout bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := bench(ctx, cfg, &stdout, &stderr); err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Logf("stderr:\n%s", stderr.String())
	return stdout.String(), readJSON(t, jsonPath)
}

// readJSON parses JSON lines strictly: every line one object, no unknown
// fields.
func readJSON(t *testing.T, path string) []jsonRow {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []jsonRow
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r jsonRow
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("JSON line %q: %v", sc.Text(), err)
		}
		if dec.More() {
			t.Fatalf("JSON line %q: more than one value", sc.Text())
		}
		rows = append(rows, r)
	}
	return rows
}

// TestEveryScenarioAgainstTwoServers runs every scenario for 200 ms on an
// authenticated server, through its mount view and against the --baseline
// server, and checks the fixtures, the counts, the ratios and the JSON.
func TestEveryScenarioAgainstTwoServers(t *testing.T) {
	srv := newDAVServer(t, nil)
	table, rows := benchArgs(t,
		"--url", srv.ownerURL(), "--user", testUser,
		"--mount-url", srv.mountURL(),
		"--baseline", "--duration", "200ms", "--scenarios", "all",
		"--server-pid", strconv.Itoa(os.Getpid()))
	_ = table
	all := scenarios(testSizes)
	want := 0
	for _, sc := range all {
		want += 2
		if sc.mount {
			want++
		}
		if sc.ceiling {
			want++
		}
	}
	if len(rows) != want {
		t.Fatalf("%d JSON rows, want %d (every scenario on davshare and baseline, the mount ones also on mount, the GETs also on ceiling)", len(rows), want)
	}
	byKey := map[runKey]jsonRow{}
	for _, r := range rows {
		byKey[runKey{r.Name, r.Target}] = r
		if r.Ops <= 0 || r.Errors != 0 || r.Rate <= 0 || r.P50ms <= 0 || r.P99ms < r.P50ms || r.Rounds != 1 {
			t.Errorf("%s on %s: ops %d, errors %d (%s), rate %v, p50 %v, p99 %v, rounds %d",
				r.Name, r.Target, r.Ops, r.Errors, r.FirstError, r.Rate, r.P50ms, r.P99ms, r.Rounds)
		}
		if r.Seconds < 0.2 || r.Seconds > 30 {
			t.Errorf("%s on %s: measured %vs, want about 0.2s", r.Name, r.Target, r.Seconds)
		}
		if (r.Unit == "MB/s") != (r.MBPerS != nil) || (r.Unit != "MB/s") != (r.ReqPerS != nil) {
			t.Errorf("%s on %s: unit %s with mb_per_s %v, req_per_s %v", r.Name, r.Target, r.Unit, r.MBPerS, r.ReqPerS)
		}
		switch r.Target {
		case "davshare", "mount":
			if r.VsBaseline == nil || *r.VsBaseline <= 0 {
				t.Errorf("%s on %s: no ratio to the baseline", r.Name, r.Target)
			}
			if r.ServerPeakRSSMB == nil || *r.ServerPeakRSSMB <= 0 {
				t.Errorf("%s on %s: no server peak RSS with --server-pid", r.Name, r.Target)
			}
		case "baseline":
			if r.VsBaseline != nil || r.VsOwner != nil || r.ServerPeakRSSMB != nil {
				t.Errorf("%s on baseline: has ratios or RSS: %+v", r.Name, r)
			}
		case "ceiling":
			if !strings.HasPrefix(r.Name, "get-") || r.VsBaseline == nil || *r.VsBaseline <= 0 || r.ServerPeakRSSMB != nil {
				t.Errorf("%s on ceiling: want a GET with a ratio to the baseline and no RSS: %+v", r.Name, r)
			}
		default:
			t.Errorf("unknown target %q", r.Target)
		}
		if (r.Target == "mount") != (r.VsOwner != nil) {
			t.Errorf("%s on %s: ratio to owner %v", r.Name, r.Target, r.VsOwner)
		}
	}
	// A ratio is the two rates divided (one round: no median to take).
	d, b := byKey[runKey{"get-4k", "davshare"}], byKey[runKey{"get-4k", "baseline"}]
	if got, want := *d.VsBaseline, d.Rate/b.Rate; got < want*0.99 || got > want*1.01 {
		t.Errorf("get-4k ratio %v, want %v/%v = %v", got, d.Rate, b.Rate, want)
	}
	if r := byKey[runKey{"mkcol-delete", "davshare"}]; r.Requests != 2*r.Ops {
		t.Errorf("mkcol-delete: %d requests for %d pairs", r.Requests, r.Ops)
	}

	// The fixtures are on disk; the scenarios' scratch folders are gone.
	for _, n := range []int{testSizes.dirLarge, testSizes.dirMedium, testSizes.dirHuge} {
		ents, err := os.ReadDir(filepath.Join(srv.dir, "bench", folderFixture(n, 0).rel))
		if err != nil || len(ents) != n {
			t.Errorf("fixture folder of %d: %d entries, %v", n, len(ents), err)
		}
	}
	for _, size := range []int64{testSizes.small, testSizes.getBig} {
		fi, err := os.Stat(filepath.Join(srv.dir, "bench", fileFixture(size).rel))
		if err != nil || fi.Size() != size {
			t.Errorf("fixture file of %d bytes: %v", size, err)
		}
	}
	for _, scratch := range []string{"put-4k", "mkcol", "move", "upload-2097152.bin"} {
		if _, err := os.Stat(filepath.Join(srv.dir, "bench", scratch)); !os.IsNotExist(err) {
			t.Errorf("scratch %s left behind: %v", scratch, err)
		}
	}
	for _, head := range []string{"SCENARIO", "VS BASELINE", "VS OWNER", "propfind-300", "put-2m"} {
		if !strings.Contains(table, head) {
			t.Errorf("table lacks %q:\n%s", head, table)
		}
	}
}

// TestBaselineProcess: the baseline in a child process is measured like
// the server under test, with its RSS, and is gone when bench returns.
func TestBaselineProcess(t *testing.T) {
	srv := newDAVServer(t, nil)
	table, rows := benchArgs(t, "--url", srv.ownerURL(), "--user", testUser, "--baseline-process",
		"--duration", "100ms", "--scenarios", "propfind-file,put-4k")
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	pid := 0
	for _, r := range rows {
		if r.Ops == 0 || r.Errors != 0 {
			t.Errorf("%s on %s: %d ops, %d errors (%s)", r.Name, r.Target, r.Ops, r.Errors, r.FirstError)
		}
		if r.Target == "baseline" {
			pid = r.ServerPID
			if r.ServerPeakRSSMB == nil || pid <= 0 || pid == os.Getpid() {
				t.Errorf("%s on baseline: PID %d, peak RSS %v", r.Name, pid, r.ServerPeakRSSMB)
			}
		} else if r.VsBaseline == nil {
			t.Errorf("%s on %s: no ratio", r.Name, r.Target)
		}
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !os.IsNotExist(err) {
		t.Errorf("baseline process %d still there: %v", pid, err)
	}
	if !strings.Contains(table, fmt.Sprintf("(server PID %d)", pid)) {
		t.Errorf("table does not name the baseline's PID:\n%s", table)
	}
}

// TestFixturesReused: a second run against the same folder PUTs nothing.
func TestFixturesReused(t *testing.T) {
	srv := newDAVServer(t, nil)
	tg := srv.target(t)
	ctx := context.Background()
	fxs := []fixture{folderFixture(120, 10), fileFixture(4096)}
	var log bytes.Buffer
	if err := ensureFixtures(ctx, tg, fxs, 16, &log); err != nil {
		t.Fatal(err)
	}
	if n := srv.puts.Load(); n != 121 {
		t.Errorf("first run: %d PUTs, want 121", n)
	}
	// One file lost and one truncated: only those two are made again.
	dir := filepath.Join(srv.dir, "bench", "dir-120")
	if err := os.Remove(filepath.Join(dir, entryName(7))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, entryName(9)), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.puts.Store(0)
	before := srv.requests.Load()
	if err := ensureFixtures(ctx, tg, fxs, 16, &log); err != nil {
		t.Fatal(err)
	}
	if n := srv.puts.Load(); n != 2 {
		t.Errorf("second run: %d PUTs, want 2", n)
	}
	if n := srv.requests.Load() - before; n != 4 {
		t.Errorf("second run: %d requests, want 4 (2 PROPFIND, 2 PUT)", n)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 120 {
		t.Errorf("%d files, want 120", len(ents))
	}
}

// TestErrorsCounted: a server answering every third GET and PROPFIND of
// the small file with 500 gets its errors counted, not fatal, and
// reported with the first one.
func TestErrorsCounted(t *testing.T) {
	var n atomic.Int64
	srv := newDAVServer(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if (r.Method == http.MethodGet || r.Method == "PROPFIND") && strings.HasSuffix(r.URL.Path, "/file-4096.bin") && n.Add(1)%3 == 0 {
				http.Error(w, "injected", http.StatusInternalServerError)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	table, rows := benchArgs(t, "--url", srv.ownerURL(), "--user", testUser, "--duration", "200ms",
		"--scenarios", "get-4k,propfind-file")
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, r := range rows {
		if r.Errors == 0 || r.Errors >= r.Ops || !strings.Contains(r.FirstError, "500") {
			t.Errorf("%s: %d errors of %d ops, first %q: want about a third, with 500", r.Name, r.Errors, r.Ops, r.FirstError)
		}
		if want := float64(r.Ops-r.Errors) / r.Seconds; r.Rate < want*0.95 || r.Rate > want*1.05 {
			t.Errorf("%s: rate %v, want successes per second %v", r.Name, r.Rate, want)
		}
	}
	if !strings.Contains(table, "500 Internal Server Error") {
		t.Errorf("table does not show the first error:\n%s", table)
	}
}

// TestWrongURLOrCredentials: a clear message and exit status 1, before
// any load; bad flags are status 2.
func TestWrongURLOrCredentials(t *testing.T) {
	srv := newDAVServer(t, nil)
	getenv := func(string) string { return "" }
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--url", srv.ownerURL(), "--user", testUser, "--password", "wrong"}, 1, "wrong user name or password"},
		{[]string{"--url", srv.URL + "/elsewhere/bench/", "--user", testUser, "--password", testPassword}, 1, "check the URL"},
		{[]string{"--url", srv.URL + "/dav/files/alice/no/such/", "--user", testUser, "--password", testPassword}, 1, "check the URL"},
		{[]string{"--url", "http://192.0.2.1/dav/", "--user", testUser}, 1, "not a loopback address"},
		{[]string{"--url", "ftp://127.0.0.1/x/"}, 1, "want http"},
		{[]string{"--url", srv.ownerURL(), "--mount-url", srv.URL + "/mount/nope/", "--user", testUser, "--password", testPassword,
			"--scenarios", "propfind-file", "--duration", "10ms"}, 1, "mount: " + srv.URL + "/mount/nope/ answered 404"},
		{[]string{"--url", srv.ownerURL(), "--mount-url", srv.URL + "/mount/", "--user", testUser, "--password", testPassword,
			"--scenarios", "propfind-file", "--duration", "10ms"}, 1, "a view of the --url folder"},
		{[]string{"--user", testUser}, 2, "--url is required"},
		{[]string{"--baseline", "--scenarios", "nope"}, 2, "unknown scenario"},
		{[]string{"--baseline", "--scenarios", "get-64m", "--big=false"}, 2, "nothing selected"},
		{[]string{"--baseline", "--duration", "0s"}, 2, "--duration"},
	} {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := run(context.Background(), tc.args, getenv, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("davbench %q: status %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("davbench %q: took %v", tc.args, el)
		}
	}
}

// TestMeasureBounded: a run stops at its operation limit, and a server
// that never answers holds it only for the grace period.
func TestMeasureBounded(t *testing.T) {
	srv := newDAVServer(t, nil)
	tg := srv.target(t)
	ctx := context.Background()
	var ops atomic.Int64
	sc := &scenario{id: "count", conc: 4, unit: "req/s", op: func(ctx context.Context, t *target, w *worker) (int64, error) {
		ops.Add(1)
		_, err := t.propfindCount(ctx, "", "0", 1)
		return 0, err
	}}
	res := measure(ctx, sc, tg, limits{duration: time.Minute, maxOps: 25, grace: time.Second})
	if res.ops != 25 || ops.Load() != 25 || res.errors != 0 {
		t.Errorf("%d ops (%d calls), %d errors: want 25, 25, 0", res.ops, ops.Load(), res.errors)
	}

	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a closed connection only after the body
		<-r.Context().Done()
	}))
	defer hang.Close()
	hg, err := newTarget("hang", hang.URL+"/", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res = measure(ctx, sc, hg, limits{duration: 50 * time.Millisecond, maxOps: 1000, grace: 200 * time.Millisecond})
	if el := time.Since(start); el > 5*time.Second || res.ops != 4 || res.errors != 4 {
		t.Errorf("hanging server: %v, %d ops, %d errors; want < 5s, 4 ops and 4 errors", el, res.ops, res.errors)
	}
	hang.CloseClientConnections()
}
