package server_test

import (
	"strings"
	"testing"

	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/sharing"
)

// state is what a refused request must leave unchanged: alice's share as
// DAV:invite shows it, everybody's notifications, and bob's and carol's
// homes with their mounts.
func (e *shareEnv) state() string {
	e.t.Helper()
	var b strings.Builder
	b.WriteString(e.propfind(apollo, "alice", "0", "invite", "share-access"))
	for _, u := range []string{"alice", "bob", "carol"} {
		infos, _ := e.notes.List(t0(), u)
		for _, i := range infos {
			b.WriteString(u + "/" + i.Name + i.ETag + "\n")
		}
		b.WriteString(e.propfind("/dav/files/"+u+"/", u, "1", "resourcetype", "getetag"))
	}
	return b.String()
}

// refused asserts that a request gets status and changes nothing.
func (e *shareEnv) refused(status int, method, p, user, body string, hdr ...string) string {
	e.t.Helper()
	before := e.state()
	_, b := e.expect(status, method, p, user, body, hdr...)
	if after := e.state(); after != before {
		e.t.Fatalf("%s %s (%d) changed state:\nbefore %s\nafter  %s", method, p, status, before, after)
	}
	return b
}

func hasCond(body string, conds ...string) bool {
	for _, c := range conds {
		if !strings.Contains(body, c) {
			return false
		}
	}
	return true
}

