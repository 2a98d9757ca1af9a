package sharing

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/internal/davxml"
	"github.com/davshare/davshare/notify"
	"github.com/spf13/afero"
)

// fakeAccounts is an in-memory account list.
type fakeAccounts struct {
	mu    sync.Mutex
	accts []auth.Account
}

func (f *fakeAccounts) Lookup(n auth.Username) (auth.Account, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.accts {
		if a.Name == n {
			return a, true
		}
	}
	return auth.Account{}, false
}

func (f *fakeAccounts) LookupEmail(e string) (auth.Account, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.accts {
		if strings.EqualFold(a.Email, e) {
			return a, true
		}
	}
	return auth.Account{}, false
}

func (f *fakeAccounts) List() []auth.Account {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]auth.Account(nil), f.accts...)
}

func (f *fakeAccounts) add(name string) auth.Account {
	a := auth.Account{Name: auth.Username(name), Email: name + "@example.org", DisplayName: strings.ToUpper(name[:1]) + name[1:]}
	f.mu.Lock()
	f.accts = append(f.accts, a)
	f.mu.Unlock()
	return a
}

// fakeNotifier records notifications by user and name.
type fakeNotifier struct {
	mu sync.Mutex
	m  map[string]notify.Payload // user/name
}

func (f *fakeNotifier) Deliver(_ context.Context, user, name string, p notify.Payload) (notify.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[user+"/"+name] = p
	return notify.Info{Name: name}, nil
}

func (f *fakeNotifier) Delete(_ context.Context, user, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.m[user+"/"+name]; !ok {
		return notify.ErrNotFound
	}
	delete(f.m, user+"/"+name)
	return nil
}

func (f *fakeNotifier) get(user, name string) notify.Payload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[user+"/"+name]
}

func (f *fakeNotifier) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

// memTrees opens one MemMapFs tree per user.
type memTrees struct {
	mu sync.Mutex
	m  map[string]*dsfs.Tree
}

func (t *memTrees) Tree(user string) (*dsfs.Tree, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.m[user]; ok {
		return tr, nil
	}
	fsys := afero.NewMemMapFs()
	fsys.MkdirAll("/", 0o755)
	tr := dsfs.NewTree(user, fsys, dsfs.NewMemProps())
	t.m[user] = tr
	return tr, nil
}

type fixture struct {
	t     *testing.T
	accts *fakeAccounts
	notes *fakeNotifier
	trees *memTrees
	store Store
	mode  Mode
	m     *Manager
}

func newFixture(t *testing.T, mode Mode) *fixture {
	f := &fixture{t: t, accts: &fakeAccounts{}, notes: &fakeNotifier{m: map[string]notify.Payload{}},
		trees: &memTrees{m: map[string]*dsfs.Tree{}}, store: NewMemStore(), mode: mode}
	for _, u := range []string{"alice", "bob", "carol"} {
		f.accts.add(u)
	}
	alice, _ := f.trees.Tree("alice")
	alice.Fs.MkdirAll("/Projects/Apollo/docs", 0o755)
	afero.WriteFile(alice.Fs, "/Projects/Apollo/plan.txt", []byte("plan"), 0o644)
	for _, u := range []string{"bob", "carol"} {
		tr, _ := f.trees.Tree(u)
		tr.Fs.MkdirAll("/Shared", 0o755)
	}
	f.open()
	return f
}

func (f *fixture) open() {
	m, err := Open(context.Background(), Options{Trees: f.trees, Accounts: f.accts, Notifier: f.notes, Store: f.store, Mode: f.mode})
	if err != nil {
		f.t.Fatal(err)
	}
	f.m = m
}

func (f *fixture) loc(user, p string) dsfs.Location {
	ns, err := dsfs.NewNamespace(context.Background(), user, f.trees, f.m, f.m)
	if err != nil {
		f.t.Fatal(err)
	}
	loc, err := ns.Resolve(p)
	if err != nil {
		f.t.Fatal(err)
	}
	return loc
}

func body(sharees ...string) []byte {
	return []byte(`<?xml version="1.0"?><d:share-resource xmlns:d="DAV:">` + strings.Join(sharees, "") + `</d:share-resource>`)
}

