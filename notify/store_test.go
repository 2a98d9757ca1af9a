package notify

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var ctx = context.Background()

func TestDeliverCoalesces(t *testing.T) {
	clk := newClock()
	s := openStore(t, t.TempDir(), Options{Now: clk.Now})
	name := NameFor("share", "41", "bob")
	first, err := s.Deliver(ctx, "bob", name, sampleInvite())
	if err != nil {
		t.Fatal(err)
	}
	// The same document again in the same second changes nothing.
	again, _ := s.Deliver(ctx, "bob", name, sampleInvite())
	if again.ETag != first.ETag {
		t.Errorf("identical delivery changed the ETag")
	}
	tok, _ := s.SyncToken(ctx, "bob")

	clk.Add(time.Minute)
	updated := sampleInvite()
	updated.Access = AccessReadWrite
	second, err := s.Deliver(ctx, "bob", name, updated)
	if err != nil {
		t.Fatal(err)
	}
	if second.ETag == first.ETag {
		t.Error("update kept the ETag")
	}
	n, info, err := s.Get(ctx, "bob", name)
	if err != nil {
		t.Fatal(err)
	}
	if info.ETag != second.ETag || n.Payload.(*ShareInvite).Access != AccessReadWrite || !n.DTStamp.Equal(clk.Now()) {
		t.Errorf("Get = %+v %+v", info, n)
	}
	list, _ := s.List(ctx, "bob")
	if len(list) != 1 {
		t.Errorf("coalescing left %d notifications", len(list))
	}
	changes, _, err := s.Changes(ctx, "bob", tok.Token)
	if err != nil || len(changes) != 1 || changes[0].Name != name || changes[0].Removed {
		t.Errorf("changes = %+v, %v", changes, err)
	}
}

func TestListByTypeAndErrors(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	s.Deliver(ctx, "alice", "a.xml", status("x"))
	s.Deliver(ctx, "alice", "b.xml", sampleInvite())
	s.Deliver(ctx, "alice", "c.xml", &ShareReply{Sharee: "/p/bob/", Status: InviteDeclined, Href: "/dav/files/alice/x"})
	invites, err := s.List(ctx, "alice", TypeShareInvite)
	if err != nil || len(invites) != 1 || invites[0].Name != "b.xml" {
		t.Errorf("invites = %+v %v", invites, err)
	}
	two, _ := s.List(ctx, "alice", TypeShareReply, TypeSystemStatus)
	if len(two) != 2 || two[0].Name != "a.xml" || two[1].Name != "c.xml" {
		t.Errorf("replies+status = %+v", two)
	}
	for name, err := range map[string]error{
		"bad name":     func() error { _, err := s.Deliver(ctx, "alice", "../x.xml", status("x")); return err }(),
		"bad user":     func() error { _, err := s.Deliver(ctx, "../alice", "x.xml", status("x")); return err }(),
		"dot user":     func() error { _, err := s.List(ctx, ".alice"); return err }(),
		"get missing":  func() error { _, _, err := s.Get(ctx, "alice", "zzz.xml"); return err }(),
		"delete twice": func() error { s.Delete(ctx, "alice", "a.xml"); return s.Delete(ctx, "alice", "a.xml") }(),
		"bad payload":  func() error { _, err := s.Deliver(ctx, "alice", "y.xml", &SystemStatus{}); return err }(),
	} {
		want := map[string]error{"bad name": ErrInvalidName, "bad user": ErrInvalidUser, "dot user": ErrInvalidUser,
			"get missing": ErrNotFound, "delete twice": ErrNotFound, "bad payload": ErrMalformed}[name]
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
}

func TestRestartKeepsTokens(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Deliver(ctx, "bob", "a.xml", status("a"))
	s.Deliver(ctx, "bob", "b.xml", status("b"))
	before, _ := s.SyncToken(ctx, "bob")
	infoA, _ := s.Stat(ctx, "bob", "a.xml")
	s.Close()

	// While the server is down: the CLI sends a notice, someone deletes b.
	if _, err := SendSystemStatus(dir, Broadcast{To: []string{"bob"}, Status: SystemStatus{Level: LevelHigh, Description: "down"}}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(Dir(dir), "bob", "b.xml"))

	s2 := openStore(t, dir, Options{})
	changes, after, err := s2.Changes(ctx, "bob", before.Token)
	if err != nil {
		t.Fatalf("token from before the restart: %v", err)
	}
	if len(changes) != 2 {
		t.Fatalf("changes = %+v", changes)
	}
	var added, removed string
	for _, c := range changes {
		if c.Removed {
			removed = c.Name
		} else {
			added = c.Name
		}
	}
	if removed != "b.xml" || !strings.HasPrefix(added, "status-") {
		t.Errorf("changes = %+v", changes)
	}
	if a2, _ := s2.Stat(ctx, "bob", "a.xml"); a2.ETag != infoA.ETag {
		t.Errorf("ETag changed across restart: %s → %s", infoA.ETag, a2.ETag)
	}
	if again, _, _ := s2.Changes(ctx, "bob", after.Token); len(again) != 0 {
		t.Errorf("unchanged collection reports %+v", again)
	}
}

func TestEmptyCollectionTokenSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, Options{}, testLogger(t))
	tok, err := s.SyncToken(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := openStore(t, dir, Options{})
	if changes, _, err := s2.Changes(ctx, "bob", tok.Token); err != nil || len(changes) != 0 {
		t.Errorf("empty collection after restart: %+v, %v", changes, err)
	}
}

