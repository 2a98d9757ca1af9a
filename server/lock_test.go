package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue #2, bullet 6: locks and the If header.

// lockTokens returns the tokens PROPFIND's lockdiscovery shows for path.
func (e *env) lockTokens(t *testing.T, path string) []string {
	t.Helper()
	_, body := e.expect(http.StatusMultiStatus, "PROPFIND", path, "alice", propfindBody("lockdiscovery"), "Depth", "0")
	ld := parseMultistatus(t, body).Responses[0].value(t, "lockdiscovery").Inner
	var toks []string
	for _, h := range hrefsIn(t, ld) {
		if strings.HasPrefix(h, "urn:uuid:") {
			toks = append(toks, h)
		}
	}
	return toks
}

func TestLockScopes(t *testing.T) {
	e := newEnv(t)
	const ex, sh = "/dav/files/alice/ex.txt", "/dav/files/alice/sh.txt"
	e.mustPut("alice", ex, "x")
	e.mustPut("alice", sh, "s")

	t.Run("exclusive", func(t *testing.T) {
		tok := e.lock(http.StatusOK, ex, "alice", false)
		if !strings.HasPrefix(tok, "urn:uuid:") {
			t.Fatalf("token %q is not a urn:uuid", tok)
		}
		e.lock(http.StatusLocked, ex, "alice", false)
		e.lock(http.StatusLocked, ex, "alice", true)
		if got := e.lockTokens(t, ex); len(got) != 1 || got[0] != tok {
			t.Fatalf("lockdiscovery %v, want [%s]", got, tok)
		}
		e.expect(http.StatusLocked, "PUT", ex, "alice", "no token")
		e.expect(http.StatusNoContent, "PUT", ex, "alice", "with token", "If", "(<"+tok+">)")
		if got, _ := e.file("alice", "ex.txt"); got != "with token" {
			t.Fatalf("content %q", got)
		}
	})
	t.Run("shared", func(t *testing.T) {
		a := e.lock(http.StatusOK, sh, "alice", true)
		b := e.lock(http.StatusOK, sh, "alice", true)
		if a == b {
			t.Fatal("two shared locks have the same token")
		}
		e.lock(http.StatusLocked, sh, "alice", false)
		got := e.lockTokens(t, sh)
		if len(got) != 2 || !(got[0] == a && got[1] == b || got[0] == b && got[1] == a) {
			t.Fatalf("lockdiscovery %v, want %s and %s", got, a, b)
		}
		_, body := e.expect(http.StatusMultiStatus, "PROPFIND", sh, "alice", propfindBody("lockdiscovery"), "Depth", "0")
		if c := strings.Count(canonicalXML(t, parseMultistatus(t, body).Responses[0].value(t, "lockdiscovery").Inner), "<{DAV:}shared>"); c != 2 {
			t.Fatalf("lockdiscovery shows %d shared scopes, want 2: %s", c, body)
		}
		e.expect(http.StatusLocked, "PUT", sh, "alice", "no token")
		e.expect(http.StatusNoContent, "PUT", sh, "alice", "one of the shared tokens", "If", "(<"+b+">)")
	})
}

