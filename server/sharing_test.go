package server_test

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/sharing"
)

const apollo = "/dav/files/alice/Apollo/"

// setupApollo gives alice a folder with a file.
func setupApollo(e *shareEnv) {
	e.expect(201, "MKCOL", apollo, "alice", "")
	e.expect(201, "PUT", apollo+"plan.txt", "alice", "the plan")
}

// TestShareLifecycle drives every row of the sharee lifecycle table (spec
// §1.5) through HTTP.
func TestShareLifecycle(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInvite)
	setupApollo(e)

	// (none) → noresponse: invitation with reply-url = its own URL.
	e.share(204, apollo, "alice", sharee("/dav/principals/bob/", "read"))
	url := e.invite("bob")
	if !strings.HasPrefix(url, "/dav/notifications/bob/share-") {
		t.Fatalf("reply-url %q", url)
	}
	ms := e.propfind(apollo, "alice", "0", "invite", "share-access")
	if p := compact(props200(t, ms, apollo)); !strings.Contains(p, "<D:shared-owner/>") ||
		!strings.Contains(p, "<D:href>/dav/principals/bob/</D:href><D:invite-noresponse/><D:share-access><D:read/></D:share-access>") {
		t.Fatalf("DAV:invite after the share: %s", p)
	}

	// (none) → invalid: an href that names nobody.
	e.share(204, apollo, "alice", sharee("/dav/principals/nobody/", "read"))
	if p := props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo); !strings.Contains(compact(p), "<D:href>/dav/principals/nobody/</D:href><D:invite-invalid/>") {
		t.Fatalf("invalid entry: %s", p)
	}

	// noresponse → accepted: 201, absolute Location, reply to alice,
	// invite deleted, mount in bob's tree.
	loc := e.accept("bob", "/dav/files/bob/", "")
	if !strings.HasSuffix(loc, "/dav/files/bob/Apollo/") {
		t.Fatalf("Location %s", loc)
	}
	if n := e.notification("alice", "reply-"); n == nil || n.Payload.(*notify.ShareReply).Status != notify.InviteAccepted {
		t.Fatalf("alice has no accept reply: %v", e.notifications("alice"))
	}
	if e.notification("bob", "share-") != nil {
		t.Fatal("the invitation survived its reply")
	}
	_, got := e.expect(200, "GET", "/dav/files/bob/Apollo/plan.txt", "bob", "")
	if got != "the plan" {
		t.Fatalf("GET through the mount: %q", got)
	}
	if !strings.Contains(e.propfind("/dav/files/bob/", "bob", "1", "resourcetype"), "/dav/files/bob/Apollo/") {
		t.Fatal("the instance is not listed in its parent")
	}

	// noresponse → declined: 204 and a reply.
	e.share(204, apollo, "alice", sharee("/dav/principals/carol/", "read-write"))
	e.expect(204, "POST", e.invite("carol"), "carol", declineBody, "Content-Type", davsharing)
	if p := props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo); !strings.Contains(compact(p), "<D:href>/dav/principals/carol/</D:href><D:invite-declined/>") {
		t.Fatalf("declined entry: %s", p)
	}

	// declined → noresponse: sharing again sends a new invitation.
	e.share(204, apollo, "alice", sharee("/dav/principals/carol/", "read-write"))
	inviteURL := e.invite("carol")

	// noresponse: DELETE of the invite = ignore; alice is not told.
	replies := len(e.notifications("alice"))
	e.expect(204, "DELETE", inviteURL, "carol", "")
	if len(e.notifications("alice")) != replies {
		t.Fatal("the sharer learnt of an ignored invitation")
	}
	if p := props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo); !strings.Contains(compact(p), "<D:href>/dav/principals/carol/</D:href><D:invite-noresponse/>") {
		t.Fatalf("ignored entry: %s", p)
	}

	// noresponse → access change: a fresh invite with reply-url, status kept.
	e.share(204, apollo, "alice", sharee("/dav/principals/carol/", "read"))
	if inv := e.notification("carol", "share-").Payload.(*notify.ShareInvite); inv.Status != notify.InviteNoResponse || inv.Access != notify.AccessRead {
		t.Fatalf("pending access change %+v", inv)
	}

	// accepted → access change: status kept, notice without reply-url.
	e.share(204, apollo, "alice", sharee("/dav/principals/bob/", "read-write"))
	inv := e.notification("bob", "share-").Payload.(*notify.ShareInvite)
	if inv.Status != notify.InviteAccepted || inv.ReplyURL != "" || inv.Access != notify.AccessReadWrite {
		t.Fatalf("accepted access change %+v", inv)
	}
	e.expect(201, "PUT", "/dav/files/bob/Apollo/bob.txt", "bob", "from bob")

	// noresponse → no-access: entry removed, pending invite deleted.
	e.share(204, apollo, "alice", sharee("/dav/principals/carol/", "no-access"))
	if e.notification("carol", "share-") != nil {
		t.Fatal("the revoked pending invitation is still there")
	}

	// accepted → no-access: instance gone (404), notice to bob.
	e.share(204, apollo, "alice", sharee("/dav/principals/bob/", "no-access"))
	e.expect(404, "GET", "/dav/files/bob/Apollo/plan.txt", "bob", "")
	if inv := e.notification("bob", "share-").Payload.(*notify.ShareInvite); inv.Access != notify.AccessNoAccess || inv.ReplyURL != "" {
		t.Fatalf("revocation notice %+v", inv)
	}
	if p := props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo); strings.Contains(p, "/dav/principals/bob/") {
		t.Fatalf("bob still listed: %s", p)
	}

	// accepted → DELETE of the instance: declined, data kept.
	e.share(204, apollo, "alice", sharee("/dav/principals/carol/", "read"))
	e.accept("carol", "", "")
	e.expect(204, "DELETE", "/dav/files/carol/Apollo/", "carol", "")
	if _, err := os.Stat(e.disk("alice", "/Apollo/plan.txt")); err != nil {
		t.Fatal("deleting the instance deleted data")
	}
	if p := props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo); !strings.Contains(compact(p), "<D:href>/dav/principals/carol/</D:href><D:invite-declined/>") {
		t.Fatalf("after the sharee's DELETE: %s", p)
	}

	// any → owner DELETEs the original: mounts gone, sharees told.
	e.share(204, apollo, "alice", sharee("/dav/principals/carol/", "read"))
	e.accept("carol", "", "")
	e.expect(204, "DELETE", apollo, "alice", "")
	e.expect(404, "PROPFIND", "/dav/files/carol/Apollo/", "carol", "", "Depth", "0")
	if inv := e.notification("carol", "share-").Payload.(*notify.ShareInvite); inv.Access != notify.AccessNoAccess {
		t.Fatalf("no deletion notice %+v", inv)
	}
}

