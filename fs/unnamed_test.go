package fs

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/davshare/davshare/internal/davxml"
)

// uploadTree is a tree on a fresh directory with a folder "docs"; unnamed
// says whether its uploads may start as unnamed files.
func uploadTree(t *testing.T, unnamed bool) (*Tree, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	rfs, err := OpenRootFs(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rfs.Close() })
	if unnamed && !rfs.unnamed {
		t.Fatal("this system cannot link unnamed files (openat2 and /proc/self/fd needed)")
	}
	rfs.unnamed = unnamed
	return NewTree("alice", rfs, XattrProps{fs: rfs}), dir
}

// put writes content to p through tree's atomic path.
func put(t *testing.T, tree *Tree, p, content string, mtime time.Time) (*upload, bool) {
	t.Helper()
	up, err := tree.create(p, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	_, created, err := up.commit(mtime)
	if err != nil {
		t.Fatal(err)
	}
	return up, created
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// namesIn lists dir on disk.
func namesIn(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

// TestUploadNamedAndUnnamed: the same uploads through an unnamed file
// (O_TMPFILE) and through the named temporary file that serves where
// there is none: a new file with a given modification time, then an
// overwrite that keeps the old file's dead properties and mode; neither
// leaves another name in the folder.
func TestUploadNamedAndUnnamed(t *testing.T) {
	for _, unnamed := range []bool{true, false} {
		t.Run(map[bool]string{true: "unnamed", false: "named"}[unnamed], func(t *testing.T) {
			tree, dir := uploadTree(t, unnamed)
			mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
			up, created := put(t, tree, "/docs/a.txt", "one", mtime)
			if !created || (up.unnamed != nil) != unnamed {
				t.Fatalf("new file: created %v, unnamed %v; want created, unnamed %v", created, up.unnamed != nil, unnamed)
			}
			disk := filepath.Join(dir, "docs", "a.txt")
			fi, err := os.Stat(disk)
			if err != nil || !fi.ModTime().Equal(mtime) {
				t.Fatalf("new file: %v, %v; want modified at %v", fi, err, mtime)
			}

			props := []davxml.Property{{Name: xml.Name{Space: "urn:x", Local: "color"}, Inner: "blue"}}
			if err := tree.Props.Save("/docs/a.txt", props); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(disk, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, created := put(t, tree, "/docs/a.txt", "two", time.Time{}); created {
				t.Fatal("overwrite reported as created")
			}
			if b, err := os.ReadFile(disk); err != nil || string(b) != "two" {
				t.Fatalf("after the overwrite: %q, %v", b, err)
			}
			if fi, err := os.Stat(disk); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("after the overwrite: mode %v (%v), want 0600", fi.Mode(), err)
			}
			got, err := tree.Props.Load("/docs/a.txt")
			if err != nil || len(got) != 1 || got[0].Inner != "blue" {
				t.Fatalf("dead properties after the overwrite: %+v, %v; want color=blue", got, err)
			}
			if names := namesIn(t, filepath.Join(dir, "docs")); !slices.Equal(names, []string{"a.txt"}) {
				t.Fatalf("docs holds %v, want only a.txt", names)
			}
		})
	}
}

// TestUnnamedUploadPlaces covers what can change between the start of an
// unnamed upload and its end: the name taken meanwhile (replaced, as a
// PUT replaces), the folder replaced by a link inside the tree (followed,
// as os.Root follows it) or out of it (not found; nothing written there),
// and the folder gone.
func TestUnnamedUploadPlaces(t *testing.T) {
	t.Run("name taken meanwhile", func(t *testing.T) {
		tree, dir := uploadTree(t, true)
		up, err := tree.create("/docs/b.txt", false)
		if err != nil {
			t.Fatal(err)
		}
		up.Write([]byte("mine"))
		if err := os.WriteFile(filepath.Join(dir, "docs", "b.txt"), []byte("theirs"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := up.place(true); err != nil { // as commit would, had its stat come first
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "docs", "b.txt")); string(b) != "mine" {
			t.Fatalf("b.txt reads %q, want the upload", b)
		}
		if names := namesIn(t, filepath.Join(dir, "docs")); !slices.Equal(names, []string{"b.txt"}) {
			t.Fatalf("docs holds %v, want only b.txt", names)
		}
	})
	t.Run("folder now a link inside", func(t *testing.T) {
		tree, dir := uploadTree(t, true)
		up, err := tree.create("/docs/c.txt", false)
		if err != nil {
			t.Fatal(err)
		}
		up.Write([]byte("content"))
		must(t, os.Rename(filepath.Join(dir, "docs"), filepath.Join(dir, "real")))
		must(t, os.Symlink("real", filepath.Join(dir, "docs")))
		if _, _, err := up.commit(time.Time{}); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "real", "c.txt")); err != nil || string(b) != "content" {
			t.Fatalf("real/c.txt: %q, %v", b, err)
		}
	})
	t.Run("folder now a link out", func(t *testing.T) {
		tree, dir := uploadTree(t, true)
		outside := t.TempDir()
		up, err := tree.create("/docs/d.txt", false)
		if err != nil {
			t.Fatal(err)
		}
		up.Write([]byte("content"))
		must(t, os.Remove(filepath.Join(dir, "docs")))
		must(t, os.Symlink(outside, filepath.Join(dir, "docs")))
		if _, _, err := up.commit(time.Time{}); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("commit through a link out of the tree: %v, want not found", err)
		}
		if names := namesIn(t, outside); len(names) != 0 {
			t.Fatalf("the upload reached outside the tree: %v", names)
		}
	})
	t.Run("folder gone", func(t *testing.T) {
		tree, dir := uploadTree(t, true)
		up, err := tree.create("/docs/e.txt", false)
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.Remove(filepath.Join(dir, "docs")))
		if _, _, err := up.commit(time.Time{}); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("commit into a removed folder: %v, want not found", err)
		}
		if names := namesIn(t, dir); len(names) != 0 {
			t.Fatalf("the tree holds %v after the failed upload, want nothing", names)
		}
	})
	t.Run("no folder at all", func(t *testing.T) {
		tree, dir := uploadTree(t, true)
		must(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o644))
		for _, p := range []string{"/missing/f.txt", "/file/f.txt"} {
			if _, err := tree.create(p, false); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("create %s: %v, want not found", p, err)
			}
		}
		if names := namesIn(t, dir); strings.Join(names, ",") != "docs,file" {
			t.Fatalf("the tree holds %v", names)
		}
	})
}

// BenchmarkUpload4K: new 4 KiB files through the atomic path, unnamed
// (O_TMPFILE and linkat) against named (temporary name and rename). Both
// fsync; the disk's state moves the absolute figures a lot, so compare the
// two in one run.
func BenchmarkUpload4K(b *testing.B) {
	content := []byte(strings.Repeat("davshare", 512))
	for _, unnamed := range []bool{true, false} {
		b.Run(map[bool]string{true: "unnamed", false: "named"}[unnamed], func(b *testing.B) {
			dir := b.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "docs"), 0o755); err != nil {
				b.Fatal(err)
			}
			rfs, err := OpenRootFs(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer rfs.Close()
			rfs.unnamed = unnamed && rfs.unnamed
			tree := NewTree("alice", rfs, XattrProps{fs: rfs})
			i := 0
			for b.Loop() {
				up, err := tree.create(fmt.Sprintf("/docs/f%d", i), true)
				if err != nil {
					b.Fatal(err)
				}
				i++
				if _, err := up.Write(content); err != nil {
					b.Fatal(err)
				}
				if _, _, err := up.commit(time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
