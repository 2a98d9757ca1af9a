package server_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// Issue #2, bullet 2: authentication, unauthenticated OPTIONS and /healthz,
// and per-user spaces.

func TestAuthChallenge(t *testing.T) {
	e := newEnv(t)
	e.mustPut("alice", "/dav/files/alice/f.txt", "original")
	creds := []struct {
		name string
		auth string // the Authorization header, "" for none
	}{
		{"missing", ""},
		{"wrong password", basic("alice", "not-her-password")},
		{"empty password", basic("alice", "")},
		{"unknown user", basic("mallory", passwords["alice"])},
		{"not base64", "Basic !!!not-base64"},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))},
		{"other scheme", "Bearer alice-secret"},
	}
	methods := []struct {
		method, path, body string
		hdr                []string
	}{
		{"GET", "/dav/files/alice/f.txt", "", nil},
		{"PROPFIND", "/dav/files/alice/", "", []string{"Depth", "1"}},
		{"PROPFIND", "/dav/principals/alice/", "", []string{"Depth", "0"}},
		{"PROPFIND", "/", "", []string{"Depth", "0"}},
		{"PUT", "/dav/files/alice/f.txt", "changed", nil},
		{"PUT", "/dav/files/alice/new.txt", "new", nil},
		{"DELETE", "/dav/files/alice/f.txt", "", nil},
		{"LOCK", "/dav/files/alice/f.txt", lockBody(false), nil},
	}
	for _, c := range creds {
		for _, m := range methods {
			t.Run(c.name+"/"+m.method+" "+m.path, func(t *testing.T) {
				hdr := append([]string{}, m.hdr...)
				if c.auth != "" {
					hdr = append(hdr, "Authorization", c.auth)
				}
				resp, body := e.call(m.method, m.path, "", m.body, hdr...)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401; body %s", resp.StatusCode, body)
				}
				ch := resp.Header.Get("WWW-Authenticate")
				if !strings.HasPrefix(ch, `Basic realm="`) {
					t.Fatalf("WWW-Authenticate %q, want a Basic challenge with a realm", ch)
				}
				if strings.Contains(body, "original") {
					t.Fatalf("401 body carries content: %s", body)
				}
				if got, _ := e.file("alice", "f.txt"); got != "original" {
					t.Fatalf("f.txt is now %q", got)
				}
				for _, n := range []string{"new.txt", "dir"} {
					if _, ok := e.file("alice", n); ok {
						t.Fatalf("%s was created", n)
					}
				}
			})
		}
	}
}

func TestOptionsUnauthenticated(t *testing.T) {
	e := newEnv(t)
	fileMethods := []string{"OPTIONS", "GET", "HEAD", "PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK"}
	cases := []struct {
		path  string
		allow []string
	}{
		{"/", []string{"OPTIONS", "PROPFIND"}},
		{"/dav/", []string{"OPTIONS", "PROPFIND"}},
		{"/dav/files/", []string{"OPTIONS", "PROPFIND"}},
		{"/dav/files/alice/", fileMethods},
		{"/dav/files/alice/x", fileMethods},
		{"/dav/files/nobody/x", fileMethods}, // the answer reveals nothing
		{"/dav/principals/alice/", []string{"OPTIONS", "PROPFIND"}},
		{"/unrelated/path", []string{"OPTIONS"}},
	}
	for _, tc := range cases {
		for _, user := range []string{"", "alice"} {
			t.Run(tc.path+"/as "+user, func(t *testing.T) {
				resp, body := e.call("OPTIONS", tc.path, user, "")
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d, want 200; body %s", resp.StatusCode, body)
				}
				dav := tokens(resp.Header.Get("DAV"))
				for _, want := range []string{"1", "2", "3"} {
					if !dav[want] {
						t.Errorf("DAV %q lacks %s", resp.Header.Get("DAV"), want)
					}
				}
				if got := resp.Header.Get("MS-Author-Via"); got != "DAV" {
					t.Errorf("MS-Author-Via %q, want DAV", got)
				}
				allow := tokens(resp.Header.Get("Allow"))
				for _, m := range tc.allow {
					if !allow[m] {
						t.Errorf("Allow %q lacks %s", resp.Header.Get("Allow"), m)
					}
				}
				if resp.Header.Get("WWW-Authenticate") != "" {
					t.Error("OPTIONS challenged the client")
				}
			})
		}
	}
}

