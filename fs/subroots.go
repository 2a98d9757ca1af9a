package fs

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// subRoots keeps the roots (and openat2 directories) that views (RootFs.Sub) open at shared
// originals, so that a request through a share mount does not open and
// close one (openat, fstat, close and os.Root's bookkeeping: about a fifth
// of a small GET). A cached root is reused only while its path still names
// the very directory it was opened at (the view checks that with the lstat
// it always makes); one that no longer does is retired and closed when the
// last view using it is closed.
type subRoots struct {
	mu sync.Mutex
	m  map[string]*subRoot // by path in the tree
}

type subRoot struct {
	root    *os.Root
	dir     *os.File // for openat2 (beneath.go); nil without it
	id      fileID   // the directory it was opened at
	refs    int
	retired bool
}

// subRootsMax bounds the open descriptors: one per shared folder in use.
const subRootsMax = 256

// acquire returns the cached root at dir if it is the directory fi
// describes.
func (s *subRoots) acquire(dir string, fi os.FileInfo) *subRoot {
	s.mu.Lock()
	defer s.mu.Unlock()
	sr := s.m[dir]
	if sr == nil {
		return nil
	}
	if id := idOf(fi); !id.known || id != sr.id {
		s.retireLocked(dir, sr) // the path names another directory now
		return nil
	}
	sr.refs++
	return sr
}

// acquireCurrent is acquire's fast path, for the request through a share
// mount that finds its root cached: one fstatat(2) on tree's openat2
// directory, where os.Root's Lstat costs about three times as much (its
// bookkeeping and allocations were a twentieth of a small GET through a
// mount). It returns nil, changing nothing, whenever it cannot vouch for
// the cached root; the caller then takes the full path. fstatat follows a
// link on the way to dir, unlike os.Root, but only a match is used, and a
// match means that the name still leads to the very directory the root
// was opened at, below which os.Root resolves everything as before.
func (s *subRoots) acquireCurrent(tree *RootFs, dir string) *subRoot {
	if s == nil || tree.dir == nil {
		return nil
	}
	s.mu.Lock()
	sr := s.m[dir]
	s.mu.Unlock()
	if sr == nil {
		return nil
	}
	var st unix.Stat_t
	conn, err := tree.dir.SyscallConn()
	if err != nil {
		return nil
	}
	rel := tree.rel(dir)
	if cerr := conn.Control(func(fd uintptr) {
		for err = unix.EINTR; err == unix.EINTR; {
			err = unix.Fstatat(int(fd), rel, &st, unix.AT_SYMLINK_NOFOLLOW)
		}
	}); cerr != nil || err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[dir] != sr || !sr.id.is(&st) {
		return nil
	}
	sr.refs++
	return sr
}

// add caches root, just opened at dir and checked to be fi, with one
// reference for the caller.
func (s *subRoots) add(dir string, root *os.Root, fi os.FileInfo) *subRoot {
	s.mu.Lock()
	defer s.mu.Unlock()
	sr := &subRoot{root: root, dir: openBeneathDir(root), id: idOf(fi), refs: 1}
	if s.m == nil {
		s.m = map[string]*subRoot{}
	}
	if old := s.m[dir]; old != nil {
		s.retireLocked(dir, old)
	}
	if len(s.m) >= subRootsMax {
		for d, o := range s.m { // any one: map order is as good as random
			s.retireLocked(d, o)
			break
		}
	}
	s.m[dir] = sr
	return sr
}

// release gives back a reference.
func (s *subRoots) release(sr *subRoot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sr.refs--
	if sr.retired && sr.refs == 0 {
		sr.close()
	}
}

func (sr *subRoot) close() {
	if sr.dir != nil {
		sr.dir.Close()
	}
	sr.root.Close()
}

func (s *subRoots) retireLocked(dir string, sr *subRoot) {
	delete(s.m, dir)
	sr.retired = true
	if sr.refs == 0 {
		sr.close()
	}
}

// closeAll retires every cached root (the tree is closing).
func (s *subRoots) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d, sr := range s.m {
		s.retireLocked(d, sr)
	}
}

// fileID is what os.SameFile compares: a device and an inode number.
type fileID struct {
	dev, ino uint64
	known    bool
}

func idOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino), known: true}
	}
	return fileID{}
}

// is reports whether st describes the file id was taken from.
func (id fileID) is(st *unix.Stat_t) bool {
	return id.known && id.dev == uint64(st.Dev) && id.ino == uint64(st.Ino)
}
