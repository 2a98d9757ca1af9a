package sharing

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/davshare/davshare/auth"
	"github.com/davshare/davshare/notify"
)

// downNotifier is a fakeNotifier whose deliveries fail while down: the
// state a SIGKILL leaves between the share record and the notification.
type downNotifier struct {
	*fakeNotifier
	mu   sync.Mutex
	down bool
}

func (n *downNotifier) Deliver(ctx context.Context, user, name string, p notify.Payload) (notify.Info, error) {
	n.mu.Lock()
	down := n.down
	n.mu.Unlock()
	if down {
		return notify.Info{}, errors.New("killed before the notification was written")
	}
	return n.fakeNotifier.Deliver(ctx, user, name, p)
}

func (n *downNotifier) set(down bool) {
	n.mu.Lock()
	n.down = down
	n.mu.Unlock()
}

// reopenWith starts a new Manager on the fixture's store and notifications,
// delivering through n: a restart.
func (f *fixture) reopenWith(n Notifier) {
	f.t.Helper()
	m, err := Open(context.Background(), Options{Trees: f.trees, Accounts: f.accts, Notifier: n, Store: f.store, Mode: f.mode})
	if err != nil {
		f.t.Fatal(err)
	}
	f.m = m
}

// onDisk is user's entry in the share record of alice's p as stored.
func (f *fixture) onDisk(p, user string) *Sharee {
	f.t.Helper()
	alice, _ := f.trees.Tree("alice")
	b, err := f.store.Get(alice, p, keyShare)
	if err != nil {
		f.t.Fatalf("share record of %s: %v", p, err)
	}
	rec, err := decodeShare(b)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range rec.Sharees {
		if e.User == user || e.Href == user {
			return &e
		}
	}
	return nil
}

func (f *fixture) shareID(p string) ShareID {
	f.t.Helper()
	v := f.m.snap.Load().byLoc[locKey("alice", p)]
	if v == nil {
		f.t.Fatalf("%s is not shared", p)
	}
	return v.id
}

// invitation is user's pending invitation to alice's p, nil if none.
func (f *fixture) invitation(p, user string) *notify.ShareInvite {
	inv, _ := f.notes.get(user, inviteName(f.shareID(p), user)).(*notify.ShareInvite)
	if inv == nil || inv.Status != notify.InviteNoResponse || inv.ReplyURL == "" {
		return nil
	}
	return inv
}

