package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/davshare/davshare/internal/testbin"
)

// litmusSuite is a litmus suite run and the tests in it that must pass.
type litmusSuite struct {
	name  string
	tests int
}

// The litmus suites run and the tests each must pass (litmus 0.13).
var litmusSuites = []litmusSuite{
	{"basic", 16}, {"copymove", 13}, {"props", 30}, {"locks", 41}, {"http", 4},
}

var (
	litmusSummary = regexp.MustCompile("(?m)^<- summary for `([^']+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed\\.")
	litmusSkipped = regexp.MustCompile("(?m)^(<- all tests skipped for `[^']+'|-> \\d+ tests? (was|were) skipped)|SKIPPED")
	litmusWarning = regexp.MustCompile("(?m)^-> \\d+ warnings? issued\\.|WARNING:.*")
)

// TestLitmus runs the litmus WebDAV conformance suites against a user's
// home: every test must pass and none may be skipped.
func TestLitmus(t *testing.T) {
	litmus := requireTool(t, "litmus", "litmus")
	t.Parallel()
	s := newServer(t, map[string]string{"alice": "alice-pw"})
	r := runLitmus(t, litmus, s.filesURL("alice"), "", litmusSuites)
	if skips := litmusSkipped.FindAllString(r.out, -1); len(skips) > 0 {
		t.Errorf("litmus skipped tests: %q", skips)
	}
	if warns := litmusWarning.FindAllString(r.out, -1); len(warns) > 0 {
		t.Logf("litmus warnings: %q", warns)
	}
	r.check(t, "")
}

// litmusRun is what one run of litmus printed and counted.
type litmusRun struct {
	out                  string
	code                 int // litmus's exit status
	passed, failed, want int // totals over the suites; want: the tests that must pass
	dir                  string
}

// runLitmus runs suites against url as alice (password alice-pw) and
// requires each suite's summary to show all of its tests passed; over
// names the transport in messages ("" or " over TLS"). The caller checks
// skips, which differ by transport, then calls check.
func runLitmus(t *testing.T, litmus, url, over string, suites []litmusSuite) litmusRun {
	t.Helper()
	var names []string
	r := litmusRun{dir: t.TempDir()} // litmus writes debug.log and child.log there
	for _, su := range suites {
		names = append(names, su.name)
		r.want += su.tests
	}
	r.out, r.code = runTool(t, 5*time.Minute, r.dir, []string{"TESTS=" + strings.Join(names, " ")}, nil,
		litmus, "-k", url, "alice", "alice-pw")
	got := map[string][3]int{} // run, passed, failed
	for _, m := range litmusSummary.FindAllStringSubmatch(r.out, -1) {
		run, _ := strconv.Atoi(m[2])
		passed, _ := strconv.Atoi(m[3])
		failed, _ := strconv.Atoi(m[4])
		got[m[1]] = [3]int{run, passed, failed}
	}
	for _, su := range suites {
		c, ok := got[su.name]
		if !ok {
			t.Errorf("litmus printed no summary for suite %q", su.name)
			continue
		}
		r.passed += c[1]
		r.failed += c[2]
		if c[1] != su.tests || c[2] != 0 {
			t.Errorf("litmus %s%s: %d run, %d passed, %d failed; want %d passed, 0 failed", su.name, over, c[0], c[1], c[2], su.tests)
		}
	}
	return r
}

// check requires the totals and a clean exit, and shows litmus's output
// and the end of its debug.log when anything in the test failed.
func (r litmusRun) check(t *testing.T, over string) {
	t.Helper()
	t.Logf("litmus%s: %d passed, %d failed (want %d passed), exit %d", over, r.passed, r.failed, r.want, r.code)
	if r.passed != r.want || r.failed != 0 || r.code != 0 {
		t.Errorf("litmus%s total: %d passed, %d failed, exit %d; want %d passed, 0 failed, exit 0", over, r.passed, r.failed, r.code, r.want)
	}
	if t.Failed() {
		t.Logf("litmus output:\n%s", r.out)
		if dbg, err := os.ReadFile(filepath.Join(r.dir, "debug.log")); err == nil {
			const max = 128 << 10
			if len(dbg) > max {
				dbg = dbg[len(dbg)-max:]
			}
			t.Logf("litmus debug.log (last %d bytes):\n%s", len(dbg), dbg)
		}
	}
}

