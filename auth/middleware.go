package auth

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limiter throttles login attempts, per user, per client address or both.
// RateLimiter implements it; with AuthOptions.Limiter nil nothing is
// throttled.
type Limiter interface {
	// Allow is asked before a password is checked. When it refuses, the
	// request is answered 429 Too Many Requests with a Retry-After of
	// retryAfter, and no password is checked.
	Allow(r *http.Request, user Username) (retryAfter time.Duration, ok bool)
	// Record reports the outcome of a check that Allow let through.
	Record(r *http.Request, user Username, success bool)
}

type accountKey struct{}

// WithAccount returns a copy of ctx that carries acct as the authenticated
// principal.
func WithAccount(ctx context.Context, acct Account) context.Context {
	return context.WithValue(ctx, accountKey{}, acct)
}

// AccountFrom returns the principal that WithAccount (or the Middleware)
// put into ctx.
func AccountFrom(ctx context.Context) (Account, bool) {
	acct, ok := ctx.Value(accountKey{}).(Account)
	return acct, ok
}

// Middleware lets through requests that carry valid Basic credentials
// (RFC 7617), with the account in their context (see AccountFrom; its
// PasswordHash is empty). Any other request is answered 401 Unauthorized with
// a Basic challenge. Which paths need no authentication is for the router to
// decide: it should not send those here.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, header := connLoginsFrom(r.Context()), r.Header.Get("Authorization")
		if acct, ok := a.connCached(conn, header); ok {
			next.ServeHTTP(w, r.WithContext(WithAccount(r.Context(), acct)))
			return
		}
		user, password, ok := r.BasicAuth()
		if !ok {
			a.unauthorized(w, "authentication required")
			return
		}
		name := Username(user)
		if acct, expires, ok := a.cached(user, password); ok {
			// Verified before: nothing to throttle. A guesser cannot get
			// here without the password, and the owner keeps working while
			// strangers are throttled on the same name.
			a.letThrough(w, r, next, conn, header, acct, expires)
			return
		}
		if a.limiter != nil {
			if retry, ok := a.limiter.Allow(r, name); !ok {
				a.logger.Warn("auth: login throttled", "user", user, "remote", r.RemoteAddr)
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
				http.Error(w, "too many failed logins; try again later", http.StatusTooManyRequests)
				return
			}
		}
		acct, expires, ok := a.verify(user, password)
		if a.limiter != nil {
			a.limiter.Record(r, name, ok)
		}
		if !ok {
			a.logger.Info("auth: login failed", "user", user, "remote", r.RemoteAddr)
			a.unauthorized(w, "wrong user name or password")
			return
		}
		a.letThrough(w, r, next, conn, header, acct, expires)
	})
}

// letThrough serves a verified request, remembering the login on its
// connection; acct.PasswordHash is the hash it was verified against, and
// never goes further.
func (a *Authenticator) letThrough(w http.ResponseWriter, r *http.Request, next http.Handler, conn *connLogins, header string, acct Account, expires time.Time) {
	a.rememberConn(conn, header, acct.Name, acct.PasswordHash, expires)
	acct.PasswordHash = ""
	next.ServeHTTP(w, r.WithContext(WithAccount(r.Context(), acct)))
}

func (a *Authenticator) unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", a.challenge)
	http.Error(w, msg, http.StatusUnauthorized)
}

// quote returns s as an RFC 9110 quoted-string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
