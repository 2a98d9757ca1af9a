package auth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// whoami answers 200 with the name of the account in the context.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	acct, ok := AccountFrom(r.Context())
	if !ok {
		http.Error(w, "no account in context", http.StatusInternalServerError)
		return
	}
	if acct.PasswordHash != "" {
		http.Error(w, "password hash in context", http.StatusInternalServerError)
		return
	}
	io.WriteString(w, string(acct.Name)+" "+acct.Email)
})

func TestMiddleware(t *testing.T) {
	s := openTest(t, t.TempDir())
	mustAdd(t, s, "alice", "alice@example.org", "s3cret é")
	h := NewAuthenticator(s, AuthOptions{}).Middleware(whoami)
	const challenge = `Basic realm="davshare", charset="UTF-8"`

	tests := []struct {
		name     string
		setup    func(r *http.Request)
		status   int
		body     string
		wantAuth bool // WWW-Authenticate expected
	}{
		{"no credentials", func(r *http.Request) {}, http.StatusUnauthorized, "authentication required", true},
		{"not Basic", func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, http.StatusUnauthorized, "authentication required", true},
		{"malformed Basic", func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }, http.StatusUnauthorized, "authentication required", true},
		{"wrong password", func(r *http.Request) { r.SetBasicAuth("alice", "wrong") }, http.StatusUnauthorized, "wrong user name or password", true},
		{"unknown user", func(r *http.Request) { r.SetBasicAuth("mallory", "s3cret é") }, http.StatusUnauthorized, "wrong user name or password", true},
		{"right", func(r *http.Request) { r.SetBasicAuth("alice", "s3cret é") }, http.StatusOK, "alice alice@example.org", false},
		{"right again, from the cache", func(r *http.Request) { r.SetBasicAuth("alice", "s3cret é") }, http.StatusOK, "alice alice@example.org", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("PROPFIND", "/dav/files/alice/", nil)
			tt.setup(r)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d", w.Code, tt.status)
			}
			if !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("body %q, want it to contain %q", w.Body, tt.body)
			}
			got := w.Header().Get("WWW-Authenticate")
			if tt.wantAuth && got != challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
			}
			if !tt.wantAuth && got != "" {
				t.Errorf("WWW-Authenticate %q on success", got)
			}
		})
	}
}

func TestMiddlewareRealm(t *testing.T) {
	s := openTest(t, t.TempDir())
	h := NewAuthenticator(s, AuthOptions{Realm: `NAS "home"`}).Middleware(whoami)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if got, want := w.Header().Get("WWW-Authenticate"), `Basic realm="NAS \"home\"", charset="UTF-8"`; got != want {
		t.Errorf("WWW-Authenticate %q, want %q", got, want)
	}
}

// fakeLimiter refuses a user after one failure.
type fakeLimiter struct {
	failed   map[Username]bool
	recorded []string
}

func (l *fakeLimiter) Allow(r *http.Request, user Username) (time.Duration, bool) {
	if l.failed[user] {
		return 1500 * time.Millisecond, false
	}
	return 0, true
}

func (l *fakeLimiter) Record(r *http.Request, user Username, success bool) {
	if !success {
		l.failed[user] = true
	}
	l.recorded = append(l.recorded, string(user)+map[bool]string{true: " ok", false: " failed"}[success])
}

func TestMiddlewareLimiterSeam(t *testing.T) {
	s := openTest(t, t.TempDir())
	mustAdd(t, s, "alice", "alice@example.org", "pw")
	mustAdd(t, s, "bob", "bob@example.org", "pw2")
	lim := &fakeLimiter{failed: map[Username]bool{}}
	a := NewAuthenticator(s, AuthOptions{Limiter: lim})
	h := a.Middleware(whoami)

	steps := []struct {
		user, pw   string
		status     int
		retryAfter string
	}{
		{"alice", "pw", http.StatusOK, ""},
		{"alice", "bad", http.StatusUnauthorized, ""},
		// Verified credentials bypass the throttle: the owner keeps
		// working while a stranger is throttled on the same name.
		{"alice", "pw", http.StatusOK, ""},
		{"bob", "bad", http.StatusUnauthorized, ""},
		// Credentials not verified yet meet the throttle.
		{"bob", "pw2", http.StatusTooManyRequests, "2"},
	}
	for _, st := range steps {
		r := httptest.NewRequest("GET", "/", nil)
		r.SetBasicAuth(st.user, st.pw)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != st.status || w.Header().Get("Retry-After") != st.retryAfter {
			t.Errorf("%s/%s: status %d Retry-After %q, want %d %q",
				st.user, st.pw, w.Code, w.Header().Get("Retry-After"), st.status, st.retryAfter)
		}
	}
	if got, want := strings.Join(lim.recorded, ","), "alice ok,alice failed,bob failed"; got != want {
		t.Errorf("recorded %q, want %q (a throttled request checks no password)", got, want)
	}
}
