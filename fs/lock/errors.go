package lock

import "errors"

var (
	// ErrLocked means a lock stands in the way: a LOCK conflicts with an
	// existing lock, or a write did not submit the token of a lock that covers
	// what it changes (423 Locked, RFC 4918 §9.10.6, §7.5). Create and Check
	// return it wrapped in a *LockedError that names the lock root.
	ErrLocked = errors.New("lock: locked")
	// ErrNoSuchLock means the token names no active lock: it is unknown, was
	// released, or has expired (RFC 4918 §9.10.2, §9.11.1).
	ErrNoSuchLock = errors.New("lock: no such lock")
	// ErrForbidden means the token names a lock held by another principal
	// (403, pitfall D.16).
	ErrForbidden = errors.New("lock: forbidden: lock held by another principal")
	// ErrPreconditionFailed means the If header evaluated to false
	// (412, RFC 4918 §10.4.3).
	ErrPreconditionFailed = errors.New("lock: precondition failed")
	// ErrMalformed means an If or Timeout header does not parse (400).
	ErrMalformed = errors.New("lock: malformed header")
	// ErrInvalidName means a lock root is not a canonical name. It is a bug
	// in the caller (500), never the client's fault.
	ErrInvalidName = errors.New("lock: invalid canonical name")
)

// LockedError is the ErrLocked that names the root of the lock in the way,
// so the server can render DAV:lock-token-submitted (Check) or
// DAV:no-conflicting-lock (Create) with its URL (RFC 4918 §16).
//
// Root is a canonical name. It may lie outside what the requester can see
// (alice's depth-infinity lock on her home covers the folder she shares with
// bob); the server then names a URL the requester can see, or none.
type LockedError struct {
	Root string
}

func (e *LockedError) Error() string { return "lock: locked by a lock rooted at " + e.Root }

// Unwrap makes errors.Is(err, ErrLocked) hold.
func (e *LockedError) Unwrap() error { return ErrLocked }
