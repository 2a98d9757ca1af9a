package notify

import "errors"

// Sentinel errors. Callers match them with errors.Is; the HTTP handler maps
// them to statuses in one place (httpStatus) and never echoes their text.
var (
	// ErrNotFound means the user has no notification with that name.
	ErrNotFound = errors.New("notify: notification not found")
	// ErrInvalidName means a resource name does not match NamePattern.
	ErrInvalidName = errors.New("notify: invalid notification name")
	// ErrInvalidUser means a user name cannot be a directory name.
	ErrInvalidUser = errors.New("notify: invalid user name")
	// ErrNoCollection means the user has no notification directory (only
	// the admin CLI path reports this; the server creates missing ones).
	ErrNoCollection = errors.New("notify: user has no notification collection")
	// ErrMalformed means a notification document does not follow NT-03
	// §4.4 or the grammar of its known type.
	ErrMalformed = errors.New("notify: malformed notification document")
	// ErrTooLarge means a notification document exceeds MaxDocumentSize.
	ErrTooLarge = errors.New("notify: notification document too large")
	// ErrInvalidSyncToken means a sync token was not issued by this
	// collection, or is older than the kept history (RFC 6578 §3.2).
	ErrInvalidSyncToken = errors.New("notify: invalid sync token")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("notify: store closed")
)