func TestLockDepth(t *testing.T) {
	e := newEnv(t)
	for _, d := range []string{"deep", "flat"} {
		e.expect(http.StatusCreated, "MKCOL", "/dav/files/alice/"+d, "alice", "")
		e.mustPut("alice", "/dav/files/alice/"+d+"/member.txt", "m")
	}
	deep := e.lock(http.StatusOK, "/dav/files/alice/deep/", "alice", false, "Depth", "infinity")
	flat := e.lock(http.StatusOK, "/dav/files/alice/flat/", "alice", false, "Depth", "0")
	cases := []struct {
		name   string
		method string
		path   string
		hdr    []string
		status int
	}{
		{"infinity: new member without token", "PUT", "/dav/files/alice/deep/new.txt", nil, http.StatusLocked},
		{"infinity: new member with token", "PUT", "/dav/files/alice/deep/new.txt", []string{"If", "(<" + deep + ">)"}, http.StatusCreated},
		{"infinity: existing member without token", "PUT", "/dav/files/alice/deep/member.txt", nil, http.StatusLocked},
		{"infinity: member lock conflicts", "LOCK", "/dav/files/alice/deep/member.txt", nil, http.StatusLocked},
		{"infinity: MKCOL inside without token", "MKCOL", "/dav/files/alice/deep/sub", nil, http.StatusLocked},
		{"infinity: DELETE member without token", "DELETE", "/dav/files/alice/deep/member.txt", nil, http.StatusLocked},
		{"infinity: tagged token", "PUT", "/dav/files/alice/deep/tagged.txt", []string{"If", "</dav/files/alice/deep/> (<" + deep + ">)"}, http.StatusCreated},
		{"depth 0: new member without token", "PUT", "/dav/files/alice/flat/new.txt", nil, http.StatusLocked},
		{"depth 0: new member with token", "PUT", "/dav/files/alice/flat/new.txt", []string{"If", "</dav/files/alice/flat/> (<" + flat + ">)"}, http.StatusCreated},
		{"depth 0: existing member without token", "PUT", "/dav/files/alice/flat/member.txt", nil, http.StatusNoContent},
		{"depth 0: member lock", "LOCK", "/dav/files/alice/flat/member.txt", nil, http.StatusOK},
		{"parent of a locked folder: DELETE", "DELETE", "/dav/files/alice/deep", nil, http.StatusLocked},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "LOCK" {
				body = lockBody(false)
			}
			e.expect(tc.status, tc.method, tc.path, "alice", body, tc.hdr...)
		})
	}
	if _, ok := e.file("alice", "deep/member.txt"); !ok {
		t.Fatal("a refused DELETE removed deep/member.txt")
	}
	if got := e.lockTokens(t, "/dav/files/alice/deep/member.txt"); len(got) != 1 || got[0] != deep {
		t.Fatalf("a member's lockdiscovery shows %v, want the folder's %s", got, deep)
	}
}

func TestLockTimeoutAndRefresh(t *testing.T) {
	e := newEnv(t)
	const path = "/dav/files/alice/t.txt"
	e.mustPut("alice", path, "t")

	t.Run("expiry", func(t *testing.T) {
		resp, body := e.expect(http.StatusOK, "LOCK", path, "alice", lockBody(false), "Timeout", "Second-1")
		if !strings.Contains(body, "Second-1<") {
			t.Fatalf("granted timeout is not Second-1: %s", body)
		}
		tok := strings.Trim(resp.Header.Get("Lock-Token"), "<>")
		e.expect(http.StatusLocked, "PUT", path, "alice", "locked")
		if !waitFor(3*time.Second, func() bool { return len(e.lockTokens(t, path)) == 0 }) {
			t.Fatal("the lock did not expire")
		}
		e.expect(http.StatusNoContent, "PUT", path, "alice", "free again")
		e.expect(http.StatusConflict, "UNLOCK", path, "alice", "", "Lock-Token", "<"+tok+">")
	})
	t.Run("refresh", func(t *testing.T) {
		tok := e.lock(http.StatusOK, path, "alice", false, "Timeout", "Second-100")
		_, body := e.expect(http.StatusOK, "LOCK", path, "alice", "", "If", "(<"+tok+">)", "Timeout", "Second-300")
		if !strings.Contains(body, "Second-300<") || !strings.Contains(body, tok) {
			t.Fatalf("refresh answer lacks the new timeout or the token: %s", body)
		}
		_, pf := e.expect(http.StatusMultiStatus, "PROPFIND", path, "alice", propfindBody("lockdiscovery"), "Depth", "0")
		if !strings.Contains(pf, "Second-300<") && !strings.Contains(pf, "Second-299<") {
			t.Fatalf("lockdiscovery after refresh: %s", pf)
		}
		e.expect(http.StatusBadRequest, "LOCK", path, "alice", "") // refresh without If
		e.expect(http.StatusPreconditionFailed, "LOCK", path, "alice", "", "If", "(<urn:uuid:00000000-0000-4000-8000-000000000000>)")
		e.expect(http.StatusNoContent, "UNLOCK", path, "alice", "", "Lock-Token", "<"+tok+">")
	})
	t.Run("refresh keeps a short lock alive", func(t *testing.T) {
		tok := e.lock(http.StatusOK, path, "alice", false, "Timeout", "Second-1")
		e.expect(http.StatusOK, "LOCK", path, "alice", "", "If", "(<"+tok+">)", "Timeout", "Second-60")
		time.Sleep(1200 * time.Millisecond)
		e.expect(http.StatusLocked, "PUT", path, "alice", "still locked")
		e.expect(http.StatusNoContent, "UNLOCK", path, "alice", "", "Lock-Token", "<"+tok+">")
	})
}

