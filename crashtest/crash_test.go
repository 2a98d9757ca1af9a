package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
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

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/internal/testbin"
	"github.com/davshare/davshare/notify"
)

const (
	crashTrials = 100
	// maxKillDelay bounds the random time between the start of a trial's
	// writes and the SIGKILL.
	maxKillDelay = 120 * time.Millisecond
	// staleAge is limits.stale_upload_age for the crash test: short, so
	// that leftovers of earlier trials are swept by later starts.
	staleAge = 2 * time.Second

	crashUser = "alice"
	crashPass = "alice-crash-pw"
)

// A workload writes during a trial, until ctx ends (the SIGKILL), and
// checks the data directory after the restart: uploads, notifications (the
// admin CLI) and shares (shares_test.go).
type workload interface {
	name() string
	// run writes until ctx is done; errors from the killed server are
	// expected and ignored.
	run(ctx context.Context, p *proc, rnd *rand.Rand)
	// check verifies the state after a restart; p serves the data directory.
	check(t *testing.T, p *proc)
	// stats is a line for the test log.
	stats() string
}

// A killChecker also looks at the data directory between the kill and the
// restart, as the crash left it.
type killChecker interface {
	afterKill(t *testing.T)
}

// TestCrashSafety starts the server, writes, SIGKILLs it at a random
// moment, restarts it and checks, crashTrials times.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash trials need the binary")
	}
	data := newData(t, map[string]string{crashUser: crashPass, "bob": sharePasswords["bob"], "carol": sharePasswords["carol"]})
	env := []string{"DAVSHARE_LIMITS_STALE_UPLOAD_AGE=" + staleAge.String(), "DAVSHARE_LOG_LEVEL=info"}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 0x5eed))

	up := newUploads(data, 8)
	sh := newShares(data)
	work := []workload{up, &notifications{data: data}, sh}

	p := start(t, data, env...)
	up.seed(t, p)
	sh.seed(t, p)
	p.kill()

	passed, killedMidUpload, swept := 0, 0, 0
	began := time.Now()
	for trial := range crashTrials {
		p := start(t, data, env...)
		if !checkAll(t, p, data, work) {
			t.Fatalf("trial %d: the state after a SIGKILL is wrong (see above); %d trials passed before", trial, passed)
		}
		passed++
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, w := range work {
			wrnd := rand.New(rand.NewPCG(rnd.Uint64(), rnd.Uint64()))
			wg.Go(func() { w.run(ctx, p, wrnd) })
		}
		time.Sleep(time.Duration(rnd.Int64N(int64(maxKillDelay))))
		p.process.Cmd.Process.Signal(syscall.SIGKILL)
		cancel() // also kills notify senders mid-write
		<-p.process.Exited()
		wg.Wait()
		p.client.CloseIdleConnections()
		for _, w := range work {
			if k, ok := w.(killChecker); ok {
				k.afterKill(t)
			}
		}
		for _, f := range tempFiles(t, data, "files") {
			if f.ctime.After(p.process.Started) {
				killedMidUpload++
				break
			}
		}
		swept += sweptCount(p)
	}
	// One last restart: the state after the last kill, then a clean stop.
	p = start(t, data, env...)
	if checkAll(t, p, data, work) {
		passed++
	}
	p.stop(t)
	swept += sweptCount(p)
	t.Logf("%d of %d restarts checked clean in %v; %d kills left an upload's temporary file behind; startup sweeps removed %d",
		passed, crashTrials+1, time.Since(began).Round(time.Millisecond), killedMidUpload, swept)
	if killedMidUpload == 0 {
		t.Error("no kill interrupted an upload: the trials test nothing")
	}
	for _, w := range work {
		t.Logf("%s: %s", w.name(), w.stats())
	}
}

