package server_test

import (
	"golang.org/x/crypto/bcrypt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/server"
)

// env is a real davshare router on a loopback listener with two users.
type env struct {
	t    *testing.T
	data string
	srv  *httptest.Server
	// Stop closes the server; tests that restart call it before env.restart.
	homes *dsfs.Homes
	notes *notify.Store
}

var passwords = map[string]string{"alice": "alice-secret", "bob": "bob-secret"}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, data: newData(t, passwords, "alice", "bob")}
	e.start()
	return e
}

// newData makes a data directory with the given users (password from
// passwordOf, e-mail NAME@example.org, display name Name), skipping the
// test where the file system has no user xattrs.
func newData(t testing.TB, passwordOf map[string]string, users ...string) string {
	t.Helper()
	data := t.TempDir()
	if err := dsfs.ProbeXattrs(data); err != nil {
		t.Skipf("no user xattrs in the test directory: %v", err)
	}
	store, err := auth.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetHashCost(bcrypt.MinCost); err != nil { // the default cost makes every data directory cost ~0.5 s under -race
		t.Fatal(err)
	}
	for _, u := range users {
		if _, err := store.Add(auth.Username(u), u+"@example.org", strings.ToUpper(u[:1])+u[1:], passwordOf[u]); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

// start serves the data directory with fresh in-memory state, as a
// restarted process would.
func (e *env) start() {
	store, err := auth.Open(e.data, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.homes = dsfs.NewHomes(filepath.Join(e.data, "files"))
	notes, err := notify.Open(e.data, notify.Options{}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.notes = notes
	s := server.New(server.Options{
		Accounts:      store,
		Auth:          auth.NewAuthenticator(store, auth.AuthOptions{}),
		Homes:         e.homes,
		Locks:         lock.NewManager(time.Hour),
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notifications: notify.NewHandler(notes, notify.HandlerOptions{StrictAccept: true}, nil, nil),
	})
	e.srv = httptest.NewServer(s.Handler())
	e.t.Cleanup(e.stop)
}

func (e *env) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.homes.Close()
		e.notes.Close()
		e.srv = nil
	}
}

func (e *env) restart() {
	e.stop()
	e.start()
}

// call sends a request as user ("" for anonymous) with header pairs and
// returns the response with its body read.
func (e *env) call(method, path, user, body string, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	return send(e.t, http.DefaultClient, newRequest(e.t, method, e.srv.URL+path, user, passwords[user], body, hdr...))
}

// newRequest is a request for url with Basic credentials (none when user
// is "") and header pairs.
func newRequest(t testing.TB, method, url, user, pass, body string, hdr ...string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req
}

// send sends req through client and returns the response with its body
// read and closed.
func send(t testing.TB, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// expect asserts a status and returns the body.
func (e *env) expect(status int, method, path, user, body string, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	resp, b := e.call(method, path, user, body, hdr...)
	if resp.StatusCode != status {
		e.t.Fatalf("%s %s as %q: status %d, want %d; body: %s", method, path, user, resp.StatusCode, status, b)
	}
	return resp, b
}

// file reads a file of a home directly from disk.
func (e *env) file(user, name string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(e.data, "files", user, name))
	if err != nil {
		return "", false
	}
	return string(b), true
}
