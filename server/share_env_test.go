package server_test

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/server"
	"github.com/davshare/davshare/sharing"
	"golang.org/x/crypto/bcrypt"
)

// shareEnv is the full wiring of cmd/davshare serve: accounts, homes,
// notifications and the sharing manager (with its watcher) behind the real
// router on a loopback listener. Users: alice, bob, carol.
type shareEnv struct {
	t     testing.TB
	data  string
	mode  sharing.Mode
	srv   *httptest.Server
	homes *dsfs.Homes
	accts *auth.Store
	notes *notify.Store
	mgr   *sharing.Manager
	stop  context.CancelFunc
	done  chan struct{}
}

var sharePasswords = map[string]string{"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw", "dave": "dave-pw"}

// sharePassword is user's password: sharePasswords' for those users, else
// derived from the name, for accounts that tests add by the hundred.
func sharePassword(user string) string {
	if pw, ok := sharePasswords[user]; ok {
		return pw
	}
	return user + "-pw"
}

func newShareEnv(t testing.TB, mode sharing.Mode) *shareEnv {
	t.Helper()
	data := newData(t, sharePasswords, "alice", "bob", "carol")
	e := &shareEnv{t: t, data: data, mode: mode}
	e.start()
	t.Cleanup(e.close)
	return e
}