// checkAll runs the checks common to every restart, then each workload's.
func checkAll(t *testing.T, p *proc, data string, work []workload) bool {
	t.Helper()
	before := t.Failed()
	// Stale temporary files: once the startup sweep is done, none older
	// than staleAge (before the launch) may remain.
	p.waitLog(t, `stale temporary files swept" dir=notifications`, 10*time.Second) // the second of the two sweeps
	cutoff := p.process.Started.Add(-staleAge - 200*time.Millisecond)
	for _, f := range tempFiles(t, data, "files", "notifications") {
		if f.ctime.Before(cutoff) {
			t.Errorf("%s (changed %v before the start) survived the startup sweep", f.path, p.process.Started.Sub(f.ctime))
		}
	}
	// No temporary file is visible over WebDAV.
	body := p.must(t, http.StatusMultiStatus, "PROPFIND", "/dav/files/"+crashUser+"/", crashUser, crashPass, nil, "Depth", "1")
	for _, h := range hrefs(body) {
		if strings.Contains(h, ".davshare-") {
			t.Errorf("PROPFIND lists a temporary file: %s", h)
		}
	}
	for _, w := range work {
		w.check(t, p)
	}
	return t.Failed() == before
}

var sweptRE = regexp.MustCompile(`stale temporary files swept.*removed=(\d+)`)

