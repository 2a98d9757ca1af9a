package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue #2, bullet 1: no request path, however encoded, reaches another
// user's files, and symbolic links never lead out of a home.

const bobSecret = "bob's private content 7f3a"

// escapeTargets are request targets that try to leave alice's home for bob's
// file x. legal marks those whose decoded form is an ordinary (if odd) name
// inside alice's home: a backslash is not a separator on the server.
var escapeTargets = []struct {
	name   string
	target string
	legal  bool
}{
	{"dotdot", "/dav/files/alice/../bob/x", false},
	{"dotdot twice", "/dav/files/alice/../../files/bob/x", false},
	{"dot then dotdot", "/dav/files/alice/./../bob/x", false},
	{"double slash dotdot", "/dav/files/alice//../bob/x", false},
	{"through a file", "/dav/files/alice/a.txt/../../bob/x", false},
	{"encoded dotdot lower", "/dav/files/alice/%2e%2e/bob/x", false},
	{"encoded dotdot mixed case", "/dav/files/alice/%2E%2e/bob/x", false},
	{"half encoded dotdot", "/dav/files/alice/.%2e/bob/x", false},
	{"encoded slash after dotdot", "/dav/files/alice/..%2fbob%2fx", false},
	{"encoded dotdot and slash", "/dav/files/alice/%2e%2e%2fbob%2fx", false},
	{"encoded slash in user segment", "/dav/files/alice%2f..%2fbob%2fx", false},
	{"NUL then dotdot", "/dav/files/alice/%00/../bob/x", false},
	{"NUL in name", "/dav/files/alice/x%00", false},
	{"NUL before user", "/dav/files/alice%00/../bob/x", false},
	{"overlong UTF-8 dots", "/dav/files/alice/%c0%ae%c0%ae/bob/x", false},
	{"overlong UTF-8 slash", "/dav/files/alice/..%c0%afbob%c0%afx", false},
	{"invalid UTF-8", "/dav/files/alice/%ff%fe", false},
	{"absolute form dotdot", "http://HOST/dav/files/alice/../bob/x", false},
	{"backslash", "/dav/files/alice/..%5cbob%5cx", true},
	{"encoded dotdot backslash", "/dav/files/alice/%2e%2e%5cbob%5cx", true},
}

func (e *env) assertBobUntouched(t *testing.T) {
	t.Helper()
	if got, ok := e.file("bob", "x"); !ok || got != bobSecret {
		t.Fatalf("bob's x is now %q (exists %v), want %q", got, ok, bobSecret)
	}
	des, err := os.ReadDir(e.home("bob"))
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 || des[0].Name() != "x" {
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		t.Fatalf("bob's home now holds %v, want only x", names)
	}
}