func TestLostStateInvalidatesTokens(t *testing.T) {
	for _, damage := range []string{"remove", "corrupt"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := Open(dir, Options{}, testLogger(t))
			s.Deliver(ctx, "bob", "a.xml", status("a"))
			tok, _ := s.SyncToken(ctx, "bob")
			s.Close()
			state := filepath.Join(Dir(dir), "bob", stateFile)
			if damage == "remove" {
				os.Remove(state)
			} else {
				os.WriteFile(state, []byte(`{"v":1,"epoch":`), 0o600)
			}
			s2 := openStore(t, dir, Options{})
			if _, _, err := s2.Changes(ctx, "bob", tok.Token); !errors.Is(err, ErrInvalidSyncToken) {
				t.Errorf("old token after lost state: %v", err)
			}
			all, _, _ := s2.Changes(ctx, "bob", "")
			if len(all) != 1 || all[0].Name != "a.xml" {
				t.Errorf("initial sync = %+v", all)
			}
		})
	}
}

func TestTombstonesAreBounded(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{MaxTombstones: 2})
	for _, n := range []string{"a.xml", "b.xml", "c.xml", "d.xml"} {
		s.Deliver(ctx, "bob", n, status(n))
	}
	old, _ := s.SyncToken(ctx, "bob")
	s.Delete(ctx, "bob", "a.xml")
	mid, _ := s.SyncToken(ctx, "bob")
	s.Delete(ctx, "bob", "b.xml")
	s.Delete(ctx, "bob", "c.xml") // forgets a.xml's tombstone
	if _, _, err := s.Changes(ctx, "bob", old.Token); !errors.Is(err, ErrInvalidSyncToken) {
		t.Errorf("token older than the kept tombstones: %v", err)
	}
	changes, _, err := s.Changes(ctx, "bob", mid.Token)
	if err != nil || len(changes) != 2 {
		t.Errorf("token within the kept tombstones: %+v %v", changes, err)
	}
}

func TestRescanIgnoresWhatIsNotANotification(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	s.Deliver(ctx, "bob", "ok.xml", status("ok"))
	secret := filepath.Join(dir, "secret.xml")
	good, _ := Build(&Notification{DTStamp: time.Now(), Payload: status("secret")})
	os.WriteFile(secret, good, 0o600)
	user := filepath.Join(Dir(dir), "bob")
	os.Symlink(secret, filepath.Join(user, "link.xml"))
	os.WriteFile(filepath.Join(user, "broken.xml"), []byte("<not-a-notification/>"), 0o600)
	os.WriteFile(filepath.Join(user, "notes.txt"), good, 0o600)
	os.WriteFile(filepath.Join(user, ".hidden.xml"), good, 0o600)
	os.Mkdir(filepath.Join(user, "sub.xml"), 0o700)
	big := append([]byte(nil), good...)
	os.WriteFile(filepath.Join(user, "big.xml"), append(big, make([]byte, MaxDocumentSize)...), 0o600)
	if err := s.Rescan(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	list, _ := s.List(ctx, "bob")
	if len(list) != 1 || list[0].Name != "ok.xml" {
		t.Errorf("members = %+v", list)
	}
	for _, name := range []string{"link.xml", "broken.xml", "big.xml", "sub.xml"} {
		if _, _, err := s.Get(ctx, "bob", name); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get %s = %v", name, err)
		}
	}
	// A broken file that is fixed becomes a member.
	os.WriteFile(filepath.Join(user, "broken.xml"), good, 0o600)
	s.Rescan(ctx, "bob")
	if _, err := s.Stat(ctx, "bob", "broken.xml"); err != nil {
		t.Errorf("fixed file not picked up: %v", err)
	}
}