// tokens splits a comma-separated header into a set.
func tokens(h string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Split(h, ",") {
		if f = strings.TrimSpace(f); f != "" {
			m[f] = true
		}
	}
	return m
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	for _, user := range []string{"", "alice"} {
		t.Run("as "+user, func(t *testing.T) {
			resp, _ := e.expect(http.StatusOK, "GET", "/healthz", user, "")
			if resp.Header.Get("WWW-Authenticate") != "" {
				t.Error("healthz challenged the client")
			}
		})
	}
}

// TestSpaceIsolation: another user's file space and principal are
// indistinguishable from nothing (404), and the {user} segment is matched
// whole, so alice2 is not alice.
func TestSpaceIsolation(t *testing.T) {
	e := newEnv(t)
	e.mustPut("alice", "/dav/files/alice/f.txt", "alice's")
	e.expect(http.StatusCreated, "MKCOL", "/dav/files/alice/dir", "alice", "")
	cases := []struct {
		name, user, method, path, body string
		hdr                            []string
	}{
		{"bob GET", "bob", "GET", "/dav/files/alice/f.txt", "", nil},
		{"bob HEAD", "bob", "HEAD", "/dav/files/alice/f.txt", "", nil},
		{"bob PROPFIND home", "bob", "PROPFIND", "/dav/files/alice/", "", []string{"Depth", "1"}},
		{"bob PROPFIND home no slash", "bob", "PROPFIND", "/dav/files/alice", "", []string{"Depth", "0"}},
		{"bob PROPFIND missing", "bob", "PROPFIND", "/dav/files/alice/nothing", "", []string{"Depth", "0"}},
		{"bob PUT", "bob", "PUT", "/dav/files/alice/f.txt", "bob was here", nil},
		{"bob PUT new", "bob", "PUT", "/dav/files/alice/new.txt", "bob was here", nil},
		{"bob DELETE", "bob", "DELETE", "/dav/files/alice/f.txt", "", nil},
		{"bob MKCOL", "bob", "MKCOL", "/dav/files/alice/bobdir", "", nil},
		{"bob MOVE", "bob", "MOVE", "/dav/files/alice/f.txt", "", []string{"Destination", "/dav/files/bob/f.txt"}},
		{"bob COPY", "bob", "COPY", "/dav/files/alice/f.txt", "", []string{"Destination", "/dav/files/bob/f.txt"}},
		{"bob PROPPATCH", "bob", "PROPPATCH", "/dav/files/alice/f.txt", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><Z:p xmlns:Z="urn:z">v</Z:p></D:prop></D:set></D:propertyupdate>`, nil},
		{"bob LOCK", "bob", "LOCK", "/dav/files/alice/f.txt", lockBody(false), nil},
		{"bob principal", "bob", "PROPFIND", "/dav/principals/alice/", "", []string{"Depth", "0"}},
		{"bob principal no slash", "bob", "PROPFIND", "/dav/principals/alice", "", []string{"Depth", "0"}},
		{"alice2 home", "alice", "PROPFIND", "/dav/files/alice2/", "", []string{"Depth", "0"}},
		{"alice2 no slash", "alice", "PROPFIND", "/dav/files/alice2", "", []string{"Depth", "0"}},
		{"alice2 file", "alice", "GET", "/dav/files/alice2/f.txt", "", nil},
		{"alice2 PUT", "alice", "PUT", "/dav/files/alice2/x", "x", nil},
		{"alice2 MKCOL", "alice", "MKCOL", "/dav/files/alice2", "", nil},
		{"alic prefix", "alice", "PROPFIND", "/dav/files/alic/", "", []string{"Depth", "0"}},
		{"case differs", "alice", "PROPFIND", "/dav/files/ALICE/", "", []string{"Depth", "0"}},
		{"alice2 principal", "alice", "PROPFIND", "/dav/principals/alice2/", "", []string{"Depth", "0"}},
		{"principal member", "alice", "PROPFIND", "/dav/principals/alice/x", "", []string{"Depth", "0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.call(tc.method, tc.path, tc.user, tc.body, tc.hdr...)
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s %s as %s: status %d, want 404; body %s", tc.method, tc.path, tc.user, resp.StatusCode, body)
			}
			if strings.Contains(body, "alice's") || strings.Contains(body, "f.txt") {
				t.Fatalf("404 body reveals alice's space: %s", body)
			}
			if got, _ := e.file("alice", "f.txt"); got != "alice's" {
				t.Fatalf("alice's f.txt is now %q", got)
			}
			for _, n := range []string{"new.txt", "bobdir", "2", "2/x"} {
				if _, ok := e.file("alice", n); ok {
					t.Fatalf("alice/%s was created", n)
				}
			}
			if _, ok := e.file("bob", "f.txt"); ok {
				t.Fatal("bob/f.txt was created")
			}
		})
	}
}
