package fs

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// listCache remembers the members of directories, each with its lstat
// result, so that listing an unchanged folder (a PROPFIND Depth 1, which
// clients repeat whenever a window is opened or refreshed) costs no system
// call per member. Reading and stat'ing the members is the floor of an
// uncached listing: about 2 µs per member, more than everything else a
// PROPFIND does.
//
// Correctness rests on inotify, which the kernel feeds synchronously from
// inside every system call that changes a watched directory or one of its
// members, whoever makes it: each cached directory has a watch, and every
// lookup first reads all queued events (one non-blocking read) and drops
// the listings they touch. So a listing served was current when the lookup
// began, for changes by this process and by any other program alike. The
// cache is filled on demand and needs no goroutine.
//
// What inotify cannot see is bounded by maxAge: writes through a hard link
// in another directory, writes through mmap, changes made on another host
// of a network file system. The stat results of subfolders are not cached
// (their own listings change their times, which their parent's watch does
// not report), and neither are those of symbolic links (their targets can
// be anywhere): both are stat'ed at each listing. Also checked at each lookup: the
// directory's own change and modification times, so that a lost event
// queue (IN_Q_OVERFLOW, which also empties the cache) cannot hide a member.
type listCache struct {
	mu    sync.Mutex
	fd    int // inotify descriptor, non-blocking; -1 once closed
	byDir map[dirID]*listing
	byWd  map[int32]dirID
	total int // members cached, over all listings
	buf   []byte
	// Limits (the list* constants; tests lower them).
	maxAge                             time.Duration
	maxDirs, maxMembers, maxDirMembers int
	stats                              listStats
}

// listStats counts lookups, for tests and metrics.
type listStats struct{ Hits, Misses uint64 }

// dirID names a directory independently of the path it was reached by: a
// folder seen through a symbolic link or a share mount is one entry.
type dirID struct{ dev, ino uint64 }

type listing struct {
	wd    int32
	mtime unix.Timespec // the directory's, when read
	ctime unix.Timespec
	built time.Time
	used  time.Time
	// members is nil while the listing is invalid; an event drops it.
	members []member
	valid   bool
	// dirty: an event arrived since the slot was last (re)filled.
	dirty bool
	// tooBig: the directory, as of mtime and ctime, has more members than
	// are cached; it is listed uncached without trying again.
	tooBig bool
}

// member is one cached directory entry: compact, since a cached folder of
// 100,000 files must not cost much more than its names.
type member struct {
	name  string
	mode  uint32 // st_mode
	ino   uint64
	size  int64
	mtime int64 // nanoseconds since the epoch
	ctime int64
}

const (
	listMaxAge     = 10 * time.Second
	listMaxDirs    = 1024
	listMaxMembers = 200_000
	// listMaxDirMembers: a bigger folder is listed uncached, streamed in
	// batches, so that serving it does not grow memory by its size (about
	// 75 bytes a member, plus as much again until the collector runs).
	listMaxDirMembers = 20_000
	watchMask         = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
		unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
)

// newListCache opens an inotify instance; without one (a kernel without
// inotify, or its instance limit reached) there is no cache.
func newListCache() (*listCache, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return &listCache{
		fd:            fd,
		byDir:         map[dirID]*listing{},
		byWd:          map[int32]dirID{},
		buf:           make([]byte, 64<<10),
		maxAge:        listMaxAge,
		maxDirs:       listMaxDirs,
		maxMembers:    listMaxMembers,
		maxDirMembers: listMaxDirMembers,
	}, nil
}

func (c *listCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return nil
	}
	err := unix.Close(c.fd)
	c.fd = -1
	c.byDir, c.byWd, c.total = map[dirID]*listing{}, map[int32]dirID{}, 0
	return err
}

