package fs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	dsfs "github.com/davshare/davshare/fs"
)

func TestSweepStaleUploads(t *testing.T) {
	files := t.TempDir()
	outside := t.TempDir()
	write := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	stale := []string{
		"alice/.davshare-tmp-0123456789abcdef",
		"alice/docs/deep/er/.davshare-tmp-1",
		"bob/.davshare-tmp-2",
	}
	kept := []string{
		"alice/report.txt",
		"alice/.davshare-props", // another reserved name: not an upload
		"alice/.hidden",
		"alice/.davshare-tmp-dir/inside.txt", // a directory is never swept
	}
	for _, p := range append(append([]string{}, stale...), kept...) {
		write(filepath.Join(files, p))
	}
	// A link out of the tree, to a directory holding a temporary-looking
	// file, and a link named like a temporary file: neither is followed.
	write(filepath.Join(outside, ".davshare-tmp-outside"))
	if err := os.Symlink(outside, filepath.Join(files, "alice", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, ".davshare-tmp-outside"), filepath.Join(files, "alice", ".davshare-tmp-link")); err != nil {
		t.Fatal(err)
	}

	// Nothing is old enough yet.
	if n, err := dsfs.SweepStaleUploads(context.Background(), files, time.Hour); err != nil || n != 0 {
		t.Fatalf("sweep of fresh files: %d removed, %v; want 0", n, err)
	}
	time.Sleep(300 * time.Millisecond)
	fresh := "alice/.davshare-tmp-inprogress"
	write(filepath.Join(files, fresh)) // an upload still being written
	kept = append(kept, fresh, "alice/.davshare-tmp-link", "alice/link")

	n, err := dsfs.SweepStaleUploads(context.Background(), files, 150*time.Millisecond)
	if err != nil || n != len(stale) {
		t.Errorf("sweep: %d removed, %v; want %d", n, err, len(stale))
	}
	for _, p := range stale {
		if _, err := os.Lstat(filepath.Join(files, p)); !os.IsNotExist(err) {
			t.Errorf("%s was not swept (%v)", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(filepath.Join(files, p)); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, ".davshare-tmp-outside")); err != nil {
		t.Errorf("the sweep followed a link out of the tree: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := dsfs.SweepStaleUploads(ctx, files, 0); err == nil {
		t.Error("a cancelled sweep reports no error")
	}
	if _, err := dsfs.SweepStaleUploads(context.Background(), filepath.Join(files, "missing"), 0); err == nil {
		t.Error("a missing directory reports no error")
	}
}

// TempFiles lists what the sweep would consider, and changes nothing.
func TestTempFiles(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a/.davshare-tmp-1", "a/b/.davshare-tmp-2", "a/keep.txt", "a/.davshare-tmp-dir/x"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("xyz"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "a/keep.txt"), filepath.Join(dir, "a/.davshare-tmp-link")); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := dsfs.TempFiles(context.Background(), dir, func(f dsfs.TempFile) {
		got = append(got, f.Name)
		if f.Size != 3 || time.Since(f.Changed) > time.Minute || f.Changed.After(time.Now()) {
			t.Errorf("%s: size %d, changed %v", f.Name, f.Size, f.Changed)
		}
	})
	if err != nil || len(got) != 2 || got[0] != "a/.davshare-tmp-1" || got[1] != "a/b/.davshare-tmp-2" {
		t.Fatalf("TempFiles: %q, %v", got, err)
	}
	for _, p := range []string{"a/.davshare-tmp-1", "a/b/.davshare-tmp-2"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("TempFiles removed %s: %v", p, err)
		}
	}
}
