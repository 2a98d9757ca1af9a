package lock

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The tests model a server at http://localhost that maps /files/<path> to the
// canonical name <path>. litmus runs as user "litmus" under
// /files/litmus/litmus/ (canonical "litmus/litmus"); its second session
// (i_session2) is the same user without neon's lock store, so it sends no
// tokens.
const (
	host = "http://localhost"
	dir  = "litmus/litmus" // litmus' i_path
)

func url(name string) string { return host + "/files/" + name }

// resolver maps our URLs, absolute or path-only, to resources with the
// given ETags; anything else is unmapped.
func resolver(etags map[string]string) func(string) (Resource, bool) {
	return func(uri string) (Resource, bool) {
		rest, ok := strings.CutPrefix(strings.TrimPrefix(uri, host), "/files/")
		if !ok || rest == "" {
			return Resource{}, false
		}
		name := strings.TrimSuffix(rest, "/")
		return Resource{Name: name, ETag: etags[name]}, true
	}
}

// etag is what get_etag(res) returns in litmus; fail_complex_cond_put bumps
// its third character from the end.
const etag = `"5e-6147c9f1a2b3c"`

func corrupt(etag string) string {
	b := []byte(etag)
	b[len(b)-3]++
	return string(b)
}

// expand fills the placeholders of a litmus If header template.
func expand(tmpl, token string) string {
	return strings.NewReplacer("{token}", token, "{etag}", etag, "{badetag}", corrupt(etag)).Replace(tmpl)
}

// litmusPhase is the lock litmus holds when a test runs.
type litmusPhase int

const (
	unlocked   litmusPhase = iota
	exclusive              // lock_excl: exclusive depth-0 lock on lockme
	shared                 // lock_shared: shared depth-0 lock on lockme
	collection             // lock_collection: exclusive depth-infinity lock on lockcoll/
)

// setup returns a Manager in the given phase, the token litmus holds (gotlock)
// and the resource its tests target (res).
func (p litmusPhase) setup(t *testing.T) (m *Manager, token, res string) {
	m = NewManager(maxTimeout)
	res = dir + "/lockme"
	l := Lock{Root: res, ZeroDepth: true, Principal: "litmus", OwnerXML: "litmus test suite", Timeout: time.Hour}
	switch p {
	case unlocked:
		return m, "", res
	case shared:
		l.Shared = true
	case collection:
		l.Root, l.ZeroDepth = dir+"/lockcoll", false
		res = dir + "/lockcoll/lockme.txt"
	}
	return m, mustCreate(t, m, t0, l).Token, res
}

// neonIf is the If header neon's lock store adds to a request from the
// first session: the lock's own URL as the tag (a collection URL ends in a
// slash), then the token.
func neonIf(p litmusPhase) string {
	if p == collection {
		return "<" + url(dir+"/lockcoll") + "/> (<{token}>)"
	}
	return "<" + url(dir+"/lockme") + "> (<{token}>)"
}

