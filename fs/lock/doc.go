// Package lock is davshare's WebDAV lock manager: it grants, refreshes,
// releases and discovers write locks, parses the If and Timeout headers, and
// holds the one lock check every write method goes through. The server
// answers LOCK, UNLOCK and lock checks with it for every method instead of
// x/net/webdav's memLS, which supports exclusive locks only, issues
// predictable tokens, ignores ETags and Not in If headers, and lets anyone
// UNLOCK (pitfalls D.15–D.19).
//
// It follows RFC 4918: §6 (the lock model), §7 (write locks), §9.10 (LOCK),
// §9.11 (UNLOCK), §10.4 (the If header) and §10.7 (the Timeout header), with
// entity tags compared as in RFC 7232 §2.3.2.
//
// # Canonical names
//
// Locks are keyed by canonical names, not URLs: slash-separated on-disk paths
// relative to the data root, such as "alice" (alice's home) or
// "alice/Projects/Apollo/notes.txt", with no leading or trailing slash and no
// empty, "." or ".." segment. A folder alice shares with bob is visible at
// several URLs, but the server maps each of them to the same canonical name,
// so a lock taken through any URL conflicts with writes through every other
// (pitfall D.18). Names are hierarchical by "/": a depth-infinity lock on
// "alice/P" covers "alice/P/x/y" but not "alice/Pictures". The server does
// all mapping between URLs and names; this package sees URLs only inside If
// headers, and resolves them through the caller's callback (Manager.Check).
//
// # Principals
//
// Every lock records the principal who created it. A token counts as
// submitted only when that principal sends it, and only that principal may
// refresh or UNLOCK the lock (ErrForbidden otherwise, pitfall D.16): knowing
// a token, which DAV:lockdiscovery shows to anyone who can read the
// resource, is not enough. Tokens are "urn:uuid:" URIs drawn from
// crypto/rand (pitfall D.15).
//
// # Timeouts
//
// Every lock expires. A requested timeout that is missing, "Infinite" or
// longer than the Manager's maximum is capped to that maximum (pitfall
// D.17), so a client that disappears releases its locks within the cap.
// Expired locks are never returned and never get in the way; the Manager
// purges them lazily.
//
// # The server's side
//
// For a write, the server calls Check with the parsed If header, the request
// resource and every name the method changes, and maps ErrPreconditionFailed
// to 412, ErrLocked (a *LockedError) to 423 with DAV:lock-token-submitted,
// and ErrMalformed from ParseIf to 400.
//
// For LOCK with a body, it calls Check with no writes to evaluate any If
// header, then Create; a *LockedError becomes 423 with
// DAV:no-conflicting-lock. For a LOCK refresh (no body) it requires an If
// header, calls Check with no writes, then picks the first of
// IfHeader.Tokens whose lock (Lookup) covers the request resource
// (Lock.Covers; litmus' indirect_refresh refreshes a collection's lock
// through a member) and calls Refresh. For UNLOCK it looks the Lock-Token up,
// answers 409 (DAV:lock-token-matches-request-uri) unless the lock covers
// the request resource, and calls Unlock. After a successful DELETE, and for
// the source of a successful MOVE, it calls RemoveTree: locks do not follow
// MOVE or COPY.
//
// # Storage
//
// Manager keeps its locks in memory: they are lost on restart, and a single
// process sees them. The server depends on the Store interface, so a store
// shared by several processes serving one data directory can replace the
// Manager without touching the handlers.
package lock
