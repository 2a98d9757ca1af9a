package sharing

import (
	"errors"
	"testing"

	"github.com/davshare/davshare/internal/davxml"
)

// FuzzParseShareResource: no panic; every failure is one of the two
// request errors; what parses has at least one valid sharee.
func FuzzParseShareResource(f *testing.F) {
	f.Add(string(body(sh("/dav/principals/bob/", "read"), sh("mailto:c@example.org", "no-access"))))
	f.Add(`<d:share-resource xmlns:d="DAV:"><d:sharee><d:href>::</d:href></d:sharee></d:share-resource>`)
	f.Add(`<!DOCTYPE x><x/>`)
	f.Fuzz(func(t *testing.T, s string) {
		reqs, err := ParseShareResource([]byte(s))
		if err != nil {
			if !errors.Is(err, ErrBadRequest) && !errors.Is(err, davxml.ErrExternalEntities) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(reqs) == 0 {
			t.Fatal("no sharees")
		}
		for _, r := range reqs {
			if r.Href == "" || !validURI(r.Href) || (r.Access != AccessRead && r.Access != AccessReadWrite && r.Access != AccessNone) {
				t.Fatalf("invalid sharee %+v", r)
			}
		}
	})
}

// FuzzParseInviteReply: no panic; an accept always has create-in.
func FuzzParseInviteReply(f *testing.F) {
	f.Add(`<d:invite-reply xmlns:d="DAV:"><d:invite-accepted/><d:create-in><d:href>/dav/files/bob/</d:href></d:create-in><d:slug>x</d:slug></d:invite-reply>`)
	f.Add(`<d:invite-reply xmlns:d="DAV:"><d:invite-declined/></d:invite-reply>`)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseInviteReply([]byte(s))
		if err != nil {
			if !errors.Is(err, ErrBadRequest) && !errors.Is(err, davxml.ErrExternalEntities) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if r.Accept && r.CreateIn == "" {
			t.Fatal("accept without create-in")
		}
	})
}