// members returns the cached members of the open directory dir, or reads
// and caches them. ok is false when the directory is not worth caching or
// cannot be (too big, too small, changing while read, no watch left): the
// caller then lists it itself, after rewinding dir.
func (c *listCache) members(dir *os.File) (ms []member, ok bool) {
	var st unix.Stat_t
	if err := unix.Fstat(int(dir.Fd()), &st); err != nil {
		return nil, false
	}
	id := dirID{uint64(st.Dev), st.Ino}
	now := time.Now()
	c.mu.Lock()
	if c.fd < 0 {
		c.mu.Unlock()
		return nil, false
	}
	c.drainLocked()
	l := c.byDir[id]
	if l != nil && l.valid && l.mtime == st.Mtim && l.ctime == st.Ctim && now.Sub(l.built) < c.maxAge {
		l.used = now
		c.stats.Hits++
		ms := l.members // read under the lock: an event may drop it
		c.mu.Unlock()
		return ms, true
	}
	c.stats.Misses++
	if l != nil && l.tooBig && l.mtime == st.Mtim && l.ctime == st.Ctim {
		c.mu.Unlock()
		return nil, false
	}
	c.mu.Unlock()
	return c.fill(dir, id, now)
}

// fill reads dir and caches what it read unless an event touched the
// directory meanwhile. The watch comes first: a change made while we read
// is then either in what we read or in the event queue.
func (c *listCache) fill(dir *os.File, id dirID, now time.Time) ([]member, bool) {
	c.mu.Lock()
	l, err := c.watchLocked(dir, id)
	c.mu.Unlock()
	if err != nil {
		return nil, false
	}
	var before, after unix.Stat_t
	if unix.Fstat(int(dir.Fd()), &before) != nil {
		return nil, false
	}
	ms, err := readMembers(dir, min(c.maxDirMembers, c.maxMembers))
	if err != nil {
		if errors.Is(err, errTooBig) {
			c.mu.Lock()
			if c.byDir[id] == l && !l.dirty {
				l.tooBig, l.mtime, l.ctime = true, before.Mtim, before.Ctim
			}
			c.mu.Unlock()
		}
		return nil, false // too big or unreadable
	}
	if unix.Fstat(int(dir.Fd()), &after) != nil || after.Mtim != before.Mtim || after.Ctim != before.Ctim {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drainLocked()
	if c.fd < 0 || c.byDir[id] != l {
		return nil, false // an event dropped the watch meanwhile
	}
	if l.valid {
		return l.members, true // another request filled it after we began
	}
	if l.dirty {
		// An event arrived while we read; what we read is as fresh as an
		// uncached listing would be, but not cacheable.
		l.dirty = false
		return ms, true
	}
	c.evictLocked(len(ms), l)
	l.members, l.valid = ms, true
	l.mtime, l.ctime = before.Mtim, before.Ctim
	l.built, l.used = now, now
	c.total += len(ms)
	return ms, true
}

var errTooBig = errors.New("fs: folder too big to cache")

// readMembers reads every entry of dir with its lstat result; directories
// and links are kept by name and type only (see listCache).
func readMembers(dir *os.File, most int) ([]member, error) {
	var ms []member
	for {
		names, err := dir.Readdirnames(listBatch)
		for _, name := range names {
			if hidden(name) {
				continue
			}
			var st unix.Stat_t
			if unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
				continue // vanished between readdir and lstat
			}
			ms = append(ms, memberOf(name, &st))
		}
		if len(ms) > most {
			return nil, errTooBig
		}
		if err != nil || len(names) == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return ms, nil
		}
	}
}

func memberOf(name string, st *unix.Stat_t) member {
	return member{
		name:  name,
		mode:  st.Mode,
		ino:   st.Ino,
		size:  st.Size,
		mtime: st.Mtim.Nano(),
		ctime: st.Ctim.Nano(),
	}
}

// watchLocked makes sure dir has a watch and an empty listing slot, marked
// clean: an event from now on sets dirty.
func (c *listCache) watchLocked(dir *os.File, id dirID) (*listing, error) {
	if l := c.byDir[id]; l != nil {
		c.invalidateLocked(id) // stale or expired: refilled now
		l.dirty = false
		return l, nil
	}
	// The descriptor's /proc link names exactly the directory we opened,
	// whatever path led there.
	wd, err := unix.InotifyAddWatch(c.fd, "/proc/self/fd/"+strconv.Itoa(int(dir.Fd())), watchMask)
	if err != nil {
		return nil, err
	}
	if old, ok := c.byWd[int32(wd)]; ok && old != id {
		c.dropLocked(old) // a stale slot for an inode that was reused
	}
	l := &listing{wd: int32(wd)}
	c.byDir[id] = l
	c.byWd[int32(wd)] = id
	return l, nil
}