// A local tree for the rclone tests: names with non-ASCII letters, emoji,
// spaces and URL-significant characters, nesting, an empty file, an empty
// directory and a 3 MiB file. Values are sizes.
var treeFiles = map[string]int{
	"Ünïcödé/日本語.txt":                42,
	"emoji 🎉/a b.txt":                1000,
	"emoji 🎉/sub dir/ü.txt":          17,
	"nested/deeper/deepest/leaf.txt": 5,
	"nested/sibling.txt":             300,
	"100% #1 & more (x)+'y'.txt":     64,
	"empty.txt":                      0,
	"big.bin":                        3 << 20,
}

var treeEmptyDirs = []string{"nested/empty dir"}

// makeTree writes treeFiles under dir with deterministic contents and
// distinct whole-second modification times, and returns the contents.
func makeTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	names := slices.Sorted(maps.Keys(treeFiles))
	for i, name := range names {
		b := make([]byte, treeFiles[name])
		rand.NewChaCha8([32]byte{byte(i + 1)}).Read(b)
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Date(2001+i, time.Month(1+i), 2+i, 3+i, 4+i, 5+i, 0, time.UTC)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	for _, d := range treeEmptyDirs {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// readTree returns the files under root (slash-separated relative names)
// and the directories, empty ones included.
func readTree(t *testing.T, root string) (files map[string][]byte, dirs []string) {
	t.Helper()
	files = map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
		case d.IsDir():
			dirs = append(dirs, rel)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = b
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", root, err)
	}
	return files, dirs
}

// sameFiles reports differences between two trees' files.
func sameFiles(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: %q missing", what, name)
		case !bytes.Equal(g, w):
			t.Errorf("%s: %q has %d bytes that differ from the %d sent", what, name, len(g), len(w))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: unexpected %q", what, name)
		}
	}
}