// TestCheckLitmus replays what litmus' locks suite (src/locks.c) sends.
func TestCheckLitmus(t *testing.T) {
	type op int
	const (
		check      op = iota // a write: Check with the If header and writes
		sharedLock           // LOCK shared on res from the second session, then UNLOCK
		refresh              // LOCK refresh on res with If: (<token>), as ne_lock_refresh does
	)
	// writes builds the names a method changes, relative to res and dir.
	type method int
	const (
		put method = iota
		proppatch
		del
		moveAway  // MOVE res to whocares
		copyOnto  // COPY notlocked onto res
		copyAside // COPY res to res-copydest
	)
	writesFor := func(mt method, res string) []Write {
		parent := res[:strings.LastIndexByte(res, '/')]
		switch mt {
		case proppatch:
			return []Write{{Name: res}}
		case del:
			return []Write{{Name: res, Depth: Infinite}, {Name: parent}}
		case moveAway:
			return []Write{{Name: res, Depth: Infinite}, {Name: parent}, {Name: dir + "/whocares", Depth: Infinite}, {Name: dir}}
		case copyOnto:
			return []Write{{Name: res, Depth: Infinite}, {Name: parent}}
		case copyAside:
			return []Write{{Name: res + "-copydest", Depth: Infinite}, {Name: parent}}
		}
		return []Write{{Name: res}} // PUT overwriting res
	}

	tests := []struct {
		name   string
		phase  litmusPhase
		op     op
		method method
		ifHdr  string // template; "" for no If header
		want   []error
	}{
		// lock_excl, then notowner_modify: the second session sends no token.
		{"notowner_modify/DELETE", exclusive, check, del, "", []error{ErrLocked}},
		{"notowner_modify/MOVE", exclusive, check, moveAway, "", []error{ErrLocked}},
		{"notowner_modify/COPY", exclusive, check, copyOnto, "", []error{ErrLocked}},
		{"notowner_modify/PROPPATCH", exclusive, check, proppatch, "", []error{ErrLocked}},
		{"notowner_modify/PUT", exclusive, check, put, "", []error{ErrLocked}},
		{"owner_modify/PUT", exclusive, check, put, neonIf(exclusive), []error{nil}},
		{"owner_modify/PROPPATCH", exclusive, check, proppatch, neonIf(exclusive), []error{nil}},
		{"copy (locks do not stop a COPY away)", exclusive, check, copyAside, "", []error{nil}},
		// Julian Reschke's conditional PUTs, sent raw without neon's header.
		{"cond_put", exclusive, check, put, "(<{token}> [{etag}])", []error{nil}},
		{"fail_cond_put", exclusive, check, put, "(<DAV:no-lock> [{etag}])", []error{ErrPreconditionFailed}},
		{"cond_put_with_not", exclusive, check, put, "(<{token}>) (Not <DAV:no-lock>)", []error{nil}},
		{"cond_put_corrupt_token", exclusive, check, put, "(<{token}x>) (Not <DAV:no-lock>)", []error{ErrLocked, ErrPreconditionFailed}},
		{"complex_cond_put", exclusive, check, put, "(<{token}> [{etag}]) (Not <DAV:no-lock> [{etag}])", []error{nil}},
		{"fail_complex_cond_put", exclusive, check, put, "(<{token}> [{badetag}]) (Not <DAV:no-lock> [{badetag}])", []error{ErrPreconditionFailed}},
		{"refresh", exclusive, refresh, put, "(<{token}>)", []error{nil}},
		// After unlock.
		{"fail_cond_put_unlocked", unlocked, check, put, "(<DAV:no-lock>)", []error{ErrPreconditionFailed}},
		// lock_shared.
		{"shared/notowner_modify/PUT", shared, check, put, "", []error{ErrLocked}},
		{"shared/notowner_modify/DELETE", shared, check, del, "", []error{ErrLocked}},
		{"shared/owner_modify/PUT", shared, check, put, neonIf(shared), []error{nil}},
		{"shared/owner_modify/PROPPATCH", shared, check, proppatch, neonIf(shared), []error{nil}},
		{"double_sharedlock", shared, sharedLock, put, "", []error{nil}},
		{"double_sharedlock refused on an exclusive lock", exclusive, sharedLock, put, "", []error{ErrLocked}},
		// lock_collection: res is now lockcoll/lockme.txt.
		{"lock_collection/owner_modify/PUT", collection, check, put, neonIf(collection), []error{nil}},
		{"lock_collection/owner_modify/PROPPATCH", collection, check, proppatch, neonIf(collection), []error{nil}},
		{"lock_collection/notowner_modify/DELETE", collection, check, del, "", []error{ErrLocked}},
		{"lock_collection/notowner_modify/MOVE", collection, check, moveAway, "", []error{ErrLocked}},
		{"lock_collection/notowner_modify/COPY", collection, check, copyOnto, "", []error{ErrLocked}},
		{"lock_collection/notowner_modify/PROPPATCH", collection, check, proppatch, "", []error{ErrLocked}},
		{"lock_collection/notowner_modify/PUT", collection, check, put, "", []error{ErrLocked}},
		{"indirect_refresh", collection, refresh, put, "(<{token}>)", []error{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, token, res := tt.phase.setup(t)
			var ih *IfHeader
			if tt.ifHdr != "" {
				h, err := ParseIf(expand(tt.ifHdr, token))
				if err != nil {
					t.Fatal(err)
				}
				ih = &h
			}
			self := Resource{Name: res, ETag: etag}
			resolve := resolver(map[string]string{res: etag})
			now := t0.Add(time.Minute)

			var err error
			switch tt.op {
			case check:
				err = m.Check(now, "litmus", ih, self, resolve, writesFor(tt.method, res)...)
			case sharedLock:
				var l Lock
				if l, err = m.Create(now, Lock{Root: res, Shared: true, ZeroDepth: true, Principal: "litmus"}); err == nil {
					err = m.Unlock(now, l.Token, "litmus")
				}
			case refresh:
				var l Lock
				l, err = refreshVia(m, now, "litmus", ih, self, resolve)
				if err == nil && (l.Token != token || !l.Expires.Equal(now.Add(time.Hour))) {
					t.Fatalf("refreshed %+v, want token %s expiring at %v", l, token, now.Add(time.Hour))
				}
			}
			if !matchesAny(err, tt.want) {
				t.Fatalf("got %v, want one of %v", err, tt.want)
			}
			var le *LockedError
			if errors.As(err, &le) {
				if root := strings.TrimSuffix(res, "/lockme.txt"); le.Root != root {
					t.Fatalf("423 names %q, want the lock root %q", le.Root, root)
				}
			}
		})
	}
}

