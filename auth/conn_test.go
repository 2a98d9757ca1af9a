package auth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestConnLogins: on a keep-alive connection, a login verified once lets
// the next requests with the same header through without the verified-login
// cache, yet a changed password, a deleted account, an expired entry and
// another user on the same connection are all seen at the next request.
func TestConnLogins(t *testing.T) {
	s := openTest(t, t.TempDir())
	mustAdd(t, s, "alice", "alice@example.org", "alice pass")
	mustAdd(t, s, "bob", "bob@example.org", "bob pass")
	a := NewAuthenticator(s, AuthOptions{})
	now := time.Now()
	a.cache.now = func() time.Time { return now }
	srv := httptest.NewUnstartedServer(a.Middleware(whoami))
	srv.Config.ConnContext = ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	client := srv.Client()

	get := func(user, password string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.SetBasicAuth(user, password)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	steps := []struct {
		name               string
		do                 func()
		user, password     string
		status             int
		compares, connHits int64 // totals after the step
	}{
		{"first login", nil, "alice", "alice pass", 200, 1, 0},
		{"same connection", nil, "alice", "alice pass", 200, 1, 1},
		{"and again", nil, "alice", "alice pass", 200, 1, 2},
		{"wrong password on it", nil, "alice", "nope", 401, 2, 2},
		{"another user on it", nil, "bob", "bob pass", 200, 3, 2},
		{"that user again", nil, "bob", "bob pass", 200, 3, 3},
		{"a new connection uses the cache", client.CloseIdleConnections, "bob", "bob pass", 200, 3, 3},
		{"then its own memory", nil, "bob", "bob pass", 200, 3, 4},
		{"password changed", func() { mustDo(t, s.SetPassword("bob", "new pass")) }, "bob", "bob pass", 401, 4, 4},
		{"new password", nil, "bob", "new pass", 200, 5, 4},
		{"expired", func() { now = now.Add(DefaultCacheTTL + time.Second) }, "bob", "new pass", 200, 6, 4},
		{"remembered anew", nil, "bob", "new pass", 200, 6, 5},
		{"account deleted", func() { mustDo(t, s.Delete("bob")) }, "bob", "new pass", 401, 7, 5},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		if got := get(st.user, st.password); got != st.status {
			t.Errorf("%s: status %d, want %d", st.name, got, st.status)
		}
		if c, h := a.compares.Load(), a.connHits.Load(); c != st.compares || h != st.connHits {
			t.Errorf("%s: %d bcrypt comparisons and %d connection hits, want %d and %d", st.name, c, h, st.compares, st.connHits)
		}
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
