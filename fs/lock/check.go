package lock

import "time"

// Resource is what an If header list is evaluated against.
type Resource struct {
	// Name is the canonical name, or "" if the URL maps to nothing of ours.
	Name string
	// ETag is the current entity tag exactly as the ETag response header
	// would carry it (`"abc"`), or "" if the resource does not exist.
	ETag string
}

// Write is one name a request changes.
type Write struct {
	Name string
	// Depth is Infinite when the write changes the whole subtree (DELETE,
	// MOVE, or COPY onto an existing collection), Zero otherwise.
	Depth Depth
}

// resourceBuf is how many list resources Check keeps on the stack; longer
// headers spill to the heap.
const resourceBuf = 8

// Check is the one lock check every write method goes through; reads never
// need it. It evaluates the If header and then verifies that the request
// submitted the tokens of the locks in the way.
//
// The If header (ih; nil when the request has none) is evaluated as RFC 4918
// §10.4.3–§10.4.4 ask:
//   - the header is true when any list is true, and a list when all its
//     conditions are; Not negates one condition;
//   - an untagged list applies to self, a tagged one to what resolve returns
//     for its tag;
//   - a state token is true when it names an active lock that covers the
//     list's resource, whoever holds that lock; unknown, released and
//     expired tokens, and "DAV:no-lock", are false;
//   - an entity tag is true when it equals the resource's ETag under strong
//     comparison: a weak tag never matches, and nothing matches a resource
//     that does not exist.
//
// A tag that resolve cannot map (ok false, or a nil resolve) is an unmapped
// URL: RFC 4918 §10.4.4 treats it as a resource that exists but has none of
// the listed states. Its positive conditions are false and its Not conditions
// true, so a list of positive conditions on an unmapped tag is false, while
// "<http://elsewhere/> (Not <DAV:no-lock>)" is true, as the RFC has it. This
// cannot unlock anything: a token only counts as submitted from a list that
// is true, and a token condition is only true for a lock that covers the
// list's resource. resolve must return ok false for URLs the principal may
// not see, so the header cannot probe their ETags or locks. resolve runs
// before Check takes its lock, so it may do I/O (stat for the ETag).
//
// If the header is false, Check returns ErrPreconditionFailed (412).
//
// Then, for each write (RFC 4918 §7.5, §10.4.1), each name it changes must be
// unlocked for principal. The names are w.Name and, for an Infinite write,
// the root of every lock below it. A name is unlocked when no active lock
// covers it, or when the locks that cover it were submitted: every exclusive
// one, and at least one if they are shared (RFC 4918 §7: a write lock stops
// principals "without the lock"; any holder of a shared lock has it). A lock
// is submitted when its token appears, not negated, in a list of the If
// header that evaluated true, and its Principal is principal: a token is
// bound to the principal who created it. Otherwise Check returns a
// *LockedError naming the root of a lock that was not submitted
// (errors.Is ErrLocked; 423 with DAV:lock-token-submitted).
//
// The caller lists every name the method changes: the target; for PUT,
// MKCOL, DELETE, COPY and MOVE that add or remove a member, also the parent
// collection as a Zero write, since a collection lock protects its member
// list (RFC 4918 §7.4); for MOVE both source and destination. Writes with an
// empty Name are skipped.
//
// Check is a point-in-time check: it does not hold anything, so a LOCK that
// arrives while the checked write is still running is not made to wait.
//
// With no lock in the Manager and no If header, Check takes no mutex and
// allocates nothing (BenchmarkCheckNoLocks). Called through the Store
// interface, the caller's variadic writes escape to the heap: one small
// allocation per call, on the caller's side.
func (m *Manager) Check(now time.Time, principal string, ih *IfHeader, self Resource, resolve func(uri string) (Resource, bool), writes ...Write) error {
	if ih == nil && m.n.Load() == 0 {
		return nil
	}

	// Resolve the tags first, outside the mutex: resolve may do I/O.
	var (
		buf       [resourceBuf]Resource
		resources []Resource
	)
	if ih != nil {
		resources = buf[:0]
		var last string
		var r Resource
		for _, l := range ih.Lists {
			if l.Resource == "" {
				resources = append(resources, self)
				continue
			}
			if l.Resource != last {
				last, r = l.Resource, Resource{}
				if resolve != nil {
					if got, ok := resolve(l.Resource); ok {
						r = got
					}
				}
			}
			resources = append(resources, r)
		}
	}

	m.mu.RLock()
	defer m.mu.RUnlock()
	var (
		tbuf  [resourceBuf]bool
		truth []bool
	)
	if ih != nil {
		truth = tbuf[:0]
		anyTrue := false
		for i, l := range ih.Lists {
			t := m.listTrue(now, l, resources[i])
			truth = append(truth, t)
			anyTrue = anyTrue || t
		}
		if !anyTrue {
			return ErrPreconditionFailed
		}
	}
	s := submission{m: m, now: now, principal: principal, ih: ih, truth: truth}
	for _, w := range writes {
		if w.Name == "" {
			continue
		}
		if err := s.unlocked(w.Name); err != nil {
			return err
		}
		if w.Depth == Infinite {
			for _, e := range m.rootedBelow(now, w.Name) {
				if err := s.unlocked(e.Root); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// listTrue evaluates one list against r. The caller holds m.mu.
func (m *Manager) listTrue(now time.Time, l IfList, r Resource) bool {
	for _, c := range l.Conditions {
		var match bool
		if c.Token != "" {
			e := m.active(now, c.Token)
			match = e != nil && r.Name != "" && e.Covers(r.Name)
		} else {
			match = r.ETag != "" && strongMatch(c.ETag, r.ETag)
		}
		if match == c.Not {
			return false
		}
	}
	return true
}

// submission is what a request submitted: the If header and which of its
// lists evaluated true.
type submission struct {
	m         *Manager
	now       time.Time
	principal string
	ih        *IfHeader
	truth     []bool
}

// submitted reports whether e's token was submitted by its holder.
func (s *submission) submitted(e *entry) bool {
	if s.ih == nil || e.Principal != s.principal {
		return false
	}
	for i, l := range s.ih.Lists {
		if !s.truth[i] {
			continue
		}
		for _, c := range l.Conditions {
			if !c.Not && c.Token == e.Token {
				return true
			}
		}
	}
	return false
}

// unlocked returns nil when the request may change name, and a *LockedError
// otherwise. The caller holds s.m.mu.
func (s *submission) unlocked(name string) error {
	var first, missing *entry
	held := false
	s.m.covering(s.now, name, func(e *entry) bool {
		if first == nil {
			first = e
		}
		if s.submitted(e) {
			held = true
		} else if !e.Shared && missing == nil {
			missing = e
		}
		return true
	})
	switch {
	case missing != nil:
		return &LockedError{Root: missing.Root}
	case first != nil && !held:
		return &LockedError{Root: first.Root}
	}
	return nil
}
