package lock

import (
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

const maxTimeout = time.Hour

// mustCreate takes a lock or fails the test.
func mustCreate(t testing.TB, m *Manager, now time.Time, l Lock) Lock {
	t.Helper()
	got, err := m.Create(now, l)
	if err != nil {
		t.Fatalf("Create(%+v): %v", l, err)
	}
	return got
}

func TestCreateToken(t *testing.T) {
	m := NewManager(maxTimeout)
	uuidV4 := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := range 100 {
		l := mustCreate(t, m, t0, Lock{Root: fmt.Sprintf("alice/f%d", i), Token: "urn:uuid:chosen-by-client", Principal: "alice"})
		if !uuidV4.MatchString(l.Token) {
			t.Fatalf("token %q is not a urn:uuid version 4", l.Token)
		}
		if seen[l.Token] {
			t.Fatalf("token %q issued twice", l.Token)
		}
		seen[l.Token] = true
	}
}

func TestCreateTimeoutCap(t *testing.T) {
	tests := []struct {
		name      string
		requested time.Duration
		want      time.Duration
	}{
		{"none means the maximum", 0, maxTimeout},
		{"Infinite is capped", InfiniteTimeout, maxTimeout},
		{"longer is capped", 2 * maxTimeout, maxTimeout},
		{"shorter is granted", 10 * time.Second, 10 * time.Second},
		{"the maximum is granted", maxTimeout, maxTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(maxTimeout)
			l := mustCreate(t, m, t0, Lock{Root: "alice/f", Timeout: tt.requested, Expires: t0.Add(1000 * time.Hour)})
			if l.Timeout != tt.want || !l.Expires.Equal(t0.Add(tt.want)) {
				t.Fatalf("granted Timeout %v Expires %v; want %v, %v", l.Timeout, l.Expires, tt.want, t0.Add(tt.want))
			}
			r, err := m.Refresh(t0.Add(time.Second), l.Token, "", tt.requested)
			if err != nil || r.Timeout != tt.want || !r.Expires.Equal(t0.Add(time.Second+tt.want)) {
				t.Fatalf("Refresh: %+v, %v; want Timeout %v", r, err, tt.want)
			}
		})
	}
	if got := NewManager(0).capTimeout(0); got != DefaultMaxTimeout {
		t.Fatalf("NewManager(0) caps to %v, want DefaultMaxTimeout", got)
	}
}

