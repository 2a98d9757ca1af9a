package fs

import (
	"errors"
	"os"
	"path"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// RootFs is an afero.Fs confined to one directory by os.Root: every name is
// resolved inside the root and a symbolic link that would leave it fails.
type RootFs struct {
	root *os.Root
	// escape is os.Root's unexported "path escapes from parent" error,
	// learned by asking the root for ".."; we report escapes as not found.
	escape error
}

var _ afero.Fs = (*RootFs)(nil)

// OpenRootFs opens dir as a confined file system.
func OpenRootFs(dir string) (*RootFs, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	_, err = r.Stat("..")
	return &RootFs{root: r, escape: errors.Unwrap(err)}, nil
}

// Close releases the root directory.
func (r *RootFs) Close() error { return r.root.Close() }

// Dir is the directory the file system is confined to.
func (r *RootFs) Dir() string { return r.root.Name() }

// rel turns our "/a/b" names into os.Root's relative "a/b" ("." for the root).
func rel(name string) string {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		return "."
	}
	return name
}

func (r *RootFs) Name() string { return "RootFs" }

func (r *RootFs) Create(name string) (afero.File, error) {
	return r.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (r *RootFs) Mkdir(name string, perm os.FileMode) error {
	return r.confine("mkdir", name, r.root.Mkdir(rel(name), perm))
}

func (r *RootFs) MkdirAll(name string, perm os.FileMode) error {
	return r.root.MkdirAll(rel(name), perm)
}

func (r *RootFs) Open(name string) (afero.File, error) {
	f, err := r.root.Open(rel(name))
	if err != nil {
		return nil, r.confine("open", name, err)
	}
	return f, nil
}

func (r *RootFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := r.root.OpenFile(rel(name), flag, perm)
	if err != nil {
		return nil, r.confine("open", name, err)
	}
	return f, nil
}

func (r *RootFs) Remove(name string) error { return r.root.Remove(rel(name)) }

func (r *RootFs) RemoveAll(name string) error {
	if rel(name) == "." {
		return os.ErrPermission
	}
	return r.confine("remove", name, r.root.RemoveAll(rel(name)))
}

func (r *RootFs) Rename(oldname, newname string) error {
	return r.confine("rename", oldname, r.root.Rename(rel(oldname), rel(newname)))
}

func (r *RootFs) Stat(name string) (os.FileInfo, error) {
	fi, err := r.root.Stat(rel(name))
	if err != nil {
		return nil, r.confine("stat", name, err)
	}
	return fi, nil
}

// confine reports a path that escapes the root as not found, so that
// callers treat an outside symlink exactly like a missing file.
func (r *RootFs) confine(op, name string, err error) error {
	if r.escape != nil && errors.Is(err, r.escape) {
		return notExist(op, name)
	}
	return err
}

// LstatIfPossible implements afero.Lstater.
func (r *RootFs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := r.root.Lstat(rel(name))
	return fi, true, err
}

func (r *RootFs) Chmod(name string, mode os.FileMode) error {
	return r.root.Chmod(rel(name), mode)
}

func (r *RootFs) Chown(name string, uid, gid int) error {
	return r.root.Chown(rel(name), uid, gid)
}

func (r *RootFs) Chtimes(name string, atime, mtime time.Time) error {
	return r.root.Chtimes(rel(name), atime, mtime)
}
