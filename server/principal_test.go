package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// Issue #2, bullets 7 and 8: the principal, discovery above the user
// spaces, and collection URLs without their trailing slash.

const calDAV = "urn:ietf:params:xml:ns:caldav"

func TestPrincipal(t *testing.T) {
	e := newEnv(t)
	names := []string{"displayname", "principal-URL", "current-user-principal", "resourcetype", "{" + calDAV + "}calendar-user-address-set"}
	cases := []struct {
		user, path, display string
	}{
		{"alice", "/dav/principals/alice/", "Alice"},
		{"alice", "/dav/principals/alice", "Alice"},
		{"bob", "/dav/principals/bob/", "Bob"},
	}
	for _, tc := range cases {
		t.Run(tc.user+" "+tc.path, func(t *testing.T) {
			_, body := e.expect(http.StatusMultiStatus, "PROPFIND", tc.path, tc.user, propfindBody(names...), "Depth", "0")
			ms := parseMultistatus(t, body)
			if len(ms.Responses) != 1 {
				t.Fatalf("%d responses", len(ms.Responses))
			}
			r := ms.Responses[0]
			self := "/dav/principals/" + tc.user + "/"
			if r.Href != self {
				t.Fatalf("href %s, want %s", r.Href, self)
			}
			if got := r.value(t, "displayname").text(); got != tc.display {
				t.Fatalf("displayname %q, want %q", got, tc.display)
			}
			for _, n := range []string{"principal-URL", "current-user-principal"} {
				if got := hrefsIn(t, r.value(t, n).Inner); len(got) != 1 || got[0] != self {
					t.Fatalf("%s hrefs %v, want [%s]", n, got, self)
				}
			}
			if rt := canonicalXML(t, r.value(t, "resourcetype").Inner); !strings.Contains(rt, "<{DAV:}principal>") {
				t.Fatalf("resourcetype %s lacks DAV:principal", rt)
			}
			p := r.value(t, "{"+calDAV+"}calendar-user-address-set")
			if got := hrefsIn(t, p.Inner); !contains(got, "mailto:"+tc.user+"@example.org") {
				t.Fatalf("calendar-user-address-set hrefs %v", got)
			}
			if strings.Contains(body, "bob") != (tc.user == "bob") {
				t.Fatalf("the principal mentions the other user: %s", body)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	e.mustPut("alice", "/dav/files/alice/a.txt", "a")
	e.mustPut("bob", "/dav/files/bob/b.txt", "b")
	cases := []struct {
		path string
		want func(user string) []string
	}{
		{"/", func(string) []string { return []string{"/", "/dav/"} }},
		{"/dav/", func(string) []string {
			return []string{"/dav/", "/dav/files/", "/dav/notifications/", "/dav/principals/"}
		}},
		{"/dav", func(string) []string {
			return []string{"/dav/", "/dav/files/", "/dav/notifications/", "/dav/principals/"}
		}},
		{"/dav/files/", func(u string) []string { return []string{"/dav/files/", "/dav/files/" + u + "/"} }},
		{"/dav/files", func(u string) []string { return []string{"/dav/files/", "/dav/files/" + u + "/"} }},
		{"/dav/principals/", func(u string) []string { return []string{"/dav/principals/", "/dav/principals/" + u + "/"} }},
	}
	for _, user := range []string{"alice", "bob"} {
		other := map[string]string{"alice": "bob", "bob": "alice"}[user]
		for _, tc := range cases {
			t.Run(user+" "+tc.path, func(t *testing.T) {
				resp, body := e.raw("PROPFIND", tc.path, user, propfindBody("resourcetype", "current-user-principal"), "Depth", "1")
				if resp.StatusCode != http.StatusMultiStatus {
					t.Fatalf("status %d, want 207; Location %q", resp.StatusCode, resp.Header.Get("Location"))
				}
				ms := parseMultistatus(t, body)
				if got, want := strings.Join(ms.hrefs(), " "), strings.Join(tc.want(user), " "); got != want {
					t.Fatalf("hrefs %s, want %s", got, want)
				}
				if strings.Contains(body, "/"+other+"/") {
					t.Fatalf("%s sees %s's space: %s", user, other, body)
				}
				for _, r := range ms.Responses {
					if rt := canonicalXML(t, r.value(t, "resourcetype").Inner); !strings.Contains(rt, "{DAV:}collection") && !strings.Contains(rt, "{DAV:}principal") {
						t.Fatalf("%s: resourcetype %s", r.Href, rt)
					}
				}
			})
		}
	}
	t.Run("unauthenticated", func(t *testing.T) {
		e.expect(http.StatusUnauthorized, "PROPFIND", "/dav/files/", "", "", "Depth", "1")
	})
}

// TestNoTrailingSlash: a collection URL without its slash is answered
// directly, never redirected (Windows, clients.md).
func TestNoTrailingSlash(t *testing.T) {
	e := newEnv(t)
	e.expect(http.StatusCreated, "MKCOL", "/dav/files/alice/dir", "alice", "")
	e.mustPut("alice", "/dav/files/alice/dir/f.txt", "f")
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		self                     string // the href of the collection, for PROPFIND
	}{
		{"PROPFIND depth 0", "PROPFIND", "/dav/files/alice/dir", "", []string{"Depth", "0"}, 207, "/dav/files/alice/dir/"},
		{"PROPFIND depth 1", "PROPFIND", "/dav/files/alice/dir", "", []string{"Depth", "1"}, 207, "/dav/files/alice/dir/"},
		{"PROPFIND home", "PROPFIND", "/dav/files/alice", "", []string{"Depth", "1"}, 207, "/dav/files/alice/"},
		{"PROPPATCH", "PROPPATCH", "/dav/files/alice/dir",
			`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:x xmlns:A="urn:example:a">1</A:x></D:prop></D:set></D:propertyupdate>`, nil, 207, "/dav/files/alice/dir/"},
		{"LOCK", "LOCK", "/dav/files/alice/dir", lockBody(true), []string{"Depth", "0"}, 200, ""},
		{"OPTIONS", "OPTIONS", "/dav/files/alice/dir", "", nil, 200, ""},
		{"HEAD", "HEAD", "/dav/files/alice/dir", "", nil, -1, ""},
		{"GET", "GET", "/dav/files/alice/dir", "", nil, -1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.raw(tc.method, tc.path, "alice", tc.body, tc.hdr...)
			if resp.StatusCode >= 300 && resp.StatusCode < 400 {
				t.Fatalf("redirected: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if tc.status > 0 && resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			if resp.StatusCode >= 500 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if tc.self != "" {
				parseMultistatus(t, body).response(t, tc.self)
			}
		})
	}
}