func sh(href, access string) string {
	return `<d:sharee><d:href>` + href + `</d:href><d:share-access><d:` + access + `/></d:share-access></d:sharee>`
}

func (f *fixture) share(user, p string, b []byte) error {
	return f.m.Share(context.Background(), user, f.loc(user, p), b)
}

func (f *fixture) entry(p, user string) *Sharee {
	v := f.m.snap.Load().byLoc[locKey("alice", p)]
	if v == nil {
		return nil
	}
	for _, e := range v.sharees {
		if e.User == user || e.Href == user {
			return &e
		}
	}
	return nil
}

func (f *fixture) accept(user, slug string) (int, string, error) {
	v := f.m.snap.Load().byLoc[locKey("alice", "/Projects/Apollo")]
	name := inviteName(v.id, user)
	p := f.notes.get(user, name)
	if p == nil {
		f.t.Fatalf("no invite for %s", user)
	}
	b := `<d:invite-reply xmlns:d="DAV:"><d:invite-accepted/><d:create-in><d:href>/dav/files/` + user + `/Shared/</d:href></d:create-in>`
	if slug != "" {
		b += `<d:slug>` + slug + `</d:slug>`
	}
	b += `</d:invite-reply>`
	return f.m.ReplyToInvite(context.Background(), user, name, &notify.Notification{Payload: p}, []byte(b))
}

func TestShareInviteAcceptRevoke(t *testing.T) {
	f := newFixture(t, ModeInvite)
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read"), sh("mailto:Carol@example.org", "read-write"))); err != nil {
		t.Fatal(err)
	}
	if e := f.entry("/Projects/Apollo", "bob"); e == nil || e.Status != StatusNoResponse || e.Access != AccessRead {
		t.Fatalf("bob entry %+v", e)
	}
	if e := f.entry("/Projects/Apollo", "carol"); e == nil || e.Href != "/dav/principals/carol/" {
		t.Fatalf("carol entry %+v", e)
	}
	v := f.m.snap.Load().byLoc[locKey("alice", "/Projects/Apollo")]
	inv, ok := f.notes.get("bob", inviteName(v.id, "bob")).(*notify.ShareInvite)
	if !ok || inv.ReplyURL != "/dav/notifications/bob/"+inviteName(v.id, "bob") || inv.Status != notify.InviteNoResponse {
		t.Fatalf("invite %+v", inv)
	}
	if got := f.m.ShareAccess(f.loc("alice", "/Projects/Apollo")); got != "shared-owner" {
		t.Fatalf("share-access %s", got)
	}
	st, loc, err := f.accept("bob", "Apollo (from Alice)")
	if err != nil || st != http.StatusCreated || !strings.HasSuffix(loc, "/dav/files/bob/Shared/Apollo%20%28from%20Alice%29/") {
		t.Fatalf("accept: %d %q %v", st, loc, err)
	}
	if _, ok := f.notes.get("alice", replyName(v.id, "bob")).(*notify.ShareReply); !ok {
		t.Fatal("no reply notification to alice")
	}
	if f.notes.get("bob", inviteName(v.id, "bob")) != nil {
		t.Fatal("invite not deleted after the reply")
	}
	ms, _ := f.m.Mounts(context.Background(), "bob")
	if len(ms) != 1 || ms[0].Path != "/Shared/Apollo (from Alice)" || !ms[0].ReadOnly || ms[0].Target != "/Projects/Apollo" {
		t.Fatalf("mounts %+v", ms)
	}
	bl := f.loc("bob", "/Shared/Apollo (from Alice)/plan.txt")
	if bl.Tree.Owner != "alice" || !bl.ReadOnly() {
		t.Fatalf("resolve %+v", bl)
	}
	if got := f.m.ShareAccess(f.loc("bob", "/Shared/Apollo (from Alice)")); got != "read" {
		t.Fatalf("instance share-access %s", got)
	}
	// Access change keeps the status and notifies without a reply-url.
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read-write"))); err != nil {
		t.Fatal(err)
	}
	inv, _ = f.notes.get("bob", inviteName(v.id, "bob")).(*notify.ShareInvite)
	if inv == nil || inv.Status != notify.InviteAccepted || inv.ReplyURL != "" || inv.Access != notify.AccessReadWrite {
		t.Fatalf("access change notice %+v", inv)
	}
	if ms, _ := f.m.Mounts(context.Background(), "bob"); ms[0].ReadOnly {
		t.Fatal("mount still read-only")
	}
	// Revoke: the mount goes, a no-access notice arrives.
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "no-access"))); err != nil {
		t.Fatal(err)
	}
	if ms, _ := f.m.Mounts(context.Background(), "bob"); len(ms) != 0 {
		t.Fatalf("mounts after revoke %+v", ms)
	}
	inv, _ = f.notes.get("bob", inviteName(v.id, "bob")).(*notify.ShareInvite)
	if inv == nil || inv.Access != notify.AccessNoAccess {
		t.Fatalf("revocation notice %+v", inv)
	}
	if f.entry("/Projects/Apollo", "bob") != nil {
		t.Fatal("revoked sharee still listed")
	}
}

