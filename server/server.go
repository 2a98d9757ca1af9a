package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/internal/davxml"
)

// Accounts is what the router needs from the account store.
type Accounts interface {
	Lookup(name auth.Username) (auth.Account, bool)
}

// Authenticator wraps handlers with HTTP authentication; it must put the
// account in the request context (auth.WithAccount).
type Authenticator interface {
	Middleware(next http.Handler) http.Handler
}

// NotificationHandler serves a user's notification collection; the router
// has authenticated the caller and checked that user is the caller.
type NotificationHandler interface {
	Serve(w http.ResponseWriter, r *http.Request, user string, name string)
}

// Options configures a Server. Accounts, Auth, Homes and Locks are required.
type Options struct {
	Accounts      Accounts
	Auth          Authenticator
	Homes         dsfs.TreeOpener
	Locks         lock.Store
	Mounts        dsfs.MountSource    // nil: no shares
	Observer      dsfs.Observer       // nil: nobody follows moves
	Notifications NotificationHandler // nil: 404 under /dav/notifications/
	Logger        *slog.Logger
	// BodyLimit caps XML request bodies (default davxml.DefaultBodyLimit).
	BodyLimit int64
	// LockMaxTimeout caps lock lifetimes (default one hour).
	LockMaxTimeout time.Duration
	// Sharing adds "resource-sharing" to the DAV header.
	Sharing bool
	// Shares serves the sharing POST and properties (sharing.Manager);
	// nil: POST is 405 and the sharing properties are absent.
	Shares Shares
	// BodyIdleTimeout bounds the wait for each part of a request body
	// (default DefaultBodyIdleTimeout; see body.go).
	BodyIdleTimeout time.Duration
	// Metrics, when set, counts every request and reports the active locks.
	Metrics *Metrics
	// MetricsOnMain serves Metrics at /metrics on this handler, to
	// authenticated users only.
	MetricsOnMain bool
}

// Server routes davshare's URL space. It is an http.Handler.
type Server struct {
	Options
	log     *slog.Logger
	authed  http.Handler
	metrics http.Handler // /metrics behind authentication; nil: not served
	davHdr  string
	started time.Time
	// readBufs holds smallGet-byte buffers that GET reads small files
	// into (get.go).
	readBufs sync.Pool
}

// New builds the router.
func New(o Options) *Server {
	if o.BodyLimit <= 0 {
		o.BodyLimit = davxml.DefaultBodyLimit
	}
	if o.LockMaxTimeout <= 0 {
		o.LockMaxTimeout = time.Hour
	}
	if o.BodyIdleTimeout <= 0 {
		o.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	s := &Server{Options: o, log: orDiscard(o.Logger), started: time.Now()}
	s.readBufs.New = func() any { b := make([]byte, smallGet); return &b }
	s.davHdr = "1, 2, 3"
	if o.Sharing {
		s.davHdr += ", resource-sharing"
	}
	s.authed = o.Auth.Middleware(http.HandlerFunc(s.serveAuthed))
	if o.Metrics != nil {
		locks := o.Locks
		o.Metrics.GaugeFunc("davshare_locks_active", "WebDAV locks currently held.",
			func() float64 { return float64(locks.Len(time.Now())) })
		if o.MetricsOnMain {
			s.metrics = o.Auth.Middleware(o.Metrics.Handler())
		}
	}
	return s
}

const (
	filesPrefix         = "/dav/files/"
	principalsPrefix    = "/dav/principals/"
	notificationsPrefix = "/dav/notifications/"
)

// ServeHTTP is the router: OPTIONS and /healthz before authentication,
// everything else after it (/metrics too, when MetricsOnMain).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodOptions:
		s.serveOptions(w, r)
	case r.URL.Path == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	case r.URL.Path == "/metrics" && s.metrics != nil:
		s.metrics.ServeHTTP(w, r)
	default:
		s.authed.ServeHTTP(w, r)
	}
}