// drainLocked reads every queued event and drops the listings they touch.
func (c *listCache) drainLocked() {
	for c.fd >= 0 {
		n, err := unix.Read(c.fd, c.buf)
		if err != nil || n <= 0 {
			return // EAGAIN: the queue is empty
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&c.buf[off]))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			switch {
			case ev.Mask&unix.IN_Q_OVERFLOW != 0:
				// Events were lost: nothing cached can be trusted.
				for id := range c.byDir {
					c.invalidateLocked(id)
				}
			case ev.Mask&unix.IN_IGNORED != 0:
				// The directory is gone, or we removed the watch.
				if id, ok := c.byWd[ev.Wd]; ok {
					if l := c.byDir[id]; l != nil && l.wd == ev.Wd {
						c.total -= len(l.members)
						delete(c.byDir, id)
					}
					delete(c.byWd, ev.Wd)
				}
			default:
				if id, ok := c.byWd[ev.Wd]; ok {
					c.invalidateLocked(id)
				}
			}
		}
	}
}

func (c *listCache) invalidateLocked(id dirID) {
	l := c.byDir[id]
	if l == nil {
		return
	}
	c.total -= len(l.members)
	l.members, l.valid, l.dirty, l.tooBig = nil, false, true, false
}

// dropLocked forgets a listing and its watch.
func (c *listCache) dropLocked(id dirID) {
	l := c.byDir[id]
	if l == nil {
		return
	}
	c.total -= len(l.members)
	delete(c.byDir, id)
	delete(c.byWd, l.wd)
	if c.fd >= 0 {
		unix.InotifyRmWatch(c.fd, uint32(l.wd))
	}
}

// evictLocked makes room for n more members (and one more directory) by
// dropping the least recently used listings, never keep.
func (c *listCache) evictLocked(n int, keep *listing) {
	for (c.total+n > c.maxMembers || len(c.byDir) > c.maxDirs) && len(c.byDir) > 1 {
		var oldest dirID
		var at time.Time
		found := false
		for id, l := range c.byDir {
			if l == keep {
				continue
			}
			if !found || l.used.Before(at) {
				oldest, at, found = id, l.used, true
			}
		}
		if !found {
			return
		}
		c.dropLocked(oldest)
	}
}

// Stats reports the counters (tests).
func (c *listCache) Stats() listStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// listDir calls emit with the lstat result of each member of the open
// directory dir, our reserved names left out: from the tree's listing cache
// when it has one, else read in batches so that memory stays flat.
func (t *Tree) listDir(ctx context.Context, dir *os.File, emit func(os.FileInfo) error) error {
	if c := t.home().lists; c != nil {
		if ms, ok := c.members(dir); ok {
			for i := range ms {
				m := &ms[i]
				var fi os.FileInfo = memberInfo{m}
				if m.mode&unix.S_IFMT == unix.S_IFDIR {
					// A folder's times move with its own members, which
					// the watch on this directory does not report.
					live, err := statAt(dir, m.name)
					if err != nil {
						continue
					}
					fi = live
				}
				if err := emit(fi); err != nil {
					return err
				}
				if i%listBatch == listBatch-1 && ctx.Err() != nil {
					return ctx.Err()
				}
			}
			return nil
		}
		if _, err := dir.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	for {
		names, err := dir.Readdirnames(listBatch)
		for _, child := range names {
			if hidden(child) {
				continue
			}
			fi, ierr := statAt(dir, child)
			if ierr != nil {
				continue // vanished between readdir and lstat
			}
			if err := emit(fi); err != nil {
				return err
			}
		}
		if err == io.EOF || (err == nil && len(names) == 0) {
			return nil
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