// lsfListing is what rclone lsf -R prints for a tree: files, and
// directories with a trailing slash, sorted.
func lsfListing(files map[string][]byte, emptyDirs []string) []string {
	set := map[string]bool{}
	for name := range files {
		set[name] = true
		for d := filepath.Dir(name); d != "."; d = filepath.Dir(d) {
			set[filepath.ToSlash(d)+"/"] = true
		}
	}
	for _, d := range emptyDirs {
		set[d+"/"] = true
		for p := filepath.Dir(d); p != "."; p = filepath.Dir(p) {
			set[filepath.ToSlash(p)+"/"] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// rclone runs rclone against one user's home with a throwaway config, home
// and cache.
type rclone struct {
	bin   string
	env   []string
	flags []string
}

func newRclone(t *testing.T, bin string, s *server, user, pass, vendor string) *rclone {
	t.Helper()
	home := t.TempDir()
	conf := filepath.Join(home, "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &rclone{
		bin: bin,
		env: []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home, "XDG_CACHE_HOME=" + home, "TZ=UTC"},
	}
	out, code := runTool(t, time.Minute, home, r.env, nil, bin, "obscure", pass)
	if code != 0 {
		t.Fatalf("rclone obscure: exit %d\n%s", code, out)
	}
	r.flags = []string{
		"--config", conf,
		"--webdav-url", s.filesURL(user),
		"--webdav-user", user,
		"--webdav-pass", strings.TrimSpace(out),
		"--webdav-vendor", vendor,
		// No silent retries: a request that fails once is a failure.
		"--retries", "1", "--low-level-retries", "1",
		"--contimeout", "10s", "--timeout", "60s",
	}
	return r
}

// run runs "rclone args... flags..." and returns its output and exit code.
func (r *rclone) run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, code := runTool(t, 3*time.Minute, "", r.env, nil, r.bin, append(args, r.flags...)...)
	return out, code
}

// must is run that requires exit status 0.
func (r *rclone) must(t *testing.T, args ...string) string {
	t.Helper()
	out, code := r.run(t, args...)
	if code != 0 {
		t.Fatalf("rclone %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// TestRclone drives rclone's WebDAV backend: vendor "other" for the plain
// file operations, vendor "owncloud" for modification times (X-OC-Mtime).
func TestRclone(t *testing.T) {
	bin := requireTool(t, "rclone", "rclone")
	t.Parallel()
	s := newServer(t, map[string]string{"alice": "alice-pw"})
	src := t.TempDir()
	files := makeTree(t, src)
	home := filepath.Join(s.Data, "files", "alice")

	t.Run("other", func(t *testing.T) {
		r := newRclone(t, bin, s, "alice", "alice-pw", "other")
		r.must(t, "copy", "--create-empty-src-dirs", src, ":webdav:tree")

		out := r.must(t, "lsf", "-R", ":webdav:tree")
		if got, want := lines(out), lsfListing(files, treeEmptyDirs); !slices.Equal(got, want) {
			t.Errorf("lsf -R after upload:\n got %q\nwant %q", got, want)
		}
		onDisk, dirs := readTree(t, filepath.Join(home, "tree"))
		sameFiles(t, "server data directory after upload", onDisk, files)
		for _, d := range treeEmptyDirs {
			if !slices.Contains(dirs, d) {
				t.Errorf("empty directory %q not created on the server", d)
			}
		}

		// Compare by downloading both sides: vendor "other" has no hashes.
		r.must(t, "check", "--download", src, ":webdav:tree")
		down := t.TempDir()
		r.must(t, "copy", ":webdav:tree", down)
		got, _ := readTree(t, down)
		sameFiles(t, "downloaded tree", got, files)

		// Server-side MOVE of a file and of a directory.
		r.must(t, "moveto", ":webdav:tree/emoji 🎉/a b.txt", ":webdav:tree/moved 🚚/ä b.txt")
		r.must(t, "moveto", ":webdav:tree/nested", ":webdav:tree/renamed nested ✓")
		moved := map[string][]byte{}
		for name, b := range files {
			switch {
			case name == "emoji 🎉/a b.txt":
				name = "moved 🚚/ä b.txt"
			case strings.HasPrefix(name, "nested/"):
				name = "renamed nested ✓/" + strings.TrimPrefix(name, "nested/")
			}
			moved[name] = b
		}
		movedDirs := []string{"renamed nested ✓/empty dir"}
		out = r.must(t, "lsf", "-R", ":webdav:tree")
		if got, want := lines(out), lsfListing(moved, movedDirs); !slices.Equal(got, want) {
			t.Errorf("lsf -R after moveto:\n got %q\nwant %q", got, want)
		}
		onDisk, _ = readTree(t, filepath.Join(home, "tree"))
		sameFiles(t, "server data directory after moveto", onDisk, moved)

		r.must(t, "purge", ":webdav:tree")
		if out, code := r.run(t, "lsf", ":webdav:tree"); code == 0 {
			t.Errorf("lsf after purge: exit 0, want an error (directory not found)\n%s", out)
		}
		s.expect(t, 404, "PROPFIND", "/dav/files/alice/tree/", "alice", "alice-pw", nil, "Depth", "0")
		if _, err := os.Stat(filepath.Join(home, "tree")); !os.IsNotExist(err) {
			t.Errorf("after purge, files/alice/tree: %v; want it gone", err)
		}
	})

	t.Run("owncloud", func(t *testing.T) {
		r := newRclone(t, bin, s, "alice", "alice-pw", "owncloud")
		r.must(t, "copy", src, ":webdav:oc")

		// check without --size-only: sizes, and hashes where the server
		// offers them (see the checksums subtest).
		out := r.must(t, "check", src, ":webdav:oc")
		if want := fmt.Sprintf("%d matching files", len(files)); !strings.Contains(out, want) {
			t.Errorf("rclone check: output lacks %q:\n%s", want, out)
		}

		// Modification times survive the upload (X-OC-Mtime)...
		type entry struct {
			Path    string
			Size    int64
			ModTime time.Time
			IsDir   bool
		}
		var list []entry
		out = r.must(t, "lsjson", "-R", "--files-only", ":webdav:oc")
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("rclone lsjson: %v\n%s", err, out)
		}
		if len(list) != len(files) {
			t.Errorf("lsjson lists %d files, want %d", len(list), len(files))
		}
		for _, e := range list {
			fi, err := os.Stat(filepath.Join(src, filepath.FromSlash(e.Path)))
			if err != nil {
				t.Errorf("lsjson lists %q, not in the source: %v", e.Path, err)
				continue
			}
			if !e.ModTime.Equal(fi.ModTime()) || e.Size != fi.Size() {
				t.Errorf("%q on the server: %d bytes, modified %v; local: %d bytes, modified %v",
					e.Path, e.Size, e.ModTime.UTC(), fi.Size(), fi.ModTime().UTC())
			}
		}
		out = r.must(t, "lsl", ":webdav:oc")
		t.Logf("rclone lsl:\n%s", out)

		// ...so a second copy transfers nothing...
		out = r.must(t, "copy", "-v", src, ":webdav:oc")
		if strings.Contains(out, "Copied") {
			t.Errorf("second copy transferred files again (modification times not kept?):\n%s", out)
		}

		// ...and come back down with the files.
		down := t.TempDir()
		r.must(t, "copy", ":webdav:oc", down)
		got, _ := readTree(t, down)
		sameFiles(t, "downloaded tree", got, files)
		for name := range files {
			a, errA := os.Stat(filepath.Join(src, filepath.FromSlash(name)))
			b, errB := os.Stat(filepath.Join(down, filepath.FromSlash(name)))
			if errA == nil && errB == nil && !a.ModTime().Equal(b.ModTime()) {
				t.Errorf("%q downloaded with modification time %v, uploaded with %v", name, b.ModTime().UTC(), a.ModTime().UTC())
			}
		}

		t.Run("checksums", func(t *testing.T) {
			// rclone's owncloud mode asks PROPFIND for
			// <oc:checksums xmlns:oc="http://owncloud.org/ns"/> and reads
			// <oc:checksum>SHA1:… MD5:…</oc:checksum> from it. Until the
			// server offers it, check cannot compare hashes.
			out, code := r.run(t, "hashsum", "MD5", ":webdav:oc")
			if code != 0 {
				t.Fatalf("rclone hashsum MD5: exit %d\n%s", code, out)
			}
			// md5sum format; rclone pads a missing hash with spaces.
			hashes := map[string]string{}
			for _, l := range strings.Split(out, "\n") {
				if m := hashsumLine.FindStringSubmatch(l); m != nil {
					hashes[m[2]] = m[1]
				}
			}
			empty := 0
			for name, b := range files {
				h, ok := hashes[name]
				if !ok {
					t.Errorf("hashsum lacks %q:\n%s", name, out)
					continue
				}
				if h == "" {
					empty++
					continue
				}
				if want := md5hex(b); h != want {
					t.Errorf("server MD5 of %q is %s, want %s", name, h, want)
				}
			}
			if empty > 0 {
				t.Skipf("the server offers no oc:checksums: %d of %d files have no MD5, so rclone check compares sizes only", empty, len(files))
			}
		})

		r.must(t, "purge", ":webdav:oc")
	})
}

var hashsumLine = regexp.MustCompile(`^ *([0-9a-f]{32})?  (.+)$`)

// cadaver drives an interactive cadaver session through its stdin.
type cadaver struct {
	t       *testing.T
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *testbin.Buffer
	seen    int // output already returned
	prompts int // prompts seen so far
	exited  chan struct{}
}

// cadaverPrompt is the prompt of a connected session ("dav:/path/> ");
// cadaver prints "dav:/path/? " when not connected.
var cadaverPrompt = regexp.MustCompile(`dav:/[^\n>?]*> `)

func startCadaver(t *testing.T, bin, url, home, dir string) *cadaver {
	t.Helper()
	c := &cadaver{t: t, cmd: exec.Command(bin, url), out: &testbin.Buffer{}, exited: make(chan struct{})}
	c.cmd.Dir = dir
	c.cmd.Env = append(testbin.Env(), "HOME="+home)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting cadaver: %v", err)
	}
	go func() {
		c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.stdin.Close() // cadaver exits at the end of its input
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-c.exited
			t.Errorf("cadaver did not exit; killed")
		}
		if t.Failed() {
			t.Logf("cadaver session:\n%s", c.out.String())
		}
	})
	c.waitPrompt()
	return c
}