func TestShareValidation(t *testing.T) {
	f := newFixture(t, ModeInvite)
	cases := []struct {
		name string
		user string
		p    string
		body []byte
		want error
	}{
		{"self", "alice", "/Projects/Apollo", body(sh("/dav/principals/alice/", "read")), ErrSelf},
		{"self by mail", "alice", "/Projects/Apollo", body(sh("mailto:alice@example.org", "read")), ErrSelf},
		{"home root", "alice", "/", body(sh("/dav/principals/bob/", "read")), ErrNotShareable},
		{"no sharee", "alice", "/Projects/Apollo", body(), ErrBadRequest},
		{"bad access", "alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "shared-owner")), ErrBadRequest},
		{"not a uri", "alice", "/Projects/Apollo", body(sh("::", "read")), ErrBadRequest},
		{"wrong root", "alice", "/Projects/Apollo", []byte(`<d:invite-reply xmlns:d="DAV:"/>`), ErrBadRequest},
		{"dtd", "alice", "/Projects/Apollo", []byte(`<!DOCTYPE x [<!ENTITY e "x">]><d:share-resource xmlns:d="DAV:"/>`), davxml.ErrExternalEntities},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := f.share(c.user, c.p, c.body); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if len(f.m.snap.Load().byID) != 0 || f.notes.count() != 0 {
				t.Fatal("a refused request changed something")
			}
		})
	}
	// Nested shares are refused both ways.
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read"))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/Projects", "/Projects/Apollo/docs"} {
		if err := f.share("alice", p, body(sh("/dav/principals/carol/", "read"))); !errors.Is(err, ErrNotShareable) {
			t.Fatalf("%s: %v", p, err)
		}
	}
}

func TestDuplicateAndUnchanged(t *testing.T) {
	f := newFixture(t, ModeInvite)
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read"), sh("/principals/users/bob/", "read-write"))); err != nil {
		t.Fatal(err)
	}
	if e := f.entry("/Projects/Apollo", "bob"); e.Access != AccessReadWrite {
		t.Fatalf("later entry did not win: %+v", e)
	}
	v := f.m.snap.Load().byLoc[locKey("alice", "/Projects/Apollo")]
	f.notes.Delete(context.Background(), "bob", inviteName(v.id, "bob")) // ignore
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read-write"))); err != nil {
		t.Fatal(err)
	}
	if f.notes.count() != 0 {
		t.Fatal("sharing again with the same access notified")
	}
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/nobody/", "read"), sh("https://elsewhere.example/u/x", "read"))); err != nil {
		t.Fatal(err)
	}
	if e := f.entry("/Projects/Apollo", "/dav/principals/nobody/"); e == nil || e.Status != StatusInvalid {
		t.Fatalf("unknown principal: %+v", e)
	}
}

