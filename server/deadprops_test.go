package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// Issue #2, bullet 3: dead properties.

// deadProps are the values PROPPATCH sets, keyed by "{space}local"; each is
// the whole property element as the client sends it.
var deadProps = []struct {
	name string
	lang string
	elem string // the property element as sent
	want string // its content, as canonicalXML renders it
}{
	{
		name: "{urn:example:a}color",
		elem: `<A:color xmlns:A="urn:example:a">red &amp; blue</A:color>`,
		want: "red & blue",
	},
	{
		name: "{urn:example:a}nested",
		lang: "fr-CA",
		elem: `<A:nested xmlns:A="urn:example:a" xml:lang="fr-CA"><B:inner xmlns:B="urn:example:b" B:attr="v&quot;1" plain="p">texte <C:deep xmlns:C="urn:example:c"><C:deeper/></C:deep> fin</B:inner><A:sibling xml:lang="en">x</A:sibling></A:nested>`,
		want: `<{urn:example:b}inner {urn:example:b}attr="v\"1" {}plain="p">texte <{urn:example:c}deep><{urn:example:c}deeper></{urn:example:c}deeper></{urn:example:c}deep> fin</{urn:example:b}inner>` +
			`<{urn:example:a}sibling {http://www.w3.org/XML/1998/namespace}lang="en">x</{urn:example:a}sibling>`,
	},
	{
		name: "{urn:example:a}color2", // default namespace
		elem: `<color2 xmlns="urn:example:a"><inner xmlns="urn:example:d">v</inner></color2>`,
		want: `<{urn:example:d}inner>v</{urn:example:d}inner>`,
	},
	{
		name: "{urn:schemas-microsoft-com:}Win32LastModifiedTime",
		elem: `<Z:Win32LastModifiedTime xmlns:Z="urn:schemas-microsoft-com:">Wed, 01 Jan 2025 10:00:00 GMT</Z:Win32LastModifiedTime>`,
		want: "Wed, 01 Jan 2025 10:00:00 GMT",
	},
	{
		name: "{urn:example:a}empty",
		elem: `<A:empty xmlns:A="urn:example:a"/>`,
		want: "",
	},
}

