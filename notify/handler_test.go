package notify

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	coll      = "/dav/notifications/bob/"
	memberURL = "/dav/notifications/bob/hello.xml"
)

func TestMethodTable(t *testing.T) {
	e := newEnv(t, HandlerOptions{StrictAccept: true}, nil)
	e.deliver("bob", "hello.xml", status("hi"))
	accept := "Accept: " + MediaType
	tests := []struct {
		name, method, path string
		hdr                []string
		want               int
		allow              string
	}{
		{"collection GET", http.MethodGet, coll, nil, 405, allowCollection},
		{"collection HEAD", http.MethodHead, coll, nil, 405, allowCollection},
		{"collection POST", http.MethodPost, coll, nil, 405, allowCollection},
		{"collection DELETE", http.MethodDelete, coll, nil, 403, ""},
		{"collection PUT", http.MethodPut, coll, nil, 403, ""},
		{"collection MKCOL", "MKCOL", coll, nil, 403, ""},
		{"collection COPY", "COPY", coll, nil, 403, ""},
		{"collection MOVE", "MOVE", coll, nil, 403, ""},
		{"collection LOCK", "LOCK", coll, nil, 403, ""},
		{"collection UNLOCK", "UNLOCK", coll, nil, 403, ""},
		{"collection PROPPATCH", "PROPPATCH", coll, nil, 403, ""},
		{"collection unknown", "BREW", coll, nil, 405, allowCollection},
		{"collection OPTIONS", http.MethodOptions, coll, nil, 200, allowCollection},
		{"member GET", http.MethodGet, memberURL, []string{accept}, 200, ""},
		{"member HEAD", http.MethodHead, memberURL, []string{accept}, 200, ""},
		{"member PROPFIND", "PROPFIND", memberURL, []string{"Depth: 0"}, 207, ""},
		{"member POST not an invite", http.MethodPost, memberURL, []string{"Content-Type: application/davsharing+xml"}, 403, ""},
		{"member PUT", http.MethodPut, memberURL, nil, 403, ""},
		{"member MKCOL", "MKCOL", memberURL, nil, 403, ""},
		{"member COPY", "COPY", memberURL, []string{"Destination: /dav/notifications/bob/x.xml"}, 403, ""},
		{"member MOVE", "MOVE", memberURL, []string{"Destination: /dav/notifications/bob/x.xml"}, 403, ""},
		{"member LOCK", "LOCK", memberURL, nil, 403, ""},
		{"member UNLOCK", "UNLOCK", memberURL, nil, 403, ""},
		{"member unknown", "BREW", memberURL, nil, 405, allowMember},
		{"missing GET", http.MethodGet, coll + "nope.xml", []string{accept}, 404, ""},
		{"missing DELETE", http.MethodDelete, coll + "nope.xml", nil, 404, ""},
		{"missing PROPFIND", "PROPFIND", coll + "nope.xml", []string{"Depth: 0"}, 404, ""},
		{"missing PROPPATCH", "PROPPATCH", coll + "nope.xml", nil, 404, ""},
		{"missing POST", http.MethodPost, coll + "nope.xml", nil, 404, ""},
		{"state file GET", http.MethodGet, coll + stateFile, []string{accept}, 404, ""},
		{"nested path", http.MethodGet, coll + "a/hello.xml", []string{accept}, 404, ""},
		{"nested PROPFIND", "PROPFIND", coll + "hello.xml/x", []string{"Depth: 0"}, 404, ""},
		{"PUT new name", http.MethodPut, coll + "new.xml", nil, 403, ""},
		{"PUT dot name", http.MethodPut, coll + ".evil.xml", nil, 403, ""},
		{"MKCOL new name", "MKCOL", coll + "sub", nil, 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(tc.method, tc.path, "", tc.hdr...)
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s = %d, want %d\n%s", tc.method, tc.path, resp.StatusCode, tc.want, body)
			}
			if got := resp.Header.Get("Allow"); tc.allow != "" && got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
	// Nothing was created by any of that.
	entries, err := os.ReadDir(filepath.Join(Dir(e.dir), "bob"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range entries {
		names = append(names, de.Name())
	}
	if strings.Join(names, ",") != stateFile+",hello.xml" {
		t.Errorf("collection holds %v", names)
	}
}

func TestDeleteIsGoneEverywhere(t *testing.T) {
	e := newEnv(t, HandlerOptions{StrictAccept: true}, nil)
	e.deliver("bob", "hello.xml", status("hi"))
	tok := e.syncCollection("bob", "").SyncToken
	if resp, body := e.do(http.MethodDelete, memberURL, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(http.MethodGet, memberURL, "", "Accept: */*"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET after DELETE = %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(Dir(e.dir), "bob", "hello.xml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file still there: %v", err)
	}
	// Another device syncing from its old token learns of the removal.
	ms := e.syncCollection("bob", tok)
	if len(ms.Responses) != 1 || !strings.Contains(ms.Responses[0].Status, "404") || len(ms.Responses[0].Propstat) != 0 {
		t.Fatalf("removal not reported as a bare 404: %+v", ms.Responses)
	}
}

func TestGetContentNegotiation(t *testing.T) {
	tests := []struct {
		accept string // "-" for no header
		strict bool
		want   int
	}{
		{MediaType, true, 200},
		{MediaType + "; charset=utf-8", true, 200},
		{"*/*", true, 200},
		{"application/*", true, 200},
		{"text/html, application/*;q=0.1", true, 200},
		{"text/html", true, 406},
		{"text/html", false, 406},
		{"application/xml", true, 406},
		{MediaType + ";q=0", true, 406},
		{MediaType + ";q=0, */*", true, 406},
		{"application/*;q=0, */*;q=1", true, 406},
		{"*/*;q=0", true, 406},
		{"*/*;q=0.001", true, 200},
		{"application/*;q=0, " + MediaType, true, 200},
		{"-", true, 406},
		{"-", false, 200},
	}
	for _, strict := range []bool{true, false} {
		e := newEnv(t, HandlerOptions{StrictAccept: strict}, nil)
		info := e.deliver("bob", "hello.xml", status("hi"))
		for _, tc := range tests {
			if tc.strict != strict && tc.accept != "text/html" {
				continue
			}
			t.Run(tc.accept+map[bool]string{true: "/strict", false: "/lenient"}[strict], func(t *testing.T) {
				var hdr []string
				if tc.accept != "-" {
					hdr = append(hdr, "Accept: "+tc.accept)
				}
				resp, body := e.do(http.MethodGet, memberURL, "", hdr...)
				if resp.StatusCode != tc.want {
					t.Fatalf("Accept %q = %d, want %d", tc.accept, resp.StatusCode, tc.want)
				}
				if tc.want != 200 {
					return
				}
				if ct := resp.Header.Get("Content-Type"); ct != MediaType+"; charset=utf-8" {
					t.Errorf("Content-Type = %q", ct)
				}
				if resp.Header.Get("ETag") != info.ETag {
					t.Errorf("ETag = %q, want %q", resp.Header.Get("ETag"), info.ETag)
				}
				if _, err := Parse([]byte(body)); err != nil {
					t.Errorf("body does not parse: %v", err)
				}
			})
		}
	}
}

func TestGetConditionalAndHead(t *testing.T) {
	e := newEnv(t, HandlerOptions{StrictAccept: true}, nil)
	info := e.deliver("bob", "hello.xml", status("hi"))
	resp, _ := e.do(http.MethodGet, memberURL, "", "Accept: */*", "If-None-Match: "+info.ETag)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match = %d, want 304", resp.StatusCode)
	}
	resp, body := e.do(http.MethodHead, memberURL, "", "Accept: */*")
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != info.Size {
		t.Errorf("HEAD = %d, body %q, length %d (want %d)", resp.StatusCode, body, resp.ContentLength, info.Size)
	}
}

func TestGetSeesOutOfBandRewrite(t *testing.T) {
	e := newEnv(t, HandlerOptions{StrictAccept: true}, nil)
	old := e.deliver("bob", "hello.xml", status("hi"))
	doc, _ := Build(&Notification{DTStamp: e.clock.Now(), Payload: status("changed behind our back")})
	writeFile(t, e.dir, "bob", "hello.xml", string(doc))
	resp, body := e.do(http.MethodGet, memberURL, "", "Accept: */*")
	if resp.StatusCode != 200 || !strings.Contains(body, "changed behind") {
		t.Fatalf("GET = %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("ETag") == old.ETag || resp.Header.Get("ETag") != etagOf(doc) {
		t.Errorf("ETag %q does not match the new bytes", resp.Header.Get("ETag"))
	}
}

func TestPropfind(t *testing.T) {
	e := newEnv(t, HandlerOptions{}, nil)
	e.deliver("bob", "hello.xml", status("hi"))
	e.deliver("bob", "invite.xml", sampleInvite())

	t.Run("depth", func(t *testing.T) {
		for _, tc := range []struct {
			depth string
			want  int
		}{{"", 403}, {"infinity", 403}, {"0", 207}, {"1", 207}, {"2", 400}} {
			var hdr []string
			if tc.depth != "" {
				hdr = append(hdr, "Depth: "+tc.depth)
			}
			resp, body := e.do("PROPFIND", coll, "", hdr...)
			if resp.StatusCode != tc.want {
				t.Errorf("Depth %q = %d, want %d", tc.depth, resp.StatusCode, tc.want)
			}
			if tc.want == 403 && !strings.Contains(body, "propfind-finite-depth") {
				t.Errorf("Depth %q: no propfind-finite-depth: %s", tc.depth, body)
			}
		}
	})

	t.Run("listing", func(t *testing.T) {
		resp, body := e.do("PROPFIND", coll, `<?xml version="1.0"?>
<D:propfind xmlns:D="DAV:"><D:prop>
  <D:resourcetype/><D:notificationtype/><D:getetag/><D:getlastmodified/><D:getcontenttype/>
  <D:sync-token/><D:supported-report-set/><D:current-user-principal/><D:owner/><X:nope xmlns:X="urn:x"/>
</D:prop></D:propfind>`, "Depth: 1")
		if resp.StatusCode != 207 {
			t.Fatalf("PROPFIND = %d %s", resp.StatusCode, body)
		}
		ms := parseMultistatus(t, body).byName()
		c := ms["bob"]
		got := c.Propstat[0].Prop.Inner
		for _, want := range []string{"<D:collection/><D:notifications/>", "<D:sync-token>urn:davshare:sync:", "<D:sync-collection/>", "<D:href>/dav/principals/bob/</D:href>"} {
			if !strings.Contains(got, want) {
				t.Errorf("collection lacks %s:\n%s", want, got)
			}
		}
		if !strings.Contains(c.Propstat[1].Status, "404") || !strings.Contains(c.Propstat[1].Prop.Inner, "nope") {
			t.Errorf("unknown property not 404: %+v", c.Propstat)
		}
		for name, want := range map[string]string{
			"hello.xml":  `<D:notificationtype><D:systemstatus type="medium"/></D:notificationtype>`,
			"invite.xml": `<D:notificationtype><D:share-invite-notification/></D:notificationtype>`,
		} {
			got := ms[name].Propstat[0].Prop.Inner
			for _, w := range []string{want, "<D:getetag>", "<D:getlastmodified>", "<D:getcontenttype>" + MediaType, "<D:resourcetype/>"} {
				if !strings.Contains(got, w) {
					t.Errorf("%s lacks %s:\n%s", name, w, got)
				}
			}
		}
	})

	t.Run("allprop", func(t *testing.T) {
		_, body := e.do("PROPFIND", coll, "", "Depth: 1")
		if strings.Contains(body, "notificationtype") || strings.Contains(body, "sync-token") {
			t.Errorf("allprop lists notificationtype or sync-token:\n%s", body)
		}
		if !strings.Contains(body, "<D:getetag>") {
			t.Errorf("allprop lacks getetag:\n%s", body)
		}
	})

	t.Run("propname", func(t *testing.T) {
		_, body := e.do("PROPFIND", memberURL, `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`, "Depth: 0")
		for _, w := range []string{"<D:notificationtype/>", "<D:getetag/>"} {
			if !strings.Contains(body, w) {
				t.Errorf("propname lacks %s:\n%s", w, body)
			}
		}
	})

	t.Run("bad body", func(t *testing.T) {
		for body, want := range map[string]int{
			`<D:propfind xmlns:D="DAV:">`: 400,
			`<!DOCTYPE x [<!ENTITY a "b">]><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`: 403,
		} {
			if resp, _ := e.do("PROPFIND", coll, body, "Depth: 1"); resp.StatusCode != want {
				t.Errorf("%q = %d, want %d", body, resp.StatusCode, want)
			}
		}
	})
}

func TestProppatch(t *testing.T) {
	e := newEnv(t, HandlerOptions{}, nil)
	e.deliver("bob", "hello.xml", status("hi"))
	tests := []struct {
		name, body string
		want       int
		contains   []string
	}{
		{"notificationtype", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:notificationtype><D:systemstatus type="low"/></D:notificationtype></D:prop></D:set></D:propertyupdate>`,
			207, []string{"403 Forbidden", "<D:cannot-modify-protected-property/>", "<D:notificationtype/>"}},
		{"dead property", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><X:color xmlns:X="urn:x">red</X:color></D:prop></D:set></D:propertyupdate>`,
			207, []string{"403 Forbidden", "color"}},
		{"remove getetag", `<D:propertyupdate xmlns:D="DAV:"><D:remove><D:prop><D:getetag/></D:prop></D:remove></D:propertyupdate>`,
			207, []string{"<D:cannot-modify-protected-property/>"}},
		{"malformed", `<D:propertyupdate xmlns:D="DAV:"><D:set>`, 400, nil},
		{"empty", ``, 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do("PROPPATCH", memberURL, tc.body, "Content-Type: application/xml")
			if resp.StatusCode != tc.want {
				t.Fatalf("PROPPATCH = %d, want %d\n%s", resp.StatusCode, tc.want, body)
			}
			for _, w := range tc.contains {
				if !strings.Contains(body, w) {
					t.Errorf("response lacks %s:\n%s", w, body)
				}
			}
			if tc.name == "dead property" && strings.Contains(body, "cannot-modify") {
				t.Errorf("dead property reported as protected:\n%s", body)
			}
		})
	}
}

func TestSyncCollection(t *testing.T) {
	e := newEnv(t, HandlerOptions{}, nil)
	e.deliver("bob", "old.xml", status("before"))
	e.deliver("bob", "keep.xml", status("unchanged"))

	initial := e.syncCollection("bob", "")
	if len(initial.Responses) != 2 || !strings.HasPrefix(initial.SyncToken, tokenPrefix) {
		t.Fatalf("initial sync: %+v", initial)
	}
	if again := e.syncCollection("bob", initial.SyncToken); len(again.Responses) != 0 || again.SyncToken != initial.SyncToken {
		t.Fatalf("no-op sync: %+v", again)
	}

	// Three deliveries (one replaces an existing notification) and one DELETE.
	e.clock.Add(time.Second)
	e.deliver("bob", "a.xml", status("a"))
	e.deliver("bob", "b.xml", sampleInvite())
	e.deliver("bob", "keep.xml", status("changed"))
	if resp, _ := e.do(http.MethodDelete, coll+"old.xml", ""); resp.StatusCode != 204 {
		t.Fatalf("DELETE = %d", resp.StatusCode)
	}

	ms := e.syncCollection("bob", initial.SyncToken)
	if len(ms.Responses) != 4 {
		t.Fatalf("want exactly 4 changes, got %d: %+v", len(ms.Responses), ms.Responses)
	}
	got := ms.byName()
	for _, name := range []string{"a.xml", "b.xml", "keep.xml"} {
		r, ok := got[name]
		if !ok || len(r.Propstat) == 0 || !strings.Contains(r.Propstat[0].Status, "200") || !strings.Contains(r.Propstat[0].Prop.Inner, "getetag") {
			t.Errorf("%s: %+v", name, r)
		}
	}
	if r := got["old.xml"]; !strings.Contains(r.Status, "404") || len(r.Propstat) != 0 {
		t.Errorf("old.xml removal: %+v", r)
	}
	if got["b.xml"].Href != "/dav/notifications/bob/b.xml" {
		t.Errorf("href = %q", got["b.xml"].Href)
	}
	if ms.SyncToken == initial.SyncToken {
		t.Error("token did not move")
	}

	// The collection's PROPFIND token is the report's token.
	_, body := e.do("PROPFIND", coll, `<D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>`, "Depth: 0")
	if !strings.Contains(body, ms.SyncToken) {
		t.Errorf("PROPFIND sync-token differs from the report's %s:\n%s", ms.SyncToken, body)
	}
}

func TestSyncCollectionErrors(t *testing.T) {
	e := newEnv(t, HandlerOptions{BodyLimit: 4096}, nil)
	for i := range 3 {
		e.deliver("bob", NameFor("t", string(rune('a'+i))), status("x"))
	}
	tok := e.syncCollection("bob", "").SyncToken
	epoch := strings.Split(strings.TrimPrefix(tok, tokenPrefix), ":")[0]
	tests := []struct {
		name, body string
		hdr        []string
		want       int
		cond       string
	}{
		{"unknown token", strings.Replace(syncBody, "%s", "urn:x:y", 1), nil, 403, "valid-sync-token"},
		{"other epoch", strings.Replace(syncBody, "%s", tokenPrefix+"0123456789abcdef:1", 1), nil, 403, "valid-sync-token"},
		{"future seq", strings.Replace(syncBody, "%s", tokenPrefix+epoch+":99", 1), nil, 403, "valid-sync-token"},
		{"leading zero", strings.Replace(syncBody, "%s", tokenPrefix+epoch+":01", 1), nil, 403, "valid-sync-token"},
		{"other report", `<D:expand-property xmlns:D="DAV:"/>`, nil, 403, "supported-report"},
		{"depth 1", strings.Replace(syncBody, "%s", "", 1), []string{"Depth: 1"}, 400, ""},
		{"malformed", `<D:sync-collection xmlns:D="DAV:">`, nil, 400, ""},
		{"empty", ``, nil, 400, ""},
		{"bad level", `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>2</D:sync-level><D:prop/></D:sync-collection>`, nil, 400, ""},
		{"dtd", `<!DOCTYPE D:sync-collection [<!ENTITY x "y">]><D:sync-collection xmlns:D="DAV:"/>`, nil, 403, "no-external-entities"},
		{"too large", `<D:sync-collection xmlns:D="DAV:">` + strings.Repeat(" ", 5000) + `</D:sync-collection>`, nil, 413, ""},
		{"limit exceeded", `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:limit><D:nresults>2</D:nresults></D:limit><D:prop><D:getetag/></D:prop></D:sync-collection>`, nil, 507, "number-of-matches-within-limits"},
		{"limit bad", `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:limit><D:nresults>0</D:nresults></D:limit></D:sync-collection>`, nil, 400, ""},
		{"limit within", `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>infinite</D:sync-level><D:limit><D:nresults>3</D:nresults></D:limit></D:sync-collection>`, nil, 207, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do("REPORT", coll, tc.body, append([]string{"Content-Type: application/xml"}, tc.hdr...)...)
			if resp.StatusCode != tc.want {
				t.Fatalf("REPORT = %d, want %d\n%s", resp.StatusCode, tc.want, body)
			}
			if tc.cond != "" && !strings.Contains(body, "<D:"+tc.cond+"/>") {
				t.Errorf("body lacks %s:\n%s", tc.cond, body)
			}
		})
	}
}

// replier is a fake InviteReplier.
type replier struct {
	status   int
	location string
	err      error
	got      []byte
}

func (r *replier) ReplyToInvite(_ context.Context, user, name string, n *Notification, body []byte) (int, string, error) {
	if _, ok := n.Payload.(*ShareInvite); !ok || user != "bob" || name != "invite.xml" {
		return 0, "", errors.New("wrong arguments")
	}
	r.got = body
	return r.status, r.location, r.err
}

func TestInviteReplyPost(t *testing.T) {
	const reply = `<?xml version="1.0"?><D:invite-reply xmlns:D="DAV:"><D:invite-accepted/><D:create-in><D:href>/dav/files/bob/</D:href></D:create-in></D:invite-reply>`
	const inviteURL = coll + "invite.xml"
	davsharing := "Content-Type: application/davsharing+xml; charset=utf-8"
	tests := []struct {
		name     string
		replier  *replier
		path     string
		body     string
		hdr      []string
		want     int
		location string
	}{
		{"accept", &replier{status: 201, location: "https://files.example.net/dav/files/bob/Apollo/"}, inviteURL, reply, []string{davsharing}, 201, "https://files.example.net/dav/files/bob/Apollo/"},
		{"decline default status", &replier{}, inviteURL, reply, []string{davsharing}, 204, ""},
		{"legacy media type", &replier{status: 204}, inviteURL, reply, []string{"Content-Type: application/davshare+xml"}, 204, ""},
		{"wrong content type", &replier{}, inviteURL, reply, []string{"Content-Type: application/xml"}, 415, ""},
		{"no content type", &replier{}, inviteURL, reply, nil, 415, ""},
		{"empty body", &replier{}, inviteURL, "", []string{davsharing}, 400, ""},
		{"too large", &replier{}, inviteURL, strings.Repeat(" ", 2000), []string{davsharing}, 413, ""},
		{"replier precondition", &replier{err: &ReplyError{Status: 409, Err: errors.New("create-in missing")}}, inviteURL, reply, []string{davsharing}, 409, ""},
		{"replier failure", &replier{err: errors.New("disk on fire")}, inviteURL, reply, []string{davsharing}, 500, ""},
		{"no replier", nil, inviteURL, reply, []string{davsharing}, 403, ""},
		{"not an invite", &replier{}, coll + "status.xml", reply, []string{davsharing}, 403, ""},
		{"invite without reply-url", &replier{}, coll + "accepted.xml", reply, []string{davsharing}, 403, ""},
		{"missing invite", &replier{}, coll + "gone.xml", reply, []string{davsharing}, 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rep InviteReplier
			if tc.replier != nil {
				rep = tc.replier
			}
			e := newEnv(t, HandlerOptions{BodyLimit: 1024}, rep)
			e.deliver("bob", "invite.xml", sampleInvite())
			e.deliver("bob", "status.xml", status("hi"))
			accepted := sampleInvite()
			accepted.Status, accepted.ReplyURL = InviteAccepted, ""
			e.deliver("bob", "accepted.xml", accepted)
			resp, body := e.do(http.MethodPost, tc.path, tc.body, tc.hdr...)
			if resp.StatusCode != tc.want {
				t.Fatalf("POST = %d, want %d\n%s", resp.StatusCode, tc.want, body)
			}
			if got := resp.Header.Get("Location"); got != tc.location {
				t.Errorf("Location = %q, want %q", got, tc.location)
			}
			if strings.Contains(body, "disk on fire") || strings.Contains(body, "create-in missing") {
				t.Errorf("internal error text leaked: %s", body)
			}
			if tc.want < 300 && string(tc.replier.got) != tc.body {
				t.Errorf("replier got body %q", tc.replier.got)
			}
		})
	}
}
