// Package auth holds davshare's user accounts and the HTTP Basic
// authentication in front of every protected route.
//
// # Role
//
// A [Store] keeps the accounts of one data directory in DIR/accounts.json.
// The server opens it and calls [Store.Watch], so that accounts added,
// removed or changed by the admin CLI (`davshare user add|passwd|del`, run as
// a separate process while the server runs) take effect within a second or
// two, without a restart. [Store.Subscribe] tells other packages what changed:
// sharing uses [Event.Added] to deliver pending mailto: invitations.
//
// An [Authenticator] checks credentials against the Store, and its
// [Authenticator.Middleware] implements the server side of the "Basic" HTTP
// authentication scheme (RFC 7617, with the charset="UTF-8" parameter of §2.1)
// and puts the authenticated [Account] into the request context, where
// handlers find it with [AccountFrom]. Which paths need no authentication
// (OPTIONS, /healthz) is decided by the router, not here.
//
// # On disk
//
// accounts.json (mode 0600) is a JSON object {"version": 1, "accounts": [...]}.
// Every change is a read-modify-write under an exclusive flock(2) on
// DIR/.accounts.lock, so the server and any number of CLI processes never lose
// each other's changes, and every write is atomic (temporary file in DIR,
// fsync, rename, fsync of DIR): a reader sees the old file or the new one,
// never half of one.
//
// # Security boundaries
//
//   - Passwords are stored only as bcrypt hashes (golang.org/x/crypto/bcrypt,
//     bcrypt.DefaultCost). bcrypt reads at most 72 bytes, so longer passwords
//     are refused when set and never verify, rather than being silently cut.
//   - Successful verifications are cached so that a small GET costs no bcrypt.
//     The cache key is an HMAC-SHA256, under a random per-process key, of the
//     user name and password: no plaintext password is kept in memory beyond
//     the request, except on its own connection (conn.go): each keep-alive
//     connection remembers the Authorization header last verified on it, so
//     that its next requests cost a string comparison and no hashing, and
//     forgets it when it closes. A cached entry (either kind) remembers the
//     hash it was verified against and counts only while the account still
//     exists with that same hash, so a password change or a deletion, in this
//     process or another, takes effect at the next request after the Store
//     has seen it. Failures are never cached.
//   - An unknown user name costs the same bcrypt comparison as a known one (a
//     fixed fake hash of the same cost), so response timing does not reveal
//     which accounts exist. A cache hit is faster than a miss; it reveals only
//     that the very same credentials were accepted recently.
//   - The request context carries the account without its password hash.
//   - Deleting an account never deletes data: DIR/files/NAME and
//     DIR/notifications/NAME stay where they are. A NAS admin must not lose
//     files by removing a login; re-adding the name gives the data back.
//   - Failed logins are throttled per user name and per client address by
//     the [Limiter] given in [AuthOptions.Limiter]; [RateLimiter] is the one
//     davshare uses (see its documentation for the trade-offs). A throttled
//     request is answered 429 with Retry-After before any password is
//     checked, and an unknown user name is throttled like a known one.
package auth
