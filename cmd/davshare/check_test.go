package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dsfs "github.com/davshare/davshare/fs"
)

// The exit status says whether the data directory is clean (0), has
// problems (1) or could not be checked (2); the report goes to stdout.
func TestCheckCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	var stdout, errb bytes.Buffer
	if code := run([]string{"user", "add", "ann", "--data", data, "--email", "ann@example.org", "--password-stdin"},
		strings.NewReader("ann-password\n"), &stdout, &errb); code != 0 {
		t.Fatalf("user add: %d %s", code, errb.String())
	}
	if err := dsfs.ProbeXattrs(data); err != nil {
		t.Skipf("no user xattrs: %v", err)
	}
	check := func(wantCode int, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"check"}, args...), nil, &stdout, &stderr); code != wantCode {
			t.Fatalf("check %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, stdout.String(), stderr.String())
		}
		return stdout.String() + stderr.String()
	}
	if out := check(0, "--data", data); !strings.Contains(out, "no problems found") || !strings.Contains(out, "1 of 1 accounts complete") {
		t.Errorf("clean directory:\n%s", out)
	}
	if err := os.WriteFile(filepath.Join(data, "notifications", "ann", "bad.xml"), []byte("<not"), 0o640); err != nil {
		t.Fatal(err)
	}
	report := check(1, "--data", data)
	for _, s := range []string{"FAIL notifications:", "notifications/ann/bad.xml [notifications] notification-corrupt", "fix: ", "1 problem found"} {
		if !strings.Contains(report, s) {
			t.Errorf("report lacks %q:\n%s", s, report)
		}
	}
	// The configuration's data directory, as serve reads it.
	t.Setenv("DAVSHARE_DATA", data)
	check(1)
	check(2, "extra")
	check(2, "--no-such-flag")
	check(1, "--data", filepath.Join(data, "missing"))
}
