package sharing

import (
	"errors"
	"io"
	"os"
	"path"
	"strconv"
	"syscall"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/pkg/xattr"
)

// XattrStore keeps records in extended attributes of the resources
// themselves (architecture.md "On disk"), reached through the tree's
// os.Root-confined file system: the resource is opened inside the root and
// the attribute is read or written on the descriptor, never by an absolute
// path. A record therefore follows its file through renames made by any
// program and vanishes with it.
type XattrStore struct{}

var _ Store = XattrStore{}

// open opens name read-only inside the tree's root. O_NONBLOCK keeps a FIFO
// that another program left in a home from blocking the Manager.
func open(t *dsfs.Tree, name string) (*os.File, error) {
	f, err := t.Fs.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	of, ok := f.(*os.File)
	if !ok {
		f.Close()
		return nil, errors.ErrUnsupported
	}
	return of, nil
}

func (XattrStore) Get(t *dsfs.Tree, name, key string) ([]byte, error) {
	f, err := open(t, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := xattr.FGet(f, key)
	if errors.Is(err, xattr.ENOATTR) {
		return nil, ErrNoRecord
	}
	return b, err
}

func (XattrStore) Set(t *dsfs.Tree, name, key string, value []byte) error {
	f, err := open(t, name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := xattr.FSet(f, key, value); err != nil {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.E2BIG) {
			return dsfs.ErrInsufficientStorage
		}
		return err
	}
	return nil
}

func (XattrStore) Remove(t *dsfs.Tree, name, key string) error {
	f, err := open(t, name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := xattr.FRemove(f, key); err != nil && !errors.Is(err, xattr.ENOATTR) {
		return err
	}
	return nil
}

// Find walks directories through descriptors opened inside the root and
// reads each child's attribute with lgetxattr on /proc/self/fd/N/child, so
// no member is opened and no link is followed (as fs.XattrProps.loadIn).
func (s XattrStore) Find(t *dsfs.Tree, key string, fn func(string, []byte) bool) error {
	if b, err := s.Get(t, "/", key); err == nil {
		if !fn("/", b) {
			return nil
		}
	}
	_, err := s.walk(t, "/", key, fn, 0)
	return err
}

const maxWalkDepth = 256

func (s XattrStore) walk(t *dsfs.Tree, dir, key string, fn func(string, []byte) bool, depth int) (bool, error) {
	if depth > maxWalkDepth {
		return true, nil
	}
	d, err := open(t, dir)
	if err != nil {
		return true, nil // vanished or unreadable: nothing to find there
	}
	var subdirs []string
	prefix := "/proc/self/fd/" + strconv.Itoa(int(d.Fd())) + "/"
	for {
		des, rerr := d.ReadDir(1024)
		for _, de := range des {
			child := de.Name()
			if reservedName(child) {
				continue
			}
			name := path.Join(dir, child)
			if b, err := xattr.LGet(prefix+child, key); err == nil {
				if !fn(name, b) {
					d.Close()
					return false, nil
				}
			}
			if de.IsDir() {
				subdirs = append(subdirs, name)
			}
		}
		if rerr == io.EOF || len(des) == 0 {
			break
		}
		if rerr != nil {
			break
		}
	}
	d.Close()
	for _, sd := range subdirs {
		more, err := s.walk(t, sd, key, fn, depth+1)
		if err != nil || !more {
			return more, err
		}
	}
	return true, nil
}
