package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/url"
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
)

// gioTimeout bounds each gio command.
const gioTimeout = time.Minute

// sessionBus is a private D-Bus session bus run by dbus-run-session: gvfs
// (gvfsd and its dav backend) is activated on it by the first gio call.
type sessionBus struct {
	addr   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}
}

// startSessionBus starts dbus-run-session with a child that prints the bus
// address and waits on its stdin; closing stdin ends the child, and
// dbus-run-session then stops the bus, and with it every gvfs daemon.
func startSessionBus(t *testing.T, runSession string, env []string) *sessionBus {
	t.Helper()
	b := &sessionBus{exited: make(chan struct{})}
	b.cmd = exec.Command(runSession, "--", "sh", "-c", `printf '%s\n' "$DBUS_SESSION_BUS_ADDRESS"; exec cat >/dev/null`)
	b.cmd.Env = append(testbin.Env(), env...)
	var err error
	if b.stdin, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testbin.Buffer{}
	b.cmd.Stderr = stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("dbus-run-session: %v", err)
	}
	go func() {
		b.cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		b.stdin.Close() // ends the child, and so the session
		waitOrKill(t, "dbus-run-session", b.cmd, b.exited)
		if t.Failed() {
			t.Logf("dbus-run-session stderr (the bus and gvfs daemons):\n%s", stderr.String())
		}
		b.reap(t)
	})
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(l)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case b.addr = <-line:
	case <-time.After(30 * time.Second):
		t.Fatalf("dbus-run-session printed no bus address within 30s; stderr:\n%s", stderr.String())
	}
	if b.addr == "" {
		t.Fatalf("dbus-run-session started no session bus; stderr:\n%s", stderr.String())
	}
	return b
}

// reap waits (bounded) until no process that this bus activated is left:
// each carries the bus address in its environment. One still there after
// 10 s is reported and killed by its PID.
func (b *sessionBus) reap(t *testing.T) {
	t.Helper()
	mine := func() []int {
		var pids []int
		dirs, _ := os.ReadDir("/proc")
		for _, d := range dirs {
			pid, err := strconv.Atoi(d.Name())
			if err != nil {
				continue
			}
			env, err := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
			if err == nil && bytes.Contains(env, []byte("DBUS_SESSION_BUS_ADDRESS="+b.addr+"\x00")) {
				pids = append(pids, pid)
			}
		}
		return pids
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := mine()
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes of the test's session bus still running 10s after it stopped: %v; killing them", pids)
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestGio mounts a user's home with GNOME's gio/gvfs (gio mount dav://…,
// the password typed on stdin; davs:// against --tls-self-signed, the
// certificate accepted at gio's question) on a private session bus, copies a tree in
// file by file, lists it, copies it back out, renames and removes through
// gvfs, reads the free space gvfs takes from the quota properties, and
// checks from the server's access log that gvfs's probes of the mount
// path's parents were answered 207 or 401, never 405.
func TestGio(t *testing.T) {
	binary(t)
	gio := requireTool(t, "gio", "libglib2.0-bin")
	runSession := requireTool(t, "dbus-run-session", "dbus-daemon")
	if _, err := os.Stat("/usr/libexec/gvfsd-dav"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("gvfs's dav backend (/usr/libexec/gvfsd-dav) not found (CI=true, so this is a failure): apt-get install gvfs-backends")
		}
		t.Skip("gvfs's dav backend (/usr/libexec/gvfsd-dav) not found: apt-get install gvfs-backends")
	}
	t.Parallel()
	for _, scheme := range []string{"dav", "davs"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			testGio(t, gio, runSession, scheme)
		})
	}
}

