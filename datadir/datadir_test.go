package datadir_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/davshare/davshare/auth"
	"github.com/davshare/davshare/datadir"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/server"
	"github.com/davshare/davshare/sharing"
	"github.com/pkg/xattr"
	"golang.org/x/crypto/bcrypt"
)

// env serves a data directory with the real router and the full sharing
// wiring of cmd/davshare serve, the way the data a check sees is made.
type env struct {
	t    *testing.T
	data string
	url  string
	stop func()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	data := t.TempDir()
	if err := dsfs.ProbeXattrs(data); err != nil {
		t.Skipf("no user xattrs in the test directory: %v", err)
	}
	store, err := auth.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	store.SetHashCost(bcrypt.MinCost)
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := store.Add(auth.Username(u), u+"@example.org", u, u+"-pw"); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, data: data}
	e.start()
	t.Cleanup(func() { e.stop() })
	return e
}

func (e *env) start() {
	t := e.t
	accts, err := auth.Open(e.data, nil)
	if err != nil {
		t.Fatal(err)
	}
	homes := dsfs.NewHomes(filepath.Join(e.data, "files"))
	notes, err := notify.Open(e.data, notify.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := sharing.Open(context.Background(), sharing.Options{Trees: homes, Accounts: accts, Notifier: notes})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Options{
		Accounts: accts, Auth: auth.NewAuthenticator(accts, auth.AuthOptions{}), Homes: homes,
		Locks: lock.NewManager(time.Hour), Mounts: mgr, Observer: mgr, Shares: mgr, Sharing: true,
		Notifications: notify.NewHandler(notes, notify.HandlerOptions{StrictAccept: true}, nil, mgr),
	}).Handler())
	e.url = srv.URL
	e.stop = func() {
		srv.Close()
		mgr.Close()
		notes.Close()
		homes.Close()
		e.stop = func() {}
	}
}

func (e *env) do(want int, method, p, user, body string, hdr ...string) string {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+p, strings.NewReader(body))
	req.SetBasicAuth(user, user+"-pw")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s as %s: %d, want %d\n%s", method, p, user, resp.StatusCode, want, b)
	}
	return string(b)
}

const davsharing = "application/davsharing+xml"

var inviteRE = regexp.MustCompile(`<D:href>(/dav/notifications/[^<]*/share-[^<]*)</D:href>`)

// shared makes alice's /Project shared read with bob and read-write with
// carol, both accepted through invite replies, as clients do it.
func (e *env) shared() {
	e.do(http.StatusCreated, "MKCOL", "/dav/files/alice/Project/", "alice", "")
	e.do(http.StatusCreated, "PUT", "/dav/files/alice/Project/a.txt", "alice", "hello")
	e.do(http.StatusNoContent, "POST", "/dav/files/alice/Project/", "alice",
		`<d:share-resource xmlns:d="DAV:">`+
			`<d:sharee><d:href>/dav/principals/bob/</d:href><d:share-access><d:read/></d:share-access></d:sharee>`+
			`<d:sharee><d:href>mailto:carol@example.org</d:href><d:share-access><d:read-write/></d:share-access></d:sharee>`+
			`</d:share-resource>`, "Content-Type", davsharing)
	for _, u := range []string{"bob", "carol"} {
		list := e.do(http.StatusMultiStatus, "PROPFIND", "/dav/notifications/"+u+"/", u, "", "Depth", "1")
		m := inviteRE.FindStringSubmatch(list)
		if m == nil {
			e.t.Fatalf("%s has no invitation:\n%s", u, list)
		}
		e.do(http.StatusCreated, "POST", m[1], u,
			`<d:invite-reply xmlns:d="DAV:"><d:invite-accepted/><d:create-in><d:href>/dav/files/`+u+`/</d:href></d:create-in></d:invite-reply>`,
			"Content-Type", davsharing)
	}
	e.do(http.StatusOK, "GET", "/dav/files/bob/Project/a.txt", "bob", "")
}

func check(t *testing.T, data string, o datadir.Options) (*datadir.Report, string) {
	t.Helper()
	o.Dir = data
	r, err := datadir.Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return r, b.String()
}

func kinds(r *datadir.Report) string {
	var ks []string
	for _, p := range r.Problems {
		ks = append(ks, p.Kind+"@"+p.Where)
	}
	return strings.Join(ks, " ")
}

