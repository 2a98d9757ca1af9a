package fs

import (
	"errors"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

// RootFs is an afero.Fs confined to one directory by os.Root: every name is
// resolved inside the root and a symbolic link that would leave it fails.
//
// A view (Sub) is a RootFs for one subtree of another: it takes the same
// names (paths of the whole tree) but resolves them through an os.Root
// opened at the subtree, so a link inside the subtree that points elsewhere
// in the tree fails like a link out of the tree.
type RootFs struct {
	root *os.Root
	// escape is os.Root's unexported "path escapes from parent" error,
	// learned by asking the root for ".."; we report escapes as not found.
	escape error
	// prefix is the subtree of a view ("" for a whole tree): names at or
	// below it resolve, every other name is refused as an escape.
	prefix string
	// only, in the view of a single file, is that file's path: the view
	// reaches the file, its directory (for the checks of an upload) and
	// our temporary files beside it, nothing else.
	only string
	// borrowed: root belongs to the tree the view was made from.
	borrowed bool
	// lazy is set on a view until its root is opened, at first use.
	lazy *lazyRoot
	// dir is the root directory for openat2 (beneath.go); nil where the
	// kernel lacks it. Borrowed with root.
	dir *os.File
	// subs caches the roots of this tree's views (subroots.go); shared,
	// in a view, is the cached root it uses.
	subs   *subRoots
	shared *subRoot
	subsOf *RootFs // the tree a view was made from
	// unnamed: uploads may start as unnamed files (unnamed.go).
	unnamed bool
}

type lazyRoot struct {
	once sync.Once
	open func() error
	err  error
}

var _ afero.Fs = (*RootFs)(nil)

// OpenRootFs opens dir as a confined file system.
func OpenRootFs(dir string) (*RootFs, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	_, err = r.Stat("..")
	bd := openBeneathDir(r)
	return &RootFs{root: r, escape: errors.Unwrap(err), dir: bd, subs: &subRoots{}, unnamed: bd != nil && procFdUsable()}, nil
}

// Sub returns a view of the subtree at dir (a clean tree path), opened at
// first use: a directory through an os.Root opened at it, so that what
// lies below resolves inside it, links included; a file through r,
// restricted to that file and our temporary files beside it. dir itself
// must not be a symbolic link: a link there would let the view reach
// whatever the link names. Close the view when done with it.
func (r *RootFs) Sub(dir string) *RootFs {
	dir = path.Clean("/" + dir)
	v := &RootFs{escape: r.escape, lazy: &lazyRoot{}, subsOf: r, unnamed: r.unnamed}
	v.lazy.open = func() error {
		root, err := r.get()
		if err != nil {
			return err
		}
		if dir != "/" {
			v.prefix = dir // a file's view resets it below
		}
		if sr := r.subs.acquireCurrent(r, dir); sr != nil {
			v.root, v.dir, v.shared = sr.root, sr.dir, sr
			return nil
		}
		fi, err := root.Lstat(r.rel(dir))
		if err != nil {
			return r.confine("open", dir, err)
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			return notExist("open", dir)
		case !fi.IsDir():
			// Nothing lies below a file: r, restricted to the one name,
			// confines it.
			v.root, v.prefix, v.only, v.borrowed, v.dir = root, r.prefix, dir, true, r.dir
			return nil
		}
		if r.subs != nil {
			if sr := r.subs.acquire(dir, fi); sr != nil {
				v.root, v.dir, v.shared = sr.root, sr.dir, sr
				return nil
			}
		}
		sub, err := root.OpenRoot(r.rel(dir))
		if err != nil {
			return r.confine("open", dir, err)
		}
		// The directory opened is the one just seen, not a link put in its
		// place meanwhile.
		at, err := sub.Stat(".")
		if err != nil || !os.SameFile(at, fi) {
			sub.Close()
			return notExist("open", dir)
		}
		v.root = sub
		if r.subs != nil {
			// Cached, the root also gets the openat2 fast path (beneath.go):
			// its directory is opened once, not per request.
			v.shared = r.subs.add(dir, sub, at)
			v.dir = v.shared.dir
		}
		return nil
	}
	return v
}

var errClosed = errors.New("fs: view closed")

// get returns the open root, opening a view's on first use.
func (r *RootFs) get() (*os.Root, error) {
	if r.lazy == nil {
		return r.root, nil
	}
	r.lazy.once.Do(func() { r.lazy.err = r.lazy.open() })
	return r.root, r.lazy.err
}

// Close releases the root directory.
func (r *RootFs) Close() error {
	if r.lazy != nil {
		r.lazy.once.Do(func() { r.lazy.err = errClosed })
		if r.shared != nil {
			r.subsOf.subs.release(r.shared)
			r.shared = nil
			return nil
		}
		if r.root == nil || r.borrowed {
			return nil
		}
	}
	if r.subs != nil {
		r.subs.closeAll()
	}
	if r.dir != nil {
		r.dir.Close()
	}
	return r.root.Close()
}

// Dir is the directory the file system is confined to.
func (r *RootFs) Dir() string {
	if root, err := r.get(); err == nil {
		return root.Name()
	}
	return ""
}

// rel turns our "/a/b" names into os.Root's relative "a/b" ("." for the
// root). In a view, a name outside it becomes "..", which os.Root refuses
// as an escape (reported as not found by confine).
func (r *RootFs) rel(name string) string {
	name = path.Clean("/" + name)
	if r.only != "" && name != r.only {
		dir := path.Dir(r.only)
		if name != dir && (path.Dir(name) != dir || !strings.HasPrefix(path.Base(name), reservedPrefix)) {
			return ".."
		}
	}
	if r.prefix != "" {
		if name != r.prefix && !strings.HasPrefix(name, r.prefix+"/") {
			return ".."
		}
		name = name[len(r.prefix):]
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		return "."
	}
	return name
}

// at is the root and the relative name for an operation on name.
func (r *RootFs) at(op, name string) (*os.Root, string, error) {
	root, err := r.get()
	if err != nil {
		return nil, "", r.confine(op, name, err)
	}
	return root, r.rel(name), nil
}

func (r *RootFs) Name() string { return "RootFs" }

func (r *RootFs) Create(name string) (afero.File, error) {
	return r.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (r *RootFs) Mkdir(name string, perm os.FileMode) error {
	root, rn, err := r.at("mkdir", name)
	if err != nil {
		return err
	}
	if ok, err := r.mkdirBeneath(name, rn, perm); ok {
		return r.confine("mkdir", name, err)
	}
	return r.confine("mkdir", name, root.Mkdir(rn, perm))
}

func (r *RootFs) MkdirAll(name string, perm os.FileMode) error {
	root, rn, err := r.at("mkdir", name)
	if err != nil {
		return err
	}
	return root.MkdirAll(rn, perm)
}

func (r *RootFs) Open(name string) (afero.File, error) {
	f, err := r.openFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (r *RootFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := r.openFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// openFile is OpenFile with the *os.File that descriptor-based calls
// (xattrs, fstatfs) need.
func (r *RootFs) openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	root, rn, err := r.at("open", name)
	if err != nil {
		return nil, err
	}
	if flag&^syscall.O_NONBLOCK == os.O_RDONLY {
		// Never wait in open(2) for a FIFO's writer; regular files and
		// folders read the same either way.
		flag |= syscall.O_NONBLOCK
		if f, ok, err := r.openBeneath(name, rn, flag); ok {
			return f, err
		}
	}
	f, err := root.OpenFile(rn, flag, perm)
	if err != nil {
		return nil, r.confine("open", name, err)
	}
	return f, nil
}

func (r *RootFs) Remove(name string) error {
	root, rn, err := r.at("remove", name)
	if err != nil {
		return err
	}
	return root.Remove(rn)
}

func (r *RootFs) RemoveAll(name string) error {
	root, rn, err := r.at("remove", name)
	if err != nil {
		return err
	}
	if rn == "." {
		return os.ErrPermission
	}
	if ok, err := r.removeAllBeneath(name, rn); ok {
		return r.confine("remove", name, err)
	}
	return r.confine("remove", name, root.RemoveAll(rn))
}

func (r *RootFs) Rename(oldname, newname string) error {
	return r.rename(oldname, newname, true)
}

// RenameNew is Rename to a name that must not exist: when newname exists,
// the error is an *os.LinkError wrapping fs.ErrExist and nothing changes.
func (r *RootFs) RenameNew(oldname, newname string) error {
	return r.rename(oldname, newname, false)
}

func (r *RootFs) rename(oldname, newname string, replace bool) error {
	root, from, err := r.at("rename", oldname)
	if err != nil {
		return err
	}
	to := r.rel(newname)
	if ok, err := r.renameBeneath(oldname, newname, from, to, replace); ok {
		return r.confine("rename", oldname, err)
	}
	if !replace {
		// os.Root has no rename that refuses to replace; a name that
		// appears between this check and the rename is replaced, as any
		// rename through os.Root would.
		if _, err := root.Lstat(to); err == nil {
			return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EEXIST}
		}
	}
	return r.confine("rename", oldname, root.Rename(from, to))
}

func (r *RootFs) Stat(name string) (os.FileInfo, error) {
	root, rn, err := r.at("stat", name)
	if err != nil {
		return nil, err
	}
	if fi, ok, err := r.statBeneath(name, rn); ok {
		return fi, err
	}
	fi, err := root.Stat(rn)
	if err != nil {
		return nil, r.confine("stat", name, err)
	}
	return fi, nil
}

// confine reports a path that escapes the root as not found, so that
// callers treat an outside symlink exactly like a missing file. A path
// through a file (ENOTDIR) or through a loop of links (ELOOP) names
// nothing either: not found, rather than an error nobody expects (500).
func (r *RootFs) confine(op, name string, err error) error {
	if r.escape != nil && errors.Is(err, r.escape) ||
		errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ELOOP) {
		return notExist(op, name)
	}
	return err
}

// LstatIfPossible implements afero.Lstater.
func (r *RootFs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	root, rn, err := r.at("lstat", name)
	if err != nil {
		return nil, true, err
	}
	fi, err := root.Lstat(rn)
	return fi, true, r.confine("lstat", name, err)
}

func (r *RootFs) Chmod(name string, mode os.FileMode) error {
	root, rn, err := r.at("chmod", name)
	if err != nil {
		return err
	}
	return root.Chmod(rn, mode)
}

func (r *RootFs) Chown(name string, uid, gid int) error {
	root, rn, err := r.at("chown", name)
	if err != nil {
		return err
	}
	return root.Chown(rn, uid, gid)
}

func (r *RootFs) Chtimes(name string, atime, mtime time.Time) error {
	root, rn, err := r.at("chtimes", name)
	if err != nil {
		return err
	}
	return root.Chtimes(rn, atime, mtime)
}
