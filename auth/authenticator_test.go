package auth

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestVerify(t *testing.T) {
	s := openTest(t, t.TempDir())
	mustAdd(t, s, "alice", "alice@example.org", "right")
	a := NewAuthenticator(s, AuthOptions{})

	// Steps run in order against one Authenticator; compares is the number
	// of bcrypt comparisons the step must cost.
	steps := []struct {
		name     string
		before   func()
		user, pw string
		ok       bool
		compares int64
	}{
		{name: "first success costs a bcrypt", user: "alice", pw: "right", ok: true, compares: 1},
		{name: "second success is cached", user: "alice", pw: "right", ok: true, compares: 0},
		{name: "third success is cached", user: "alice", pw: "right", ok: true, compares: 0},
		{name: "wrong password", user: "alice", pw: "wrong", ok: false, compares: 1},
		{name: "failures are not cached", user: "alice", pw: "wrong", ok: false, compares: 1},
		{name: "unknown user costs a bcrypt too", user: "nobody", pw: "right", ok: false, compares: 1},
		{name: "user name is case-sensitive", user: "Alice", pw: "right", ok: false, compares: 1},
		{name: "empty password", user: "alice", pw: "", ok: false, compares: 0},
		{name: "longer than bcrypt reads", user: "alice", pw: "right" + strings.Repeat("x", 70), ok: false, compares: 0},
		{name: "password change drops the cache",
			before: func() {
				if err := s.SetPassword("alice", "new"); err != nil {
					t.Fatal(err)
				}
			},
			user: "alice", pw: "right", ok: false, compares: 1},
		{name: "new password", user: "alice", pw: "new", ok: true, compares: 1},
		{name: "new password cached", user: "alice", pw: "new", ok: true, compares: 0},
		{name: "deletion drops the cache",
			before: func() {
				if err := s.Delete("alice"); err != nil {
					t.Fatal(err)
				}
			},
			user: "alice", pw: "new", ok: false, compares: 1},
		{name: "re-added with the same password: new hash, new bcrypt",
			before: func() { mustAdd(t, s, "alice", "alice@example.org", "new") },
			user:   "alice", pw: "new", ok: true, compares: 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			before := a.compares.Load()
			acct, ok := a.Verify(st.user, st.pw)
			if ok != st.ok {
				t.Fatalf("Verify(%q, %q) = %v, want %v", st.user, st.pw, ok, st.ok)
			}
			if got := a.compares.Load() - before; got != st.compares {
				t.Errorf("%d bcrypt comparisons, want %d", got, st.compares)
			}
			if ok && (acct.Name != Username(st.user) || acct.Email != "alice@example.org") {
				t.Errorf("Verify returned %+v", acct)
			}
			if acct.PasswordHash != "" {
				t.Error("Verify returned the password hash")
			}
		})
	}
}

// TestVerifyCacheSeesOtherProcess: a password changed through another Store
// invalidates the cache as soon as this Store has reloaded.
func TestVerifyCacheSeesOtherProcess(t *testing.T) {
	dir := t.TempDir()
	server, cli := openTest(t, dir), openTest(t, dir)
	mustAdd(t, cli, "bob", "bob@example.org", "old")
	if _, err := server.reloadIfChanged(); err != nil {
		t.Fatal(err)
	}
	a := NewAuthenticator(server, AuthOptions{})
	for range 2 {
		if _, ok := a.Verify("bob", "old"); !ok {
			t.Fatal("Verify failed")
		}
	}
	if err := cli.SetPassword("bob", "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.reloadIfChanged(); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Verify("bob", "old"); ok {
		t.Error("the old password still works after the server reloaded")
	}
	if _, ok := a.Verify("bob", "new"); !ok {
		t.Error("the new password does not work")
	}
}

func TestVerifyCacheBounds(t *testing.T) {
	s := openTest(t, t.TempDir())
	for i := range 3 {
		mustAdd(t, s, Username(fmt.Sprintf("u%d", i)), fmt.Sprintf("u%d@example.org", i), "pw")
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewAuthenticator(s, AuthOptions{CacheSize: 2, CacheTTL: time.Minute})
	a.cache.now = func() time.Time { return now }
	verify := func(user string) (compares int64) {
		t.Helper()
		before := a.compares.Load()
		if _, ok := a.Verify(user, "pw"); !ok {
			t.Fatalf("Verify(%s) failed", user)
		}
		return a.compares.Load() - before
	}

	verify("u0")
	verify("u1")
	verify("u0") // u0 is now the most recently used
	verify("u2") // evicts u1
	if n := a.cache.len(); n != 2 {
		t.Errorf("cache holds %d entries, want 2", n)
	}
	if verify("u0") != 0 || verify("u2") != 0 {
		t.Error("recently used entries were evicted")
	}
	if verify("u1") != 1 {
		t.Error("the least recently used entry was not evicted")
	}

	now = now.Add(time.Minute)
	if verify("u1") != 1 {
		t.Error("an expired entry was used")
	}

	off := NewAuthenticator(s, AuthOptions{CacheTTL: -1})
	for range 2 {
		off.Verify("u0", "pw")
	}
	if got := off.compares.Load(); got != 2 {
		t.Errorf("with the cache disabled: %d comparisons for 2 checks, want 2", got)
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	s := openTest(b, b.TempDir())
	mustAdd(b, s, "alice", "alice@example.org", "correct horse battery staple")
	a := NewAuthenticator(s, AuthOptions{})
	if _, ok := a.Verify("alice", "correct horse battery staple"); !ok {
		b.Fatal("Verify failed")
	}
	start := a.compares.Load()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := a.Verify("alice", "correct horse battery staple"); !ok {
			b.Fatal("Verify failed")
		}
	}
	if a.compares.Load() != start {
		b.Fatal("cached verifications ran bcrypt")
	}
}

func TestProductionCost(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.cost != bcrypt.DefaultCost {
		t.Errorf("Open uses bcrypt cost %d, want bcrypt.DefaultCost", s.cost)
	}
	s.cost = bcrypt.MinCost // keep the rest of the test fast
	a := NewAuthenticator(s, AuthOptions{})
	if c, err := bcrypt.Cost(a.fakeHash); err != nil || c != s.cost {
		t.Errorf("fake hash cost %d (%v), want the Store's %d", c, err, s.cost)
	}
}