func testGio(t *testing.T, gio, runSession, scheme string) {
	data := filepath.Join(t.TempDir(), "data")
	addUser(t, data, "alice", "alice-pw")
	args := []string{"--data", data, "--listen", "127.0.0.1:0", "--log-level", "debug"}
	if scheme == "davs" {
		args = append(args, "--tls-self-signed")
	}
	s := startServer(t, serverConfig{Data: data, Args: args})
	home := filepath.Join(data, "files", "alice")

	xdg := t.TempDir()
	env := []string{
		"HOME=" + xdg,
		"XDG_CONFIG_HOME=" + filepath.Join(xdg, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(xdg, "cache"),
		"XDG_DATA_HOME=" + filepath.Join(xdg, "data"),
		"XDG_RUNTIME_DIR=" + xdg,
		"GVFS_DISABLE_FUSE=1", // no FUSE view of the mounts under XDG_RUNTIME_DIR/gvfs
		"LANG=C.UTF-8",
	}
	bus := startSessionBus(t, runSession, env)
	env = append(env, "DBUS_SESSION_BUS_ADDRESS="+bus.addr)
	run := func(stdin string, args ...string) (string, int) {
		t.Helper()
		return runTool(t, gioTimeout, "", env, strings.NewReader(stdin), gio, args...)
	}
	must := func(args ...string) string {
		t.Helper()
		out, code := run("", args...)
		if code != 0 {
			t.Fatalf("gio %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}

	root := scheme + "://alice@" + s.Addr + "/dav/files/alice/"
	answers := "alice-pw\n"
	if scheme == "davs" {
		// gio asks about the self-signed certificate first:
		// "Are you really sure you would like to continue? [1] Yes [2] No".
		answers = "1\n" + answers
	}
	out, code := run(answers, "mount", root)
	if code != 0 {
		t.Fatalf("gio mount %s: exit %d\n%s", root, code, out)
	}
	if !strings.Contains(out, "Password") {
		t.Errorf("gio mount did not ask for the password:\n%s", out)
	}
	if scheme == "davs" && !strings.Contains(out, "Identity: davshare") {
		t.Errorf("gio mount did not show the self-signed certificate:\n%s", out)
	}
	t.Cleanup(func() {
		if out, code := run("", "mount", "-u", root); code != 0 {
			t.Errorf("gio mount -u: exit %d\n%s", code, out)
		}
	})
	if out := must("mount", "-l"); !strings.Contains(out, scheme+"://alice@"+s.Addr) {
		t.Errorf("gio mount -l does not show the mount:\n%s", out)
	}

	src := t.TempDir()
	files := makeTree(t, src)
	// A location on the mount: a URI, so each segment is escaped ("#"
	// would start a fragment, "%" an escape).
	remote := func(rel string) string {
		u := root + "gio/"
		if rel == "" {
			return u
		}
		var segs []string
		for _, seg := range strings.Split(rel, "/") {
			segs = append(segs, url.PathEscape(seg))
		}
		return u + strings.Join(segs, "/")
	}

	// gio copy has no recursive mode: directories first, one level at a
	// time (gio mkdir -p does not create missing parents over WebDAV: the
	// server answers MKCOL under a missing parent 409 Conflict, RFC 4918
	// §9.3.1, which gvfs does not treat as "not found"), then each file.
	dirs := map[string]bool{"": true}
	for name := range files {
		for d := filepath.Dir(name); d != "."; d = filepath.Dir(d) {
			dirs[filepath.ToSlash(d)] = true
		}
	}
	for _, d := range treeEmptyDirs {
		dirs[d] = true
	}
	dirList := slices.Sorted(maps.Keys(dirs)) // parents sort before children
	for _, d := range dirList {
		must("mkdir", remote(d))
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		must("copy", filepath.Join(src, filepath.FromSlash(name)), remote(name))
	}
	onDisk, diskDirs := readTree(t, filepath.Join(home, "gio"))
	sameFiles(t, "server data directory after gio copy", onDisk, files)
	for _, d := range treeEmptyDirs {
		if !slices.Contains(diskDirs, d) {
			t.Errorf("empty directory %q not created on the server", d)
		}
	}

	// gio list of every directory: names, types and sizes.
	listed := map[string]string{} // rel → "size type"
	for _, d := range dirList {
		out := must("list", "-l", remote(d))
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			// "NAME\tSIZE\t(TYPE)"
			f := strings.Split(l, "\t")
			if l == "" {
				continue
			}
			if len(f) < 3 {
				t.Fatalf("gio list -l %s: unexpected line %q", remote(d), l)
			}
			rel := f[0]
			if d != "" {
				rel = d + "/" + f[0]
			}
			listed[rel] = f[1] + " " + f[2]
		}
	}
	want := map[string]string{}
	for name, b := range files {
		want[name] = fmt.Sprintf("%d (regular)", len(b))
	}
	for d := range dirs {
		if d != "" {
			want[d] = "0 (directory)"
		}
	}
	for rel, w := range want {
		if g := listed[rel]; g != w && !(strings.HasSuffix(w, "(directory)") && strings.HasSuffix(g, "(directory)")) {
			t.Errorf("gio list: %q is %q, want %q", rel, g, w)
		}
	}
	for rel := range listed {
		if _, ok := want[rel]; !ok {
			t.Errorf("gio list shows %q, which was not copied", rel)
		}
	}

	// Copy every file back out and compare.
	down := t.TempDir()
	for _, d := range dirList {
		if err := os.MkdirAll(filepath.Join(down, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		must("copy", remote(name), filepath.Join(down, filepath.FromSlash(name)))
	}
	got, _ := readTree(t, down)
	sameFiles(t, "tree copied back out with gio", got, files)

	// Rename (a server-side MOVE) and remove.
	must("move", remote("nested/sibling.txt"), remote("nested/renamed ✓.txt"))
	if b, err := os.ReadFile(filepath.Join(home, "gio", "nested", "renamed ✓.txt")); err != nil || !bytes.Equal(b, files["nested/sibling.txt"]) {
		t.Errorf("after gio move, files/alice/gio/nested/renamed ✓.txt: %d bytes, %v", len(b), err)
	}
	if _, err := os.Lstat(filepath.Join(home, "gio", "nested", "sibling.txt")); !os.IsNotExist(err) {
		t.Errorf("after gio move, sibling.txt: %v; want it gone", err)
	}
	must("remove", remote("big.bin"))
	if _, err := os.Lstat(filepath.Join(home, "gio", "big.bin")); !os.IsNotExist(err) {
		t.Errorf("after gio remove, big.bin: %v; want it gone", err)
	}

	// Free space comes from quota-available-bytes.
	info := must("info", "-f", root)
	m := regexp.MustCompile(`(?m)^\s*filesystem::free: (\d+)$`).FindStringSubmatch(info)
	if m == nil || m[1] == "0" {
		t.Errorf("gio info -f: no filesystem::free from the quota properties:\n%s", info)
	}

	// What gvfs sent while mounting: the mount path and its parents, each
	// answered 207 or 401 (GNOME probes them; a 405 broke mounts,
	// nextcloud/server #48602), and nothing the server failed.
	reqLine := regexp.MustCompile(`msg=request method=(\S+) path=("[^"]*"|\S+) status=(\d+)`)
	probed := map[string]bool{}
	for _, m := range reqLine.FindAllStringSubmatch(s.log(), -1) {
		path := strings.Trim(m[2], `"`)
		st, _ := strconv.Atoi(m[3])
		if m[1] == "PROPFIND" && (path == "/" || path == "/dav/" || path == "/dav/files/") {
			probed[path] = true
			if st != 207 && st != 401 {
				t.Errorf("gvfs's PROPFIND %s: %d, want 207 or 401", path, st)
			}
		}
		if st == 405 || st >= 500 {
			t.Errorf("gvfs's %s %s: %d", m[1], path, st)
		}
	}
	t.Logf("gvfs probed the parents %v of the mount path", slices.Sorted(maps.Keys(probed)))
}

// waitOrKill waits up to 10 s for a process this test started (and has
// asked to stop) to exit, then kills it by its PID and fails the test.
func waitOrKill(t *testing.T, what string, cmd *exec.Cmd, exited <-chan struct{}) {
	t.Helper()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Errorf("%s did not exit within 10s; killed", what)
	}
}