// start serves the data directory with fresh in-memory state, as a new
// process would.
func (e *shareEnv) start() {
	t := e.t
	var err error
	if e.accts, err = auth.Open(e.data, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.accts.SetHashCost(bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	e.homes = dsfs.NewHomes(filepath.Join(e.data, "files"))
	if e.notes, err = notify.Open(e.data, notify.Options{}, nil); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("SHARE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.mgr, err = sharing.Open(context.Background(), sharing.Options{
		Trees: e.homes, Accounts: e.accts, Notifier: e.notes, Mode: e.mode,
		VerifyInterval: time.Second, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.accts.Subscribe(e.mgr.AccountsChanged)
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		go e.accts.Watch(ctx, 200*time.Millisecond)
		e.mgr.Watch(ctx)
	}()
	s := server.New(server.Options{
		Accounts:      e.accts,
		Auth:          auth.NewAuthenticator(e.accts, auth.AuthOptions{}),
		Homes:         e.homes,
		Locks:         lock.NewManager(time.Hour),
		Mounts:        e.mgr,
		Observer:      e.mgr,
		Shares:        e.mgr,
		Sharing:       true,
		Notifications: notify.NewHandler(e.notes, notify.HandlerOptions{StrictAccept: true}, log, e.mgr),
		Logger:        log,
	})
	e.srv = httptest.NewServer(s.Handler())
}

func (e *shareEnv) close() {
	if e.srv == nil {
		return
	}
	e.srv.Close()
	e.stop()
	<-e.done
	e.mgr.Close()
	e.notes.Close()
	e.homes.Close()
	e.srv = nil
}

func (e *shareEnv) restart() {
	e.close()
	e.start()
}

// addUser creates an account while the server runs.
func (e *shareEnv) addUser(name string) {
	if _, err := e.accts.Add(auth.Username(name), name+"@example.org", name, sharePassword(name)); err != nil {
		e.t.Fatal(err)
	}
}

// call sends a request as user with header pairs and returns the response
// with its body read.
func (e *shareEnv) call(method, p, user, body string, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	target := p
	if !strings.HasPrefix(p, "http") {
		target = e.srv.URL + p
	}
	return send(e.t, http.DefaultClient, newRequest(e.t, method, target, user, sharePassword(user), body, hdr...))
}

func (e *shareEnv) expect(status int, method, p, user, body string, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	resp, b := e.call(method, p, user, body, hdr...)
	if resp.StatusCode != status {
		e.t.Fatalf("%s %s as %s: status %d, want %d; body: %s", method, p, user, resp.StatusCode, status, b)
	}
	return resp, b
}

const davsharing = "application/davsharing+xml; charset=utf-8"

func shareBody(sharees ...string) string {
	return `<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<d:share-resource xmlns:d="DAV:">` + strings.Join(sharees, "") + `</d:share-resource>`
}

func sharee(href, access string, extra ...string) string {
	return `<d:sharee><d:href>` + href + `</d:href>` + strings.Join(extra, "") + `<d:share-access><d:` + access + `/></d:share-access></d:sharee>`
}

// share POSTs a share-resource and expects status.
func (e *shareEnv) share(status int, p, user string, sharees ...string) {
	e.t.Helper()
	e.expect(status, "POST", p, user, shareBody(sharees...), "Content-Type", davsharing)
}

// notifications lists user's notification names.
func (e *shareEnv) notifications(user string) []string {
	e.t.Helper()
	infos, err := e.notes.List(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, i := range infos {
		out = append(out, i.Name)
	}
	return out
}

// notification reads one of user's notifications whose name starts with
// prefix; nil when there is none.
func (e *shareEnv) notification(user, prefix string) *notify.Notification {
	e.t.Helper()
	for _, n := range e.notifications(user) {
		if strings.HasPrefix(n, prefix) {
			nt, _, err := e.notes.Get(context.Background(), user, n)
			if err != nil {
				e.t.Fatal(err)
			}
			return nt
		}
	}
	return nil
}

// invite returns the URL of user's pending invitation (its reply-url).
func (e *shareEnv) invite(user string) string {
	e.t.Helper()
	n := e.notification(user, "share-")
	if n == nil {
		e.t.Fatalf("%s has no invitation; notifications: %v", user, e.notifications(user))
	}
	inv := n.Payload.(*notify.ShareInvite)
	if inv.ReplyURL == "" {
		e.t.Fatalf("%s's invitation is not pending: %+v", user, inv)
	}
	return inv.ReplyURL
}

func acceptBody(createIn, slug string) string {
	b := `<?xml version="1.0" encoding="utf-8"?><d:invite-reply xmlns:d="DAV:"><d:invite-accepted/><d:create-in><d:href>` + createIn + `</d:href></d:create-in>`
	if slug != "" {
		b += `<d:slug>` + slug + `</d:slug>`
	}
	return b + `<d:comment>thanks</d:comment></d:invite-reply>`
}

const declineBody = `<?xml version="1.0" encoding="utf-8"?><d:invite-reply xmlns:d="DAV:"><d:invite-declined/><d:comment>no thanks</d:comment></d:invite-reply>`

// accept accepts user's invitation into /dav/files/user/ (or createIn)
// and returns the Location.
func (e *shareEnv) accept(user, createIn, slug string) string {
	e.t.Helper()
	if createIn == "" {
		createIn = "/dav/files/" + user + "/"
	}
	resp, _ := e.expect(201, "POST", e.invite(user), user, acceptBody(createIn, slug), "Content-Type", davsharing)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, e.srv.URL+"/dav/files/"+user+"/") {
		e.t.Fatalf("Location %q is not an absolute URL in %s's space", loc, user)
	}
	return loc
}

// propfind asks for props at Depth depth and returns the body.
func (e *shareEnv) propfind(p, user, depth string, props ...string) string {
	e.t.Helper()
	body := `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:">`
	if len(props) == 0 {
		body += `<d:allprop/>`
	} else {
		body += `<d:prop>`
		for _, pr := range props {
			body += `<d:` + pr + `/>`
		}
		body += `</d:prop>`
	}
	body += `</d:propfind>`
	_, b := e.expect(207, "PROPFIND", p, user, body, "Depth", depth, "Content-Type", "application/xml")
	return b
}

// xmsResponse is one response of a multistatus, for assertions.
type xmsResponse struct {
	Href     string `xml:"href"`
	Propstat []struct {
		Prop struct {
			Inner string `xml:",innerxml"`
		} `xml:"prop"`
		Status string `xml:"status"`
	} `xml:"propstat"`
}

// props200 returns the inner XML of the 200 propstat for href.
func props200(t testing.TB, ms, href string) string {
	t.Helper()
	var doc struct {
		Responses []xmsResponse `xml:"response"`
	}
	if err := xml.Unmarshal([]byte(ms), &doc); err != nil {
		t.Fatalf("multistatus: %v\n%s", err, ms)
	}
	for _, r := range doc.Responses {
		if r.Href == href {
			for _, ps := range r.Propstat {
				if strings.Contains(ps.Status, " 200 ") {
					return ps.Prop.Inner
				}
			}
			return ""
		}
	}
	t.Fatalf("no response for %s in\n%s", href, ms)
	return ""
}

var spaceRE = regexp.MustCompile(`>\s+<`)

// compact removes whitespace between tags.
func compact(s string) string { return spaceRE.ReplaceAllString(strings.TrimSpace(s), "><") }

// waitFor polls cond for at most d.
func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not within %v: %s", d, what)
}

// disk is a path below a user's home on disk.
func (e *shareEnv) disk(user, name string) string {
	return filepath.Join(e.data, "files", user, filepath.FromSlash(name))
}

func t0() context.Context { return context.Background() }