// waitPrompt waits for one more prompt and returns the output before it.
func (c *cadaver) waitPrompt() string {
	c.t.Helper()
	var all string
	waitUntil(c.t, requestTimeout, "a cadaver prompt", func() bool {
		all = c.out.String()
		if n := len(cadaverPrompt.FindAllStringIndex(all, -1)); n > c.prompts {
			return true
		}
		select {
		case <-c.exited:
			c.t.Fatalf("cadaver exited:\n%s", all)
		default:
		}
		return false
	})
	c.prompts++
	locs := cadaverPrompt.FindAllStringIndex(all, -1)
	end := locs[c.prompts-1]
	out := all[c.seen:end[0]]
	c.seen = end[1]
	return out
}

// do runs one cadaver command and returns its output, failing the test
// unless the output contains want.
func (c *cadaver) do(line, want string) string {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatalf("cadaver %q: %v", line, err)
	}
	out := c.waitPrompt()
	if !strings.Contains(out, want) || strings.Contains(out, "failed") {
		c.t.Errorf("cadaver %q: output lacks %q or reports a failure:\n%s", line, want, out)
	}
	return out
}

func (c *cadaver) quit() {
	c.t.Helper()
	io.WriteString(c.stdin, "quit\n")
	c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.t.Errorf("cadaver did not quit")
	}
}

