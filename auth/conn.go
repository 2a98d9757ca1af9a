package auth

import (
	"context"
	"net"
	"sync/atomic"
	"time"
)

// Why a per-connection memory: a client sends the same Authorization header
// on every request of a keep-alive connection, and the verified-login cache
// costs an HMAC of it each time (a few percent of a small GET). Remembering
// on the connection the header last verified there turns the next requests
// into one string comparison and the account lookup that a cache hit makes
// anyway: the hash it was verified against must still be the account's, so
// a password change or a deletion still counts at the next request.
//
// The header (the password in base64) is kept no longer than the
// connection that sent it, and is compared only with what later arrives on
// that same connection, so an ordinary comparison leaks nothing its sender
// does not know.

// ConnContext is an http.Server.ConnContext that gives each connection its
// memory of the last verified login; without it every request goes through
// the verified-login cache.
func ConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, new(connLogins))
}

type connKey struct{}

// connLogins holds one connection's last verified login. HTTP/2 streams of
// one connection run at once, hence the atomic pointer.
type connLogins struct{ last atomic.Pointer[connLogin] }

type connLogin struct {
	header  string // the Authorization header value verified
	user    Username
	hash    string // the PasswordHash it was verified against
	expires time.Time
}

func connLoginsFrom(ctx context.Context) *connLogins {
	c, _ := ctx.Value(connKey{}).(*connLogins)
	return c
}

// connCached returns the account when header is the one last verified on
// this connection, still within the cache's lifetime, and the account still
// has the hash it was verified against.
func (a *Authenticator) connCached(c *connLogins, header string) (Account, bool) {
	if c == nil || a.cache == nil {
		return Account{}, false
	}
	l := c.last.Load()
	if l == nil || l.header != header {
		return Account{}, false
	}
	acct, exists := a.store.Lookup(l.user)
	if !exists || acct.PasswordHash != l.hash || !a.cache.now().Before(l.expires) {
		c.last.CompareAndSwap(l, nil)
		return Account{}, false
	}
	a.connHits.Add(1)
	acct.PasswordHash = ""
	return acct, true
}

// rememberConn records a verification on the connection, for connCached.
func (a *Authenticator) rememberConn(c *connLogins, header string, user Username, hash string, expires time.Time) {
	if c == nil || a.cache == nil {
		return
	}
	c.last.Store(&connLogin{header: header, user: user, hash: hash, expires: expires})
}
