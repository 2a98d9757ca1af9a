package sharing

import "errors"

// Sentinel errors of the HTTP-facing operations. server/errors.go maps them
// to statuses (the one mapping); ReplyToInvite maps them for the
// notification handler in replyError. Their text is never sent.
var (
	// ErrUnsupportedMediaType: the body is not application/davsharing+xml
	// (RS-04 §4.3, §4.7.1; spec §9 #2, #22) → 415.
	ErrUnsupportedMediaType = errors.New("sharing: unsupported media type")
	// ErrBadRequest: the body breaks the RS-04 §5.1 or §5.7 grammar or the
	// §4.2 validation (spec §9 #3–#9, #11, #23, #24) → 400.
	ErrBadRequest = errors.New("sharing: malformed sharing request")
	// ErrNeedShare: the caller lacks DAV:share on the target (RS-04 §4.2,
	// spec §9 #13, #14) → 403 with need-privileges/share.
	ErrNeedShare = errors.New("sharing: DAV:share privilege required")
	// ErrNotShareable: the target can never be shared: the home root, a
	// resource inside or around another share (spec §9 #15, §13) → 403.
	ErrNotShareable = errors.New("sharing: resource cannot be shared")
	// ErrSelf: a sharee is the owner (spec §9 #12) → 403.
	ErrSelf = errors.New("sharing: cannot share with yourself")
	// ErrNeedBind: create-in lies outside the sharee's own space (spec §9
	// #26) → 403 with need-privileges/bind.
	ErrNeedBind = errors.New("sharing: DAV:bind privilege required on create-in")
	// ErrInsideShare: create-in or a move target lies inside a share
	// instance (spec §9 #26, §6.5) → 403.
	ErrInsideShare = errors.New("sharing: target lies inside a shared instance")
	// ErrNotFound: no such share or pending invitation (spec §9 #28) → 404.
	ErrNotFound = errors.New("sharing: no such share or invitation")
	// ErrConflict: create-in is missing or not a collection (spec §9 #25)
	// → 409.
	ErrConflict = errors.New("sharing: create-in is not an existing collection")
	// ErrNotPending: an invite-reply to an entry that has no pending
	// invitation (spec §9 #31) → 403.
	ErrNotPending = errors.New("sharing: invitation is not pending")
)