func TestIfHeader(t *testing.T) {
	e := newEnv(t)
	const locked, free = "/dav/files/alice/locked.txt", "/dav/files/alice/free.txt"
	e.mustPut("alice", locked, "l")
	tok := e.lock(http.StatusOK, locked, "alice", false)
	host := e.url("")
	cases := []struct {
		name   string
		path   string
		ifHdr  func(etag string) string
		status int
	}{
		{"token", locked, func(string) string { return "(<" + tok + ">)" }, 204},
		{"tagged absolute URL", locked, func(string) string { return "<" + host + locked + "> (<" + tok + ">)" }, 204},
		{"tagged path", locked, func(string) string { return "<" + locked + "> (<" + tok + ">)" }, 204},
		{"tagged other resource", locked, func(string) string { return "<" + free + "> (<" + tok + ">)" }, 412},
		{"token and right ETag", locked, func(et string) string { return "(<" + tok + "> [" + et + "])" }, 204},
		{"token and wrong ETag", locked, func(string) string { return `(<` + tok + `> ["nope"])` }, 412},
		{"unknown token", locked, func(string) string { return "(<urn:uuid:00000000-0000-4000-8000-000000000000>)" }, 412},
		{"Not no-lock without the token", locked, func(string) string { return "(Not <DAV:no-lock>)" }, 423},
		{"Not token", locked, func(string) string { return "(Not <" + tok + ">)" }, 412},
		{"second list has the token", locked, func(string) string { return `(["nope"]) (<` + tok + `>)` }, 204},
		{"no-lock or token", locked, func(string) string { return "(<DAV:no-lock>) (<" + tok + ">)" }, 204},
		{"ETag only, right", free, func(et string) string { return "([" + et + "])" }, 204},
		{"ETag only, wrong", free, func(string) string { return `(["nope"])` }, 412},
		{"ETag only, weak", free, func(et string) string { return "([W/" + et + "])" }, 412},
		{"Not wrong ETag", free, func(string) string { return `(Not ["nope"])` }, 204},
		{"Not no-lock on a free file", free, func(string) string { return "(Not <DAV:no-lock>)" }, 204},
		{"no-lock", free, func(string) string { return "(<DAV:no-lock>)" }, 412},
		{"malformed", free, func(string) string { return "(<unterminated" }, 400},
		{"mixed tagged and untagged", free, func(string) string { return "(<DAV:no-lock>) </x> (<DAV:no-lock>)" }, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := e.file("alice", "free.txt"); !ok {
				e.mustPut("alice", free, "f")
			}
			resp, _ := e.expect(http.StatusOK, "GET", tc.path, "alice", "")
			etag := resp.Header.Get("ETag")
			before, _ := e.file("alice", strings.TrimPrefix(tc.path, "/dav/files/alice/"))
			resp, body := e.call("PUT", tc.path, "alice", "new content: "+tc.name, "If", tc.ifHdr(etag))
			if resp.StatusCode != tc.status {
				t.Fatalf("If: %s: status %d, want %d; body %s", tc.ifHdr(etag), resp.StatusCode, tc.status, body)
			}
			after, _ := e.file("alice", strings.TrimPrefix(tc.path, "/dav/files/alice/"))
			if (after != before) != (tc.status < 300) {
				t.Fatalf("content went from %q to %q with status %d", before, after, tc.status)
			}
		})
	}
}