// TestShareInstantMode: the share appears at once in Shared/, accepted.
func TestShareInstantMode(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInstant)
	setupApollo(e)
	e.share(204, apollo, "alice", sharee("mailto:bob@example.org", "read"))
	_, got := e.expect(200, "GET", "/dav/files/bob/Shared/Apollo/plan.txt", "bob", "")
	if got != "the plan" {
		t.Fatalf("instant mount: %q", got)
	}
	if p := props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo); !strings.Contains(compact(p), "<D:href>/dav/principals/bob/</D:href><D:invite-accepted/>") {
		t.Fatalf("instant entry: %s", p)
	}
	if len(e.notifications("bob")) != 0 {
		t.Fatalf("instant mode sent %v", e.notifications("bob"))
	}
	e.expect(403, "PUT", "/dav/files/bob/Shared/Apollo/x.txt", "bob", "x")
	// MOVE of the instance root renames the mount; the data stays.
	e.expect(201, "MOVE", "/dav/files/bob/Shared/Apollo/", "bob", "", "Destination", "/dav/files/bob/Mine/")
	e.expect(200, "GET", "/dav/files/bob/Mine/plan.txt", "bob", "")
	e.expect(404, "GET", "/dav/files/bob/Shared/Apollo/plan.txt", "bob", "")
	e.expect(200, "GET", apollo+"plan.txt", "alice", "")
	// A member cannot be moved out of the share.
	e.expect(403, "MOVE", "/dav/files/bob/Mine/plan.txt", "bob", "", "Destination", "/dav/files/bob/plan.txt")
	// COPY of the instance root is an ordinary, unshared copy.
	e.expect(201, "COPY", "/dav/files/bob/Mine/", "bob", "", "Destination", "/dav/files/bob/Copy/")
	if p := compact(props200(t, e.propfind("/dav/files/bob/Copy/", "bob", "0", "share-access"), "/dav/files/bob/Copy/")); !strings.Contains(p, "<D:not-shared/>") {
		t.Fatalf("copy of an instance: %s", p)
	}
	e.expect(201, "PUT", "/dav/files/bob/Copy/mine.txt", "bob", "x")
}

// TestSharePendingMailto: an address without an account is pending; the
// account created while the server runs gets the invitation within 5s.
func TestSharePendingMailto(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInvite)
	setupApollo(e)
	e.share(204, apollo, "alice", sharee("mailto:dave@example.org", "read"))
	if p := props200(t, e.propfind(apollo, "alice", "0", "invite"), apollo); !strings.Contains(compact(p), "<D:href>mailto:dave@example.org</D:href><D:invite-noresponse/>") {
		t.Fatalf("pending entry: %s", p)
	}
	e.addUser("dave")
	waitUntil(t, 5*time.Second, "dave's invitation", func() bool { return e.notification("dave", "share-") != nil })
	e.expect(404, "GET", "/dav/files/dave/Apollo/plan.txt", "dave", "")
	e.accept("dave", "", "")
	e.expect(200, "GET", "/dav/files/dave/Apollo/plan.txt", "dave", "")
}

// TestShareSpecialFile: a FIFO that a shell left in a home is not shareable,
// and neither sharing nor a PUT over it blocks.
func TestShareSpecialFile(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInvite)
	if err := syscall.Mkfifo(e.disk("alice", "/pipe"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	e.share(403, "/dav/files/alice/pipe", "alice", sharee("/dav/principals/bob/", "read"))
}

// TestShareSymlink: a link in a home (to a folder of the same home) is not
// shareable: the sharee's view is confined to the original and would find
// nothing behind it. The folder itself is.
func TestShareSymlink(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInvite)
	if err := os.Mkdir(e.disk("alice", "/Real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("Real", e.disk("alice", "/Link")); err != nil {
		t.Fatal(err)
	}
	e.share(403, "/dav/files/alice/Link", "alice", sharee("/dav/principals/bob/", "read"))
	e.share(204, "/dav/files/alice/Real", "alice", sharee("/dav/principals/bob/", "read"))
}
