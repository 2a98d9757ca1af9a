package fs

import (
	"context"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/davshare/davshare/internal/davxml"
	"github.com/spf13/afero"
)

// Tree is one owner's backing store: a home directory. Shares mount
// subtrees of it into other users' namespaces.
type Tree struct {
	// Owner names the user whose home this is; lock names start with it.
	Owner string
	Fs    afero.Fs
	Props PropStore

	patchMu sync.Mutex // serialises read-modify-write of dead properties
	props   propCache

	usageMu   sync.Mutex
	usage     int64
	usageAt   time.Time
	usageBusy bool

	// lists caches directory listings (listcache.go); nil: none.
	lists *listCache

	// base is the whole tree of which this one is a view (Tree.View); the
	// view shares its property lock, property cache, listing cache and
	// usage.
	base *Tree
}

// NewTree assembles a tree from its parts; tests use it with afero's
// MemMapFs and MemProps.
func NewTree(owner string, fsys afero.Fs, props PropStore) *Tree {
	return &Tree{Owner: owner, Fs: fsys, Props: props}
}

// View returns the part of t at or below dir (a clean path of t, a
// directory or a file) as a tree of its own, for a share's mount: the same
// owner, path names, lock names, dead properties and usage, but every name
// is resolved through an os.Root opened at dir, so a symbolic link inside
// the shared folder that points elsewhere in the owner's home leads nowhere,
// as a link out of the home does. The root is opened at first use; Close
// releases it. A tree that is not a RootFs (in-memory tests) is its own
// view: it has no links.
func (t *Tree) View(dir string) *Tree {
	r, ok := t.Fs.(*RootFs)
	if !ok {
		return t
	}
	sub := r.Sub(dir)
	return &Tree{Owner: t.Owner, Fs: sub, Props: XattrProps{fs: sub}, base: t.home()}
}

// Close releases a view's root; it does nothing for a home (Homes.Close
// closes those).
func (t *Tree) Close() error {
	if t.base == nil {
		return nil
	}
	if r, ok := t.Fs.(*RootFs); ok {
		return r.Close()
	}
	return nil
}

// home is the whole tree: t itself, or the tree t is a view of.
func (t *Tree) home() *Tree {
	if t.base != nil {
		return t.base
	}
	return t
}

// Homes opens the home trees below DIR/files lazily and keeps them open.
type Homes struct {
	dir   string
	mu    sync.Mutex
	trees map[string]*Tree
	lists *listCache // shared by every home; nil: listings are not cached
}

// NewHomes serves the homes below filesDir (DIR/files). Listings are
// cached (listcache.go) when the kernel offers inotify.
func NewHomes(filesDir string) *Homes {
	h := &Homes{dir: filesDir, trees: map[string]*Tree{}}
	if c, err := newListCache(); err == nil {
		h.lists = c
	}
	return h
}

// DisableListingCache turns the listing cache off, e.g. for a data
// directory on a network file system, whose remote changes inotify cannot
// see.
func (h *Homes) DisableListingCache() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lists != nil {
		h.lists.close()
		h.lists = nil
	}
}

// ListingStats reports the listing cache's hits and misses.
func (h *Homes) ListingStats() (hits, misses uint64) {
	h.mu.Lock()
	c := h.lists
	h.mu.Unlock()
	if c == nil {
		return 0, 0
	}
	s := c.Stats()
	return s.Hits, s.Misses
}

// Tree returns the home of user, opening it on first use. The caller has
// already checked that the account exists; a missing directory is created.
func (h *Homes) Tree(user string) (*Tree, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.trees[user]; ok {
		return t, nil
	}
	if _, err := CleanName(user); err != nil || user == "" || filepath.Base(user) != user {
		return nil, fmt.Errorf("%w: user %q", ErrInvalidPath, user)
	}
	dir := filepath.Join(h.dir, user)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	rfs, err := OpenRootFs(dir)
	if err != nil {
		return nil, err
	}
	t := NewTree(user, rfs, XattrProps{fs: rfs})
	t.lists = h.lists
	h.trees[user] = t
	return t, nil
}