func TestSendSystemStatus(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := s.CreateCollection(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	st := SystemStatus{Level: LevelHigh, Description: "Maintenance tonight", Href: "https://status.example.net/"}
	now := time.Date(2024, 6, 30, 22, 0, 0, 0, time.UTC)
	sent, err := SendSystemStatus(dir, Broadcast{All: true, Status: st, Now: now})
	if err != nil || len(sent.Users) != 3 || !ValidName(sent.Name) {
		t.Fatalf("sent = %+v, %v", sent, err)
	}
	s.RescanAll(ctx)
	n, _, err := s.Get(ctx, "carol", sent.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Payload.(*SystemStatus); *got != st || !n.DTStamp.Equal(now) {
		t.Errorf("got %+v at %v", got, n.DTStamp)
	}
	// A user without a collection is reported; the others still get it.
	sent, err = SendSystemStatus(dir, Broadcast{To: []string{"alice", "nobody"}, Status: st})
	if !errors.Is(err, ErrNoCollection) || !strings.Contains(err.Error(), "nobody") || len(sent.Users) != 1 {
		t.Errorf("sent = %+v, %v", sent, err)
	}
	if _, err := os.Stat(filepath.Join(Dir(dir), "nobody")); !os.IsNotExist(err) {
		t.Error("created a collection for an unknown user")
	}
	for name, b := range map[string]Broadcast{
		"no text":   {To: []string{"bob"}, Status: SystemStatus{Level: LevelLow}},
		"bad level": {To: []string{"bob"}, Status: SystemStatus{Level: "urgent", Description: "x"}},
		"no users":  {Status: st},
		"bad user":  {To: []string{"../bob"}, Status: st},
	} {
		if _, err := SendSystemStatus(dir, b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if users, err := Users(dir); err != nil || strings.Join(users, ",") != "alice,bob,carol" {
		t.Errorf("Users = %v, %v", users, err)
	}
	if l, err := ParseLevel(" High "); err != nil || l != LevelHigh {
		t.Errorf("ParseLevel = %q, %v", l, err)
	}
	if _, err := ParseLevel("urgent"); err == nil {
		t.Error("ParseLevel accepted urgent")
	}
}

// TestWatcherSeesCLI is the acceptance test: while the handler runs, the
// admin CLI writes a notification and another program deletes one; both
// show up in sync-collection within 5 seconds.
func TestWatcherSeesCLI(t *testing.T) {
	e := newEnv(t, HandlerOptions{}, nil)
	e.deliver("bob", "old.xml", status("old"))
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.store.Watch(wctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	tok := e.syncCollection("bob", "").SyncToken
	time.Sleep(100 * time.Millisecond) // let the watches settle

	sent, err := SendSystemStatus(e.dir, Broadcast{To: []string{"bob"}, Status: SystemStatus{Description: "from the CLI"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(Dir(e.dir), "bob", "old.xml")); err != nil {
		t.Fatal(err)
	}
	// A collection created after the watcher started is watched too.
	os.Mkdir(filepath.Join(Dir(e.dir), "dave"), 0o750)
	time.Sleep(200 * time.Millisecond)
	SendSystemStatus(e.dir, Broadcast{To: []string{"dave"}, Status: SystemStatus{Description: "hello dave"}})

	deadline := time.Now().Add(5 * time.Second)
	for {
		ms := e.syncCollection("bob", tok)
		got := ms.byName()
		if _, added := got[sent.Name]; added && strings.Contains(got["old.xml"].Status, "404") && len(ms.Responses) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reflected within 5s: %+v", ms.Responses)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		if infos, _ := e.store.List(ctx, "dave"); len(infos) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("new collection not watched")
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, body := e.do(http.MethodGet, "/dav/notifications/bob/"+sent.Name, "", "Accept: "+MediaType)
	if resp.StatusCode != 200 || !strings.Contains(body, "from the CLI") {
		t.Errorf("GET = %d %s", resp.StatusCode, body)
	}
}

func TestRenderType(t *testing.T) {
	for _, tc := range []struct {
		te   TypeElement
		want string
	}{
		{TypeElement{Name: TypeShareInvite}, `<D:share-invite-notification/>`},
		{TypeElement{Name: TypeSystemStatus, Attrs: []xml.Attr{xmlAttr("", "type", `a"<&`)}}, `<D:systemstatus type="a&quot;&lt;&amp;"/>`},
		{TypeElement{Name: xml.Name{Space: "urn:x", Local: "n"}, Attrs: []xml.Attr{xmlAttr("urn:y", "a", "1"), xmlAttr(nsXML, "lang", "en"), xmlAttr("urn:x", "b", "2")}},
			`<N:n xmlns:N="urn:x" xmlns:A3="urn:y" A3:a="1" xml:lang="en" N:b="2"/>`},
		{TypeElement{Name: xml.Name{Local: "bare"}}, `<bare xmlns=""/>`},
	} {
		if got := renderType(tc.te); got != tc.want {
			t.Errorf("renderType = %s, want %s", got, tc.want)
		}
		if err := xml.Unmarshal([]byte(`<D:x xmlns:D="DAV:">`+renderType(tc.te)+`</D:x>`), new(struct{})); err != nil {
			t.Errorf("%s is not well-formed: %v", renderType(tc.te), err)
		}
	}
}
