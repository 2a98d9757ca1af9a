package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// davfs2 mounts are bounded like every other wait: mount and umount (which
// waits for pending uploads) each get mountTimeout, and every file system
// call on the mount fsTimeout.
const (
	mountTimeout = time.Minute
	fsTimeout    = time.Minute
)

// requireDavfs2 returns mount.davfs's path or skips (fails under CI) with
// the package to install.
func requireDavfs2(t *testing.T) {
	t.Helper()
	for _, p := range []string{"/usr/sbin/mount.davfs", "/sbin/mount.davfs"} {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	requireTool(t, "mount.davfs", "davfs2")
}

// davfsUnmountable says why this machine cannot mount a davfs2 file system,
// or "" when it can. The test skips with the reason even under CI: it is
// the machine, not the server.
func davfsUnmountable() string {
	if os.Geteuid() != 0 {
		return fmt.Sprintf("mount -t davfs needs root (euid %d); davfs2 lets other users mount only through an fstab entry", os.Geteuid())
	}
	fs, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return "cannot read /proc/filesystems: " + err.Error()
	}
	if !regexp.MustCompile(`(?m)\tfuse$`).Match(fs) {
		return "the kernel has no fuse file system (not in /proc/filesystems); davfs2 needs fuse (or coda)"
	}
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return "davfs2 needs /dev/fuse: " + err.Error()
	}
	f.Close()
	if _, err := user.Lookup("davfs2"); err != nil {
		return "davfs2 runs its daemon as the user davfs2, which does not exist: " + err.Error()
	}
	return ""
}

// mountFailure is what mount.davfs prints when the kernel refuses the mount
// (as opposed to the server refusing it): those skip, anything else fails.
var mountFailure = regexp.MustCompile(`can't open fuse device|loading kernel module fuse failed|mounting failed|Operation not permitted`)

// inTime runs f, failing the test if it does not return within fsTimeout
// (a hung FUSE call); the mount is then torn down by the cleanup.
func inTime(t *testing.T, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(fsTimeout):
		t.Fatalf("%s: no answer within %v", what, fsTimeout)
	}
}

// TestDavfs2 mounts a user's home with davfs2 (mount -t davfs, locks on,
// a short delay_upload) over HTTP and over HTTPS with the server's
// self-signed certificate trusted (trust_server_cert), then reads a known
// file, writes, reads back, renames, edits, fsyncs and unmounts, and checks
// the result in the server's data directory and access log. davfs2 cannot
// list directories on this kernel (readdir fails with EINVAL for every
// server), so only known paths are used.
func TestDavfs2(t *testing.T) {
	binary(t)
	requireDavfs2(t)
	if why := davfsUnmountable(); why != "" {
		t.Skip("davfs2 cannot mount here: " + why)
	}
	t.Parallel()
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			testDavfs2(t, scheme == "https")
		})
	}
}

