package fs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Why openat2: os.Root resolves a name one component at a time, an openat
// and a close per directory on the way, so a stat of "a/b/c" costs five
// system calls and a rename twice that. openat2 has the kernel resolve the
// whole name in one call, and the operation then runs on the descriptor it
// returns; on the small requests (MOVE, PUT, MKCOL, DELETE) that halves the
// system calls.
//
// The fast path takes only names without symbolic links: RESOLVE_NO_SYMLINKS
// makes the kernel answer ELOOP at the first link, and the name then goes
// through os.Root as before. So every name with a link keeps os.Root's
// rules to the letter (which links stay inside, its limit of 8 links where
// the kernel allows 40), and a name without one cannot leave the root
// (RESOLVE_BENEATH refuses ".." above it too). Where openat2 is missing
// (Linux before 5.6, some seccomp sandboxes) os.Root does all the work.

// beneathResolve is how every fast-path name is resolved.
const beneathResolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openBeneathDir opens the directory of root for openat2, or returns nil
// when the kernel cannot do it; the caller then uses os.Root alone.
func openBeneathDir(root *os.Root) *os.File {
	d, err := root.Open(".")
	if err != nil {
		return nil
	}
	fd, err := unix.Openat2(int(d.Fd()), ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: beneathResolve})
	if err != nil {
		d.Close()
		return nil
	}
	unix.Close(fd)
	return d
}

// deep reports whether rel has three or more elements: a name os.Root
// resolves in more system calls than openat2 (2d-1 for d elements, against
// 3 for a stat or 2 around a parent).
func deep(rel string) bool { return strings.Count(rel, "/") >= 2 }

// beneath opens rel (a name from rel()) with openat2 and runs fn on the
// descriptor. handled is false when the fast path cannot answer and os.Root
// must: no openat2, a closed root, a link or anything unusual on the way.
func (r *RootFs) beneath(op, name, rel string, flags int, fn func(fd int) error) (handled bool, err error) {
	fd, handled, err := r.openat2(op, name, rel, flags)
	if !handled || err != nil {
		return handled, err
	}
	defer unix.Close(fd)
	return true, fn(fd)
}

// openat2 is beneath's open: the descriptor, which the caller closes, or
// handled false for os.Root to answer.
func (r *RootFs) openat2(op, name, rel string, flags int) (fd int, handled bool, err error) {
	return r.openat2Mode(op, name, rel, flags, 0)
}