func setAllBody() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>`)
	for _, p := range deadProps {
		b.WriteString(p.elem)
	}
	b.WriteString(`</D:prop></D:set></D:propertyupdate>`)
	return b.String()
}

func deadNames() []string {
	var ns []string
	for _, p := range deadProps {
		ns = append(ns, p.name)
	}
	return ns
}

// checkDead asserts that every dead property is at path with its value, or,
// with present false, that none is.
func (e *env) checkDead(t *testing.T, path string, present bool) {
	t.Helper()
	_, body := e.expect(http.StatusMultiStatus, "PROPFIND", path, "alice", propfindBody(deadNames()...), "Depth", "0")
	r := parseMultistatus(t, body).Responses
	if len(r) != 1 {
		t.Fatalf("PROPFIND %s: %d responses", path, len(r))
	}
	for _, p := range deadProps {
		st, got, ok := r[0].find(p.name)
		if !present {
			if !ok || st != http.StatusNotFound {
				t.Fatalf("%s: %s has status %d (present %v), want 404", path, p.name, st, ok)
			}
			continue
		}
		if !ok || st != http.StatusOK {
			t.Fatalf("%s: %s has status %d (present %v), want 200\n%s", path, p.name, st, ok, body)
		}
		if c := canonicalXML(t, got.Inner); c != p.want {
			t.Fatalf("%s: %s is\n  %s\nwant\n  %s", path, p.name, c, p.want)
		}
		if got.Lang != p.lang {
			t.Fatalf("%s: %s has xml:lang %q, want %q", path, p.name, got.Lang, p.lang)
		}
	}
}

// setDead sets every dead property and checks the 207 answer.
func (e *env) setDead(t *testing.T, path string) {
	t.Helper()
	_, body := e.expect(http.StatusMultiStatus, "PROPPATCH", path, "alice", setAllBody())
	ms := parseMultistatus(t, body)
	if len(ms.Responses) != 1 {
		t.Fatalf("PROPPATCH: %d responses", len(ms.Responses))
	}
	for _, p := range deadProps {
		if st, _, ok := ms.Responses[0].find(p.name); !ok || st != http.StatusOK {
			t.Fatalf("PROPPATCH %s: %s status %d present %v\n%s", path, p.name, st, ok, body)
		}
	}
}

func TestDeadProperties(t *testing.T) {
	kinds := []struct {
		name string
		path string // where the resource is created
		copy string
		move string
		dir  bool
	}{
		{"file", "/dav/files/alice/f.txt", "/dav/files/alice/copy.txt", "/dav/files/alice/sub/moved.txt", false},
		{"collection", "/dav/files/alice/folder/", "/dav/files/alice/copy/", "/dav/files/alice/sub/moved/", true},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			e := newEnv(t)
			e.expect(http.StatusCreated, "MKCOL", "/dav/files/alice/sub", "alice", "")
			if k.dir {
				e.expect(http.StatusCreated, "MKCOL", k.path, "alice", "")
				e.mustPut("alice", k.path+"member.txt", "m")
				e.expect(http.StatusCreated, "MKCOL", k.path+"inner/", "alice", "")
				e.setDead(t, k.path+"inner/")
				e.setDead(t, k.path+"member.txt")
			} else {
				e.mustPut("alice", k.path, "v1")
			}
			e.checkDead(t, k.path, false)
			e.setDead(t, k.path)
			e.checkDead(t, k.path, true)

			t.Run("allprop", func(t *testing.T) {
				_, body := e.expect(http.StatusMultiStatus, "PROPFIND", k.path, "alice", "", "Depth", "0")
				r := parseMultistatus(t, body).response(t, k.path)
				for _, p := range deadProps {
					if st, _, ok := r.find(p.name); !ok || st != http.StatusOK {
						t.Errorf("allprop lacks %s", p.name)
					}
				}
			})
			t.Run("restart", func(t *testing.T) {
				e.restart()
				e.checkDead(t, k.path, true)
			})
			t.Run("copy", func(t *testing.T) {
				e.expect(http.StatusCreated, "COPY", k.path, "alice", "", "Destination", e.url(k.copy))
				e.checkDead(t, k.copy, true)
				e.checkDead(t, k.path, true)
				if k.dir {
					e.checkDead(t, k.copy+"inner/", true)
					e.checkDead(t, k.copy+"member.txt", true)
				}
			})
			t.Run("move", func(t *testing.T) {
				e.expect(http.StatusCreated, "MOVE", k.copy, "alice", "", "Destination", e.url(k.move))
				e.checkDead(t, k.move, true)
				if k.dir {
					e.checkDead(t, k.move+"inner/", true)
				}
				e.expect(http.StatusNotFound, "PROPFIND", k.copy, "alice", "", "Depth", "0")
			})
			if !k.dir {
				t.Run("overwriting PUT", func(t *testing.T) {
					e.expect(http.StatusNoContent, "PUT", k.path, "alice", "v2, longer")
					e.checkDead(t, k.path, true)
					if got, _ := e.file("alice", "f.txt"); got != "v2, longer" {
						t.Fatalf("content %q", got)
					}
				})
			}
			t.Run("remove", func(t *testing.T) {
				body := `<D:propertyupdate xmlns:D="DAV:" xmlns:A="urn:example:a"><D:remove><D:prop><A:color/><A:never-set/></D:prop></D:remove></D:propertyupdate>`
				_, resp := e.expect(http.StatusMultiStatus, "PROPPATCH", k.path, "alice", body)
				r := parseMultistatus(t, resp).Responses[0]
				for _, n := range []string{"{urn:example:a}color", "{urn:example:a}never-set"} {
					if st, _, ok := r.find(n); !ok || st != http.StatusOK {
						t.Fatalf("remove %s: status %d present %v\n%s", n, st, ok, resp)
					}
				}
				_, resp = e.expect(http.StatusMultiStatus, "PROPFIND", k.path, "alice", propfindBody(deadNames()...), "Depth", "0")
				r = parseMultistatus(t, resp).Responses[0]
				for _, p := range deadProps {
					st, _, _ := r.find(p.name)
					want := http.StatusOK
					if p.name == "{urn:example:a}color" {
						want = http.StatusNotFound
					}
					if st != want {
						t.Fatalf("after remove, %s has status %d, want %d", p.name, st, want)
					}
				}
			})
			t.Run("set and remove in order", func(t *testing.T) {
				// RFC 4918 §14.19: instructions apply in document order.
				body := `<D:propertyupdate xmlns:D="DAV:" xmlns:A="urn:example:a">` +
					`<D:set><D:prop><A:order>first</A:order></D:prop></D:set>` +
					`<D:remove><D:prop><A:order/></D:prop></D:remove>` +
					`<D:set><D:prop><A:order>last</A:order></D:prop></D:set></D:propertyupdate>`
				e.expect(http.StatusMultiStatus, "PROPPATCH", k.path, "alice", body)
				_, resp := e.expect(http.StatusMultiStatus, "PROPFIND", k.path, "alice", propfindBody("{urn:example:a}order"), "Depth", "0")
				p := parseMultistatus(t, resp).Responses[0].value(t, "{urn:example:a}order")
				if p.Inner != "last" {
					t.Fatalf("order = %q, want last", p.Inner)
				}
			})
		})
	}
}

func TestPropPatchRejects(t *testing.T) {
	e := newEnv(t)
	e.mustPut("alice", "/dav/files/alice/f.txt", "content")
	const path = "/dav/files/alice/f.txt"
	probe := "{urn:example:a}probe"

	cases := []struct {
		name   string
		body   string
		status []int
	}{
		{"unclosed", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="urn:example:a">v</A:probe></D:prop></D:set>`, []int{400}},
		{"mismatched tags", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="urn:example:a">v</A:other></D:prop></D:set></D:propertyupdate>`, []int{400}},
		{"wrong root", `<D:propfind xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="urn:example:a">v</A:probe></D:prop></D:set></D:propfind>`, []int{400}},
		{"root outside DAV:", `<propertyupdate><set><prop><probe>v</probe></prop></set></propertyupdate>`, []int{400}},
		{"not XML", `set probe = v`, []int{400}},
		{"empty body", ``, []int{400}},
		{"no instruction", `<D:propertyupdate xmlns:D="DAV:"/>`, []int{400}},
		{"set without prop", `<D:propertyupdate xmlns:D="DAV:"><D:set/></D:propertyupdate>`, []int{400}},
		{"trailing garbage", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="urn:example:a">v</A:probe></D:prop></D:set></D:propertyupdate><x/>`, []int{400}},
		{"unbound prefix", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="">v</A:probe></D:prop></D:set></D:propertyupdate>`, []int{400}},
		{"too deep", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="urn:example:a">` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</A:probe></D:prop></D:set></D:propertyupdate>`, []int{400}},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE D:propertyupdate [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="urn:example:a">&xxe;</A:probe></D:prop></D:set></D:propertyupdate>`, []int{400, 403}},
		{"internal entity expansion", `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>` +
			`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="urn:example:a">&b;</A:probe></D:prop></D:set></D:propertyupdate>`, []int{400, 403}},
		{"DTD alone", `<!DOCTYPE D:propertyupdate SYSTEM "http://127.0.0.1:1/evil.dtd"><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="urn:example:a">v</A:probe></D:prop></D:set></D:propertyupdate>`, []int{400, 403}},
		{"undeclared entity", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:probe xmlns:A="urn:example:a">&nope;</A:probe></D:prop></D:set></D:propertyupdate>`, []int{400}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.call("PROPPATCH", path, "alice", tc.body)
			ok := false
			for _, s := range tc.status {
				ok = ok || resp.StatusCode == s
			}
			if !ok {
				t.Fatalf("status %d, want one of %v; body %s", resp.StatusCode, tc.status, body)
			}
			if strings.Contains(body, "root:") {
				t.Fatalf("body leaks a file: %s", body)
			}
			_, pf := e.expect(http.StatusMultiStatus, "PROPFIND", path, "alice", propfindBody(probe), "Depth", "0")
			if st, _, _ := parseMultistatus(t, pf).Responses[0].find(probe); st != http.StatusNotFound {
				t.Fatalf("probe stored (status %d): %s", st, pf)
			}
		})
	}
}

// TestPropPatchProtected: a protected property fails with 403 and
// cannot-modify-protected-property, every other instruction of the request
// with 424, and nothing is applied.
func TestPropPatchProtected(t *testing.T) {
	e := newEnv(t)
	const path = "/dav/files/alice/f.txt"
	e.mustPut("alice", path, "content")
	e.expect(http.StatusMultiStatus, "PROPPATCH", path, "alice",
		`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:keep xmlns:A="urn:example:a">old</A:keep></D:prop></D:set></D:propertyupdate>`)
	_, before := e.expect(http.StatusMultiStatus, "PROPFIND", path, "alice", propfindBody("getetag", "{urn:example:a}keep"), "Depth", "0")
	etag := parseMultistatus(t, before).Responses[0].value(t, "getetag").text()

	protected := []struct{ name, elem string }{
		{"getetag", `<D:getetag>"forged"</D:getetag>`},
		{"lockdiscovery", `<D:lockdiscovery/>`},
		{"quota-used-bytes", `<D:quota-used-bytes>0</D:quota-used-bytes>`},
		{"quota-available-bytes", `<D:quota-available-bytes>1</D:quota-available-bytes>`},
		{"getcontentlength", `<D:getcontentlength>1</D:getcontentlength>`},
		{"resourcetype", `<D:resourcetype><D:collection/></D:resourcetype>`},
		{"getlastmodified", `<D:getlastmodified>Thu, 01 Jan 1970 00:00:00 GMT</D:getlastmodified>`},
		{"current-user-principal", `<D:current-user-principal><D:href>/dav/principals/bob/</D:href></D:current-user-principal>`},
		{"owner", `<D:owner><D:href>/dav/principals/bob/</D:href></D:owner>`},
		{"supportedlock", `<D:supportedlock/>`},
	}
	for _, p := range protected {
		for _, op := range []string{"set", "remove"} {
			t.Run(op+" "+p.name, func(t *testing.T) {
				elem := p.elem
				if op == "remove" {
					elem = "<D:" + p.name + "/>"
				}
				body := `<D:propertyupdate xmlns:D="DAV:" xmlns:A="urn:example:a">` +
					`<D:set><D:prop><A:new>fresh</A:new><A:keep>changed</A:keep></D:prop></D:set>` +
					`<D:` + op + `><D:prop>` + elem + `</D:prop></D:` + op + `>` +
					`<D:remove><D:prop><A:keep/></D:prop></D:remove></D:propertyupdate>`
				_, resp := e.expect(http.StatusMultiStatus, "PROPPATCH", path, "alice", body)
				ms := parseMultistatus(t, resp)
				if len(ms.Responses) != 1 {
					t.Fatalf("%d responses", len(ms.Responses))
				}
				r := ms.Responses[0]
				if st, _, ok := r.find(p.name); !ok || st != http.StatusForbidden {
					t.Fatalf("%s: status %d present %v, want 403\n%s", p.name, st, ok, resp)
				}
				for _, ps := range r.Propstats {
					if statusCode(ps.Status) == http.StatusForbidden &&
						!ps.Error.has("cannot-modify-protected-property") {
						t.Fatalf("403 propstat without cannot-modify-protected-property:\n%s", resp)
					}
				}
				for _, n := range []string{"{urn:example:a}new", "{urn:example:a}keep"} {
					if st, _, ok := r.find(n); !ok || st != http.StatusFailedDependency {
						t.Fatalf("%s: status %d present %v, want 424\n%s", n, st, ok, resp)
					}
				}
				_, after := e.expect(http.StatusMultiStatus, "PROPFIND", path, "alice",
					propfindBody("getetag", "{urn:example:a}keep", "{urn:example:a}new"), "Depth", "0")
				ar := parseMultistatus(t, after).Responses[0]
				if got := ar.value(t, "getetag").text(); got != etag {
					t.Fatalf("getetag changed from %s to %s", etag, got)
				}
				if got := ar.value(t, "{urn:example:a}keep").Inner; got != "old" {
					t.Fatalf("keep = %q, want old: the request was partly applied", got)
				}
				if st, _, _ := ar.find("{urn:example:a}new"); st != http.StatusNotFound {
					t.Fatalf("new has status %d, want 404: the request was partly applied", st)
				}
			})
		}
	}
}