func TestCheckClean(t *testing.T) {
	e := newEnv(t)
	e.shared()
	r, text := check(t, e.data, datadir.Options{}) // while the server runs
	if !r.Clean() {
		t.Fatalf("a data directory made by the server has problems:\n%s", text)
	}
	for _, want := range []string{
		"ok   extended attributes: supported",
		"ok   accounts:            3 in accounts.json",
		"ok   homes:               3 of 3 accounts complete",
		"ok   shares:              1 share, 2 accepted sharees, 2 mount entries",
		"ok   notifications:       2 documents parse", // alice's two replies
		"no problems found",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if len(r.Shares.Shares) != 1 || r.Shares.Shares[0].Path != "/Project" {
		t.Errorf("shares: %+v", r.Shares.Shares)
	}
	if left, _ := filepath.Glob(filepath.Join(e.data, ".davshare-*")); len(left) > 0 {
		t.Errorf("the check left %v", left)
	}
}

func TestCheckFindsTampering(t *testing.T) {
	e := newEnv(t)
	e.shared()
	e.do(http.StatusCreated, "PUT", "/dav/files/alice/other.txt", "alice", "other")
	e.stop()
	files := filepath.Join(e.data, "files")
	// The sharing records, tampered with the way another program could.
	must(t, xattr.Remove(filepath.Join(files, "bob"), "user.davshare.mounts.v1"))
	rec, err := xattr.Get(filepath.Join(files, "alice", "Project"), "user.davshare.share.v1")
	must(t, err)
	must(t, xattr.Set(filepath.Join(files, "alice", "other.txt"), "user.davshare.share.v1", rec))
	must(t, xattr.Set(filepath.Join(files, "carol"), "user.davshare.mounts.v1", []byte(`{"v":1,"m":{"1111-2222":{"p":"/Ghost","o":"alice"}`)))
	// A notification cut short, an empty home, an old temporary file.
	must(t, os.WriteFile(filepath.Join(e.data, "notifications", "alice", "cut.xml"), []byte(`<?xml version="1.0"?><D:notification xmlns:D="DAV:"><D:dtst`), 0o640))
	must(t, os.RemoveAll(filepath.Join(e.data, "notifications", "carol")))
	must(t, os.WriteFile(filepath.Join(files, "alice", "Project", ".davshare-tmp-0123"), []byte("half"), 0o640))

	r, text := check(t, e.data, datadir.Options{Now: func() time.Time { return time.Now().Add(time.Hour) }})
	want := "notifications-missing@notifications/carol " +
		"record-unregistered@alice:/other.txt mount-missing@bob:/Project mounts-corrupt@carol:/ " +
		"notification-corrupt@notifications/alice/cut.xml " +
		"temp-stale@files/alice/Project/.davshare-tmp-0123"
	if got := kinds(r); got != want {
		t.Fatalf("problems:\n got %s\nwant %s\n%s", got, want, text)
	}
	for _, s := range []string{"FAIL shares:", "FAIL homes:", "ok   accounts:", "fix: the server repairs this at its next start", "6 problems found"} {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q:\n%s", s, text)
		}
	}
	if _, err := xattr.Get(filepath.Join(files, "bob"), "user.davshare.mounts.v1"); err == nil {
		t.Error("the check wrote a mount table")
	}
	if _, err := os.Stat(filepath.Join(e.data, "notifications", "carol")); err == nil {
		t.Error("the check created a directory")
	}

	// The server's next start repairs what the report says it does; the
	// rest stays until an admin acts.
	e.start()
	e.do(http.StatusOK, "GET", "/dav/files/bob/Project/a.txt", "bob", "")
	r, text = check(t, e.data, datadir.Options{})
	if got, want := kinds(r), "notifications-missing@notifications/carol record-unregistered@alice:/other.txt notification-corrupt@notifications/alice/cut.xml"; got != want {
		t.Fatalf("after a restart:\n got %s\nwant %s\n%s", got, want, text)
	}
}

func TestCheckAccounts(t *testing.T) {
	data := t.TempDir()
	r, _ := check(t, filepath.Join(data, "missing"), datadir.Options{})
	if got := kinds(r); got != "no-data-dir@." {
		t.Errorf("missing directory: %s", got)
	}
	if _, err := os.Stat(filepath.Join(data, "missing")); err == nil {
		t.Error("the check created the data directory")
	}
	r, _ = check(t, data, datadir.Options{})
	if got := kinds(r); got != "accounts-missing@accounts.json" {
		t.Errorf("no accounts: %s", got)
	}
	must(t, os.WriteFile(filepath.Join(data, "accounts.json"), []byte(`{"version":1,"accounts":[`), 0o600))
	r, text := check(t, data, datadir.Options{})
	if got := kinds(r); got != "accounts-unreadable@accounts.json" || !strings.Contains(text, "FAIL accounts:") {
		t.Errorf("corrupt accounts: %s\n%s", got, text)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
