package sharing

import (
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	dsfs "github.com/davshare/davshare/fs"
)

// ErrNoRecord is what a Store returns for an attribute that is not there.
var ErrNoRecord = errors.New("sharing: no record")

// Store reads and writes the sharing records attached to resources of a
// tree. Every access goes through the tree's confined file system; a
// missing resource is an error for which errors.Is(err, fs.ErrNotExist).
// Each Set replaces one value atomically, so an update is crash-safe.
type Store interface {
	Get(t *dsfs.Tree, name, key string) ([]byte, error)
	Set(t *dsfs.Tree, name, key string, value []byte) error
	Remove(t *dsfs.Tree, name, key string) error
	// Find walks the tree below "/" (links not followed, the server's
	// reserved names skipped) and calls fn for every resource that holds
	// key, until fn returns false.
	Find(t *dsfs.Tree, key string, fn func(name string, value []byte) bool) error
}

// following is implemented by stores that must be told about renames and
// deletions made through WebDAV because the file system does not carry
// their records (MemStore; xattrs follow by themselves).
type following interface {
	moved(owner, from, to string)
	removed(owner, name string)
}

// MemStore keeps records in memory, for unit tests over afero's MemMapFs.
// The Manager tells it about WebDAV renames and deletions; out-of-band
// changes are invisible to it.
type MemStore struct {
	mu sync.Mutex
	m  map[memKey][]byte
}

type memKey struct{ owner, name, key string }

// NewMemStore returns an empty in-memory Store.
func NewMemStore() *MemStore { return &MemStore{m: map[memKey][]byte{}} }

func (s *MemStore) Get(t *dsfs.Tree, name, key string) ([]byte, error) {
	if _, err := t.Fs.Stat(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[memKey{t.Owner, name, key}]
	if !ok {
		return nil, ErrNoRecord
	}
	return append([]byte(nil), v...), nil
}

func (s *MemStore) Set(t *dsfs.Tree, name, key string, value []byte) error {
	if _, err := t.Fs.Stat(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[memKey{t.Owner, name, key}] = append([]byte(nil), value...)
	return nil
}

func (s *MemStore) Remove(t *dsfs.Tree, name, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, memKey{t.Owner, name, key})
	return nil
}

func (s *MemStore) Find(t *dsfs.Tree, key string, fn func(string, []byte) bool) error {
	s.mu.Lock()
	var names []string
	vals := map[string][]byte{}
	for k, v := range s.m {
		if k.owner == t.Owner && k.key == key {
			names = append(names, k.name)
			vals[k.name] = v
		}
	}
	s.mu.Unlock()
	sort.Strings(names)
	for _, n := range names {
		if _, err := t.Fs.Stat(n); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if !fn(n, vals[n]) {
			return nil
		}
	}
	return nil
}

func (s *MemStore) moved(owner, from, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if k.owner == owner && within(k.name, from) {
			delete(s.m, k)
			s.m[memKey{owner, rebase(k.name, from, to), k.key}] = v
		}
	}
}

func (s *MemStore) removed(owner, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.m {
		if k.owner == owner && within(k.name, name) {
			delete(s.m, k)
		}
	}
}

// reservedName reports names the server keeps for itself (fs's temporary
// files), which are never part of a user's tree.
func reservedName(name string) bool {
	return strings.HasPrefix(path.Base(name), ".davshare-")
}
