package lock

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// DefaultMaxTimeout is the cap NewManager uses when given none.
const DefaultMaxTimeout = 30 * time.Minute

// InfiniteTimeout is the Timeout of a lock that never expires, and what
// ParseTimeout returns for "Infinite". The Manager never grants it: it caps
// every lock to its maximum timeout (pitfall D.17).
const InfiniteTimeout time.Duration = -1

// Lock is one write lock (RFC 4918 §6, §7).
type Lock struct {
	// Token is the lock token, "urn:uuid:" and a random version 4 UUID.
	Token string
	// Root is the canonical name of the locked resource.
	Root string
	// Shared is true for a shared lock, false for an exclusive one.
	Shared bool
	// ZeroDepth is true for a depth-0 lock; otherwise the lock has depth
	// infinity and covers every name below Root too.
	ZeroDepth bool
	// Principal is who took the lock. Only that principal may submit the
	// token, refresh the lock or unlock it.
	Principal string
	// OwnerXML is the inner XML of the request's DAV:owner, kept verbatim;
	// elements in it declare their own namespaces (pitfall H.37).
	OwnerXML string
	// Timeout is the timeout granted at the last LOCK or refresh; negative
	// means never (a Store may grant that; the Manager does not).
	Timeout time.Duration
	// Expires is when the lock lapses; the zero Time when it never does.
	Expires time.Time
}

// Covers reports whether the lock applies to name: name is its root, or
// lies below its root and the lock has depth infinity (RFC 4918 §6.1, §7.3).
func (l Lock) Covers(name string) bool {
	return name == l.Root || !l.ZeroDepth && isBelow(name, l.Root)
}

func (l Lock) activeAt(now time.Time) bool {
	return l.Expires.IsZero() || now.Before(l.Expires)
}

// Depth is the reach of a write: the named resource alone, or its whole
// subtree.
type Depth uint8

const (
	// Zero: the write changes the named resource only.
	Zero Depth = iota
	// Infinite: the write changes the named resource and every resource
	// below it (DELETE or MOVE of a collection).
	Infinite
)

// Store is the lock store the server depends on. Manager is the in-memory
// implementation; a store shared by several server processes serving one data
// directory can replace it by implementing the same contract, documented on
// Manager's methods. Every method takes the current time so expiry is
// testable; expired locks are never returned and never get in the way.
type Store interface {
	Create(now time.Time, l Lock) (Lock, error)
	Refresh(now time.Time, token, principal string, timeout time.Duration) (Lock, error)
	Unlock(now time.Time, token, principal string) error
	Lookup(now time.Time, token string) (Lock, bool)
	Discover(now time.Time, name string) []Lock
	Check(now time.Time, principal string, ih *IfHeader, self Resource, resolve func(uri string) (Resource, bool), writes ...Write) error
	RemoveTree(name string)
	Len(now time.Time) int
}

var _ Store = (*Manager)(nil)

// Manager is the in-memory lock store. It is safe for concurrent use. Its
// locks live in this process only and are lost on restart.
//
// Expired locks are purged lazily: write paths (Create, Refresh, Unlock, Len)
// drop every lock whose expiry has passed, and read paths (Check, Discover,
// Lookup) skip them.
type Manager struct {
	max time.Duration
	n   atomic.Int64 // len(byToken), readable without mu for Check's fast path

	mu      sync.RWMutex
	byToken map[string]*entry
	byRoot  map[string][]*entry // locks rooted at each name
	// subtree counts, for each lock root and each of its ancestors, the locks
	// rooted at or below that name. A name absent from it has no lock at or
	// below it, which lets walks stop early.
	subtree map[string]int
	expiry  expiryHeap
}

type entry struct {
	Lock
	index int // in Manager.expiry; -1 when not there
}

// NewManager returns an empty Manager. Every lock it grants expires: a
// requested timeout that is missing (0), Infinite (negative) or longer than
// maxTimeout is capped to maxTimeout (pitfall D.17), so a client that
// vanishes cannot hold a resource forever. maxTimeout <= 0 selects
// DefaultMaxTimeout.
func NewManager(maxTimeout time.Duration) *Manager {
	if maxTimeout <= 0 {
		maxTimeout = DefaultMaxTimeout
	}
	return &Manager{
		max:     maxTimeout,
		byToken: make(map[string]*entry),
		byRoot:  make(map[string][]*entry),
		subtree: make(map[string]int),
	}
}

func (m *Manager) capTimeout(d time.Duration) time.Duration {
	if d <= 0 || d > m.max {
		return m.max
	}
	return d
}