func TestConfinementEncodedPaths(t *testing.T) {
	e := newEnv(t)
	e.mustPut("bob", "/dav/files/bob/x", bobSecret)
	e.mustPut("alice", "/dav/files/alice/a.txt", "alice's a")

	methods := []struct {
		method string
		body   string
		hdr    []string
		write  bool
	}{
		{"GET", "", nil, false},
		{"HEAD", "", nil, false},
		{"PROPFIND", "", []string{"Depth", "0"}, false},
		{"PUT", "pwned", nil, true},
		{"DELETE", "", nil, true},
		{"PROPPATCH", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><Z:p xmlns:Z="urn:z">v</Z:p></D:prop></D:set></D:propertyupdate>`, nil, true},
		{"MKCOL", "", nil, true},
		{"LOCK", lockBody(false), nil, true},
		{"MOVE", "", []string{"Destination", "/dav/files/alice/moved"}, true},
	}
	for _, tc := range escapeTargets {
		for _, m := range methods {
			t.Run(tc.name+"/"+m.method, func(t *testing.T) {
				target := strings.Replace(tc.target, "HOST", e.host(), 1)
				resp, body := e.raw(m.method, target, "alice", m.body, m.hdr...)
				switch {
				case resp.StatusCode >= 500:
					t.Fatalf("status %d", resp.StatusCode)
				case !tc.legal && resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound:
					t.Fatalf("status %d, want 400 or 404; body %s", resp.StatusCode, body)
				case tc.legal && !m.write && resp.StatusCode != http.StatusNotFound:
					t.Fatalf("status %d, want 404; body %s", resp.StatusCode, body)
				}
				if strings.Contains(body, bobSecret) {
					t.Fatalf("response carries bob's content: %s", body)
				}
				e.assertBobUntouched(t)
				if got, _ := e.file("alice", "a.txt"); got != "alice's a" {
					t.Fatalf("alice's a.txt is now %q", got)
				}
				if tc.legal {
					// Both backslash forms decode to the same name: start
					// each case without what the previous one created.
					os.RemoveAll(filepath.Join(e.home("alice"), `..\bob\x`))
				}
			})
		}
	}
}

// TestConfinementDestination sends the escaping forms as the Destination of
// COPY and MOVE: the file must stay in alice's home.
func TestConfinementDestination(t *testing.T) {
	e := newEnv(t)
	e.mustPut("bob", "/dav/files/bob/x", bobSecret)
	for _, tc := range escapeTargets {
		for _, method := range []string{"COPY", "MOVE"} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				e.mustPut("alice", "/dav/files/alice/src.txt", "payload")
				dest := tc.target
				if !strings.HasPrefix(dest, "http://") {
					dest = "http://HOST" + dest
				}
				dest = strings.Replace(dest, "HOST", e.host(), 1)
				resp, body := e.raw(method, "/dav/files/alice/src.txt", "alice", "", "Destination", dest, "Overwrite", "T")
				switch {
				case resp.StatusCode >= 500:
					t.Fatalf("status %d", resp.StatusCode)
				case !tc.legal && resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound:
					t.Fatalf("status %d, want 400 or 404; body %s", resp.StatusCode, body)
				case tc.legal && resp.StatusCode >= 300:
					t.Fatalf("status %d for a legal name in alice's home; body %s", resp.StatusCode, body)
				}
				e.assertBobUntouched(t)
				if tc.legal {
					// The backslash name is a plain file in alice's home.
					name := strings.TrimPrefix(tc.target, "/dav/files/alice/")
					name = strings.NewReplacer("%5c", `\`, "%2e", ".").Replace(name)
					if got, ok := e.file("alice", name); !ok || got != "payload" {
						t.Fatalf("alice's %q: %q, %v", name, got, ok)
					}
					os.Remove(filepath.Join(e.home("alice"), name))
				} else if method == "MOVE" {
					if _, ok := e.file("alice", "src.txt"); !ok {
						t.Fatal("a refused MOVE lost its source")
					}
				}
			})
		}
	}
	t.Run("other user's space", func(t *testing.T) {
		e.mustPut("alice", "/dav/files/alice/src.txt", "payload")
		for _, method := range []string{"COPY", "MOVE"} {
			resp, body := e.raw(method, "/dav/files/alice/src.txt", "alice", "",
				"Destination", e.url("/dav/files/bob/x"), "Overwrite", "T")
			if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s onto bob's x: status %d, want 403 or 404; body %s", method, resp.StatusCode, body)
			}
			e.assertBobUntouched(t)
		}
	})
}

// TestConfinementSymlinks plants links in alice's home on disk: those that
// leave the home are neither listed nor reachable, the listing still works,
// and a link to a sibling folder inside the home behaves like that folder.
func TestConfinementSymlinks(t *testing.T) {
	e := newEnv(t)
	e.mustPut("bob", "/dav/files/bob/x", bobSecret)
	e.expect(http.StatusCreated, "MKCOL", "/dav/files/alice/docs", "alice", "")
	e.mustPut("alice", "/dav/files/alice/docs/readme.txt", "read me")
	e.mustPut("alice", "/dav/files/alice/top.txt", "top")
	home := e.home("alice")
	links := map[string]string{
		"etc":     "/etc",
		"bobhome": e.home("bob"),
		"bobrel":  "../bob",
		"bobx":    "../bob/x",
		"up":      "../../",
		"sib":     "docs",
		"sibfile": "docs/readme.txt",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(home, name)); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("listing", func(t *testing.T) {
		_, body := e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/", "alice",
			propfindBody("resourcetype", "getetag", "{urn:z}p"), "Depth", "1")
		got := parseMultistatus(t, body).hrefs()
		want := []string{
			"/dav/files/alice/",
			"/dav/files/alice/docs/",
			"/dav/files/alice/sib/",
			"/dav/files/alice/sibfile",
			"/dav/files/alice/top.txt",
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("listing %v, want %v", got, want)
		}
	})

	// link marks paths whose last segment is the outside link itself: to a
	// client that name is free, so a PUT may create a file there, which
	// replaces the link and never writes through it.
	outside := []struct {
		name, path string
		link       bool
	}{
		{"etc passwd", "/dav/files/alice/etc/passwd", false},
		{"etc itself", "/dav/files/alice/etc", true},
		{"bob's home absolute", "/dav/files/alice/bobhome/x", false},
		{"bob's home relative", "/dav/files/alice/bobrel/x", false},
		{"bob's file", "/dav/files/alice/bobx", true},
		{"up two", "/dav/files/alice/up/files/bob/x", false},
	}
	for _, tc := range outside {
		t.Run("outside/"+tc.name, func(t *testing.T) {
			for _, m := range []struct {
				method, body string
				hdr          []string
			}{
				{"GET", "", nil},
				{"PROPFIND", "", []string{"Depth", "0"}},
				{"PROPFIND", "", []string{"Depth", "1"}},
				{"DELETE", "", nil},
				{"COPY", "", []string{"Destination", "/dav/files/alice/stolen"}},
				{"MOVE", "", []string{"Destination", "/dav/files/alice/stolen"}},
				{"PUT", "pwned", nil}, // last: it may replace the link
			} {
				resp, body := e.call(m.method, tc.path, "alice", m.body, m.hdr...)
				ok := resp.StatusCode == http.StatusNotFound ||
					// A PUT whose parent is an outside link has no parent.
					(m.method == "PUT" && !tc.link && resp.StatusCode == http.StatusConflict) ||
					(m.method == "PUT" && tc.link && resp.StatusCode == http.StatusCreated)
				if !ok {
					t.Errorf("%s %s: status %d; body %s", m.method, tc.path, resp.StatusCode, body)
				}
				if strings.Contains(body, bobSecret) || strings.Contains(body, "root:") {
					t.Fatalf("%s %s leaked content: %s", m.method, tc.path, body)
				}
			}
			e.assertBobUntouched(t)
			if _, ok := e.file("alice", "stolen"); ok {
				t.Fatal("a COPY or MOVE through an outside link created alice/stolen")
			}
			if tc.link {
				name := strings.TrimPrefix(tc.path, "/dav/files/alice/")
				fi, err := os.Lstat(filepath.Join(home, name))
				if err != nil || !fi.Mode().IsRegular() {
					t.Fatalf("after PUT, %s is %v (%v), want a regular file in alice's home", name, fi, err)
				}
			}
		})
	}

	t.Run("inside link", func(t *testing.T) {
		_, body := e.expect(http.StatusOK, "GET", "/dav/files/alice/sib/readme.txt", "alice", "")
		if body != "read me" {
			t.Fatalf("GET through sib: %q", body)
		}
		_, body = e.expect(http.StatusOK, "GET", "/dav/files/alice/sibfile", "alice", "")
		if body != "read me" {
			t.Fatalf("GET sibfile: %q", body)
		}
		_, body = e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/sib/", "alice", "", "Depth", "1")
		hrefs := parseMultistatus(t, body).hrefs()
		if strings.Join(hrefs, " ") != "/dav/files/alice/sib/ /dav/files/alice/sib/readme.txt" {
			t.Fatalf("listing through sib: %v", hrefs)
		}
		e.expect(http.StatusCreated, "PUT", "/dav/files/alice/sib/new.txt", "alice", "new")
		if got, ok := e.file("alice", "docs/new.txt"); !ok || got != "new" {
			t.Fatalf("PUT through sib: docs/new.txt is %q, %v", got, ok)
		}
	})
}