func TestPendingMailtoAndRestart(t *testing.T) {
	f := newFixture(t, ModeInvite)
	if err := f.share("alice", "/Projects/Apollo", body(sh("mailto:dave@example.org", "read"))); err != nil {
		t.Fatal(err)
	}
	if e := f.entry("/Projects/Apollo", "mailto:dave@example.org"); e == nil || e.Status != StatusNoResponse {
		t.Fatalf("pending entry %+v", e)
	}
	if f.notes.count() != 0 {
		t.Fatal("a notification without an account")
	}
	a := f.accts.add("dave")
	f.m.AccountsChanged(auth.Event{Added: []auth.Account{a}})
	f.m.Close()
	v := f.m.snap.Load().byLoc[locKey("alice", "/Projects/Apollo")]
	if _, ok := f.notes.get("dave", inviteName(v.id, "dave")).(*notify.ShareInvite); !ok {
		t.Fatal("no invite for dave once his account exists")
	}
	if ms, _ := f.m.Mounts(context.Background(), "dave"); len(ms) != 0 {
		t.Fatal("access before acceptance")
	}
	// Restart: a new Manager on the same store sees the same state.
	f.open()
	if e := f.entry("/Projects/Apollo", "dave"); e == nil || e.Status != StatusNoResponse || e.Href != "/dav/principals/dave/" {
		t.Fatalf("after restart %+v", e)
	}
}

func TestInstantModeMoveDelete(t *testing.T) {
	f := newFixture(t, ModeInstant)
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read-write"))); err != nil {
		t.Fatal(err)
	}
	ms, _ := f.m.Mounts(context.Background(), "bob")
	if len(ms) != 1 || ms[0].Path != "/Shared/Apollo" {
		t.Fatalf("instant mount %+v", ms)
	}
	// Owner renames through WebDAV: the mount follows, the URI stays.
	uri, _ := f.m.ResourceURI(f.loc("alice", "/Projects/Apollo"))
	ns, _ := dsfs.NewNamespace(context.Background(), "alice", f.trees, f.m, f.m)
	if err := ns.Rename(context.Background(), "/Projects/Apollo", "/Apollo2"); err != nil {
		t.Fatal(err)
	}
	ms, _ = f.m.Mounts(context.Background(), "bob")
	if ms[0].Target != "/Apollo2" {
		t.Fatalf("mount did not follow %+v", ms)
	}
	if u2, _ := f.m.ResourceURI(f.loc("alice", "/Apollo2")); u2 != uri {
		t.Fatal("share-resource-uri changed on MOVE")
	}
	// Per-instance displayname at the mount root.
	res, err := f.m.PatchInstance(context.Background(), "bob", ms[0], []davxml.Patch{{Props: []davxml.Property{{Name: xml.Name{Space: "DAV:", Local: "displayname"}, Inner: "Mine"}}}}, func(xml.Name) bool { return false })
	if err != nil || res[0].Status != 200 {
		t.Fatal(res, err)
	}
	if p, _ := f.m.InstanceProps("bob", ms[0]); len(p) != 1 || p[0].Inner != "Mine" {
		t.Fatalf("instance props %+v", p)
	}
	// Sharee moves its instance.
	bns, _ := dsfs.NewNamespace(context.Background(), "bob", f.trees, f.m, f.m)
	if err := bns.Rename(context.Background(), "/Shared/Apollo", "/Apollo"); err != nil {
		t.Fatal(err)
	}
	if ms, _ = f.m.Mounts(context.Background(), "bob"); ms[0].Path != "/Apollo" {
		t.Fatalf("instance did not move %+v", ms)
	}
	if p, _ := f.m.InstanceProps("bob", ms[0]); len(p) != 1 {
		t.Fatal("instance props lost on move")
	}
	// Owner deletes: the mount goes and bob is told.
	if err := ns.RemoveAll(context.Background(), "/Apollo2"); err != nil {
		t.Fatal(err)
	}
	if ms, _ = f.m.Mounts(context.Background(), "bob"); len(ms) != 0 {
		t.Fatalf("mount survived the original %+v", ms)
	}
	found := false
	for k, p := range f.notes.m {
		if inv, ok := p.(*notify.ShareInvite); ok && strings.HasPrefix(k, "bob/") && inv.Access == notify.AccessNoAccess {
			found = true
		}
	}
	if !found {
		t.Fatal("bob not told of the deletion")
	}
}