// TestCadaver drives cadaver through put, get, dead properties, locks,
// copy, move, rm, mkcol and ls, checking each result on disk or over HTTP.
func TestCadaver(t *testing.T) {
	bin := requireTool(t, "cadaver", "cadaver")
	t.Parallel()
	s := newServer(t, map[string]string{"alice": "alice-pw"})
	home := t.TempDir() // cadaver reads credentials from ~/.netrc
	netrc := "machine 127.0.0.1\nlogin alice\npassword alice-pw\n"
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte(netrc), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	v1 := make([]byte, 100<<10)
	rand.NewChaCha8([32]byte{7}).Read(v1)
	v2 := []byte("second version, written under a lock\n")
	for name, b := range map[string][]byte{"v1.bin": v1, "v2.txt": v2} {
		if err := os.WriteFile(filepath.Join(work, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	disk := func(rel string) string { return filepath.Join(s.Data, "files", "alice", filepath.FromSlash(rel)) }
	onDisk := func(rel string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(disk(rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("files/alice/%s on disk: %d bytes, %v; want %d bytes", rel, len(got), err, len(want))
		}
	}
	gone := func(rel string) {
		t.Helper()
		if _, err := os.Lstat(disk(rel)); !os.IsNotExist(err) {
			t.Errorf("files/alice/%s: %v; want it gone", rel, err)
		}
	}
	const ns = "http://webdav.org/cadaver/custom-properties/" // cadaver's default namespace
	propColor := func(rel string) string {
		t.Helper()
		body := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><C:color xmlns:C="` + ns + `"/></D:prop></D:propfind>`
		b := s.expect(t, 207, "PROPFIND", "/dav/files/alice/"+rel, "alice", "alice-pw", []byte(body), "Depth", "0")
		m := regexp.MustCompile(`<([A-Za-z0-9]+:)?color[^>]*>([^<]*)</`).FindStringSubmatch(string(b))
		if m == nil {
			return ""
		}
		return m[2]
	}

	c := startCadaver(t, bin, s.filesURL("alice"), home, work)

	c.do("mkcol cdir", "succeeded")
	if fi, err := os.Stat(disk("cdir")); err != nil || !fi.IsDir() {
		t.Errorf("after mkcol, files/alice/cdir: %v", err)
	}
	c.do("put v1.bin cdir/a.bin", "succeeded")
	onDisk("cdir/a.bin", v1)
	if out := c.do("ls cdir", "succeeded"); !strings.Contains(out, "a.bin") || !strings.Contains(out, strconv.Itoa(len(v1))) {
		t.Errorf("ls cdir does not list a.bin with its size %d:\n%s", len(v1), out)
	}
	c.do("get cdir/a.bin got.bin", "succeeded")
	if got, err := os.ReadFile(filepath.Join(work, "got.bin")); err != nil || !bytes.Equal(got, v1) {
		t.Errorf("get cdir/a.bin: %d bytes, %v; want the %d bytes put", len(got), err, len(v1))
	}

	c.do("propset cdir/a.bin color blue", "succeeded")
	c.do("propget cdir/a.bin color", "Value of color is: blue")
	if got := propColor("cdir/a.bin"); got != "blue" {
		t.Errorf("PROPFIND of the dead property set with cadaver: %q, want blue", got)
	}

	c.do("lock cdir/a.bin", "succeeded")
	c.do("discover cdir/a.bin", "Lock token")
	// Another client without the token cannot write; reads still work.
	s.expect(t, 423, "PUT", "/dav/files/alice/cdir/a.bin", "alice", "alice-pw", []byte("intruder"))
	s.expect(t, 200, "GET", "/dav/files/alice/cdir/a.bin", "alice", "alice-pw", nil)
	c.do("put v2.txt cdir/a.bin", "succeeded") // cadaver holds the token
	onDisk("cdir/a.bin", v2)
	c.do("unlock cdir/a.bin", "succeeded")
	s.expect(t, 204, "PUT", "/dav/files/alice/cdir/a.bin", "alice", "alice-pw", v2)

	c.do("copy cdir/a.bin cdir/b.bin", "succeeded")
	onDisk("cdir/b.bin", v2)
	if got := propColor("cdir/b.bin"); got != "blue" {
		t.Errorf("dead property after COPY: %q, want blue (RFC 4918 §9.8.2)", got)
	}
	c.do("move cdir/b.bin cdir/c.bin", "succeeded")
	gone("cdir/b.bin")
	onDisk("cdir/c.bin", v2)
	if got := propColor("cdir/c.bin"); got != "blue" {
		t.Errorf("dead property after MOVE: %q, want blue", got)
	}
	c.do("rm cdir/a.bin", "succeeded")
	gone("cdir/a.bin")
	out := c.do("ls cdir", "succeeded")
	if !strings.Contains(out, "c.bin") || strings.Contains(out, "a.bin") || strings.Contains(out, "b.bin") {
		t.Errorf("final ls cdir: want only c.bin:\n%s", out)
	}
	c.do("rmcol cdir", "succeeded")
	gone("cdir")
	c.quit()
}
