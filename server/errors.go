package server

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/internal/davxml"
	"github.com/davshare/davshare/sharing"
)

// errorStatus is the one mapping from our errors to HTTP statuses.
func errorStatus(err error) int {
	var maxErr *http.MaxBytesError
	if st, ok := sharingStatus(err); ok {
		return st
	}
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		// A request body that stopped arriving (see body.go).
		return http.StatusRequestTimeout
	case errors.Is(err, dsfs.ErrInvalidPath), errors.Is(err, lock.ErrMalformed),
		errors.Is(err, dsfs.ErrIncomplete), errors.Is(err, dsfs.ErrTooLong):
		return http.StatusBadRequest
	case errors.As(err, &maxErr), errors.Is(err, davxml.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, davxml.ErrExternalEntities), errors.Is(err, davxml.ErrMalformed):
		return davxml.Status(err)
	case errors.Is(err, dsfs.ErrReadOnly), errors.Is(err, dsfs.ErrCrossTree), errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden
	case errors.Is(err, fs.ErrNotExist):
		return http.StatusNotFound
	case errors.Is(err, dsfs.ErrIsCollection), errors.Is(err, fs.ErrExist):
		return http.StatusMethodNotAllowed
	case errors.Is(err, dsfs.ErrInsufficientStorage):
		return http.StatusInsufficientStorage
	case errors.Is(err, lock.ErrLocked):
		return http.StatusLocked
	case errors.Is(err, lock.ErrPreconditionFailed), errors.Is(err, errPrecondition):
		return http.StatusPreconditionFailed
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 499 // the client went away; nobody reads this status
	}
	return http.StatusInternalServerError
}

// errPrecondition is an HTTP precondition (RFC 9110 §13) that failed.
var errPrecondition = errors.New("server: precondition failed")

// fail answers a request with the status for err and the DAV:error body that
// explains it (RFC 4918 §16), logging what the client does not see.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.failWith(w, r, err, nil)
}

// failWith is fail with a way to show a lock root to the caller (a 423
// names it); without one, the request's own URL stands for it.
func (s *Server) failWith(w http.ResponseWriter, r *http.Request, err error, lockHref func(root string) string) {
	status := errorStatus(err)
	var conds []string
	var locked *lock.LockedError
	switch {
	case errors.As(err, &locked):
		href := r.URL.Path
		if lockHref != nil {
			href = lockHref(locked.Root)
		}
		conds = append(conds, davxml.Element(davxml.NS, "lock-token-submitted", davxml.HrefElement(href)))
	case errors.Is(err, dsfs.ErrReadOnly):
		conds = append(conds, needPrivileges(r.URL.Path, "write-content"))
	case errors.Is(err, sharing.ErrNeedShare):
		conds = append(conds, needPrivileges(r.URL.Path, "share"))
	case errors.Is(err, davxml.ErrExternalEntities):
		conds = append(conds, davxml.Empty(davxml.NS, "no-external-entities"))
	}
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	if status == 499 {
		return
	}
	davxml.WriteError(w, status, conds...)
}

// needPrivileges renders RFC 3744 §7.1.1's precondition for one privilege.
func needPrivileges(href, privilege string) string {
	return davxml.Element(davxml.NS, "need-privileges",
		davxml.Element(davxml.NS, "resource",
			davxml.HrefElement(href)+davxml.Element(davxml.NS, "privilege", davxml.Empty(davxml.NS, privilege))))
}

// logger returns a discard logger when none was given.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