// Create grants a new lock described by l, ignoring l.Token and l.Expires:
// the token is a fresh "urn:uuid:" URI from crypto/rand, the timeout is
// capped (see NewManager) and Expires is now plus that timeout.
//
// Conflicts follow RFC 4918 §6.1 and §9.10: the new lock conflicts with a
// lock rooted at the same name, with a depth-infinity lock rooted at an
// ancestor and, when the new lock has depth infinity, with a lock rooted at a
// descendant, unless both locks are shared. A conflict returns a
// *LockedError naming the conflicting lock's root (errors.Is ErrLocked).
// A root that is not canonical returns ErrInvalidName.
func (m *Manager) Create(now time.Time, l Lock) (Lock, error) {
	if !validName(l.Root) {
		return Lock{}, fmt.Errorf("%w: %q", ErrInvalidName, l.Root)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge(now)

	if root, ok := m.conflict(now, l); ok {
		return Lock{}, &LockedError{Root: root}
	}
	for {
		u, err := uuid.NewRandom()
		if err != nil {
			return Lock{}, fmt.Errorf("lock: generating a token: %w", err)
		}
		l.Token = "urn:uuid:" + u.String()
		if m.byToken[l.Token] == nil {
			break
		}
	}
	l.Timeout = m.capTimeout(l.Timeout)
	l.Expires = now.Add(l.Timeout)
	m.insert(&entry{Lock: l, index: -1})
	return l, nil
}

// conflict reports the root of a lock that stops l from being granted.
func (m *Manager) conflict(now time.Time, l Lock) (string, bool) {
	compatible := func(e *entry) bool { return l.Shared && e.Shared }
	if e := m.covering(now, l.Root, compatible); e != nil {
		return e.Root, true
	}
	if !l.ZeroDepth {
		for _, e := range m.rootedBelow(now, l.Root) {
			if !compatible(e) {
				return e.Root, true
			}
		}
	}
	return "", false
}

// Refresh restarts the timeout of the lock named by token with a new
// timeout, capped as in Create (RFC 4918 §9.10.2). It returns ErrNoSuchLock
// if the token names no active lock, and ErrForbidden if the lock belongs to
// another principal. The caller checks that the request URL lies within the
// lock's scope (Lock.Covers), as RFC 4918 §9.10.2 asks.
func (m *Manager) Refresh(now time.Time, token, principal string, timeout time.Duration) (Lock, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge(now)
	e, err := m.owned(token, principal)
	if err != nil {
		return Lock{}, err
	}
	e.Timeout = m.capTimeout(timeout)
	e.Expires = now.Add(e.Timeout)
	if e.index >= 0 {
		heap.Fix(&m.expiry, e.index)
	} else {
		heap.Push(&m.expiry, e)
	}
	return e.Lock, nil
}

// Unlock releases the lock named by token (RFC 4918 §9.11). It returns
// ErrNoSuchLock if the token names no active lock, and ErrForbidden if the
// lock belongs to another principal: x/net/webdav lets anyone who knows a
// token unlock it (pitfall D.16). The caller checks that the request URL lies
// within the lock's scope (Lock.Covers; 409 lock-token-matches-request-uri).
func (m *Manager) Unlock(now time.Time, token, principal string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge(now)
	e, err := m.owned(token, principal)
	if err != nil {
		return err
	}
	m.remove(e)
	return nil
}

// owned returns the lock named by token if principal holds it. The caller
// holds m.mu and has purged expired locks.
func (m *Manager) owned(token, principal string) (*entry, error) {
	e := m.byToken[token]
	if e == nil {
		return nil, ErrNoSuchLock
	}
	if e.Principal != principal {
		return nil, ErrForbidden
	}
	return e, nil
}

// Lookup returns the active lock named by token.
func (m *Manager) Lookup(now time.Time, token string) (Lock, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if e := m.active(now, token); e != nil {
		return e.Lock, true
	}
	return Lock{}, false
}

// Discover returns every active lock that covers name: those rooted at it
// and the depth-infinity ones rooted at its ancestors, for DAV:lockdiscovery
// (RFC 4918 §15.8). They are sorted by root, then token.
func (m *Manager) Discover(now time.Time, name string) []Lock {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var locks []Lock
	m.covering(now, name, func(e *entry) bool {
		locks = append(locks, e.Lock)
		return true
	})
	slices.SortFunc(locks, func(a, b Lock) int {
		return cmp.Or(strings.Compare(a.Root, b.Root), strings.Compare(a.Token, b.Token))
	})
	return locks
}

// RemoveTree drops every lock rooted at name or below it. The server calls
// it after a successful DELETE, and after a successful MOVE for the source:
// locks do not follow a MOVE (RFC 4918 §9.6.1, §9.9.1, §7.7).
func (m *Manager) RemoveTree(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subtree[name] == 0 {
		return
	}
	for root, entries := range m.byRoot {
		if root == name || isBelow(root, name) {
			for _, e := range slices.Clone(entries) {
				m.remove(e)
			}
		}
	}
}

// Len returns the number of active locks, for metrics.
func (m *Manager) Len(now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purge(now)
	return len(m.byToken)
}

// active returns the lock named by token unless it is missing or expired.
// The caller holds m.mu.
func (m *Manager) active(now time.Time, token string) *entry {
	if e := m.byToken[token]; e != nil && e.activeAt(now) {
		return e
	}
	return nil
}

// covering calls more for each active lock that covers name, from the topmost
// root down, until more returns false, and returns the lock it stopped at
// (nil if none). The caller holds m.mu.
func (m *Manager) covering(now time.Time, name string, more func(*entry) bool) *entry {
	if name == "" {
		return nil
	}
	for i := 0; ; {
		j := strings.IndexByte(name[i:], '/')
		prefix := name
		if j >= 0 {
			prefix = name[:i+j]
		}
		if m.subtree[prefix] == 0 {
			return nil // no lock at or below prefix, so none covers name
		}
		for _, e := range m.byRoot[prefix] {
			if (j < 0 || !e.ZeroDepth) && e.activeAt(now) && !more(e) {
				return e
			}
		}
		if j < 0 {
			return nil
		}
		i += j + 1
	}
}

// rootedBelow returns the active locks rooted strictly below name, sorted by
// root so that errors name the same lock every time. The caller holds m.mu.
func (m *Manager) rootedBelow(now time.Time, name string) []*entry {
	if m.subtree[name] == len(m.byRoot[name]) {
		return nil
	}
	var below []*entry
	for root, entries := range m.byRoot {
		if isBelow(root, name) {
			for _, e := range entries {
				if e.activeAt(now) {
					below = append(below, e)
				}
			}
		}
	}
	slices.SortFunc(below, func(a, b *entry) int {
		return cmp.Or(strings.Compare(a.Root, b.Root), strings.Compare(a.Token, b.Token))
	})
	return below
}

// insert adds e to every index. The caller holds m.mu for writing.
func (m *Manager) insert(e *entry) {
	m.byToken[e.Token] = e
	m.byRoot[e.Root] = append(m.byRoot[e.Root], e)
	for name := range ancestorsAndSelf(e.Root) {
		m.subtree[name]++
	}
	if !e.Expires.IsZero() {
		heap.Push(&m.expiry, e)
	}
	m.n.Store(int64(len(m.byToken)))
}

// remove drops e from every index. The caller holds m.mu for writing.
func (m *Manager) remove(e *entry) {
	delete(m.byToken, e.Token)
	rest := slices.DeleteFunc(m.byRoot[e.Root], func(x *entry) bool { return x == e })
	if len(rest) == 0 {
		delete(m.byRoot, e.Root)
	} else {
		m.byRoot[e.Root] = rest
	}
	for name := range ancestorsAndSelf(e.Root) {
		if m.subtree[name]--; m.subtree[name] == 0 {
			delete(m.subtree, name)
		}
	}
	if e.index >= 0 {
		heap.Remove(&m.expiry, e.index)
	}
	m.n.Store(int64(len(m.byToken)))
}

// purge drops every lock that has expired by now. The caller holds m.mu for
// writing.
func (m *Manager) purge(now time.Time) {
	for len(m.expiry) > 0 && !m.expiry[0].activeAt(now) {
		m.remove(m.expiry[0])
	}
}

// expiryHeap orders the locks that expire, soonest first (container/heap).
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].Expires.Before(h[j].Expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

// isBelow reports whether name lies strictly below root.
func isBelow(name, root string) bool {
	return len(name) > len(root) && name[len(root)] == '/' && strings.HasPrefix(name, root)
}

// ancestorsAndSelf yields name and each of its ancestors, deepest first:
// "a/b/c", "a/b", "a".
func ancestorsAndSelf(name string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for {
			if !yield(name) {
				return
			}
			i := strings.LastIndexByte(name, '/')
			if i < 0 {
				return
			}
			name = name[:i]
		}
	}
}

// validName reports whether name is canonical: non-empty slash-separated
// segments, none of them "." or "..".
func validName(name string) bool {
	if name == "" {
		return false
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