func TestUnmountDeclines(t *testing.T) {
	f := newFixture(t, ModeInvite)
	f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read")))
	if _, _, err := f.accept("bob", ""); err != nil {
		t.Fatal(err)
	}
	bns, _ := dsfs.NewNamespace(context.Background(), "bob", f.trees, f.m, f.m)
	if err := bns.RemoveAll(context.Background(), "/Shared/Apollo"); err != nil {
		t.Fatal(err)
	}
	if e := f.entry("/Projects/Apollo", "bob"); e.Status != StatusDeclined || e.Instance != "" {
		t.Fatalf("after unmount %+v", e)
	}
	alice, _ := f.trees.Tree("alice")
	if ok, _ := afero.Exists(alice.Fs, "/Projects/Apollo/plan.txt"); !ok {
		t.Fatal("data deleted with the instance")
	}
	// Re-share after decline: a fresh invitation.
	f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read")))
	if e := f.entry("/Projects/Apollo", "bob"); e.Status != StatusNoResponse {
		t.Fatalf("re-share %+v", e)
	}
}

func TestSanitizeSlug(t *testing.T) {
	for in, want := range map[string]string{
		"a/b":                    "ab",
		"..":                     "",
		".davshare-tmp-1":        "",
		" x\x01y ":               "xy",
		strings.Repeat("é", 150): strings.Repeat("é", 100),
	} {
		if got := sanitizeSlug(in); got != want {
			t.Errorf("sanitizeSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

var _ = time.Second

func TestResolveHrefs(t *testing.T) {
	f := newFixture(t, ModeInvite)
	for href, want := range map[string]resolved{
		"/dav/principals/bob/":                          {href: "/dav/principals/bob/", user: "bob"},
		"/dav/principals/bob":                           {href: "/dav/principals/bob/", user: "bob"},
		"https://files.example.net/dav/principals/bob/": {href: "/dav/principals/bob/", user: "bob"},
		"/principals/users/bob/":                        {href: "/dav/principals/bob/", user: "bob"},
		"mailto:BOB@Example.org":                        {href: "/dav/principals/bob/", user: "bob", email: "bob@example.org"},
		"mailto:new@example.org":                        {href: "mailto:new@example.org", email: "new@example.org", pending: true},
		"/dav/principals/ghost/":                        {href: "/dav/principals/ghost/"},
		"urn:x-other:123":                               {href: "urn:x-other:123"},
	} {
		if got := f.m.resolve(href); got != want {
			t.Errorf("resolve(%q) = %+v, want %+v", href, got, want)
		}
	}
}

// TestReconcileAtOpen: mount tables are repaired from the share records.
func TestReconcileAtOpen(t *testing.T) {
	f := newFixture(t, ModeInstant)
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read"))); err != nil {
		t.Fatal(err)
	}
	bob, _ := f.trees.Tree("bob")
	carol, _ := f.trees.Tree("carol")
	// bob's table lost his entry, carol's has one nobody granted.
	f.store.Set(bob, "/", keyMounts, []byte(`{"v":1,"m":{}}`))
	f.store.Set(carol, "/", keyMounts, []byte(`{"v":1,"m":{"forged":{"p":"/Shared/Apollo","o":"alice"}}}`))
	f.open()
	if ms, _ := f.m.Mounts(context.Background(), "bob"); len(ms) != 1 || ms[0].Path != "/Shared/Apollo" {
		t.Fatalf("bob's mounts %+v", ms)
	}
	if ms, _ := f.m.Mounts(context.Background(), "carol"); len(ms) != 0 {
		t.Fatalf("carol's mounts %+v", ms)
	}
	b, _ := f.store.Get(bob, "/", keyMounts)
	if tab, _ := decodeMounts(b); len(tab) != 1 {
		t.Fatalf("bob's table not repaired: %s", b)
	}
	if _, err := f.store.Get(carol, "/", keyMounts); !errors.Is(err, ErrNoRecord) {
		t.Fatalf("carol's forged entry kept: %v", err)
	}
}

// TestInstantPendingMailto: in instant mode an account created for a
// pending address gets the mount at once.
func TestInstantPendingMailto(t *testing.T) {
	f := newFixture(t, ModeInstant)
	if err := f.share("alice", "/Projects/Apollo", body(sh("mailto:erin@example.org", "read-write"))); err != nil {
		t.Fatal(err)
	}
	a := f.accts.add("erin")
	f.m.AccountsChanged(auth.Event{Added: []auth.Account{a}})
	f.m.Close()
	if ms, _ := f.m.Mounts(context.Background(), "erin"); len(ms) != 1 || ms[0].ReadOnly {
		t.Fatalf("erin's mounts %+v", ms)
	}
}