func testDavfs2(t *testing.T, useTLS bool) {
	data := filepath.Join(t.TempDir(), "data")
	addUser(t, data, "alice", "alice-pw")
	args := []string{"--data", data, "--listen", "127.0.0.1:0", "--log-level", "debug"}
	if useTLS {
		args = append(args, "--tls-self-signed")
	}
	s := startServer(t, serverConfig{Data: data, Args: args})
	home := filepath.Join(data, "files", "alice")
	known := []byte("a file the server had before the mount\n")
	if err := os.MkdirAll(filepath.Join(home, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "docs", "known.txt"), known, 0o644); err != nil {
		t.Fatal(err)
	}

	// mount.davfs drops to the user davfs2 after reading its configuration
	// and secrets as root; the server certificate and the cache must be
	// reachable by that user, which the test's 0700 temporary directories
	// are not. So they go to a directory of their own under /tmp.
	pub, err := os.MkdirTemp("/tmp", "davshare-davfs2-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pub) })
	if err := os.Chmod(pub, 0o755); err != nil {
		t.Fatal(err)
	}
	dav, err := user.Lookup("davfs2")
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(dav.Gid)
	// Like /var/cache/davfs2: root's, group davfs2, group-writable (a
	// cache owned by davfs2 is refused: "can't access directory").
	cache := filepath.Join(pub, "cache")
	if err := os.Mkdir(cache, 0o775); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(cache, 0, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cache, 0o775); err != nil {
		t.Fatal(err)
	}
	conf := []string{
		"use_locks 1",    // LOCK before writing, LOCK of new names (201)
		"delay_upload 1", // upload one second after close
		"ask_auth 0",     // never prompt: credentials come from the secrets file
		"cache_dir " + cache,
	}
	if useTLS {
		cert, err := os.ReadFile(filepath.Join(data, "tls", "cert.pem"))
		if err != nil {
			t.Fatal(err)
		}
		certFile := filepath.Join(pub, "server.pem")
		if err := os.WriteFile(certFile, cert, 0o644); err != nil {
			t.Fatal(err)
		}
		conf = append(conf, "trust_server_cert "+certFile)
	}
	cfgDir := t.TempDir()
	secrets := filepath.Join(cfgDir, "secrets")
	conf = append(conf, "secrets "+secrets)
	confFile := filepath.Join(cfgDir, "davfs2.conf")
	if err := os.WriteFile(confFile, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := s.filesURL("alice")
	if err := os.WriteFile(secrets, []byte(url+" alice alice-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	mounted := func() bool {
		b, _ := os.ReadFile("/proc/mounts")
		return bytes.Contains(b, []byte(" "+mnt+" "))
	}
	t.Cleanup(func() {
		if !mounted() {
			return
		}
		if out, code := runTool(t, mountTimeout, "", nil, nil, "umount", mnt); code != 0 {
			t.Errorf("umount %s: exit %d\n%s", mnt, code, out)
			runTool(t, mountTimeout, "", nil, nil, "umount", "-l", mnt)
		}
	})
	start := time.Now()
	out, code := runTool(t, mountTimeout, "", nil, nil, "mount", "-t", "davfs", url, mnt, "-o", "conf="+confFile)
	if code != 0 {
		if mountFailure.MatchString(out) {
			t.Skipf("davfs2 cannot mount here: mount -t davfs: exit %d: %s", code, strings.TrimSpace(out))
		}
		t.Fatalf("mount -t davfs %s: exit %d\n%s", url, code, out)
	}
	if !mounted() {
		t.Fatalf("mount -t davfs exited 0 but %s is not in /proc/mounts", mnt)
	}
	t.Logf("mounted %s in %v", url, time.Since(start).Round(time.Millisecond))

	at := func(rel string) string { return filepath.Join(mnt, filepath.FromSlash(rel)) }
	inTime(t, "read docs/known.txt through the mount", func() error {
		b, err := os.ReadFile(at("docs/known.txt"))
		if err == nil && !bytes.Equal(b, known) {
			err = fmt.Errorf("read %q, want %q", b, known)
		}
		return err
	})
	note := []byte("written through davfs2\n")
	inTime(t, "write new.txt and fsync", func() error { return writeSync(at("new.txt"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, note) })
	inTime(t, "read new.txt back", func() error {
		b, err := os.ReadFile(at("new.txt"))
		if err == nil && !bytes.Equal(b, note) {
			err = fmt.Errorf("read back %q, want %q", b, note)
		}
		return err
	})
	inTime(t, "rename new.txt to renamed.txt", func() error { return os.Rename(at("new.txt"), at("renamed.txt")) })
	inTime(t, "stat new.txt after the rename", func() error {
		if _, err := os.Stat(at("new.txt")); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("stat new.txt: %v, want it gone", err)
		}
		return nil
	})
	big := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{4}).Read(big)
	inTime(t, "mkdir sub and write sub/big.bin", func() error {
		if err := os.Mkdir(at("sub"), 0o755); err != nil {
			return err
		}
		return writeSync(at("sub/big.bin"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, big)
	})
	edited := append(append([]byte{}, known...), "and a line added through davfs2\n"...)
	inTime(t, "edit docs/known.txt", func() error {
		return writeSync(at("docs/known.txt"), os.O_WRONLY|os.O_APPEND, edited[len(known):])
	})
	inTime(t, "statfs of the mount", func() error {
		var st syscall.Statfs_t
		if err := syscall.Statfs(mnt, &st); err != nil {
			return err
		}
		t.Logf("statfs (from the quota properties): %d blocks of %d bytes, %d available", st.Blocks, st.Bsize, st.Bavail)
		if st.Blocks == 0 {
			return fmt.Errorf("statfs reports 0 blocks: davfs2 found no quota")
		}
		return nil
	})

	// umount.davfs returns once mount.davfs has uploaded every file.
	start = time.Now()
	if out, code := runTool(t, mountTimeout, "", nil, nil, "umount", mnt); code != 0 {
		t.Fatalf("umount %s: exit %d\n%s", mnt, code, out)
	}
	t.Logf("unmounted in %v", time.Since(start).Round(time.Millisecond))

	for rel, want := range map[string][]byte{"renamed.txt": note, "sub/big.bin": big, "docs/known.txt": edited} {
		if got, err := os.ReadFile(filepath.Join(home, filepath.FromSlash(rel))); err != nil || !bytes.Equal(got, want) {
			t.Errorf("files/alice/%s on the server: %d bytes, %v; want the %d written through davfs2", rel, len(got), err, len(want))
		}
	}
	if _, err := os.Lstat(filepath.Join(home, "new.txt")); !os.IsNotExist(err) {
		t.Errorf("files/alice/new.txt on the server after the rename: %v; want it gone", err)
	}

	// What davfs2 sent: locks on (LOCK of new names answered 201), and no
	// request the server failed.
	log := s.log()
	reqLine := regexp.MustCompile(`msg=request method=(\S+) path=(\S+) status=(\d+)`)
	var lockCreated, unlocked bool
	seen := map[string]int{}
	for _, m := range reqLine.FindAllStringSubmatch(log, -1) {
		if m[2] == "/healthz" {
			continue
		}
		seen[m[1]+" "+m[3]]++
		st, _ := strconv.Atoi(m[3])
		switch {
		case m[1] == "LOCK" && st == 201:
			lockCreated = true
		case m[1] == "UNLOCK" && st == 204:
			unlocked = true
		}
		if st >= 500 || st == 423 || st == 412 {
			t.Errorf("davfs2's %s %s: %d", m[1], m[2], st)
		}
	}
	t.Logf("davfs2's requests (method status: count): %v", seen)
	if !lockCreated || !unlocked {
		t.Errorf("no LOCK answered 201 (%v) or no UNLOCK answered 204 (%v): use_locks 1 not in effect?", lockCreated, unlocked)
	}
}

// writeSync opens a file with flag, writes b and fsyncs before closing.
func writeSync(name string, flag int, b []byte) error {
	f, err := os.OpenFile(name, flag, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