// Close releases every open home.
func (h *Homes) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, t := range h.trees {
		if r, ok := t.Fs.(*RootFs); ok {
			r.Close()
		}
		delete(h.trees, name)
	}
	if h.lists != nil {
		h.lists.close()
		h.lists = nil
	}
	return nil
}

// Quota is RFC 4331's pair for a collection.
type Quota struct {
	Used      int64
	Available int64
}

const usageTTL = 30 * time.Second

// Quota reports the tree's usage and the free space of the file system
// holding it. Usage comes from a walk cached for usageTTL and refreshed in
// the background, so a PROPFIND never waits for a walk after the first one.
func (t *Tree) Quota(ctx context.Context) (Quota, error) {
	t = t.home() // data written through a mount counts against the owner
	q := Quota{Used: t.usedBytes(ctx)}
	var err error
	q.Available, err = t.Available()
	return q, err
}

// Available is the free space of the file system holding the tree, -1
// where unknown: Quota without the usage, for a PUT that only asks whether
// its body fits (the usage walk over a large home costs far more than the
// upload it would vet).
func (t *Tree) Available() (int64, error) {
	r, ok := t.home().Fs.(*RootFs)
	if !ok {
		return -1, nil
	}
	st, err := r.statfs()
	if err != nil {
		return -1, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

func (t *Tree) usedBytes(ctx context.Context) int64 {
	t = t.home()
	t.usageMu.Lock()
	fresh := !t.usageAt.IsZero()
	stale := time.Since(t.usageAt) > usageTTL
	if fresh && (!stale || t.usageBusy) {
		u := t.usage
		t.usageMu.Unlock()
		return u
	}
	t.usageBusy = true
	t.usageMu.Unlock()
	if fresh { // refresh in the background, answer with the last figure
		go t.walkUsage()
		t.usageMu.Lock()
		defer t.usageMu.Unlock()
		return t.usage
	}
	return t.walkUsage()
}

func (t *Tree) walkUsage() int64 {
	var total int64
	afero.Walk(t.Fs, "/", func(_ string, fi fs.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			total += fi.Size()
		}
		return nil
	})
	t.usageMu.Lock()
	defer t.usageMu.Unlock()
	t.usage, t.usageAt, t.usageBusy = total, time.Now(), false
	return total
}

// addUsage adjusts the cached usage after one of our own writes.
func (t *Tree) addUsage(delta int64) {
	t = t.home()
	t.usageMu.Lock()
	t.usage += delta
	t.usageMu.Unlock()
}

// invalidateUsage makes the next Quota recount, e.g. after a deletion whose
// size we did not measure.
func (t *Tree) invalidateUsage() {
	t = t.home()
	t.usageMu.Lock()
	if !t.usageAt.IsZero() {
		t.usageAt = t.usageAt.Add(-usageTTL)
	}
	t.usageMu.Unlock()
}

// ProbeXattrs checks that dir's file system stores user extended attributes,
// which dead properties and share records need. The server refuses to start
// without them rather than lose data later.
func ProbeXattrs(dir string) error {
	f, err := os.CreateTemp(dir, reservedPrefix+"probe-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := saveFd(f, []davxml.Property{{Name: xml.Name{Space: "urn:davshare:probe", Local: "probe"}}}); err != nil {
		return fmt.Errorf("the file system of %s does not support user extended attributes (%v); davshare stores properties and shares in them: use ext4, xfs, btrfs or zfs, or mount with user_xattr", dir, err)
	}
	if _, err := loadFd(f); err != nil {
		return fmt.Errorf("reading back a user extended attribute in %s failed: %v", dir, err)
	}
	return nil
}

// loadIn reads the dead properties of a listed entry, from the cache when
// the entry's inode and ctime say nothing changed since.
func (t *Tree) loadIn(xp XattrProps, dir afero.File, child string, fi os.FileInfo) ([]davxml.Property, error) {
	cache := &t.home().props
	k, ok := keyOf(fi)
	if ok {
		if props, hit := cache.get(k); hit {
			return props, nil
		}
	}
	props, err := xp.loadIn(dir, child)
	if err == nil && ok {
		cache.put(k, props)
	}
	return props, err
}
