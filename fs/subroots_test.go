package fs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
)

// TestSubRootsFollowThePath: views at one folder share one open root, and
// only while the path still names that folder; a folder put in its place
// is what the next view sees, and the old root closes with its last view.
func TestSubRootsFollowThePath(t *testing.T) {
	home := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(home, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(v *RootFs) string {
		t.Helper()
		b, err := afero.ReadFile(v, "/Shared/f.txt")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write("Shared/f.txt", "first")
	r, err := OpenRootFs(home)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	v1, v2 := r.Sub("/Shared"), r.Sub("/Shared")
	if read(v1) != "first" || read(v2) != "first" {
		t.Fatal("views do not read the folder")
	}
	if v1.shared == nil || v1.shared != v2.shared || v1.shared.refs != 2 {
		t.Fatalf("two views of one folder do not share one root: %p %p", v1.shared, v2.shared)
	}
	old := v1.shared

	// Another program puts a new folder where the shared one was.
	if err := os.Rename(filepath.Join(home, "Shared"), filepath.Join(home, "Old")); err != nil {
		t.Fatal(err)
	}
	write("Shared/f.txt", "second")
	v3 := r.Sub("/Shared")
	if got := read(v3); got != "second" {
		t.Fatalf("a view made after the replacement reads %q, want the new folder's", got)
	}
	if v3.shared == old || !old.retired {
		t.Fatal("the root of the replaced folder is still the cached one")
	}
	if got := read(v1); got != "first" {
		t.Fatalf("a view open before the replacement reads %q; it must keep the folder it opened", got)
	}
	v1.Close()
	v2.Close()
	if _, err := old.root.Stat("."); err == nil {
		t.Fatal("the retired root is still open after its last view closed")
	}
	v3.Close()
	if v3.shared != nil || r.subs.m["/Shared"].refs != 0 {
		t.Fatal("closing the last view left a reference")
	}

	// A link put where the folder was, even one to the very folder the
	// cached root is open at, is no shared folder: a view through it
	// fails rather than reusing the cached root.
	cached := r.subs.m["/Shared"]
	if err := os.Rename(filepath.Join(home, "Shared"), filepath.Join(home, "New")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("New", filepath.Join(home, "Shared")); err != nil {
		t.Fatal(err)
	}
	v4 := r.Sub("/Shared")
	defer v4.Close()
	if _, err := afero.ReadFile(v4, "/Shared/f.txt"); !os.IsNotExist(err) {
		t.Fatalf("a view through a link read the folder (err %v), want not found", err)
	}
	if v4.shared == cached {
		t.Fatal("a view through a link uses the cached root")
	}
}