// refreshVia is the server's LOCK refresh as the package documentation
// describes it.
func refreshVia(m *Manager, now time.Time, principal string, ih *IfHeader, self Resource, resolve func(string) (Resource, bool)) (Lock, error) {
	if err := m.Check(now, principal, ih, self, resolve); err != nil {
		return Lock{}, err
	}
	for _, token := range ih.Tokens() {
		if l, ok := m.Lookup(now, token); ok && l.Covers(self.Name) {
			return m.Refresh(now, token, principal, time.Hour)
		}
	}
	return Lock{}, ErrPreconditionFailed
}

func matchesAny(err error, want []error) bool {
	for _, w := range want {
		if w == nil && err == nil || w != nil && errors.Is(err, w) {
			return true
		}
	}
	return false
}

// TestCheck covers the semantics litmus does not reach.
func TestCheck(t *testing.T) {
	// Locks held in every case; tokens are referred to by their key.
	type held struct {
		key, root, principal string
		shared, zero         bool
		timeout              time.Duration
	}
	locks := []held{
		{"file", "alice/d/file", "alice", false, true, 0},
		{"sh-alice", "alice/s/f", "alice", true, true, 0},
		{"sh-bob", "alice/s/f", "bob", true, true, 0},
		{"zero-dir", "alice/z", "alice", false, true, 0},
		{"below1", "alice/t/a", "alice", false, true, 0},
		{"below2", "alice/t/b/c", "alice", false, false, 0},
		{"short", "alice/x", "alice", false, true, 30 * time.Second},
		{"dst", "bob/dst", "alice", false, true, 0},
	}
	etags := map[string]string{"alice/d/file": `"f1"`, "alice/e": `"e1"`, "alice/w": `W/"w1"`}

	tests := []struct {
		name   string
		user   string
		ifHdr  string // keys in braces are replaced by tokens
		self   string
		writes []Write
		want   error
		root   string // of the *LockedError
	}{
		{"no If header, nothing locked", "carol", "", "alice/e", []Write{{Name: "alice/e"}}, nil, ""},
		{"matching ETag", "carol", `(["e1"])`, "alice/e", []Write{{Name: "alice/e"}}, nil, ""},
		{"ETag mismatch", "carol", `(["e2"])`, "alice/e", []Write{{Name: "alice/e"}}, ErrPreconditionFailed, ""},
		{"Not of a mismatched ETag", "carol", `(Not ["e2"])`, "alice/e", []Write{{Name: "alice/e"}}, nil, ""},
		{"weak tag never matches (strong comparison)", "carol", `([W/"w1"])`, "alice/w", nil, ErrPreconditionFailed, ""},
		{"weak tag against a strong ETag", "carol", `([W/"e1"])`, "alice/e", nil, ErrPreconditionFailed, ""},
		{"ETag of a missing resource", "carol", `(["e1"])`, "alice/new", []Write{{Name: "alice/new"}}, ErrPreconditionFailed, ""},
		{"Not ETag of a missing resource", "carol", `(Not ["e1"])`, "alice/new", []Write{{Name: "alice/new"}}, nil, ""},
		{"second list true", "carol", `(["nope"]) (["e1"])`, "alice/e", nil, nil, ""},
		{"tagged ETag on another resource", "carol", `</files/alice/d/file> (["f1"])`, "alice/e", nil, nil, ""},
		{"unmapped tag: positive conditions are false", "alice", `<http://elsewhere/x> ({file})`, "alice/d/file", nil, ErrPreconditionFailed, ""},
		{"unmapped tag: Not conditions are true (RFC 4918 §10.4.4)", "alice", `<http://elsewhere/x> (Not <DAV:no-lock>)`, "alice/e", nil, nil, ""},
		{"unmapped tag does not submit", "alice", `<http://elsewhere/x> (Not <DAV:no-lock>) ({file})`, "alice/d/file", []Write{{Name: "alice/d/file"}}, ErrLocked, "alice/d/file"},
		{"token of a lock that does not cover the list's resource", "alice", `</files/alice/e> ({file})`, "alice/e", nil, ErrPreconditionFailed, ""},
		{"untagged token for the request resource", "alice", `({file})`, "alice/d/file", []Write{{Name: "alice/d/file"}}, nil, ""},
		{"another principal's token: header true, not submitted", "bob", `({file})`, "alice/d/file", []Write{{Name: "alice/d/file"}}, ErrLocked, "alice/d/file"},
		{"token in a false list is not submitted", "alice", `({file} ["wrong"]) (Not <DAV:no-lock>)`, "alice/d/file", []Write{{Name: "alice/d/file"}}, ErrLocked, "alice/d/file"},
		{"negated token of an active lock is false", "alice", `(Not {file})`, "alice/d/file", nil, ErrPreconditionFailed, ""},
		{"negated token does not submit", "alice", `(Not {file}) (Not <DAV:no-lock>)`, "alice/d/file", []Write{{Name: "alice/d/file"}}, ErrLocked, "alice/d/file"},
		{"shared: one holder's token suffices", "alice", `({sh-alice})`, "alice/s/f", []Write{{Name: "alice/s/f"}}, nil, ""},
		{"shared: the other holder's token suffices", "bob", `({sh-bob})`, "alice/s/f", []Write{{Name: "alice/s/f"}}, nil, ""},
		{"shared: a non-holder is locked out", "carol", "", "alice/s/f", []Write{{Name: "alice/s/f"}}, ErrLocked, "alice/s/f"},
		{"shared: someone else's shared token", "carol", `({sh-bob})`, "alice/s/f", []Write{{Name: "alice/s/f"}}, ErrLocked, "alice/s/f"},
		{"depth-0 collection lock guards its members list", "carol", "", "alice/z/new", []Write{{Name: "alice/z/new"}, {Name: "alice/z"}}, ErrLocked, "alice/z"},
		{"depth-0 collection lock does not guard member content", "carol", "", "alice/z/old", []Write{{Name: "alice/z/old"}}, nil, ""},
		{"zero-depth write above locks", "carol", "", "alice/t", []Write{{Name: "alice/t"}}, nil, ""},
		{"infinite write above locks", "carol", "", "alice/t", []Write{{Name: "alice/t", Depth: Infinite}}, ErrLocked, "alice/t/a"},
		// RFC 4918 §10.4.4: an untagged list is about the request URL, which a
		// lock below it does not cover; tokens for locks below are tagged.
		{"infinite write, untagged token of a lock below", "alice", `({below1})`, "alice/t", []Write{{Name: "alice/t", Depth: Infinite}}, ErrPreconditionFailed, ""},
		{"infinite write, one of two tokens", "alice", `</files/alice/t/a> ({below1})`, "alice/t", []Write{{Name: "alice/t", Depth: Infinite}}, ErrLocked, "alice/t/b/c"},
		{"infinite write, both tokens", "alice", `</files/alice/t/a> ({below1}) </files/alice/t/b/c/> ({below2})`, "alice/t", []Write{{Name: "alice/t", Depth: Infinite}}, nil, ""},
		{"infinite write does not reach a sibling prefix", "carol", "", "alice/t/b/cc", []Write{{Name: "alice/t/b/cc", Depth: Infinite}}, nil, ""},
		{"expired token is false", "alice", `({short})`, "alice/x", nil, ErrPreconditionFailed, ""},
		{"expired lock is no obstacle", "carol", "", "alice/x", []Write{{Name: "alice/x"}}, nil, ""},
		{"MOVE needs source and destination tokens", "alice", `</files/alice/d/file> ({file})`, "alice/d/file",
			[]Write{{Name: "alice/d/file", Depth: Infinite}, {Name: "bob/dst", Depth: Infinite}}, ErrLocked, "bob/dst"},
		{"MOVE with both tokens", "alice", `</files/alice/d/file> ({file}) <http://localhost/files/bob/dst> ({dst})`, "alice/d/file",
			[]Write{{Name: "alice/d/file", Depth: Infinite}, {Name: "bob/dst", Depth: Infinite}}, nil, ""},
		{"empty write names are skipped", "carol", "", "", []Write{{Name: ""}}, nil, ""},
	}

	m := NewManager(maxTimeout)
	tokens := map[string]string{}
	for _, h := range locks {
		l := mustCreate(t, m, t0, Lock{Root: h.root, Principal: h.principal, Shared: h.shared, ZeroDepth: h.zero, Timeout: h.timeout})
		tokens["{"+h.key+"}"] = "<" + l.Token + ">"
	}
	var pairs []string
	for k, v := range tokens {
		pairs = append(pairs, k, v)
	}
	fill := strings.NewReplacer(pairs...)
	now := t0.Add(time.Minute) // "short" has expired

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ih *IfHeader
			if tt.ifHdr != "" {
				h, err := ParseIf(fill.Replace(tt.ifHdr))
				if err != nil {
					t.Fatal(err)
				}
				ih = &h
			}
			self := Resource{Name: tt.self, ETag: etags[tt.self]}
			err := m.Check(now, tt.user, ih, self, resolver(etags), tt.writes...)
			if !matchesAny(err, []error{tt.want}) {
				t.Fatalf("Check: %v, want %v", err, tt.want)
			}
			var le *LockedError
			if errors.As(err, &le) && le.Root != tt.root {
				t.Fatalf("423 names %q, want %q", le.Root, tt.root)
			}
		})
	}
}

func TestCheckNilResolve(t *testing.T) {
	m := NewManager(maxTimeout)
	l := mustCreate(t, m, t0, Lock{Root: "alice/f", Principal: "alice"})
	h, err := ParseIf("<" + url("alice/f") + "> (<" + l.Token + ">) <http://x/> (Not <DAV:no-lock>)")
	if err != nil {
		t.Fatal(err)
	}
	err = m.Check(t0, "alice", &h, Resource{Name: "alice/f"}, nil, Write{Name: "alice/f"})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("with no resolver every tag is unmapped: got %v, want ErrLocked", err)
	}
}

// TestCheckNoLocksDoesNotAllocate pins the fast path: writes without an If
// header while nothing is locked, which is almost every request.
func TestCheckNoLocksDoesNotAllocate(t *testing.T) {
	m := NewManager(maxTimeout)
	resolve := resolver(nil)
	self := Resource{Name: "alice/d/f", ETag: `"x"`}
	allocs := testing.AllocsPerRun(100, func() {
		if err := m.Check(t0, "alice", nil, self, resolve, Write{Name: "alice/d/f", Depth: Infinite}, Write{Name: "alice/d"}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Check allocates %v times per call with no locks and no If header", allocs)
	}
}
