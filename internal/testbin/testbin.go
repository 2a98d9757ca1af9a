// Package testbin builds and runs the davshare binary for the test
// packages that drive it as a separate process (e2e, crashtest, soak): one
// place for the build command and for when not to build, for the CLI runs
// (an environment without DAVSHARE_* settings, a timeout), and for starting
// a server, waiting for its serving line and stopping it by its PID.
package testbin

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const buildTimeout = 5 * time.Minute

// Build compiles cmd/davshare to path. go test puts its own toolchain first
// in PATH, so "go" is the one running the tests. No -race: the binary is
// the product.
func Build(ctx context.Context, path string) error {
	// Called from a test (soak), this is what ties go test's cached result
	// to the sources; from TestMain, Binary does it.
	if err := consultSources(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", path, "github.com/davshare/davshare/cmd/davshare").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./cmd/davshare: %v\n%s", err, out)
	}
	return nil
}

// Main is a TestMain body: it builds the binary into a temporary directory,
// points *bin at it, runs the tests and cleans up. It builds nothing in
// -short mode, for -list, or for -run '^$' (fuzzing, benchmarks); *bin then
// stays "" and Binary skips the tests that need it.
func Main(m *testing.M, pkg string, bin *string) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() || listing() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "davshare-"+pkg+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, pkg+":", err)
		return 1
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "davshare")
	if err := Build(context.Background(), path); err != nil {
		fmt.Fprintln(os.Stderr, pkg+":", err)
		return 1
	}
	*bin = path
	return m.Run()
}

// consultSources stats every Go source file of the module, go.mod and
// go.sum. go test caches a package's result until its test binary or a
// file the test consulted changes; the binary that Build compiles in a
// child process is neither, so without this a change to cmd/davshare alone
// would replay an old pass of e2e, crashtest and soak.
func consultSources() error {
	root, err := filepath.Abs(".")
	if err != nil {
		return err
	}
	for ; ; root = filepath.Dir(root) {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(root) == root {
			return fmt.Errorf("no go.mod above the test's directory")
		}
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata"):
			return filepath.SkipDir
		case d.IsDir():
			return nil
		case strings.HasSuffix(p, ".go") || d.Name() == "go.mod" || d.Name() == "go.sum":
			_, err := os.Stat(p)
			return err
		}
		return nil
	})
}

func listing() bool {
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return true
	}
	f := flag.Lookup("test.run")
	return f != nil && f.Value.String() == "^$"
}

// Binary returns bin, skipping the test when Main built none.
func Binary(t testing.TB, bin string) string {
	t.Helper()
	if bin == "" {
		t.Skip("needs the davshare binary, not built in -short mode")
	}
	// Inside a test, where go test's log of consulted files is on (it is
	// not yet in TestMain).
	consulted.once.Do(func() { consulted.err = consultSources() })
	if consulted.err != nil {
		t.Fatal(consulted.err)
	}
	return bin
}

var consulted struct {
	once sync.Once
	err  error
}
