package server_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Issue #2, bullet 5: PROPFIND.

// smallTree builds the fixed tree of the golden files in alice's home:
//
//	docs/        (dead property color=blue)
//	docs/a.txt   "alpha"   (dead property color=red)
//	empty/
//	b.html       "<p>b</p>"
func (e *env) smallTree(t *testing.T) {
	t.Helper()
	e.expect(http.StatusCreated, "MKCOL", "/dav/files/alice/docs", "alice", "")
	e.expect(http.StatusCreated, "MKCOL", "/dav/files/alice/empty", "alice", "")
	e.mustPut("alice", "/dav/files/alice/docs/a.txt", "alpha")
	e.mustPut("alice", "/dav/files/alice/b.html", "<p>b</p>")
	for path, color := range map[string]string{"/dav/files/alice/docs/": "blue", "/dav/files/alice/docs/a.txt": "red"} {
		e.expect(http.StatusMultiStatus, "PROPPATCH", path, "alice",
			`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:color xmlns:A="urn:example:a" xml:lang="en">`+color+`</A:color></D:prop></D:set></D:propertyupdate>`)
	}
}

func TestPropfindDepthRefused(t *testing.T) {
	e := newEnv(t)
	e.mustPut("alice", "/dav/files/alice/f.txt", "f")
	paths := []string{"/dav/files/alice/", "/dav/files/alice", "/dav/files/alice/f.txt", "/dav/", "/"}
	cases := []struct {
		name   string
		hdr    []string
		status int
	}{
		{"missing", nil, http.StatusForbidden},
		{"infinity", []string{"Depth", "infinity"}, http.StatusForbidden},
		{"Infinity", []string{"Depth", "Infinity"}, http.StatusForbidden},
		{"two", []string{"Depth", "2"}, http.StatusBadRequest},
		{"word", []string{"Depth", "one"}, http.StatusBadRequest},
	}
	for _, tc := range cases {
		for _, p := range paths {
			t.Run(tc.name+" "+p, func(t *testing.T) {
				_, body := e.expect(tc.status, "PROPFIND", p, "alice", propfindBody("getetag"), tc.hdr...)
				if tc.status != http.StatusForbidden {
					return
				}
				if !hasCondition(errorConditions(t, body), "propfind-finite-depth") {
					t.Fatalf("403 without propfind-finite-depth: %s", body)
				}
			})
		}
	}
	t.Run("golden", func(t *testing.T) {
		_, body := e.expect(http.StatusForbidden, "PROPFIND", "/dav/files/alice/", "alice", "", "Depth", "infinity")
		golden(t, "propfind-infinity", body)
	})
}

func TestPropfindLiveProps(t *testing.T) {
	e := newEnv(t)
	e.smallTree(t)
	names := []string{"getetag", "quota-available-bytes", "quota-used-bytes", "current-user-principal", "owner", "lockdiscovery", "supportedlock", "resourcetype"}
	_, body := e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/", "alice", propfindBody(names...), "Depth", "1")
	ms := parseMultistatus(t, body)
	want := "/dav/files/alice/ /dav/files/alice/b.html /dav/files/alice/docs/ /dav/files/alice/empty/"
	if got := strings.Join(ms.hrefs(), " "); got != want {
		t.Fatalf("hrefs %s, want %s", got, want)
	}
	for _, r := range ms.Responses {
		t.Run(r.Href, func(t *testing.T) {
			dir := strings.HasSuffix(r.Href, "/")
			isColl := strings.Contains(r.value(t, "resourcetype").Inner, "collection")
			if dir != isColl {
				t.Fatalf("resourcetype %q for %s", r.value(t, "resourcetype").Inner, r.Href)
			}
			if et := r.value(t, "getetag").text(); len(et) < 3 || et[0] != '"' {
				t.Fatalf("getetag %q", et)
			}
			for _, n := range []string{"current-user-principal", "owner"} {
				if got := hrefsIn(t, r.value(t, n).Inner); len(got) != 1 || got[0] != "/dav/principals/alice/" {
					t.Fatalf("%s hrefs %v", n, got)
				}
			}
			r.value(t, "lockdiscovery")
			sl := canonicalXML(t, r.value(t, "supportedlock").Inner)
			for _, s := range []string{"{DAV:}exclusive", "{DAV:}shared", "{DAV:}write"} {
				if !strings.Contains(sl, s) {
					t.Fatalf("supportedlock lacks %s: %s", s, sl)
				}
			}
			for _, q := range []string{"quota-available-bytes", "quota-used-bytes"} {
				st, p, ok := r.find(q)
				if !dir {
					if !ok || st != http.StatusNotFound {
						t.Fatalf("%s on a file: status %d present %v, want 404", q, st, ok)
					}
					continue
				}
				if !ok || st != http.StatusOK {
					t.Fatalf("%s: status %d present %v, want 200", q, st, ok)
				}
				n, err := strconv.ParseInt(p.text(), 10, 64)
				if err != nil || n < 0 {
					t.Fatalf("%s = %q", q, p.text())
				}
				if q == "quota-available-bytes" && n == 0 {
					t.Fatalf("quota-available-bytes is 0: clients would refuse to write")
				}
			}
		})
	}
	t.Run("file ETag matches GET", func(t *testing.T) {
		resp, _ := e.expect(http.StatusOK, "GET", "/dav/files/alice/b.html", "alice", "")
		if got := ms.response(t, "/dav/files/alice/b.html").value(t, "getetag").text(); got != resp.Header.Get("ETag") {
			t.Fatalf("getetag %s, GET ETag %s", got, resp.Header.Get("ETag"))
		}
	})
	t.Run("used bytes count the files", func(t *testing.T) {
		used, _ := strconv.Atoi(ms.response(t, "/dav/files/alice/").value(t, "quota-used-bytes").text())
		if want := len("alpha") + len("<p>b</p>"); used < want {
			t.Fatalf("quota-used-bytes %d, want at least %d", used, want)
		}
	})
	t.Run("golden", func(t *testing.T) {
		golden(t, "propfind-depth1-named", body)
	})
}

