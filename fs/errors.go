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
