package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A data directory without user xattrs must be refused at start, with a
// message that says why, before anything is served or written.
func TestServeRefusesDataDirWithoutXattrs(t *testing.T) {
	mnt := t.TempDir()
	// ramfs has no user extended attributes; mounting it needs root.
	if out, err := exec.Command("mount", "-t", "ramfs", "none", mnt).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot mount a ramfs to test on: %v: %s", err, out)
		}
		t.Skipf("cannot mount a ramfs (needs root): %v", err)
	}
	defer exec.Command("umount", mnt).Run()
	var stdout, stderr bytes.Buffer
	code := run([]string{"serve", "--data", filepath.Join(mnt, "data"), "--listen", "127.0.0.1:0"}, nil, &stdout, &stderr)
	if code == 0 {
		t.Fatalf("serve started on a data directory without xattrs; stdout: %s", stdout.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "does not support user extended attributes") {
		t.Fatalf("unclear refusal: %q", msg)
	}
	if strings.Contains(stdout.String(), "password") {
		t.Fatalf("an account was created before the refusal: %s", stdout.String())
	}
}

func TestParseInterleaved(t *testing.T) {
	for _, args := range [][]string{
		{"add", "bob", "--data", "d", "--email", "b@x.org"},
		{"--data", "d", "add", "--email", "b@x.org", "bob"},
		{"--email=b@x.org", "add", "bob", "--data=d"},
	} {
		fs := newUserFlags()
		pos, err := parseInterleaved(fs.set, args)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if strings.Join(pos, " ") != "add bob" || *fs.data != "d" || *fs.email != "b@x.org" {
			t.Fatalf("%v: positional %v data %q email %q", args, pos, *fs.data, *fs.email)
		}
	}
}
