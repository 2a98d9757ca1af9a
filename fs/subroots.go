package fs

import (
	"os"
	"sync"
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
	dir     *os.File    // for openat2 (beneath.go); nil without it
	fi      os.FileInfo // the directory as it was opened
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
	if !os.SameFile(sr.fi, fi) {
		s.retireLocked(dir, sr) // the path names another directory now
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
	sr := &subRoot{root: root, dir: openBeneathDir(root), fi: fi, refs: 1}
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