// openat2Mode is openat2 for flags that create a file, with its mode.
func (r *RootFs) openat2Mode(op, name, rel string, flags int, mode os.FileMode) (fd int, handled bool, err error) {
	if _, err := r.get(); err != nil || r.dir == nil {
		return -1, false, nil
	}
	conn, err := r.dir.SyscallConn()
	if err != nil {
		return -1, false, nil
	}
	fd = -1
	var oerr error
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode.Perm()), Resolve: beneathResolve}
	if err := conn.Control(func(root uintptr) {
		for {
			fd, oerr = unix.Openat2(int(root), rel, &how)
			if oerr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return -1, false, nil
	}
	switch {
	case oerr == nil:
		return fd, true, nil
	case oerr == unix.ENOENT || oerr == unix.ENOTDIR || oerr == unix.EACCES:
		return -1, true, r.confine(op, name, &fs.PathError{Op: op, Path: name, Err: oerr})
	}
	// A link on the way (ELOOP), an escape (EXDEV), a name longer than
	// PATH_MAX, EAGAIN, ENOSYS: os.Root's answer, exactly.
	return -1, false, nil
}

// openBeneath opens rel for reading (flag is O_RDONLY, perhaps with
// O_NONBLOCK) through openat2. Unlike the operations above it pays at any
// depth: os.Root's open also registers the file with the poller (two
// fcntl, a failing epoll_ctl, two more fcntl), so a GET of "bench/f"
// costs about nine system calls that way and two (openat2, os.NewFile's
// fcntl) this way.
func (r *RootFs) openBeneath(name, rel string, flag int) (*os.File, bool, error) {
	fd, handled, err := r.openat2("open", name, rel, flag)
	if !handled || err != nil {
		return nil, handled, err
	}
	return r.newFile(fd, rel), true, nil
}

// newFile makes an *os.File of a descriptor openat2 gave for rel, named as
// os.Root names what it opens.
func (r *RootFs) newFile(fd int, rel string) *os.File {
	return os.NewFile(uintptr(fd), strings.TrimSuffix(r.root.Name(), "/")+"/"+rel)
}

// readWhole is Namespace.ReadAt's fast path: open name with openat2, fstat
// it, and read a regular file that fits in buf (data); anything larger, or
// a folder, comes back open (f). A FIFO, socket or device is refused.
// handled is false when os.Root must open the name.
func (r *RootFs) readWhole(name string, buf []byte) (data []byte, f *os.File, fi os.FileInfo, handled bool, err error) {
	_, rel, err := r.at("open", name)
	if err != nil {
		return nil, nil, nil, true, err
	}
	// O_NONBLOCK: never wait for a FIFO's writer (it is refused below).
	fd, handled, err := r.openat2("open", name, rel, unix.O_RDONLY|unix.O_NONBLOCK)
	if !handled || err != nil {
		return nil, nil, nil, handled, err
	}
	si := &statInfo{name: path.Base(rel)}
	if err := unix.Fstat(fd, &si.st); err != nil {
		unix.Close(fd)
		return nil, nil, nil, true, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	switch {
	case Special(si):
		unix.Close(fd)
		return nil, nil, nil, true, NotRegular("open", name)
	case si.Mode().IsRegular() && si.st.Size <= int64(len(buf)):
		data, err := preadAll(fd, buf[:si.st.Size])
		unix.Close(fd)
		if err != nil {
			return nil, nil, nil, true, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		return data, nil, si, true, nil
	}
	return nil, r.newFile(fd, rel), si, true, nil
}

// preadAll fills b from the start of the file, or less if the file has
// shrunk since it was stat'ed.
func preadAll(fd int, b []byte) ([]byte, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Pread(fd, b[n:], int64(n))
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, err
		case m == 0:
			return b[:n], nil
		}
		n += m
	}
	return b[:n], nil
}

// inParent runs fn on the directory holding rel and rel's last element.
// Names whose last element is "." or ".." (the root, an escape) are left
// to os.Root.
func (r *RootFs) inParent(op, name, rel string, fn func(dir int, base string) error) (handled bool, err error) {
	dir, base := path.Split(rel)
	if base == "." || base == ".." || !deep(rel) {
		return false, nil
	}
	if dir == "" {
		dir = "."
	}
	return r.beneath(op, name, dir, unix.O_PATH|unix.O_DIRECTORY, func(fd int) error { return fn(fd, base) })
}

// statBeneath is Stat through openat2; a link as the last element, which
// Stat follows, is os.Root's to resolve.
func (r *RootFs) statBeneath(name, rel string) (os.FileInfo, bool, error) {
	if !deep(rel) {
		return nil, false, nil
	}
	var fi os.FileInfo
	ok, err := r.beneath("stat", name, rel, unix.O_PATH, func(fd int) error {
		si := &statInfo{name: path.Base(rel)}
		if err := unix.Fstat(fd, &si.st); err != nil {
			return &fs.PathError{Op: "stat", Path: name, Err: err}
		}
		fi = si
		return nil
	})
	return fi, ok, err
}

// renameBeneath is Rename through openat2, with os.Root's rule that a
// directory is never replaced by another entry (EEXIST), as rename(2)
// would for an empty one. With replace false nothing is replaced at all:
// an existing newname is EEXIST.
func (r *RootFs) renameBeneath(oldname, newname, from, to string, replace bool) (bool, error) {
	rename := func(odir int, obase string, ndir int, nbase string) error {
		// Most renames go to a new name (a MOVE's usual case), and
		// RENAME_NOREPLACE settles those in one call: nothing is replaced,
		// so there is nothing to check first. EEXIST, or a file system
		// without the flag (EINVAL), takes the checked rename below.
		err := unix.Renameat2(odir, obase, ndir, nbase, unix.RENAME_NOREPLACE)
		switch {
		case err == nil:
			return nil
		case err == unix.EEXIST && !replace:
			return &os.LinkError{Op: "renameat", Old: oldname, New: newname, Err: err}
		case err == unix.EEXIST, err == unix.EINVAL, err == unix.ENOSYS:
		default:
			return &os.LinkError{Op: "renameat", Old: oldname, New: newname, Err: err}
		}
		var nst, ost unix.Stat_t
		nerr := unix.Fstatat(ndir, nbase, &nst, unix.AT_SYMLINK_NOFOLLOW)
		if nerr == nil && !replace {
			return &os.LinkError{Op: "renameat", Old: oldname, New: newname, Err: unix.EEXIST}
		}
		if nerr == nil && nst.Mode&unix.S_IFMT == unix.S_IFDIR {
			if err := unix.Fstatat(odir, obase, &ost, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return &os.LinkError{Op: "renameat", Old: oldname, New: newname, Err: err}
			}
			if nbase == obase || nst.Dev != ost.Dev || nst.Ino != ost.Ino {
				return &os.LinkError{Op: "renameat", Old: oldname, New: newname, Err: syscall.EEXIST}
			}
		}
		if err := unix.Renameat(odir, obase, ndir, nbase); err != nil {
			return &os.LinkError{Op: "renameat", Old: oldname, New: newname, Err: err}
		}
		return nil
	}
	ok, err := r.inParent("rename", oldname, from, func(odir int, obase string) error {
		if ndir, nbase := path.Split(to); ndir == from[:len(from)-len(obase)] && nbase != "." && nbase != ".." {
			// A rename within one directory (MOVE to a new name):
			// its descriptor serves both sides.
			return rename(odir, obase, odir, nbase)
		}
		ok, err := r.inParent("rename", newname, to, func(ndir int, nbase string) error {
			return rename(odir, obase, ndir, nbase)
		})
		if !ok {
			return errSlowPath
		}
		return err
	})
	if err == errSlowPath {
		return false, nil
	}
	return ok, err
}

// errSlowPath tells a caller of inParent that a nested step was not
// handled; nothing was changed.
var errSlowPath = errors.New("fs: resolve through os.Root")

// mkdirBeneath is Mkdir through openat2 for plain permission bits.
func (r *RootFs) mkdirBeneath(name, rel string, perm os.FileMode) (bool, error) {
	if perm&^os.ModePerm != 0 {
		return false, nil
	}
	return r.inParent("mkdir", name, rel, func(dir int, base string) error {
		if err := unix.Mkdirat(dir, base, uint32(perm)); err != nil {
			return &fs.PathError{Op: "mkdirat", Path: name, Err: err}
		}
		return nil
	})
}

// removeAllBeneath removes a file, a link or an empty directory through
// openat2; anything bigger is left to os.Root's RemoveAll (handled false).
// A missing name is no error, as for RemoveAll.
func (r *RootFs) removeAllBeneath(name, rel string) (bool, error) {
	ok, err := r.inParent("remove", name, rel, func(dir int, base string) error {
		err := unix.Unlinkat(dir, base, 0)
		if err == unix.EISDIR || err == unix.EPERM {
			if e := unix.Unlinkat(dir, base, unix.AT_REMOVEDIR); e != unix.ENOTDIR {
				err = e
			}
		}
		switch err {
		case nil, unix.ENOENT:
			return nil
		case unix.ENOTEMPTY, unix.EEXIST:
			return errSlowPath
		}
		return &fs.PathError{Op: "RemoveAll", Path: name, Err: err}
	})
	if err == errSlowPath || (ok && errors.Is(err, fs.ErrNotExist)) {
		// A directory with members, or a parent that does not resolve:
		// os.Root says what happens.
		return false, nil
	}
	return ok, err
}

// statfs describes the file system holding the root: on the descriptor
// openat2 uses when there is one (a PUT asks, for the quota check), else
// on the root opened for the purpose.
func (r *RootFs) statfs() (syscall.Statfs_t, error) {
	var st syscall.Statfs_t
	if _, err := r.get(); err == nil && r.dir != nil {
		if conn, err := r.dir.SyscallConn(); err == nil {
			var serr error
			if conn.Control(func(fd uintptr) { serr = syscall.Fstatfs(int(fd), &st) }) == nil {
				return st, serr
			}
		}
	}
	f, err := r.openFile("/", os.O_RDONLY, 0)
	if err != nil {
		return st, err
	}
	defer f.Close()
	return st, syscall.Fstatfs(int(f.Fd()), &st)
}
