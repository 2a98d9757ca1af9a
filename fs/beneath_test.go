package fs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestBeneathMatchesRoot runs each operation with the openat2 fast path and
// with os.Root alone, on two identical trees, and requires the same answer
// and the same tree afterwards; names without a link must take the fast
// path, names with one must not.
func TestBeneathMatchesRoot(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	// build makes the tree in a new directory, or opens dir again.
	build := func(t *testing.T, fast bool, dir string) (*RootFs, string) {
		if dir == "" {
			dir = populate(t, outside)
		}
		r, err := OpenRootFs(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		if r.dir == nil {
			t.Skip("no openat2 here: nothing to compare")
		}
		if !fast {
			r.dir.Close()
			r.dir = nil
		}
		return r, dir
	}
	// An op runs through the fast path alone (handled false: it left the
	// request to os.Root) and through the public method.
	type op struct {
		name   string
		reads  bool // compared on one tree (inodes, times)
		fast   func(r *RootFs) (string, bool, error)
		public func(r *RootFs) (string, error)
	}
	describe := func(fi os.FileInfo) string {
		ino, _ := inode(fi)
		return fmt.Sprint(fi.Name(), fi.Mode(), fi.ModTime(), fi.Size(), ino)
	}
	stat := func(name string) op {
		return op{"stat " + name, true, func(r *RootFs) (string, bool, error) {
			fi, ok, err := r.statBeneath(name, r.rel(name))
			if !ok || err != nil {
				return "", ok, err
			}
			return describe(fi), true, nil
		}, func(r *RootFs) (string, error) {
			fi, err := r.Stat(name)
			if err != nil {
				return "", err
			}
			return describe(fi), nil
		}}
	}
	// open reads what it opened: content, or the listing of a directory.
	content := func(f *os.File) (string, error) {
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return "", err
		}
		if fi.IsDir() {
			names, err := f.Readdirnames(-1)
			sort.Strings(names)
			return describe(fi) + " " + strings.Join(names, ","), err
		}
		b, err := io.ReadAll(f)
		return describe(fi) + " " + string(b), err
	}
	open := func(name string) op {
		return op{"open " + name, true, func(r *RootFs) (string, bool, error) {
			f, ok, err := r.openBeneath(name, r.rel(name), os.O_RDONLY)
			if !ok || err != nil {
				return "", ok, err
			}
			s, err := content(f)
			return s, true, err
		}, func(r *RootFs) (string, error) {
			f, err := r.Open(name)
			if err != nil {
				return "", err
			}
			return content(f.(*os.File))
		}}
	}
	rename := func(from, to string) op {
		return op{"rename " + from + " " + to, false, func(r *RootFs) (string, bool, error) {
			ok, err := r.renameBeneath(from, to, r.rel(from), r.rel(to), true)
			return "", ok, err
		}, func(r *RootFs) (string, error) { return "", r.Rename(from, to) }}
	}
	renameNew := func(from, to string) op {
		return op{"rename-new " + from + " " + to, false, func(r *RootFs) (string, bool, error) {
			ok, err := r.renameBeneath(from, to, r.rel(from), r.rel(to), false)
			return "", ok, err
		}, func(r *RootFs) (string, error) { return "", r.RenameNew(from, to) }}
	}
	mkdir := func(name string) op {
		return op{"mkdir " + name, false, func(r *RootFs) (string, bool, error) {
			ok, err := r.mkdirBeneath(name, r.rel(name), 0o750)
			return "", ok, err
		}, func(r *RootFs) (string, error) { return "", r.Mkdir(name, 0o750) }}
	}
	removeAll := func(name string) op {
		return op{"removeall " + name, false, func(r *RootFs) (string, bool, error) {
			ok, err := r.removeAllBeneath(name, r.rel(name))
			return "", ok, err
		}, func(r *RootFs) (string, error) { return "", r.RemoveAll(name) }}
	}
	for _, tc := range []struct {
		op   op
		fast bool // the fast path answers (no link on the way)
	}{
		{stat("/d/a/b/f.txt"), true},
		{stat("/d/a/b"), true},
		{stat("/d/a"), false}, // as cheap through os.Root
		{stat("/"), false},
		{stat("/d/a/missing"), true},
		{stat("/d/a/missing/x"), true},
		{stat("/d/top.txt/x"), true}, // through a file
		{stat("/d/in/g.txt"), false},
		{stat("/d/a/infile"), false},
		{stat("/d/out/secret"), false},
		{stat("/d/up/x/y"), false},
		{stat("/d/a/loop"), false},
		{open("/d/a/b/f.txt"), true},
		{open("/d/top.txt"), true}, // shallow too: os.Root's open costs more
		{open("/d/a"), true},
		{open("/"), true},
		{open("/d/a/missing"), true},
		{open("/d/top.txt/x"), true},
		{open("/d/in/g.txt"), false}, // a link inside: os.Root follows it
		{open("/d/a/infile"), false},
		{open("/d/out/secret"), false}, // links out: os.Root refuses
		{open("/d/up/x/y"), false},
		{open("/d/a/loop"), false},
		{open("/" + strings.Repeat("n/", 2100) + "x"), false}, // past PATH_MAX
		{rename("/d/a/b/f.txt", "/d/a/b/h.txt"), true},
		{rename("/d/a/g.txt", "/d/a/b/g.txt"), true},
		{rename("/d/a/b/f.txt", "/d/missing/f.txt"), true},
		{rename("/d/a/g.txt", "/d/a/b"), true}, // a directory is never replaced
		{rename("/d/a/b", "/d/full/x"), true},
		{rename("/d/full/x", "/d/full/z"), true},
		{rename("/d/a/g.txt", "/d/top.txt"), false},
		{rename("/d/in/g.txt", "/d/a/moved"), false},
		{rename("/d/a/g.txt", "/d/out/x"), false},
		{rename("/d/a/infile", "/d/a/link2"), true}, // the link itself moves
		{renameNew("/d/a/b/f.txt", "/d/a/b/h.txt"), true},
		{renameNew("/d/a/g.txt", "/d/a/b/f.txt"), true}, // exists: nothing changes
		{renameNew("/d/a/g.txt", "/d/a/b"), true},
		{renameNew("/d/a/g.txt", "/d/a/infile"), true}, // a link is a name too
		{renameNew("/d/a/b/f.txt", "/d/a/loop"), true},
		{renameNew("/d/a/g.txt", "/d/top.txt"), false},
		{renameNew("/d/a/b", "/d/full/x"), true},
		{mkdir("/d/a/new"), true},
		{mkdir("/d/a/b"), true},
		{mkdir("/d/missing/new"), true},
		{mkdir("/d/top.txt/new"), true},
		{mkdir("/d/in/new"), false},
		{mkdir("/d/out/new"), false},
		{removeAll("/d/a/empty"), true},
		{removeAll("/d/a/b/f.txt"), true},
		{removeAll("/d/a/missing"), true},
		{removeAll("/d/missing/x"), false}, // os.Root decides about missing parents
		{removeAll("/d/full/x"), false},    // not empty: os.Root's walk
		{removeAll("/d/a/infile"), true},   // the link, not its target
		{removeAll("/d/in/g.txt"), false},
		{removeAll("/d/out/secret"), false},
	} {
		t.Run(tc.op.name, func(t *testing.T) {
			fast, fdir := build(t, true, "")
			sdir := ""
			if tc.op.reads {
				sdir = fdir
			}
			slow, sdir := build(t, false, sdir)
			got, handled, gerr := tc.op.fast(fast)
			if handled != tc.fast {
				t.Fatalf("fast path answered: %v, want %v", handled, tc.fast)
			}
			if !handled {
				got, gerr = tc.op.public(fast)
			}
			want, werr := tc.op.public(slow)
			if got != want {
				t.Errorf("answer %q, os.Root's %q", got, want)
			}
			for _, target := range []error{fs.ErrNotExist, fs.ErrExist, fs.ErrPermission} {
				if errors.Is(gerr, target) != errors.Is(werr, target) || (gerr == nil) != (werr == nil) {
					t.Errorf("error %v, os.Root's %v", gerr, werr)
				}
			}
			if g, w := treeState(t, fdir), treeState(t, sdir); g != w {
				t.Errorf("tree afterwards:\n%s\nos.Root's:\n%s", g, w)
			}
		})
	}
}

// populate makes the tree the comparison runs on: files, directories,
// links inside and out, a loop.
func populate(t *testing.T, outside string) string {
	dir := t.TempDir()
	for _, d := range []string{"d/a/b", "d/a/empty", "d/full/x/y"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	for _, f := range []string{"d/a/b/f.txt", "d/a/g.txt", "d/full/x/y/z", "d/top.txt"} {
		os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644)
	}
	for name, target := range map[string]string{"d/in": "a", "d/a/infile": "g.txt", "d/out": outside, "d/up": "../..", "d/a/loop": "loop"} {
		os.Symlink(target, filepath.Join(dir, name))
	}
	return dir
}

// treeState is the tree below dir: names, types and file contents.
func treeState(t *testing.T, dir string) string {
	var lines []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		c, _ := os.ReadFile(p)
		lines = append(lines, rel+" "+d.Type().String()+" "+string(c))
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