func (s *Server) serveAuthed(w http.ResponseWriter, r *http.Request) {
	acct, ok := auth.AccountFrom(r.Context())
	if !ok { // the middleware guarantees an account; be safe anyway
		davxml.WriteError(w, http.StatusUnauthorized)
		return
	}
	setLogUser(r.Context(), string(acct.Name))
	p := r.URL.Path
	switch {
	case isDiscovery(p):
		s.serveDiscovery(w, r, acct)
	case strings.HasPrefix(p, filesPrefix):
		user, rest, ok := s.ownSpace(p, filesPrefix, acct)
		if !ok {
			davxml.WriteError(w, http.StatusNotFound)
			return
		}
		s.serveFiles(w, r, acct, user, rest)
	case strings.HasPrefix(p, principalsPrefix):
		_, rest, ok := s.ownSpace(p, principalsPrefix, acct)
		if !ok || (rest != "" && rest != "/") {
			davxml.WriteError(w, http.StatusNotFound)
			return
		}
		s.servePrincipal(w, r, acct)
	case strings.HasPrefix(p, notificationsPrefix) && s.Notifications != nil:
		user, rest, ok := s.ownSpace(p, notificationsPrefix, acct)
		if !ok {
			davxml.WriteError(w, http.StatusNotFound)
			return
		}
		s.Notifications.Serve(w, withBaseURL(r), user, strings.TrimPrefix(rest, "/"))
	default:
		davxml.WriteError(w, http.StatusNotFound)
	}
}

// ownSpace splits "/prefix/{user}/rest" and accepts it only when {user} is
// the caller: another user's space is indistinguishable from nothing (404).
// The user segment is compared exactly, so "/dav/files/alice2" never falls
// into alice's space (pitfall A.1).
func (s *Server) ownSpace(p, prefix string, acct auth.Account) (user, rest string, ok bool) {
	tail := strings.TrimPrefix(p, prefix)
	user, rest, _ = strings.Cut(tail, "/")
	if user == "" || auth.Username(user) != acct.Name {
		return "", "", false
	}
	if rest != "" || strings.HasSuffix(tail, "/") {
		rest = "/" + rest
	}
	return user, rest, true
}

// isDiscovery reports the collections above the user spaces that clients
// probe (GNOME, Office, Explorer): they answer PROPFIND with the caller's
// own entries.
func isDiscovery(p string) bool {
	switch strings.TrimSuffix(p, "/") {
	case "", "/dav", "/dav/files", "/dav/principals", "/dav/notifications":
		return true
	}
	return false
}

// Run serves on srv until ctx is cancelled, then shuts down gracefully,
// letting in-flight requests finish for at most grace. Requests still
// running then are cut off, and Run waits up to CutOffWait more for their
// handlers to see the cut and clean up (an upload removes its temporary
// file), so that the process does not exit in the middle of that.
func Run(ctx context.Context, srv *http.Server, serve func() error, grace time.Duration) error {
	var running atomic.Int64 // handlers running; Close does not wait for them
	h := srv.Handler
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		running.Add(1)
		defer running.Add(-1)
		h.ServeHTTP(w, r)
	})
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
		for end := time.Now().Add(CutOffWait); running.Load() > 0 && time.Now().Before(end); {
			time.Sleep(5 * time.Millisecond)
		}
		err = ErrShutdownForced
	}
	if serr := <-errc; err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	return err
}

// CutOffWait bounds how long Run waits, after the grace period, for the
// handlers of the requests it cut off: a cut connection fails their next
// read or write at once, and what they do then (remove a temporary file)
// takes milliseconds.
const CutOffWait = 2 * time.Second

// ErrShutdownForced reports that requests were still running when the
// grace period ended and were cut off. The stop itself was orderly: an
// interrupted upload leaves the old content, as after any disconnect.
var ErrShutdownForced = errors.New("server: requests still running at the end of the shutdown grace period were cut off")