// notInAllprop are the properties RFC 4918 §9.1 lets allprop leave out and
// that we compute on demand only.
var notInAllprop = []string{"quota-available-bytes", "quota-used-bytes", "current-user-principal", "owner"}

func TestPropfindAllprop(t *testing.T) {
	e := newEnv(t)
	e.smallTree(t)
	for _, body := range []string{"", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`} {
		name := "empty body"
		if body != "" {
			name = "allprop element"
		}
		t.Run(name, func(t *testing.T) {
			_, resp := e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/", "alice", body, "Depth", "1")
			ms := parseMultistatus(t, resp)
			if len(ms.Responses) != 4 {
				t.Fatalf("%d responses: %v", len(ms.Responses), ms.hrefs())
			}
			for _, r := range ms.Responses {
				for _, n := range []string{"resourcetype", "displayname", "getetag", "getlastmodified", "supportedlock", "lockdiscovery"} {
					r.value(t, n)
				}
				for _, n := range notInAllprop {
					if _, _, ok := r.find(n); ok {
						t.Fatalf("%s: allprop includes %s", r.Href, n)
					}
				}
				for _, ps := range r.Propstats {
					if statusCode(ps.Status) != http.StatusOK {
						t.Fatalf("%s: allprop answered a %s propstat", r.Href, ps.Status)
					}
				}
			}
			r := ms.response(t, "/dav/files/alice/docs/")
			if got := r.value(t, "{urn:example:a}color"); got.Inner != "blue" || got.Lang != "en" {
				t.Fatalf("allprop color %+v", got)
			}
		})
	}
	t.Run("include", func(t *testing.T) {
		body := `<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:quota-used-bytes/><D:owner/></D:include></D:propfind>`
		_, resp := e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/", "alice", body, "Depth", "0")
		r := parseMultistatus(t, resp).response(t, "/dav/files/alice/")
		r.value(t, "quota-used-bytes")
		r.value(t, "owner")
		r.value(t, "getetag")
		if _, _, ok := r.find("current-user-principal"); ok {
			t.Fatal("include of owner brought current-user-principal")
		}
	})
	t.Run("golden", func(t *testing.T) {
		_, resp := e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/docs/", "alice", "", "Depth", "1")
		golden(t, "propfind-allprop-docs", resp)
	})
}

func TestPropfindUnknownProps(t *testing.T) {
	e := newEnv(t)
	e.smallTree(t)
	cases := []struct {
		name    string
		path    string
		props   []string
		found   []string
		missing []string
	}{
		{"mixed on a file", "/dav/files/alice/docs/a.txt",
			[]string{"getetag", "nonexistent", "{urn:x}nope", "{urn:example:a}color", "quota-used-bytes"},
			[]string{"getetag", "{urn:example:a}color"}, []string{"nonexistent", "{urn:x}nope", "quota-used-bytes"}},
		{"only unknown", "/dav/files/alice/empty/",
			[]string{"{urn:x}nope", "{urn:example:a}color"}, nil, []string{"{urn:x}nope", "{urn:example:a}color"}},
		{"live only", "/dav/files/alice/", []string{"getetag", "displayname"}, []string{"getetag", "displayname"}, nil},
		{"file-only props on a collection", "/dav/files/alice/docs/",
			[]string{"getcontentlength", "resourcetype"}, []string{"resourcetype"}, []string{"getcontentlength"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, body := e.expect(http.StatusMultiStatus, "PROPFIND", tc.path, "alice", propfindBody(tc.props...), "Depth", "0")
			r := parseMultistatus(t, body).response(t, tc.path)
			for _, n := range tc.found {
				r.value(t, n)
			}
			for _, n := range tc.missing {
				st, p, ok := r.find(n)
				if !ok || st != http.StatusNotFound {
					t.Fatalf("%s: status %d present %v, want 404", n, st, ok)
				}
				if p.Inner != "" {
					t.Fatalf("404 property %s has a value %q", n, p.Inner)
				}
			}
			for _, ps := range r.Propstats {
				if len(ps.Prop.Props) == 0 {
					t.Fatalf("empty propstat %s:\n%s", ps.Status, body)
				}
			}
		})
	}
}

func TestPropfindPropname(t *testing.T) {
	e := newEnv(t)
	e.smallTree(t)
	body := `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`
	cases := []struct {
		path   string
		want   []string
		absent []string
	}{
		{"/dav/files/alice/docs/a.txt",
			[]string{"resourcetype", "getetag", "getcontentlength", "getcontenttype", "getlastmodified", "displayname", "supportedlock", "lockdiscovery", "{urn:example:a}color"},
			[]string{"quota-used-bytes", "quota-available-bytes"}},
		{"/dav/files/alice/docs/",
			[]string{"resourcetype", "getetag", "getlastmodified", "quota-used-bytes", "quota-available-bytes", "{urn:example:a}color"},
			[]string{"getcontentlength"}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			_, resp := e.expect(http.StatusMultiStatus, "PROPFIND", tc.path, "alice", body, "Depth", "0")
			r := parseMultistatus(t, resp).response(t, tc.path)
			for _, n := range tc.want {
				if p := r.value(t, n); p.Inner != "" {
					t.Fatalf("propname returned a value for %s: %q", n, p.Inner)
				}
			}
			for _, n := range tc.absent {
				if _, _, ok := r.find(n); ok {
					t.Fatalf("propname lists %s, which %s does not have", n, tc.path)
				}
			}
		})
	}
	t.Run("golden", func(t *testing.T) {
		_, resp := e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/docs/a.txt", "alice", body, "Depth", "0")
		golden(t, "propfind-propname-file", resp)
	})
}

// TestGoldenResponses records the other response bodies of a small fixed
// tree.
func TestGoldenResponses(t *testing.T) {
	e := newEnv(t)
	e.smallTree(t)
	cases := []struct {
		name, method, path, body string
		status                   int
		hdr                      []string
	}{
		{"proppatch-protected", "PROPPATCH", "/dav/files/alice/b.html",
			`<D:propertyupdate xmlns:D="DAV:" xmlns:A="urn:example:a"><D:set><D:prop><A:x>1</A:x><D:getetag>"x"</D:getetag></D:prop></D:set></D:propertyupdate>`,
			http.StatusMultiStatus, nil},
		{"proppatch-ok", "PROPPATCH", "/dav/files/alice/b.html",
			`<D:propertyupdate xmlns:D="DAV:" xmlns:A="urn:example:a"><D:set><D:prop><A:x>1</A:x></D:prop></D:set><D:remove><D:prop><A:y/></D:prop></D:remove></D:propertyupdate>`,
			http.StatusMultiStatus, nil},
		{"lock-new-file", "LOCK", "/dav/files/alice/locked.txt", lockBody(false), http.StatusCreated, []string{"Timeout", "Second-600"}},
		{"principal", "PROPFIND", "/dav/principals/alice/",
			propfindBody("displayname", "principal-URL", "current-user-principal", "resourcetype", "{urn:ietf:params:xml:ns:caldav}calendar-user-address-set", "{urn:x}nope"),
			http.StatusMultiStatus, []string{"Depth", "0"}},
		{"discovery-dav", "PROPFIND", "/dav/", "", http.StatusMultiStatus, []string{"Depth", "1"}},
		{"discovery-files", "PROPFIND", "/dav/files/", propfindBody("resourcetype", "current-user-principal"), http.StatusMultiStatus, []string{"Depth", "1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, body := e.expect(tc.status, tc.method, tc.path, "alice", tc.body, tc.hdr...)
			golden(t, tc.name, body)
		})
	}
}

// TestPropfindLongListing: a listing many times the multistatus buffer
// (davxml flushAt, 32 KiB) goes out in pieces; the document must still be
// one well-formed multistatus with every member once.
func TestPropfindLongListing(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.home("alice"), "many")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 600 // about 250 KB of XML
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-with-a-longish-name-%04d.txt", i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, body := e.expect(207, "PROPFIND", "/dav/files/alice/many/", "alice", "", "Depth", "1")
	if len(body) < 4*32<<10 {
		t.Fatalf("the listing is %d bytes: too short to cross the buffer several times", len(body))
	}
	ms := parseMultistatus(t, body)
	seen := map[string]bool{}
	for _, r := range ms.Responses {
		if seen[r.Href] {
			t.Errorf("%s listed twice", r.Href)
		}
		seen[r.Href] = true
	}
	if len(seen) != n+1 {
		t.Errorf("%d responses, want %d", len(seen), n+1)
	}
	ms.response(t, "/dav/files/alice/many/file-with-a-longish-name-0599.txt")
}