// TestInviteDeliveredAfterCrash: every path that sends an invitation marks
// the record undelivered before sending; when the delivery does not happen
// (a kill between the record and the notification), the next Open delivers
// it, and the record is unmarked.
func TestInviteDeliveredAfterCrash(t *testing.T) {
	const apollo = "/Projects/Apollo"
	share := func(href, access string) func(*fixture) {
		return func(f *fixture) {
			if err := f.share("alice", apollo, body(sh(href, access))); err != nil {
				f.t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name   string
		user   string
		access notify.Access
		before func(f *fixture) // with deliveries working
		crash  func(f *fixture) // with deliveries failing
	}{
		{"new sharee", "bob", notify.AccessRead, nil, share("/dav/principals/bob/", "read")},
		{"access change while pending", "bob", notify.AccessReadWrite, share("/dav/principals/bob/", "read"), share("/dav/principals/bob/", "read-write")},
		{"re-share after decline", "bob", notify.AccessRead, func(f *fixture) {
			share("/dav/principals/bob/", "read")(f)
			name := inviteName(f.shareID(apollo), "bob")
			if _, _, err := f.m.ReplyToInvite(context.Background(), "bob", name, &notify.Notification{Payload: f.notes.get("bob", name)},
				[]byte(`<d:invite-reply xmlns:d="DAV:"><d:invite-declined/></d:invite-reply>`)); err != nil {
				f.t.Fatal(err)
			}
			f.notes.Delete(context.Background(), "bob", name)
		}, share("/dav/principals/bob/", "read")},
		{"mailto address gains an account", "dave", notify.AccessReadWrite, share("mailto:dave@example.org", "read-write"), func(f *fixture) {
			a := f.accts.add("dave")
			f.m.AccountsChanged(auth.Event{Added: []auth.Account{a}})
			f.m.Close()
		}},
		{"mailto address gained an account while down", "dave", notify.AccessRead, func(f *fixture) {
			share("mailto:dave@example.org", "read")(f)
			f.accts.add("dave")
		}, func(f *fixture) {
			f.reopenWith(f.m.opts.Notifier) // Open resolves dave, its delivery fails
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, ModeInvite)
			n := &downNotifier{fakeNotifier: f.notes}
			f.reopenWith(n)
			if c.before != nil {
				c.before(f)
			}
			n.set(true)
			c.crash(f)
			if inv := f.invitation(apollo, c.user); inv != nil && inv.Access == c.access {
				t.Fatalf("the invitation was delivered although delivery failed: %+v", inv)
			}
			e := f.onDisk(apollo, c.user)
			if e == nil || e.Status != StatusNoResponse || !e.Undelivered {
				t.Fatalf("record after the failed delivery: %+v (want noresponse, undelivered)", e)
			}

			// Restart: Open delivers it and unmarks the record.
			n.set(false)
			f.reopenWith(n)
			inv := f.invitation(apollo, c.user)
			if inv == nil || inv.Access != c.access {
				t.Fatalf("after the restart, invitation %+v, want pending with access %s", inv, c.access)
			}
			if inv.ReplyURL != notify.MemberURL(c.user, inviteName(f.shareID(apollo), c.user)) {
				t.Fatalf("reply-url %q", inv.ReplyURL)
			}
			if e := f.onDisk(apollo, c.user); e == nil || e.Status != StatusNoResponse || e.Undelivered {
				t.Fatalf("record after the restart: %+v (want noresponse, delivered)", e)
			}
			// The invitation works: the sharee accepts it.
			tr, _ := f.trees.Tree(c.user)
			tr.Fs.MkdirAll("/Shared", 0o755)
			if st, _, err := f.accept(c.user, ""); err != nil || st != 201 {
				t.Fatalf("accept after redelivery: %d %v", st, err)
			}
		})
	}
}

// TestOpenDeliversMarkedRecord: records as a kill leaves them on disk,
// written by hand: a marked entry is delivered at Open whether or not the
// notification made it to disk before the kill (the same name: replaced,
// never doubled); an entry without the mark is not, since an invitation
// delivered and then ignored looks just like it.
func TestOpenDeliversMarkedRecord(t *testing.T) {
	f := newFixture(t, ModeInvite)
	alice, _ := f.trees.Tree("alice")
	const id = "3f1e7c1a-0000-4000-8000-000000000001"
	rec := `{"v":1,"id":"` + id + `","o":"alice","c":1700000000,"s":[` +
		`{"h":"/dav/principals/bob/","u":"bob","a":"read","s":"noresponse","w":true},` +
		`{"h":"/dav/principals/carol/","u":"carol","a":"read-write","s":"noresponse","w":true}]}`
	f.store.Set(alice, "/Projects/Apollo", keyShare, []byte(rec))
	f.store.Set(alice, "/", keyRegistry, []byte(`{"v":1,"s":{"`+id+`":"/Projects/Apollo"}}`))
	// carol's notification was written before the kill, bob's was not.
	f.notes.Deliver(context.Background(), "carol", inviteName(id, "carol"), &notify.ShareInvite{Access: notify.AccessReadWrite})
	f.open()
	for _, u := range []string{"bob", "carol"} {
		if f.invitation("/Projects/Apollo", u) == nil {
			t.Errorf("%s: no invitation after Open", u)
		}
		if e := f.onDisk("/Projects/Apollo", u); e == nil || e.Undelivered {
			t.Errorf("%s: record still marked: %+v", u, e)
		}
	}
	if n := f.notes.count(); n != 2 {
		t.Errorf("%d notifications, want 2 (one each)", n)
	}
	// The mark is gone from the stored JSON itself, not only false once
	// decoded (the record may be stored compressed: openRecord).
	b, _ := f.store.Get(alice, "/Projects/Apollo", keyShare)
	var raw struct {
		Sharees []map[string]json.RawMessage `json:"s"`
	}
	if err := openRecord(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, e := range raw.Sharees {
		if _, ok := e["w"]; ok {
			t.Errorf("record still carries the mark: %s", e["h"])
		}
	}

	// A record from before the mark existed: pending, no notification
	// (ignored, or lost before this version). Nothing is delivered.
	const old = "3f1e7c1a-0000-4000-8000-000000000002"
	alice.Fs.MkdirAll("/Old", 0o755)
	f.store.Set(alice, "/Old", keyShare, []byte(`{"v":1,"id":"`+old+`","o":"alice","c":1700000000,"s":[`+
		`{"h":"/dav/principals/bob/","u":"bob","a":"read","s":"noresponse","n":"`+inviteName(old, "bob")+`"}]}`))
	f.store.Set(alice, "/", keyRegistry, []byte(`{"v":1,"s":{"`+id+`":"/Projects/Apollo","`+old+`":"/Old"}}`))
	f.open()
	if e := f.entry("/Old", "bob"); e == nil || e.Status != StatusNoResponse {
		t.Fatalf("old record not loaded: %+v", e)
	}
	if f.notes.get("bob", inviteName(old, "bob")) != nil {
		t.Error("Open delivered an invitation for an old record without the mark")
	}
}

// TestIgnoredInviteNotRedelivered: an invitation the sharee deleted
// (ignore, RS-04 §4.7.2) stays ignored across restarts; the entry stays
// noresponse and nothing is sent again.
func TestIgnoredInviteNotRedelivered(t *testing.T) {
	f := newFixture(t, ModeInvite)
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read"), sh("mailto:dave@example.org", "read"))); err != nil {
		t.Fatal(err)
	}
	a := f.accts.add("dave")
	f.m.AccountsChanged(auth.Event{Added: []auth.Account{a}})
	f.m.Close()
	for _, u := range []string{"bob", "dave"} {
		if f.invitation("/Projects/Apollo", u) == nil {
			t.Fatalf("%s: no invitation", u)
		}
		if e := f.onDisk("/Projects/Apollo", u); e == nil || e.Undelivered {
			t.Fatalf("%s: delivered invitation still marked: %+v", u, e)
		}
		// The sharee ignores it: DELETE of the notification.
		if err := f.notes.Delete(context.Background(), u, inviteName(f.shareID("/Projects/Apollo"), u)); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		f.open()
		f.m.Close()
	}
	if n := f.notes.count(); n != 0 {
		t.Fatalf("%d notifications after restarts, want 0: an ignored invitation came back", n)
	}
	for _, u := range []string{"bob", "dave"} {
		if e := f.entry("/Projects/Apollo", u); e == nil || e.Status != StatusNoResponse {
			t.Fatalf("%s after restarts: %+v, want noresponse", u, e)
		}
	}
}

// TestMarkDeliveredKeepsNewerInvite: a delivery that finishes after the
// entry was invited again with another access does not unmark it; the
// newer invitation's own delivery does.
func TestMarkDeliveredKeepsNewerInvite(t *testing.T) {
	f := newFixture(t, ModeInvite)
	n := &downNotifier{fakeNotifier: f.notes, down: true}
	f.reopenWith(n)
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read-write"))); err != nil {
		t.Fatal(err)
	}
	id := f.shareID("/Projects/Apollo")
	name := inviteName(id, "bob")
	f.m.markDelivered([]delivery{{user: "bob", name: name, share: id, p: &notify.ShareInvite{Access: notify.AccessRead}}})
	if e := f.onDisk("/Projects/Apollo", "bob"); !e.Undelivered {
		t.Fatal("a stale delivery unmarked the entry")
	}
	f.m.markDelivered([]delivery{{user: "bob", name: name, share: id, p: &notify.ShareInvite{Access: notify.AccessReadWrite}}})
	if e := f.onDisk("/Projects/Apollo", "bob"); e.Undelivered {
		t.Fatal("the current delivery did not unmark the entry")
	}
	if e := f.entry("/Projects/Apollo", "bob"); e.Undelivered {
		t.Fatal("the snapshot still shows the mark")
	}
}