// sweptCount is how many files the startup sweeps of p removed.
func sweptCount(p *proc) int {
	total := 0
	for _, m := range sweptRE.FindAllStringSubmatch(p.process.Stderr.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	return total
}

var hrefRE = regexp.MustCompile(`<D:href>([^<]*)</D:href>`)

func hrefs(body []byte) []string {
	var out []string
	for _, m := range hrefRE.FindAllSubmatch(body, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

type tempFile struct {
	path  string
	ctime time.Time
}

// tempFiles lists the temporary files on disk under the given directories
// of DIR: "files" (uploads), "notifications" (notification writes).
func tempFiles(t *testing.T, data string, dirs ...string) []tempFile {
	t.Helper()
	var out []tempFile
	for _, dir := range dirs {
		dsfs.TempFiles(context.Background(), filepath.Join(data, dir), func(f dsfs.TempFile) {
			out = append(out, tempFile{filepath.Join(data, dir, f.Name), f.Changed})
		})
	}
	return out
}

// uploads overwrites a few files concurrently. Every version of a file has
// content derived from its name and version number (and a length that
// depends on the version), so a check can tell a whole version from a
// truncated or mixed one.
type uploads struct {
	data  string
	files []string
	next  atomic.Int64

	mu      sync.Mutex
	tried   map[string]map[int64]bool // every version ever sent, completed or not
	done    int64                     // uploads answered 201/204
	checked int64
}

func newUploads(data string, n int) *uploads {
	u := &uploads{data: data, tried: map[string]map[int64]bool{}}
	for i := range n {
		f := fmt.Sprintf("file-%d.bin", i)
		u.files = append(u.files, f)
		u.tried[f] = map[int64]bool{}
	}
	return u
}

func (u *uploads) name() string { return "uploads" }

// content is version v of file f: a header line, then a filler whose
// length (1 to 256 KiB) and bytes depend on f and v.
func content(f string, v int64) []byte {
	header := fmt.Sprintf("%s version %d\n", f, v)
	size := int(1024 * (1 + (v*7919)%256))
	b := make([]byte, 0, len(header)+size)
	b = append(b, header...)
	for i := 0; len(b) < len(header)+size; i++ {
		b = append(b, byte('a'+(int64(i)+v)%26))
	}
	return b
}

// seed writes version 0 of every file, so that every later upload
// overwrites.
func (u *uploads) seed(t *testing.T, p *proc) {
	for _, f := range u.files {
		u.tried[f][0] = true
		p.must(t, http.StatusCreated, "PUT", "/dav/files/"+crashUser+"/"+f, crashUser, crashPass, bytes.NewReader(content(f, 0)))
	}
}

func (u *uploads) run(ctx context.Context, p *proc, rnd *rand.Rand) {
	var wg sync.WaitGroup
	for i := range 4 {
		seed := rnd.Uint64()
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			for ctx.Err() == nil {
				f := u.files[r.IntN(len(u.files))]
				v := u.next.Add(1)
				u.mu.Lock()
				u.tried[f][v] = true
				u.mu.Unlock()
				var body io.Reader = bytes.NewReader(content(f, v))
				if v%2 == 1 {
					body = io.MultiReader(body) // no length: chunked, unchecked by Content-Length
				}
				code, _, err := p.do("PUT", "/dav/files/"+crashUser+"/"+f, crashUser, crashPass, body)
				if err != nil {
					return // killed
				}
				if code == http.StatusCreated || code == http.StatusNoContent {
					u.mu.Lock()
					u.done++
					u.mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

// check reads every file from disk and over HTTP: each must be exactly a
// version that was sent.
func (u *uploads) check(t *testing.T, p *proc) {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, f := range u.files {
		disk, err := os.ReadFile(filepath.Join(u.data, "files", crashUser, f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		u.checkContent(t, "on disk", f, disk)
		_, got, err := p.do("GET", "/dav/files/"+crashUser+"/"+f, crashUser, crashPass, nil)
		if err != nil {
			t.Fatalf("GET %s: %v", f, err)
		}
		if !bytes.Equal(got, disk) {
			t.Errorf("%s: GET returns %d bytes, not the %d on disk", f, len(got), len(disk))
		}
		u.checked++
	}
}

func (u *uploads) checkContent(t *testing.T, where, f string, b []byte) {
	t.Helper()
	line, _, ok := bytes.Cut(b, []byte("\n"))
	name, vs, ok2 := strings.Cut(string(line), " version ")
	v, err := strconv.ParseInt(vs, 10, 64)
	switch {
	case !ok || !ok2 || err != nil || name != f:
		t.Errorf("%s %s: not a version of the file (%d bytes, starts %q)", where, f, len(b), truncate(b, 40))
	case !u.tried[f][v]:
		t.Errorf("%s %s: version %d was never sent for this file", where, f, v)
	case !bytes.Equal(b, content(f, v)):
		t.Errorf("%s %s: version %d is truncated or mixed (%d bytes, want %d)", where, f, v, len(b), len(content(f, v)))
	}
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func (u *uploads) stats() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return fmt.Sprintf("%d versions sent, %d answered 201/204, %d file checks", u.next.Load(), u.done, u.checked)
}

// notifications runs 'davshare notify send' processes, the way an admin
// posts a notice while the server runs, and kills them with the server.
type notifications struct {
	data string

	mu      sync.Mutex
	sent    []string // names that a send reported as written (exit 0)
	started int
	checked int
}

func (n *notifications) name() string { return "notifications" }

var sentLine = regexp.MustCompile(`^sent (\S+) to `)

func (n *notifications) run(ctx context.Context, p *proc, rnd *rand.Rand) {
	for i := 0; ctx.Err() == nil; i++ {
		cmd := exec.CommandContext(ctx, davshareBin, "notify", "send", "--data", n.data, "--to", crashUser,
			"--level", "medium", fmt.Sprintf("notice %d: maintenance <tonight> & \"soon\"", rnd.IntN(1e6)))
		cmd.Env = testbin.Env()
		n.mu.Lock()
		n.started++
		n.mu.Unlock()
		out, err := cmd.Output()
		if err != nil {
			continue // killed with the server, or by ctx
		}
		if m := sentLine.FindSubmatch(out); m != nil {
			n.mu.Lock()
			n.sent = append(n.sent, string(m[1]))
			n.mu.Unlock()
		}
	}
}

// check: every notification file parses (no half-written XML), every send
// that reported success is there, and the collection answers PROPFIND and
// a sync REPORT.
func (n *notifications) check(t *testing.T, p *proc) {
	t.Helper()
	dir := filepath.Join(n.data, "notifications", crashUser)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Errorf("notification collection: %v", err)
		return
	}
	present := map[string]bool{}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue // temporary and state files: not notifications
		}
		present[e.Name()] = true
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Errorf("notification %s: %v", e.Name(), err)
			continue
		}
		if _, err := notify.Parse(b); err != nil {
			t.Errorf("notification %s does not parse (%v): %q", e.Name(), err, truncate(b, 200))
		}
	}
	n.mu.Lock()
	for _, name := range n.sent {
		if !present[name] {
			t.Errorf("notification %s was reported sent but is missing", name)
		}
	}
	n.checked += len(present)
	n.mu.Unlock()
	body := p.must(t, http.StatusMultiStatus, "PROPFIND", "/dav/notifications/"+crashUser+"/", crashUser, crashPass, nil, "Depth", "1")
	for _, h := range hrefs(body) {
		if strings.Contains(h, "/.") {
			t.Errorf("PROPFIND of the notification collection lists %s", h)
		}
	}
	p.must(t, http.StatusMultiStatus, "REPORT", "/dav/notifications/"+crashUser+"/", crashUser, crashPass,
		strings.NewReader(`<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`))
}

func (n *notifications) stats() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return fmt.Sprintf("%d sends started, %d completed, %d notification checks", n.started, len(n.sent), n.checked)
}