// TestShareEdgeCases runs every row of spec §9 through HTTP, in order,
// against one server; each row checks the status and, for refusals, that
// nothing changed.
func TestShareEdgeCases(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInvite)
	setupApollo(e)
	e.expect(201, "MKCOL", apollo+"sub/", "alice", "")
	ct := []string{"Content-Type", davsharing}
	bob := sharee("/dav/principals/bob/", "read")
	row := func(name string, fn func(t *testing.T)) {
		t.Run(name, func(t *testing.T) { e.t = t; fn(t); e.t = t })
	}

	row("01 share succeeds with 204 and no body", func(t *testing.T) {
		_, b := e.expect(204, "POST", apollo, "alice", shareBody(bob), ct...)
		if b != "" {
			t.Fatalf("body %q", b)
		}
	})
	row("02 wrong Content-Type is 415", func(t *testing.T) {
		e.refused(415, "POST", apollo, "alice", shareBody(sharee("/dav/principals/carol/", "read")), "Content-Type", "application/xml")
	})
	row("03 no Content-Type is 415, empty body is 400", func(t *testing.T) {
		e.refused(415, "POST", apollo, "alice", shareBody(sharee("/dav/principals/carol/", "read")))
		e.refused(400, "POST", apollo, "alice", "", ct...)
		e.refused(400, "POST", apollo, "alice", "  \n", ct...)
	})
	row("04 malformed XML is 400", func(t *testing.T) {
		e.refused(400, "POST", apollo, "alice", `<d:share-resource xmlns:d="DAV:"><d:sharee>`, ct...)
		e.refused(400, "POST", apollo, "alice", `<x:share-resource><x:sharee/></x:share-resource>`, ct...)
	})
	row("05 wrong root is 400, also an invite-reply sent to a file", func(t *testing.T) {
		e.refused(400, "POST", apollo, "alice", `<d:share xmlns:d="DAV:"/>`, ct...)
		e.refused(400, "POST", apollo, "alice", acceptBody("/dav/files/alice/", ""), ct...)
		e.refused(400, "POST", apollo, "alice", `<share-resource><sharee><href>/dav/principals/carol/</href><share-access><read/></share-access></sharee></share-resource>`, ct...)
	})
	row("06 zero sharees is 400", func(t *testing.T) {
		e.refused(400, "POST", apollo, "alice", `<d:share-resource xmlns:d="DAV:"/>`, ct...)
	})
	row("07 sharee without href or with an empty one is 400, nothing applied", func(t *testing.T) {
		carol := sharee("/dav/principals/carol/", "read")
		e.refused(400, "POST", apollo, "alice", shareBody(carol, `<d:sharee><d:share-access><d:read/></d:share-access></d:sharee>`), ct...)
		e.refused(400, "POST", apollo, "alice", shareBody(carol, sharee("", "read")), ct...)
		e.refused(400, "POST", apollo, "alice", shareBody(carol, sharee("  ", "read")), ct...)
	})
	row("08 sharee without share-access is 400, nothing applied", func(t *testing.T) {
		e.refused(400, "POST", apollo, "alice", shareBody(sharee("/dav/principals/carol/", "read"), `<d:sharee><d:href>/dav/principals/bob/</d:href></d:sharee>`), ct...)
	})
	row("09 unknown share-access values are 400, nothing applied", func(t *testing.T) {
		carol := sharee("/dav/principals/carol/", "read")
		for _, v := range []string{`<d:admin/>`, `<d:shared-owner/>`, `<d:not-shared/>`, ``, `<d:read/><d:read-write/>`, `<x:read xmlns:x="urn:x"/>`} {
			e.refused(400, "POST", apollo, "alice", shareBody(carol, `<d:sharee><d:href>/dav/principals/bob/</d:href><d:share-access>`+v+`</d:share-access></d:sharee>`), ct...)
		}
	})
	row("10 unknown sharee is 204 and listed pending or invalid", func(t *testing.T) {
		e.share(204, apollo, "alice", sharee("mailto:nobody@example.net", "read"), sharee("/dav/principals/ghost/", "read"), sharee("https://other.example/people/x", "read"))
		p := compact(props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo))
		for _, want := range []string{
			"<D:href>mailto:nobody@example.net</D:href><D:invite-noresponse/>",
			"<D:href>/dav/principals/ghost/</D:href><D:invite-invalid/>",
			"<D:href>https://other.example/people/x</D:href><D:invite-invalid/>",
		} {
			if !strings.Contains(p, want) {
				t.Fatalf("missing %s in %s", want, p)
			}
		}
		e.share(204, apollo, "alice", sharee("mailto:nobody@example.net", "no-access"), sharee("/dav/principals/ghost/", "no-access"), sharee("https://other.example/people/x", "no-access"))
	})
	row("11 href that is not a URI is 400", func(t *testing.T) {
		e.refused(400, "POST", apollo, "alice", shareBody(sharee("::", "read")), ct...)
		e.refused(400, "POST", apollo, "alice", shareBody(sharee("bob", "read")), ct...)
	})
	row("12 sharing with yourself is 403, nothing applied", func(t *testing.T) {
		carol := sharee("/dav/principals/carol/", "read")
		e.refused(403, "POST", apollo, "alice", shareBody(carol, sharee("/dav/principals/alice/", "read")), ct...)
		e.refused(403, "POST", apollo, "alice", shareBody(carol, sharee("mailto:ALICE@example.org", "read")), ct...)
	})
	// bob accepts here; the following rows use his instance.
	e.accept("bob", "", "")
	row("13 no DAV:share is 403 need-privileges; 404 where it cannot be read", func(t *testing.T) {
		b := e.refused(403, "POST", "/dav/files/bob/Apollo/plan.txt", "bob", shareBody(sharee("/dav/principals/carol/", "read")), ct...)
		if !hasCond(b, "need-privileges", "<D:share/>") {
			t.Fatalf("body %s", b)
		}
		e.refused(404, "POST", apollo, "bob", shareBody(sharee("/dav/principals/carol/", "read")), ct...)
	})
	row("14 sharee resharing its instance is 403 need-privileges/share", func(t *testing.T) {
		b := e.refused(403, "POST", "/dav/files/bob/Apollo/", "bob", shareBody(sharee("/dav/principals/carol/", "read")), ct...)
		if !hasCond(b, "need-privileges", "<D:share/>", "/dav/files/bob/Apollo/") {
			t.Fatalf("body %s", b)
		}
	})
	row("15 unshareable targets are 403: home root, nested shares", func(t *testing.T) {
		carol := shareBody(sharee("/dav/principals/carol/", "read"))
		e.refused(403, "POST", "/dav/files/alice/", "alice", carol, ct...)
		e.refused(403, "POST", "/dav/principals/alice/", "alice", carol, ct...)
		// A share POST to the notification collection is 403 (§9 #15);
		// other POSTs there are 405 (§8.7).
		e.refused(403, "POST", "/dav/notifications/alice/", "alice", carol, ct...)
		e.refused(405, "POST", "/dav/notifications/alice/", "alice", carol, "Content-Type", "application/xml")
		e.refused(403, "POST", apollo+"sub/", "alice", carol, ct...)
		e.refused(403, "POST", apollo+"plan.txt", "alice", carol, ct...)
		e.expect(201, "MKCOL", "/dav/files/alice/Outer/", "alice", "")
		e.expect(201, "MOVE", "/dav/files/alice/Outer/", "alice", "", "Destination", apollo+"sub/Outer/")
		e.refused(403, "POST", "/dav/files/alice/", "alice", carol, ct...)
	})
	row("16 missing target is 404", func(t *testing.T) {
		e.refused(404, "POST", "/dav/files/alice/nothing/", "alice", shareBody(sharee("/dav/principals/carol/", "read")), ct...)
	})
	row("17 no-access for a non-sharee is 204 and a no-op", func(t *testing.T) {
		e.refused(204, "POST", apollo, "alice", shareBody(sharee("/dav/principals/carol/", "no-access")), ct...)
	})
	row("18 the same href twice: the later wins", func(t *testing.T) {
		e.share(204, apollo, "alice", sharee("/dav/principals/carol/", "read"), sharee("mailto:carol@example.org", "read-write"))
		p := compact(props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo))
		if !strings.Contains(p, "<D:href>/dav/principals/carol/</D:href><D:invite-noresponse/><D:share-access><D:read-write/></D:share-access>") {
			t.Fatalf("invite %s", p)
		}
	})
	row("19 the same access again is 204 with no new notification", func(t *testing.T) {
		e.refused(204, "POST", apollo, "alice", shareBody(sharee("/dav/principals/carol/", "read-write"), bob), ct...)
	})
	row("20 access change of an accepted sharee keeps the status and notifies without reply-url", func(t *testing.T) {
		e.share(204, apollo, "alice", sharee("/dav/principals/bob/", "read-write"))
		inv := e.notification("bob", "share-").Payload.(*notify.ShareInvite)
		if inv.Status != notify.InviteAccepted || inv.ReplyURL != "" || inv.Access != notify.AccessReadWrite {
			t.Fatalf("notice %+v", inv)
		}
		if p := compact(props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo)); !strings.Contains(p, "<D:href>/dav/principals/bob/</D:href><D:invite-accepted/><D:share-access><D:read-write/>") {
			t.Fatalf("invite %s", p)
		}
		e.share(204, apollo, "alice", bob) // back to read
	})
	row("21 re-share after a decline resets to noresponse with a new invitation", func(t *testing.T) {
		e.expect(204, "POST", e.invite("carol"), "carol", declineBody, ct...)
		e.share(204, apollo, "alice", sharee("/dav/principals/carol/", "read-write"))
		e.invite("carol")
		if p := compact(props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo)); !strings.Contains(p, "<D:href>/dav/principals/carol/</D:href><D:invite-noresponse/>") {
			t.Fatalf("invite %s", p)
		}
	})
	inv := e.invite("carol")
	row("22 invite-reply with a wrong Content-Type is 415", func(t *testing.T) {
		e.refused(415, "POST", inv, "carol", acceptBody("/dav/files/carol/", ""), "Content-Type", "application/xml")
	})
	row("23 invite-reply with neither or both statuses is 400", func(t *testing.T) {
		e.refused(400, "POST", inv, "carol", `<d:invite-reply xmlns:d="DAV:"><d:comment>x</d:comment></d:invite-reply>`, ct...)
		e.refused(400, "POST", inv, "carol", `<d:invite-reply xmlns:d="DAV:"><d:invite-accepted/><d:invite-declined/><d:create-in><d:href>/dav/files/carol/</d:href></d:create-in></d:invite-reply>`, ct...)
	})
	row("24 accept without create-in is 400", func(t *testing.T) {
		e.refused(400, "POST", inv, "carol", `<d:invite-reply xmlns:d="DAV:"><d:invite-accepted/></d:invite-reply>`, ct...)
	})
	row("25 create-in missing or not a collection is 409", func(t *testing.T) {
		e.expect(201, "PUT", "/dav/files/carol/file.txt", "carol", "x")
		e.refused(409, "POST", inv, "carol", acceptBody("/dav/files/carol/none/", ""), ct...)
		e.refused(409, "POST", inv, "carol", acceptBody("/dav/files/carol/file.txt", ""), ct...)
	})
	row("26 create-in outside one's space is 403 need-privileges/bind; inside a share 403", func(t *testing.T) {
		b := e.refused(403, "POST", inv, "carol", acceptBody("/dav/files/alice/", ""), ct...)
		if !hasCond(b, "need-privileges", "<D:bind/>") {
			t.Fatalf("body %s", b)
		}
		e.refused(403, "POST", inv, "carol", acceptBody("/dav/notifications/carol/", ""), ct...)
		// carol gets a second share mounted, then tries to accept into it.
		e.expect(201, "MKCOL", "/dav/files/alice/Other/", "alice", "")
		e.share(204, "/dav/files/alice/Other/", "alice", sharee("/dav/principals/carol/", "read-write"))
		var other string
		for _, n := range e.notifications("carol") {
			if nt, _, _ := e.notes.Get(t0(), "carol", n); nt != nil && n != strings.TrimPrefix(inv, "/dav/notifications/carol/") {
				other = "/dav/notifications/carol/" + n
			}
		}
		e.expect(201, "POST", other, "carol", acceptBody("/dav/files/carol/", ""), ct...)
		e.refused(403, "POST", inv, "carol", acceptBody("/dav/files/carol/Other/", ""), ct...)
	})
	row("27 a colliding slug gets a suffix", func(t *testing.T) {
		e.expect(201, "MKCOL", "/dav/files/carol/Apollo/", "carol", "")
		resp, _ := e.expect(201, "POST", inv, "carol", acceptBody(e.srv.URL+"/dav/files/carol/", "Apollo"), ct...)
		if l := resp.Header.Get("Location"); l != e.srv.URL+"/dav/files/carol/Apollo%20%282%29/" {
			t.Fatalf("Location %s", l)
		}
		e.expect(200, "GET", "/dav/files/carol/Apollo (2)/plan.txt", "carol", "")
	})
	row("28 reply to a missing notification is 404", func(t *testing.T) {
		e.refused(404, "POST", "/dav/notifications/carol/share-nothing.xml", "carol", acceptBody("/dav/files/carol/", ""), ct...)
	})
	row("29 a second accept is 404 (the invitation was deleted)", func(t *testing.T) {
		e.refused(404, "POST", inv, "carol", acceptBody("/dav/files/carol/", ""), ct...)
	})
	row("30 reply to a notification that is not an invitation is 403", func(t *testing.T) {
		reply := "/dav/notifications/alice/" + e.notificationName("alice", "reply-")
		e.refused(403, "POST", reply, "alice", acceptBody("/dav/files/alice/", ""), ct...)
	})
	row("31 reply to an access-change notice (no reply-url) is 403", func(t *testing.T) {
		e.share(204, apollo, "alice", sharee("/dav/principals/carol/", "read"))
		notice := "/dav/notifications/carol/" + e.notificationName("carol", "share-")
		e.refused(403, "POST", notice, "carol", acceptBody("/dav/files/carol/", ""), ct...)
	})
	row("32 reply to another user's notification is 404", func(t *testing.T) {
		notice := "/dav/notifications/carol/" + e.notificationName("carol", "share-")
		e.refused(404, "POST", notice, "bob", acceptBody("/dav/files/bob/", ""), ct...)
	})
	e.addUser("dave")
	row("33 decline is 204", func(t *testing.T) {
		e.share(204, apollo, "alice", sharee("/dav/principals/dave/", "read"))
		e.expect(204, "POST", e.invite("dave"), "dave", declineBody, ct...)
		if r := e.notification("alice", "reply-").Payload.(*notify.ShareReply); r == nil {
			t.Fatal("no reply")
		}
	})
	row("34 accept is 201 with an absolute Location", func(t *testing.T) {
		e.share(204, apollo, "alice", sharee("/dav/principals/dave/", "read"))
		if l := e.accept("dave", "", "My Apollo"); l != e.srv.URL+"/dav/files/dave/My%20Apollo/" {
			t.Fatalf("Location %s", l)
		}
	})
	row("35 ignore: DELETE of the invite is 204 and the sharer is not told", func(t *testing.T) {
		e.share(204, apollo, "alice", sharee("/dav/principals/dave/", "no-access"))
		e.share(204, apollo, "alice", sharee("/dav/principals/dave/", "read"))
		before := e.propfind(apollo, "alice", "0", "invite")
		notes := strings.Join(e.notifications("alice"), ",")
		e.expect(204, "DELETE", e.invite("dave"), "dave", "")
		if e.propfind(apollo, "alice", "0", "invite") != before || strings.Join(e.notifications("alice"), ",") != notes {
			t.Fatal("the sharer can tell")
		}
	})
	row("36 the sharee deletes its instance: 204, declined, data kept", func(t *testing.T) {
		e.share(204, apollo, "alice", sharee("/dav/principals/dave/", "no-access"))
		e.share(204, apollo, "alice", sharee("/dav/principals/dave/", "read"))
		e.accept("dave", "", "")
		e.expect(204, "DELETE", "/dav/files/dave/Apollo/", "dave", "")
		e.expect(200, "GET", apollo+"plan.txt", "alice", "")
		if p := compact(props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo)); !strings.Contains(p, "<D:href>/dav/principals/dave/</D:href><D:invite-declined/>") {
			t.Fatalf("invite %s", p)
		}
	})
	row("37 writes through a read instance are 403 need-privileges", func(t *testing.T) {
		for _, c := range [][]string{
			{"PUT", "/dav/files/bob/Apollo/new.txt"}, {"PUT", "/dav/files/bob/Apollo/plan.txt"},
			{"MKCOL", "/dav/files/bob/Apollo/d/"}, {"DELETE", "/dav/files/bob/Apollo/plan.txt"},
			{"PROPPATCH", "/dav/files/bob/Apollo/plan.txt"},
		} {
			body := "x"
			if c[0] == "PROPPATCH" {
				body = `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><x:a xmlns:x="urn:x">1</x:a></d:prop></d:set></d:propertyupdate>`
			}
			b := e.refused(403, c[0], c[1], "bob", body)
			if !hasCond(b, "need-privileges") {
				t.Fatalf("%s body %s", c[0], b)
			}
		}
		e.refused(403, "LOCK", "/dav/files/bob/Apollo/plan.txt", "bob", `<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>`)
		e.refused(403, "MOVE", "/dav/files/bob/Apollo/plan.txt", "bob", "", "Destination", "/dav/files/bob/plan.txt")
		e.refused(403, "COPY", "/dav/files/bob/Apollo/plan.txt", "bob", "", "Destination", "/dav/files/bob/Apollo/copy.txt")
	})
	row("38 a read sharee renames its copy with PROPPATCH displayname: 207/200", func(t *testing.T) {
		_, b := e.expect(207, "PROPPATCH", "/dav/files/bob/Apollo/", "bob", `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>Bob's Apollo</d:displayname></d:prop></d:set></d:propertyupdate>`)
		if !strings.Contains(b, "200 OK") {
			t.Fatalf("body %s", b)
		}
		if p := props200(t, e.propfind("/dav/files/bob/", "bob", "1", "displayname"), "/dav/files/bob/Apollo/"); !strings.Contains(p, "Bob&#39;s Apollo") && !strings.Contains(p, "Bob's Apollo") {
			t.Fatalf("displayname %s", p)
		}
		if p := props200(t, e.propfind(apollo, "alice", "0", "displayname"), apollo); strings.Contains(p, "Bob") {
			t.Fatalf("per-instance property leaked to the original: %s", p)
		}
	})
	row("39 PROPPATCH of protected properties is 207 with 403 cannot-modify-protected-property", func(t *testing.T) {
		for _, p := range []struct{ path, user, prop string }{
			{apollo, "alice", "share-access"}, {apollo, "alice", "invite"}, {apollo, "alice", "share-resource-uri"},
			{"/dav/files/bob/Apollo/", "bob", "share-access"},
			{"/dav/notifications/alice/" + e.notificationName("alice", "reply-"), "alice", "notificationtype"},
		} {
			b := e.refused(207, "PROPPATCH", p.path, p.user, `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:`+p.prop+`>x</d:`+p.prop+`></d:prop></d:set></d:propertyupdate>`)
			if !hasCond(b, "403 Forbidden", "cannot-modify-protected-property") {
				t.Fatalf("%s body %s", p.prop, b)
			}
		}
	})
	row("40 creating in the notification collection is 403", func(t *testing.T) {
		e.refused(403, "PUT", "/dav/notifications/bob/x.xml", "bob", "<x/>")
		e.refused(403, "MKCOL", "/dav/notifications/bob/d", "bob", "")
	})
	row("41 GET of a notification without an acceptable Accept is 406", func(t *testing.T) {
		n := "/dav/notifications/alice/" + e.notificationName("alice", "reply-")
		e.refused(406, "GET", n, "alice", "", "Accept", "text/html")
		e.refused(406, "GET", n, "alice", "")
		e.expect(200, "GET", n, "alice", "", "Accept", notify.MediaType)
	})
	row("42 allprop leaves out the sharing properties", func(t *testing.T) {
		b := e.propfind(apollo, "alice", "0")
		for _, p := range []string{"share-access", "invite", "share-resource-uri"} {
			if strings.Contains(b, p) {
				t.Fatalf("allprop has %s: %s", p, b)
			}
		}
	})
	uri := props200(t, e.propfind(apollo, "alice", "0", "share-resource-uri"), apollo)
	row("44 the owner moves a shared original: the share follows, the URI stays", func(t *testing.T) {
		e.expect(201, "MOVE", apollo, "alice", "", "Destination", "/dav/files/alice/Apollo-2/")
		if got := props200(t, e.propfind("/dav/files/alice/Apollo-2/", "alice", "0", "share-resource-uri"), "/dav/files/alice/Apollo-2/"); got != uri {
			t.Fatalf("uri %s, was %s", got, uri)
		}
		e.expect(200, "GET", "/dav/files/bob/Apollo/plan.txt", "bob", "")
		e.expect(201, "MOVE", "/dav/files/alice/Apollo-2/", "alice", "", "Destination", apollo)
	})
	row("45 the owner copies a shared original: the copy is not shared", func(t *testing.T) {
		e.expect(201, "COPY", apollo, "alice", "", "Destination", "/dav/files/alice/Copy/")
		p := compact(props200(t, e.propfind("/dav/files/alice/Copy/", "alice", "0", "share-access"), "/dav/files/alice/Copy/"))
		if !strings.Contains(p, "<D:not-shared/>") {
			t.Fatalf("copy %s", p)
		}
		e.share(204, "/dav/files/alice/Copy/", "alice", sharee("/dav/principals/carol/", "read")) // shareable, a new share
		if got := props200(t, e.propfind("/dav/files/alice/Copy/", "alice", "0", "share-resource-uri"), "/dav/files/alice/Copy/"); got == uri {
			t.Fatal("the copy claims the original's share-resource-uri")
		}
	})
	row("46 the sharer cannot read a sharee instance: 404", func(t *testing.T) {
		e.refused(404, "GET", "/dav/files/bob/Apollo/plan.txt", "alice", "")
		e.refused(404, "PROPFIND", "/dav/files/bob/Apollo/", "alice", "", "Depth", "0")
	})
	row("47 OPTIONS advertises resource-sharing", func(t *testing.T) {
		for _, p := range []string{"/", apollo, "/dav/files/bob/Apollo/"} {
			resp, _ := e.expect(200, "OPTIONS", p, "", "")
			if !strings.Contains(resp.Header.Get("DAV"), "resource-sharing") {
				t.Fatalf("%s: DAV %q", p, resp.Header.Get("DAV"))
			}
		}
	})
	row("48 Accept in a share POST is ignored", func(t *testing.T) {
		e.expect(204, "POST", apollo, "alice", shareBody(bob), "Content-Type", davsharing, "Accept", "text/html")
	})
	row("49 a body that declares entities is 403 no-external-entities", func(t *testing.T) {
		b := e.refused(403, "POST", apollo, "alice", `<?xml version="1.0"?><!DOCTYPE d:share-resource [<!ENTITY x SYSTEM "file:///etc/passwd">]><d:share-resource xmlns:d="DAV:">&x;</d:share-resource>`, ct...)
		if !hasCond(b, "no-external-entities") {
			t.Fatalf("body %s", b)
		}
	})
	row("50 a share POST by the sharer on a sharee path is 404", func(t *testing.T) {
		e.refused(404, "POST", "/dav/files/bob/Apollo/", "alice", shareBody(sharee("/dav/principals/carol/", "read")), ct...)
	})
	row("43 the owner deletes a shared original: 204, instances gone, sharees told", func(t *testing.T) {
		e.expect(204, "DELETE", apollo, "alice", "")
		e.expect(404, "GET", "/dav/files/bob/Apollo/plan.txt", "bob", "")
		if inv := e.notification("bob", "share-").Payload.(*notify.ShareInvite); inv.Access != notify.AccessNoAccess {
			t.Fatalf("notice %+v", inv)
		}
	})
}

// notificationName is the name of user's first notification with prefix.
func (e *shareEnv) notificationName(user, prefix string) string {
	e.t.Helper()
	for _, n := range e.notifications(user) {
		if strings.HasPrefix(n, prefix) {
			return n
		}
	}
	e.t.Fatalf("%s has no %s notification: %v", user, prefix, e.notifications(user))
	return ""
}
