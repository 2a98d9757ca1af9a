package fs

import (
	"io/fs"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// Why unnamed files: an upload used to be written under a reserved name
// beside its target (.davshare-tmp-…) and renamed over it, three changes
// to the folder for a new file (the temporary entry, and the rename's
// removal and addition). O_TMPFILE makes the file with no name at all, and
// linkat(2) gives it one when it is complete and on disk: one change to
// the folder, nothing of an upload ever appears in it, and a crash leaves
// nothing behind to sweep. (docs/performance.md has the figures.)
//
// linkat names a descriptor through /proc/self/fd (AT_EMPTY_PATH would
// need CAP_DAC_READ_SEARCH). Without /proc, without openat2, on a file
// system without O_TMPFILE, or where a link lies on the way to the folder,
// an upload takes the named temporary file as before.

// procFdUsable reports whether linkat can name a descriptor through
// /proc/self/fd here.
func procFdUsable() bool { return unix.Access("/proc/self/fd", unix.X_OK) == nil }

// procFd is the name by which /proc/self/fd reaches descriptor fd.
func procFd(fd uintptr) string { return "/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10) }

// createUnnamed opens a new, unnamed regular file in the folder dir, for
// linkUnnamed to name when it is complete. handled is false when the fast
// path cannot make it; the caller then makes a named temporary file.
func (r *RootFs) createUnnamed(dir string) (f *os.File, handled bool, err error) {
	if !r.unnamed {
		return nil, false, nil
	}
	_, rel, err := r.at("create", dir)
	if err != nil {
		return nil, true, err
	}
	fd, handled, err := r.openat2Mode("create", dir, rel, unix.O_TMPFILE|unix.O_WRONLY, 0o666)
	if !handled || err != nil {
		// A file system without O_TMPFILE says EOPNOTSUPP (or EISDIR on
		// kernels older than 3.11): not handled, like a link on the way.
		return nil, handled, err
	}
	return r.newFile(fd, rel), true, nil
}

// linkUnnamed gives f, an unnamed file from createUnnamed, the name name.
// An existing name is never replaced: the error then wraps fs.ErrExist.
func (r *RootFs) linkUnnamed(f *os.File, name string) error {
	root, rel, err := r.at("link", name)
	if err != nil {
		return err
	}
	dir, base := path.Split(rel)
	if base == "." || base == ".." {
		return notExist("link", name)
	}
	if dir == "" {
		dir = "."
	}
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	link := func(dirfd int) error {
		var lerr error
		if cerr := conn.Control(func(fd uintptr) {
			for lerr = unix.EINTR; lerr == unix.EINTR; {
				lerr = unix.Linkat(unix.AT_FDCWD, procFd(fd), dirfd, base, unix.AT_SYMLINK_FOLLOW)
			}
		}); cerr != nil {
			return cerr
		}
		if lerr != nil {
			return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: lerr}
		}
		return nil
	}
	ok, err := r.beneath("link", name, dir, unix.O_PATH|unix.O_DIRECTORY, link)
	if !ok {
		// A link on the way to the folder: os.Root resolves it, by its
		// rules, and the file is linked into what it finds.
		d, oerr := root.Open(dir)
		if oerr != nil {
			return r.confine("link", name, oerr)
		}
		defer d.Close()
		dconn, cerr := d.SyscallConn()
		if cerr != nil {
			return cerr
		}
		if cerr := dconn.Control(func(dfd uintptr) { err = link(int(dfd)) }); cerr != nil {
			return cerr
		}
	}
	return r.confine("link", name, err)
}

// setTimes sets the access and modification times of an open file.
func setTimes(f *os.File, atime, mtime unix.Timespec) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var uerr error
	if cerr := conn.Control(func(fd uintptr) {
		uerr = unix.UtimesNanoAt(unix.AT_FDCWD, procFd(fd), []unix.Timespec{atime, mtime}, 0)
	}); cerr != nil {
		return cerr
	}
	if uerr != nil {
		return &fs.PathError{Op: "chtimes", Path: f.Name(), Err: uerr}
	}
	return nil
}