func TestLockUnmappedURL(t *testing.T) {
	e := newEnv(t)
	const path = "/dav/files/alice/new.txt"
	resp, body := e.expect(http.StatusCreated, "LOCK", path, "alice", lockBody(false))
	tok := strings.Trim(resp.Header.Get("Lock-Token"), "<>")
	if got, ok := e.file("alice", "new.txt"); !ok || got != "" {
		t.Fatalf("LOCK on an unmapped URL left %q (exists %v), want an empty file", got, ok)
	}
	if !strings.Contains(body, "lockdiscovery") {
		t.Fatalf("LOCK answer without lockdiscovery: %s", body)
	}
	if got := e.lockTokens(t, path); len(got) != 1 || got[0] != tok {
		t.Fatalf("lockdiscovery %v, want [%s]", got, tok)
	}
	_, pf := e.expect(http.StatusMultiStatus, "PROPFIND", path, "alice", propfindBody("lockdiscovery"), "Depth", "0")
	ld := parseMultistatus(t, pf).Responses[0].value(t, "lockdiscovery").Inner
	if hs := hrefsIn(t, ld); !contains(hs, path) {
		t.Fatalf("lockdiscovery lockroot hrefs %v lack %s", hs, path)
	}
	e.expect(http.StatusCreated, "PUT", "/dav/files/alice/other.txt", "alice", "unrelated")
	e.expect(http.StatusNoContent, "PUT", path, "alice", "content", "If", "(<"+tok+">)")
	t.Run("missing parent", func(t *testing.T) {
		e.expect(http.StatusConflict, "LOCK", "/dav/files/alice/nope/new.txt", "alice", lockBody(false))
		if len(e.lockTokens(t, "/dav/files/alice/")) != 0 {
			t.Fatal("a failed LOCK left a lock behind")
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestUnlock(t *testing.T) {
	e := newEnv(t)
	const path = "/dav/files/alice/u.txt"
	e.mustPut("alice", path, "u")
	tok := e.lock(http.StatusOK, path, "alice", false)
	cases := []struct {
		name, user, path, token string
		status                  int
	}{
		{"bob cannot reach alice's space", "bob", path, "<" + tok + ">", http.StatusNotFound},
		{"bob in his own space", "bob", "/dav/files/bob/", "<" + tok + ">", http.StatusConflict},
		{"unknown token", "alice", path, "<urn:uuid:00000000-0000-4000-8000-000000000000>", http.StatusConflict},
		{"token for another resource", "alice", "/dav/files/alice/", "<" + tok + ">", http.StatusConflict},
		{"no brackets", "alice", path, tok, http.StatusBadRequest},
		{"missing header", "alice", path, "", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.token != "" {
				hdr = []string{"Lock-Token", tc.token}
			}
			e.expect(tc.status, "UNLOCK", tc.path, tc.user, "", hdr...)
			if got := e.lockTokens(t, path); len(got) != 1 {
				t.Fatalf("the lock is gone after a refused UNLOCK: %v", got)
			}
		})
	}
	t.Run("alice from another client", func(t *testing.T) {
		// A fresh connection with no shared state but alice's credentials:
		// the token is hers, whichever client submits it.
		resp, body := e.raw("PUT", path, "alice", "from client two", "If", "(<"+tok+">)")
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("PUT from another client: %d %s", resp.StatusCode, body)
		}
		resp, body = e.raw("UNLOCK", path, "alice", "", "Lock-Token", "<"+tok+">")
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("UNLOCK from another client: %d %s", resp.StatusCode, body)
		}
		if got := e.lockTokens(t, path); len(got) != 0 {
			t.Fatalf("lock still there: %v", got)
		}
		e.expect(http.StatusNoContent, "PUT", path, "alice", "unlocked")
		e.expect(http.StatusConflict, "UNLOCK", path, "alice", "", "Lock-Token", "<"+tok+">")
	})
}

// TestLockedReads: locks never block GET, HEAD or PROPFIND (Finder,
// clients.md).
func TestLockedReads(t *testing.T) {
	e := newEnv(t)
	e.expect(http.StatusCreated, "MKCOL", "/dav/files/alice/dir", "alice", "")
	e.mustPut("alice", "/dav/files/alice/dir/f.txt", "readable")
	e.lock(http.StatusOK, "/dav/files/alice/dir/f.txt", "alice", false)
	e.lock(http.StatusOK, "/dav/files/alice/dir/", "alice", true, "Depth", "0")
	cases := []struct {
		method, path string
		hdr          []string
		status       int
	}{
		{"GET", "/dav/files/alice/dir/f.txt", nil, http.StatusOK},
		{"HEAD", "/dav/files/alice/dir/f.txt", nil, http.StatusOK},
		{"PROPFIND", "/dav/files/alice/dir/f.txt", []string{"Depth", "0"}, http.StatusMultiStatus},
		{"PROPFIND", "/dav/files/alice/dir/", []string{"Depth", "1"}, http.StatusMultiStatus},
		{"OPTIONS", "/dav/files/alice/dir/f.txt", nil, http.StatusOK},
		{"COPY", "/dav/files/alice/dir/f.txt", []string{"Destination", "/dav/files/alice/copy.txt"}, http.StatusCreated},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			_, body := e.expect(tc.status, tc.method, tc.path, "alice", "", tc.hdr...)
			if tc.method == "GET" && body != "readable" {
				t.Fatalf("GET %q", body)
			}
		})
	}
}
