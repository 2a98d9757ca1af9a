package fs

import (
	"errors"
	"io/fs"
	"os"
)

var (
	// ErrReadOnly is returned for any write through a read-only mount.
	ErrReadOnly = errors.New("fs: read-only share")
	// ErrCrossTree is returned when a rename would move data between two
	// owners' trees, or out of a share.
	ErrCrossTree = errors.New("fs: cannot move between a share and another tree")
	// ErrIncomplete means an upload ended before its announced length.
	ErrIncomplete = errors.New("fs: upload shorter than announced")
	// ErrTooLong means an upload went past its announced length.
	ErrTooLong = errors.New("fs: upload longer than announced")
	// ErrNotRegular refuses to read a FIFO, socket or device node: a GET
	// of a FIFO would wait for a writer forever, a device may never end.
	ErrNotRegular = errors.New("fs: not a regular file or folder")
	// ErrInsufficientStorage means a write would not fit (RFC 4331).
	ErrInsufficientStorage = errors.New("fs: insufficient storage")
)

// notExist wraps err so that os.IsNotExist (which x/net/webdav uses to pick
// 404) recognises it, whatever the cause: a missing file, a symlink that
// leads outside the tree, or one of our reserved names.
func notExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

// permission wraps a refusal so that errors.Is finds both fs.ErrPermission
// and the cause (ErrReadOnly, ErrCrossTree).
func permission(op, name string, cause error) error {
	return &fs.PathError{Op: op, Path: name, Err: &permErr{cause}}
}

type permErr struct{ cause error }

func (e *permErr) Error() string { return e.cause.Error() }
func (e *permErr) Unwrap() error { return e.cause }
func (e *permErr) Is(target error) bool {
	return target == fs.ErrPermission || target == os.ErrPermission
}

// NotRegular is the refusal to read or copy a special file (ErrNotRegular,
// a permission error).
func NotRegular(op, name string) error { return permission(op, name, ErrNotRegular) }

// Special reports whether fi is neither a regular file nor a folder: a
// FIFO, a socket or a device node (a symbolic link is resolved before).
func Special(fi os.FileInfo) bool { return !fi.Mode().IsRegular() && !fi.IsDir() }
