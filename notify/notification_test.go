package notify

import (
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The documents of spec §5.1, §5.4 and §8.3, as a client or another server
// would write them (lower-case prefix, other ordering).
const (
	specInvite = `<?xml version="1.0" encoding="utf-8"?>
<d:notification xmlns:d="DAV:">
  <d:dtstamp>2024-03-05T09:15:00Z</d:dtstamp>
  <d:share-invite-notification>
    <d:principal>
      <d:href>/principals/users/alice/</d:href>
      <d:prop><d:displayname>Alice Adams</d:displayname></d:prop>
    </d:principal>
    <d:invite-noresponse/>
    <d:sharer-resource-uri>
      <d:href>urn:uuid:0c7f2a8e-5b1d-4e59-9a3e-2f6b1d9c4a10</d:href>
    </d:sharer-resource-uri>
    <d:share-access><d:read/></d:share-access>
    <d:prop>
      <d:displayname>Apollo</d:displayname>
      <d:resourcetype><d:collection/></d:resourcetype>
    </d:prop>
    <d:reply-url>
      <d:href>/dav/notifications/bob/share-41-bob.xml</d:href>
    </d:reply-url>
    <d:comment>Apollo design docs</d:comment>
  </d:share-invite-notification>
</d:notification>`
	specRevoke = `<d:notification xmlns:d="DAV:">
  <d:dtstamp>2024-04-01T16:02:11Z</d:dtstamp>
  <d:share-invite-notification>
    <d:principal><d:href>/principals/users/alice/</d:href></d:principal>
    <d:invite-accepted/>
    <d:sharer-resource-uri>
      <d:href>urn:uuid:0c7f2a8e-5b1d-4e59-9a3e-2f6b1d9c4a10</d:href>
    </d:sharer-resource-uri>
    <d:share-access><d:no-access/></d:share-access>
  </d:share-invite-notification>
</d:notification>`
	specReply = `<?xml version="1.0" encoding="utf-8"?>
<d:notification xmlns:d="DAV:">
  <d:dtstamp>2024-03-05T10:47:30Z</d:dtstamp>
  <d:share-reply-notification>
    <d:sharee>
      <d:href>/principals/users/bob/</d:href>
      <d:invite-accepted/>
    </d:sharee>
    <d:href>/dav/files/alice/Projects/Apollo/</d:href>
    <d:comment>Got it, thanks</d:comment>
  </d:share-reply-notification>
</d:notification>`
	specStatus = `<?xml version="1.0" encoding="utf-8"?>
<d:notification xmlns:d="DAV:">
  <d:dtstamp>2024-06-30T22:00:00Z</d:dtstamp>
  <d:systemstatus type="medium">
    <d:href>https://status.example.net/maintenance-2024-07-01</d:href>
    <d:description xml:lang="en">Read-only maintenance window Monday 02:00-03:00 UTC</d:description>
  </d:systemstatus>
</d:notification>`
)

func TestParseSpecExamples(t *testing.T) {
	revoked := &ShareInvite{
		Principal:         Principal{Href: "/principals/users/alice/"},
		Status:            InviteAccepted,
		SharerResourceURI: "urn:uuid:0c7f2a8e-5b1d-4e59-9a3e-2f6b1d9c4a10",
		Access:            AccessNoAccess,
	}
	tests := []struct {
		name  string
		doc   string
		stamp string
		want  Payload
		typ   TypeElement
	}{
		{"invite", specInvite, "2024-03-05T09:15:00Z", sampleInvite(), TypeElement{Name: TypeShareInvite}},
		{"revoke", specRevoke, "2024-04-01T16:02:11Z", revoked, TypeElement{Name: TypeShareInvite}},
		{"reply", specReply, "2024-03-05T10:47:30Z", &ShareReply{
			Sharee: "/principals/users/bob/", Status: InviteAccepted,
			Href: "/dav/files/alice/Projects/Apollo/", Comment: "Got it, thanks",
		}, TypeElement{Name: TypeShareReply}},
		{"systemstatus", specStatus, "2024-06-30T22:00:00Z", &SystemStatus{
			Level: LevelMedium, Href: "https://status.example.net/maintenance-2024-07-01",
			Description: "Read-only maintenance window Monday 02:00-03:00 UTC", Lang: "en",
		}, TypeElement{Name: TypeSystemStatus, Attrs: []xml.Attr{xmlAttr("", "type", "medium")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, te, err := parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := FormatDTStamp(n.DTStamp); got != tc.stamp {
				t.Errorf("dtstamp = %s, want %s", got, tc.stamp)
			}
			if !reflect.DeepEqual(n.Payload, tc.want) {
				t.Errorf("payload:\n got %#v\nwant %#v", n.Payload, tc.want)
			}
			if !reflect.DeepEqual(te, tc.typ) || !reflect.DeepEqual(n.Payload.Type(), tc.typ) {
				t.Errorf("type = %#v / %#v, want %#v", te, n.Payload.Type(), tc.typ)
			}
			// Build → Parse gives the same notification back.
			b, err := Build(n)
			if err != nil {
				t.Fatal(err)
			}
			n2, err := Parse(b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if !reflect.DeepEqual(n, n2) {
				t.Errorf("round trip:\n got %#v\nwant %#v", n2, n)
			}
		})
	}
}

func TestParseLenient(t *testing.T) {
	tests := []struct {
		name, doc string
		check     func(*testing.T, *Notification)
	}{
		{"any order, default namespace, unknown elements", `<notification xmlns="DAV:" xmlns:x="urn:x">
  <share-reply-notification>
    <x:extra>ignored</x:extra>
    <href>/dav/files/alice/a</href>
    <sharee><invite-declined/><comment>inner</comment><href>/principals/users/bob/</href></sharee>
  </share-reply-notification>
  <dtstamp>2024-03-05T10:47:30+02:00</dtstamp>
</notification>`, func(t *testing.T, n *Notification) {
			r := n.Payload.(*ShareReply)
			if r.Status != InviteDeclined || r.Comment != "inner" || r.Href != "/dav/files/alice/a" {
				t.Errorf("%#v", r)
			}
			if got := FormatDTStamp(n.DTStamp); got != "2024-03-05T08:47:30Z" {
				t.Errorf("dtstamp %s", got)
			}
		}},
		{"compact dtstamp, default level", `<D:notification xmlns:D="DAV:"><D:dtstamp>20240305T091500Z</D:dtstamp><D:systemstatus><D:description>x</D:description></D:systemstatus></D:notification>`,
			func(t *testing.T, n *Notification) {
				if s := n.Payload.(*SystemStatus); s.Level != LevelLow {
					t.Errorf("level %q", s.Level)
				}
				if !n.DTStamp.Equal(time.Date(2024, 3, 5, 9, 15, 0, 0, time.UTC)) {
					t.Errorf("dtstamp %v", n.DTStamp)
				}
			}},
		{"unknown type kept", `<D:notification xmlns:D="DAV:" xmlns:C="http://calendarserver.org/ns/"><D:dtstamp>2024-03-05T09:15:00Z</D:dtstamp><C:invite-notification C:shared-type="calendar"><C:uid>1</C:uid></C:invite-notification></D:notification>`,
			func(t *testing.T, n *Notification) {
				u := n.Payload.(*Unknown)
				want := TypeElement{Name: xml.Name{Space: "http://calendarserver.org/ns/", Local: "invite-notification"},
					Attrs: []xml.Attr{xmlAttr("http://calendarserver.org/ns/", "shared-type", "calendar")}}
				if !reflect.DeepEqual(u.Type(), want) {
					t.Errorf("type %#v", u.Type())
				}
				if !strings.Contains(u.XML(), `<C:uid>1</C:uid>`) || !strings.Contains(u.XML(), `xmlns:C="http://calendarserver.org/ns/"`) {
					t.Errorf("XML %s", u.XML())
				}
				b, err := Build(n)
				if err != nil {
					t.Fatal(err)
				}
				n2, err := Parse(b)
				if err != nil || !reflect.DeepEqual(n2.Payload.Type(), want) {
					t.Errorf("rebuilt: %v %s", err, b)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, n)
		})
	}
}

func TestParseRejects(t *testing.T) {
	const stamp = `<D:dtstamp>2024-03-05T09:15:00Z</D:dtstamp>`
	wrap := func(inner string) string { return `<D:notification xmlns:D="DAV:">` + inner + `</D:notification>` }
	tests := map[string]string{
		"not xml":               `hello`,
		"wrong root":            `<D:multistatus xmlns:D="DAV:"/>`,
		"root in no namespace":  `<notification><dtstamp>2024-03-05T09:15:00Z</dtstamp><x/></notification>`,
		"no dtstamp":            wrap(`<D:systemstatus type="low"><D:description>x</D:description></D:systemstatus>`),
		"no type":               wrap(stamp),
		"two types":             wrap(stamp + `<D:systemstatus><D:href>x</D:href></D:systemstatus><D:systemstatus><D:href>y</D:href></D:systemstatus>`),
		"two dtstamps":          wrap(stamp + stamp + `<D:systemstatus><D:href>x</D:href></D:systemstatus>`),
		"bad dtstamp":           wrap(`<D:dtstamp>yesterday</D:dtstamp><D:systemstatus><D:href>x</D:href></D:systemstatus>`),
		"text in root":          wrap(stamp + `hello<D:systemstatus><D:href>x</D:href></D:systemstatus>`),
		"two roots":             wrap(stamp+`<D:systemstatus><D:href>x</D:href></D:systemstatus>`) + `<D:x xmlns:D="DAV:"/>`,
		"dtd":                   `<!DOCTYPE D:notification [<!ENTITY e "x">]>` + wrap(stamp+`<D:systemstatus><D:href>&e;</D:href></D:systemstatus>`),
		"undefined entity":      wrap(stamp + `<D:systemstatus><D:href>&e;</D:href></D:systemstatus>`),
		"undeclared prefix":     wrap(stamp + `<X:foo/>`),
		"empty prefix binding":  wrap(stamp + `<D:systemstatus xmlns:X=""><D:href>x</D:href></D:systemstatus>`),
		"status empty":          wrap(stamp + `<D:systemstatus type="low"/>`),
		"status bad level":      wrap(stamp + `<D:systemstatus type="urgent"><D:href>x</D:href></D:systemstatus>`),
		"invite two statuses":   wrap(stamp + `<D:share-invite-notification><D:principal><D:href>/p/</D:href></D:principal><D:invite-noresponse/><D:invite-accepted/><D:sharer-resource-uri><D:href>urn:x</D:href></D:sharer-resource-uri><D:share-access><D:read/></D:share-access></D:share-invite-notification>`),
		"invite declined":       wrap(stamp + `<D:share-invite-notification><D:principal><D:href>/p/</D:href></D:principal><D:invite-declined/><D:sharer-resource-uri><D:href>urn:x</D:href></D:sharer-resource-uri><D:share-access><D:read/></D:share-access></D:share-invite-notification>`),
		"invite bad access":     wrap(stamp + `<D:share-invite-notification><D:principal><D:href>/p/</D:href></D:principal><D:invite-noresponse/><D:sharer-resource-uri><D:href>urn:x</D:href></D:sharer-resource-uri><D:share-access><D:admin/></D:share-access></D:share-invite-notification>`),
		"invite two accesses":   wrap(stamp + `<D:share-invite-notification><D:principal><D:href>/p/</D:href></D:principal><D:invite-noresponse/><D:sharer-resource-uri><D:href>urn:x</D:href></D:sharer-resource-uri><D:share-access><D:read/><D:read-write/></D:share-access></D:share-invite-notification>`),
		"invite no principal":   wrap(stamp + `<D:share-invite-notification><D:invite-noresponse/><D:sharer-resource-uri><D:href>urn:x</D:href></D:sharer-resource-uri><D:share-access><D:read/></D:share-access></D:share-invite-notification>`),
		"reply-url on accepted": wrap(stamp + `<D:share-invite-notification><D:principal><D:href>/p/</D:href></D:principal><D:invite-accepted/><D:sharer-resource-uri><D:href>urn:x</D:href></D:sharer-resource-uri><D:share-access><D:read/></D:share-access><D:reply-url><D:href>/r</D:href></D:reply-url></D:share-invite-notification>`),
		"reply no sharee":       wrap(stamp + `<D:share-reply-notification><D:href>/x</D:href></D:share-reply-notification>`),
		"reply noresponse":      wrap(stamp + `<D:share-reply-notification><D:sharee><D:href>/p/</D:href><D:invite-noresponse/></D:sharee><D:href>/x</D:href></D:share-reply-notification>`),
		"too large":             wrap(stamp + `<D:systemstatus><D:description>` + strings.Repeat("x", MaxDocumentSize) + `</D:description></D:systemstatus>`),
		"too deep":              wrap(stamp + `<D:x>` + strings.Repeat("<D:a>", 100) + strings.Repeat("</D:a>", 100) + `</D:x>`),
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(doc))
			if err == nil {
				t.Fatal("parsed")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Errorf("error %v is neither ErrMalformed nor ErrTooLarge", err)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	now := time.Date(2024, 3, 5, 9, 15, 0, 0, time.UTC)
	bad := func(f func(*ShareInvite)) *ShareInvite { s := sampleInvite(); f(s); return s }
	tests := map[string]*Notification{
		"nil payload":          {DTStamp: now},
		"zero dtstamp":         {Payload: status("x")},
		"empty status":         {DTStamp: now, Payload: &SystemStatus{}},
		"bad level":            {DTStamp: now, Payload: &SystemStatus{Level: "urgent", Href: "x"}},
		"invite no href":       {DTStamp: now, Payload: bad(func(s *ShareInvite) { s.Principal.Href = "" })},
		"invite bad access":    {DTStamp: now, Payload: bad(func(s *ShareInvite) { s.Access = "admin" })},
		"invite bad status":    {DTStamp: now, Payload: bad(func(s *ShareInvite) { s.Status = InviteDeclined })},
		"reply-url no-access":  {DTStamp: now, Payload: bad(func(s *ShareInvite) { s.Access = AccessNoAccess })},
		"reply-url accepted":   {DTStamp: now, Payload: bad(func(s *ShareInvite) { s.Status = InviteAccepted })},
		"reply bad status":     {DTStamp: now, Payload: &ShareReply{Sharee: "/p/", Status: InviteNoResponse, Href: "/x"}},
		"reply no href":        {DTStamp: now, Payload: &ShareReply{Sharee: "/p/", Status: InviteAccepted}},
		"bad resourcetype":     {DTStamp: now, Payload: bad(func(s *ShareInvite) { s.Prop.ResourceType = []xml.Name{{Local: "a b"}} })},
		"year out of range":    {DTStamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Payload: status("x")},
		"document too large":   {DTStamp: now, Payload: status(strings.Repeat("x", MaxDocumentSize))},
		"unknown level casing": {DTStamp: now, Payload: &SystemStatus{Level: "High", Href: "x"}},
	}
	for name, n := range tests {
		t.Run(name, func(t *testing.T) {
			if b, err := Build(n); err == nil {
				t.Fatalf("built:\n%s", b)
			}
		})
	}
}

func TestNameFor(t *testing.T) {
	a := NameFor("share", "41", "bob")
	if a != NameFor("share", "41", "bob") {
		t.Error("not deterministic")
	}
	for _, other := range []string{NameFor("share", "41", "bo", "b"), NameFor("share", "41b", "ob"), NameFor("reply", "41", "bob"), NameFor("share", "41-bob")} {
		if other == a {
			t.Errorf("collision %s", a)
		}
	}
	for _, n := range []string{a, NameFor("", "x"), NameFor(".hidden", "x"), NameFor("a/b", "x"), NameFor(strings.Repeat("k", 300))} {
		if !ValidName(n) {
			t.Errorf("NameFor gave invalid %q", n)
		}
	}
}

func TestValidNameAndUser(t *testing.T) {
	for name, want := range map[string]bool{
		"a.xml": true, "share-41-bob.xml": true, "A_b.c-d.xml": true,
		".a.xml": false, "-a.xml": false, "a.txt": false, "a/b.xml": false, "": false, ".xml": false,
		strings.Repeat("a", 201) + ".xml": true, strings.Repeat("a", 202) + ".xml": false, "a b.xml": false, "..xml": false,
	} {
		if ValidName(name) != want {
			t.Errorf("ValidName(%q) = %v", name, !want)
		}
	}
	for user, want := range map[string]bool{
		"bob": true, "bob smith": true, "jörg": true, "a@b.c": true,
		"": false, ".": false, "..": false, ".bob": false, "a/b": false, `a\b`: false, "a\x00b": false, "a\nb": false, strings.Repeat("u", 256): false,
	} {
		if validUser(user) != want {
			t.Errorf("validUser(%q) = %v", user, !want)
		}
	}
}