func TestCreateConflicts(t *testing.T) {
	type spec struct {
		root         string
		shared, zero bool
	}
	tests := []struct {
		name     string
		held     spec
		req      spec
		conflict bool
	}{
		{"exclusive on the same resource", spec{"a/f", false, true}, spec{"a/f", false, true}, true},
		{"shared on an exclusively locked resource", spec{"a/f", false, true}, spec{"a/f", true, true}, true},
		{"exclusive on a shared-locked resource", spec{"a/f", true, true}, spec{"a/f", false, true}, true},
		{"shared on a shared-locked resource", spec{"a/f", true, true}, spec{"a/f", true, true}, false},
		{"depth-0 below a depth-infinity exclusive", spec{"a/d", false, false}, spec{"a/d/x/f", false, true}, true},
		{"shared below a depth-infinity shared", spec{"a/d", true, false}, spec{"a/d/f", true, true}, false},
		{"exclusive below a depth-infinity shared", spec{"a/d", true, false}, spec{"a/d/f", false, true}, true},
		{"below a depth-0 lock", spec{"a/d", false, true}, spec{"a/d/f", false, true}, false},
		{"depth-0 above a lock", spec{"a/d/f", false, true}, spec{"a/d", false, true}, false},
		{"depth-infinity above an exclusive", spec{"a/d/x/f", false, true}, spec{"a/d", false, false}, true},
		{"shared depth-infinity above an exclusive", spec{"a/d/f", false, true}, spec{"a/d", true, false}, true},
		{"shared depth-infinity above a shared", spec{"a/d/f", true, true}, spec{"a/d", true, false}, false},
		{"sibling with a common prefix", spec{"a/P", false, false}, spec{"a/Pictures", false, false}, false},
		{"another home", spec{"alice", false, false}, spec{"bob", false, false}, false},
		{"depth-infinity on a home covers shared folders", spec{"alice", false, false}, spec{"alice/Projects/x", false, true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(maxTimeout)
			mustCreate(t, m, t0, Lock{Root: tt.held.root, Shared: tt.held.shared, ZeroDepth: tt.held.zero, Principal: "alice"})
			_, err := m.Create(t0, Lock{Root: tt.req.root, Shared: tt.req.shared, ZeroDepth: tt.req.zero, Principal: "bob"})
			if !tt.conflict {
				if err != nil {
					t.Fatalf("Create: %v, want no conflict", err)
				}
				return
			}
			var le *LockedError
			if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Root != tt.held.root {
				t.Fatalf("Create: %v, want a *LockedError naming %q", err, tt.held.root)
			}
			if want := "lock: locked by a lock rooted at " + tt.held.root; err.Error() != want {
				t.Fatalf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestCreateInvalidName(t *testing.T) {
	m := NewManager(maxTimeout)
	for _, name := range []string{"", "/alice", "alice/", "alice//f", "alice/./f", "alice/../bob", ".", ".."} {
		if _, err := m.Create(t0, Lock{Root: name}); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Create(Root %q): %v, want ErrInvalidName", name, err)
		}
	}
	if n := m.Len(t0); n != 0 {
		t.Fatalf("Len = %d after refused creates", n)
	}
}

func TestRefreshAndUnlock(t *testing.T) {
	m := NewManager(maxTimeout)
	l := mustCreate(t, m, t0, Lock{Root: "alice/f", Principal: "alice", Timeout: time.Minute})

	if _, err := m.Refresh(t0, "urn:uuid:unknown", "alice", 0); !errors.Is(err, ErrNoSuchLock) {
		t.Fatalf("Refresh of an unknown token: %v, want ErrNoSuchLock", err)
	}
	if _, err := m.Refresh(t0, l.Token, "bob", 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Refresh by another principal: %v, want ErrForbidden", err)
	}
	later := t0.Add(50 * time.Second)
	r, err := m.Refresh(later, l.Token, "alice", time.Minute)
	if err != nil || !r.Expires.Equal(later.Add(time.Minute)) || r.Token != l.Token {
		t.Fatalf("Refresh: %+v, %v", r, err)
	}
	// Without the refresh it would have expired at t0+1m.
	if _, ok := m.Lookup(t0.Add(90*time.Second), l.Token); !ok {
		t.Fatal("refreshed lock expired at its old expiry")
	}

	if err := m.Unlock(later, "urn:uuid:unknown", "alice"); !errors.Is(err, ErrNoSuchLock) {
		t.Fatalf("Unlock of an unknown token: %v, want ErrNoSuchLock", err)
	}
	if err := m.Unlock(later, l.Token, "bob"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Unlock by another principal: %v, want ErrForbidden", err)
	}
	if err := m.Unlock(later, l.Token, "alice"); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if err := m.Unlock(later, l.Token, "alice"); !errors.Is(err, ErrNoSuchLock) {
		t.Fatalf("second Unlock: %v, want ErrNoSuchLock", err)
	}
	if _, ok := m.Lookup(later, l.Token); ok {
		t.Fatal("Lookup finds an unlocked lock")
	}
	mustCreate(t, m, later, Lock{Root: "alice/f", Principal: "bob"})
}

func TestExpiry(t *testing.T) {
	m := NewManager(maxTimeout)
	l := mustCreate(t, m, t0, Lock{Root: "alice/d", Principal: "alice", Timeout: time.Minute})
	mustCreate(t, m, t0, Lock{Root: "alice/e", Principal: "alice", Timeout: 2 * time.Minute})
	before, at := l.Expires.Add(-time.Nanosecond), l.Expires

	if _, ok := m.Lookup(before, l.Token); !ok {
		t.Fatal("lock gone before it expires")
	}
	if got := m.Discover(before, "alice/d/f"); len(got) != 1 {
		t.Fatalf("Discover before expiry: %+v", got)
	}
	// Read paths hide the expired lock even before a write path purges it.
	if _, ok := m.Lookup(at, l.Token); ok {
		t.Fatal("Lookup returns an expired lock")
	}
	if got := m.Discover(at, "alice/d/f"); got != nil {
		t.Fatalf("Discover returns an expired lock: %+v", got)
	}
	if err := m.Check(at, "bob", nil, Resource{}, nil, Write{Name: "alice/d", Depth: Infinite}); err != nil {
		t.Fatalf("an expired lock blocks a write: %v", err)
	}
	if _, err := m.Refresh(at, l.Token, "alice", 0); !errors.Is(err, ErrNoSuchLock) {
		t.Fatalf("Refresh of an expired lock: %v, want ErrNoSuchLock", err)
	}
	if err := m.Unlock(at, l.Token, "alice"); !errors.Is(err, ErrNoSuchLock) {
		t.Fatalf("Unlock of an expired lock: %v, want ErrNoSuchLock", err)
	}
	if n := m.Len(at); n != 1 {
		t.Fatalf("Len = %d, want 1", n)
	}
	mustCreate(t, m, at, Lock{Root: "alice/d", Principal: "bob"})
	if n := m.Len(t0.Add(3 * time.Hour)); n != 0 {
		t.Fatalf("Len = %d after every lock expired", n)
	}
	if len(m.byToken) != 0 || len(m.byRoot) != 0 || len(m.subtree) != 0 || len(m.expiry) != 0 {
		t.Fatalf("purge left state behind: %d %d %d %d", len(m.byToken), len(m.byRoot), len(m.subtree), len(m.expiry))
	}
}

func TestDiscover(t *testing.T) {
	m := NewManager(maxTimeout)
	home := mustCreate(t, m, t0, Lock{Root: "alice", Shared: true, Principal: "alice"})
	dir := mustCreate(t, m, t0, Lock{Root: "alice/P", Shared: true, Principal: "bob"})
	mustCreate(t, m, t0, Lock{Root: "alice/P/x", Shared: true, ZeroDepth: true, Principal: "bob"})
	mustCreate(t, m, t0, Lock{Root: "alice/Pictures", Shared: true, Principal: "bob"})
	file1 := mustCreate(t, m, t0, Lock{Root: "alice/P/f", Shared: true, ZeroDepth: true, Principal: "carol"})
	file2 := mustCreate(t, m, t0, Lock{Root: "alice/P/f", Shared: true, ZeroDepth: true, Principal: "dave"})
	if file1.Token > file2.Token {
		file1, file2 = file2, file1
	}

	tokens := func(locks []Lock) []string {
		var s []string
		for _, l := range locks {
			s = append(s, l.Root+" "+l.Token)
		}
		return s
	}
	want := tokens([]Lock{home, dir, file1, file2})
	if got := tokens(m.Discover(t0, "alice/P/f")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Discover(alice/P/f)\n got %q\nwant %q", got, want)
	}
	// A depth-0 lock does not cover what is below its root.
	if got := tokens(m.Discover(t0, "alice/P/x/y")); fmt.Sprint(got) != fmt.Sprint(tokens([]Lock{home, dir})) {
		t.Fatalf("Discover(alice/P/x/y) = %q", got)
	}
	if got := m.Discover(t0, "bob/P"); got != nil {
		t.Fatalf("Discover(bob/P) = %+v", got)
	}
	if got := m.Discover(t0, ""); got != nil {
		t.Fatalf("Discover(\"\") = %+v", got)
	}
}

func TestRemoveTree(t *testing.T) {
	m := NewManager(maxTimeout)
	for _, root := range []string{"alice/P", "alice/P/x", "alice/P/x/y", "alice/Pictures", "alice"} {
		mustCreate(t, m, t0, Lock{Root: root, Shared: true, Principal: "alice"})
	}
	m.RemoveTree("alice/P")
	m.RemoveTree("alice/nothing-here")
	var roots []string
	for _, l := range m.Discover(t0, "alice/Pictures") {
		roots = append(roots, l.Root)
	}
	if fmt.Sprint(roots) != "[alice alice/Pictures]" {
		t.Fatalf("after RemoveTree(alice/P): %q", roots)
	}
	if n := m.Len(t0); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}
	if _, err := m.Create(t0, Lock{Root: "alice/P/x", Principal: "bob"}); !errors.Is(err, ErrLocked) {
		t.Fatalf("the home lock should still conflict: %v", err)
	}
	m.RemoveTree("alice")
	if n := m.Len(t0); n != 0 || len(m.subtree) != 0 || len(m.expiry) != 0 {
		t.Fatalf("RemoveTree(alice) left %d locks, %d subtree counts", n, len(m.subtree))
	}
}

func TestCovers(t *testing.T) {
	zero := Lock{Root: "a/b", ZeroDepth: true}
	inf := Lock{Root: "a/b"}
	for _, tt := range []struct {
		l    Lock
		name string
		want bool
	}{
		{zero, "a/b", true}, {zero, "a/b/c", false}, {zero, "a", false},
		{inf, "a/b", true}, {inf, "a/b/c/d", true}, {inf, "a/bc", false}, {inf, "a", false}, {inf, "", false},
	} {
		if got := tt.l.Covers(tt.name); got != tt.want {
			t.Errorf("%+v.Covers(%q) = %v", tt.l, tt.name, got)
		}
	}
}

// TestConcurrent runs every method at once; run it with -race.
func TestConcurrent(t *testing.T) {
	m := NewManager(maxTimeout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			principal := fmt.Sprintf("p%d", g)
			for i := range 200 {
				now := t0.Add(time.Duration(i) * time.Second)
				name := fmt.Sprintf("alice/d%d/f%d", i%5, i%7)
				l, err := m.Create(now, Lock{Root: name, Shared: g%2 == 0, Principal: principal, Timeout: 30 * time.Second})
				ih := &IfHeader{Lists: []IfList{{Conditions: []Condition{{Token: l.Token}}}}}
				cerr := m.Check(now, principal, ih, Resource{Name: name}, nil, Write{Name: name})
				// Another goroutine's RemoveTree may have dropped the lock
				// (412), but while it stands its holder may write.
				if err == nil && errors.Is(cerr, ErrLocked) {
					t.Errorf("holder's own write refused: %v", cerr)
				}
				m.Discover(now, name)
				m.Len(now)
				if i%3 == 0 {
					m.RemoveTree(fmt.Sprintf("alice/d%d", i%5))
				} else if err == nil {
					m.Unlock(now, l.Token, principal)
				}
			}
		})
	}
	wg.Wait()
}
