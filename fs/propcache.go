package fs

import (
	"os"
	"sync"
	"time"

	"github.com/davshare/davshare/internal/davxml"
	"golang.org/x/sys/unix"
)

// propCache remembers the dead properties of resources by inode and change
// time. Every setxattr, by us or by any other program, moves a file's ctime,
// so an entry can never describe properties the file no longer has; a hit
// saves the one getxattr per entry that would otherwise dominate a PROPFIND
// that names DAV:displayname (which may be dead) over a large folder.
//
// A file changed within the last racyWindow is not cached: on kernels with
// coarse timestamps two changes in one clock tick share a ctime (git calls
// this the racy-index problem).
type propCache struct {
	mu   sync.Mutex
	m    map[propKey][]davxml.Property
	hits int // for tests
	// racy overrides racyWindow (tests).
	racy time.Duration
}

const racyWindow = 2 * time.Second

type propKey struct {
	ino, ctimeSec, ctimeNsec int64
}

// propCacheSize bounds memory: about 100 bytes per entry without properties.
const propCacheSize = 200_000

func keyOf(fi os.FileInfo) (propKey, bool) {
	switch st := fi.Sys().(type) {
	case *unix.Stat_t:
		return propKey{int64(st.Ino), st.Ctim.Sec, st.Ctim.Nsec}, true
	case *member:
		return propKey{int64(st.ino), st.ctime / 1e9, st.ctime % 1e9}, true
	}
	return propKey{}, false
}

func (c *propCache) get(k propKey) ([]davxml.Property, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[k]
	if ok {
		c.hits++
	}
	return p, ok
}

func (c *propCache) put(k propKey, props []davxml.Property) {
	racy := racyWindow
	if c.racy > 0 {
		racy = c.racy
	}
	if time.Since(time.Unix(k.ctimeSec, k.ctimeNsec)) < racy {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[propKey][]davxml.Property)
	}
	if len(c.m) >= propCacheSize {
		// Drop about half, in map order, which is as good as random here.
		n := 0
		for key := range c.m {
			delete(c.m, key)
			if n++; n >= propCacheSize/2 {
				break
			}
		}
	}
	c.m[k] = props
}
