package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/davshare/davshare/internal/davxml"
)

// HandlerOptions configures a Handler.
type HandlerOptions struct {
	// StrictAccept answers 406 to a GET or HEAD of a notification that has
	// no Accept header (NT-03 §4.1, spec §8.4). The config switch
	// notifications.strict_accept defaults to on; when off, a missing Accept
	// is served the DAV form. An Accept that excludes the type is 406 either
	// way.
	StrictAccept bool
	// BodyLimit caps request bodies (PROPFIND, REPORT, PROPPATCH, the
	// invite-reply POST); 0 means davxml.DefaultBodyLimit.
	BodyLimit int64
}

// InviteReplier handles a sharee's DAV:invite-reply POSTed to an invite
// notification (RS-04 §4.7.1, spec §5.2). The sharing package implements
// it; the Handler has already checked that the notification exists, is a
// share-invite-notification with a DAV:reply-url, that the Content-Type is
// application/davsharing+xml (or the legacy davshare+xml), and has read the
// body within the limit. The replier parses the body, does the work
// (instance, status, reply notification to the sharer, deleting the invite)
// and returns the status to send (201 with location, or 204); 0 means 204.
// To answer with a DAV:error precondition it returns a *ReplyError; any
// other error is logged and becomes 500.
type InviteReplier interface {
	ReplyToInvite(ctx context.Context, user, name string, n *Notification, body []byte) (status int, location string, err error)
}

// ReplyError lets an InviteReplier choose the error response: a status and
// optional precondition elements such as
// davxml.Element(davxml.NS, "need-privileges", …). Its text is never sent.
type ReplyError struct {
	Status     int
	Conditions []string
	Err        error // for the log
}

func (e *ReplyError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("notify: invite reply refused (%d): %v", e.Status, e.Err)
	}
	return fmt.Sprintf("notify: invite reply refused (%d)", e.Status)
}

func (e *ReplyError) Unwrap() error { return e.Err }

// Handler serves the notification collections over WebDAV (spec §8.7).
type Handler struct {
	store   *Store
	opts    HandlerOptions
	log     *slog.Logger
	replier InviteReplier
}

// NewHandler returns a Handler over store. replier may be nil; invite
// replies are then refused with 403.
func NewHandler(store *Store, opts HandlerOptions, log *slog.Logger, replier InviteReplier) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = davxml.DefaultBodyLimit
	}
	return &Handler{store: store, opts: opts, log: log, replier: replier}
}

// Allow lists for 405 answers and OPTIONS.
const (
	allowCollection = "OPTIONS, PROPFIND, REPORT"
	allowMember     = "OPTIONS, GET, HEAD, POST, PROPFIND, PROPPATCH, DELETE"
)

// Media types an invite reply may carry (spec §5.2, §12 #16).
var replyTypes = []string{"application/davsharing+xml", "application/davshare+xml"}

// Serve answers one request for /dav/notifications/{user}/{name}. The router
// has authenticated the caller and checked that it owns user's collection;
// name is "" for the collection itself, otherwise the single path segment
// after it.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, user, name string) {
	if !validUser(user) || strings.Contains(name, "/") {
		davxml.WriteError(w, http.StatusNotFound)
		return
	}
	if name == "" {
		h.serveCollection(w, r, user)
		return
	}
	h.serveMember(w, r, user, name)
}

func (h *Handler) serveCollection(w http.ResponseWriter, r *http.Request, user string) {
	switch r.Method {
	case "PROPFIND":
		h.propfindCollection(w, r, user)
	case "REPORT":
		h.report(w, r, user)
	case http.MethodOptions:
		w.Header().Set("Allow", allowCollection)
		w.WriteHeader(http.StatusOK)
	case http.MethodPost:
		if davxml.MediaTypeIs(r.Header.Get("Content-Type"), "application/davsharing+xml", "application/davshare+xml") {
			// A share-resource POST: the collection exists but cannot be
			// shared (spec §9 #15); any other POST is the method (§8.7).
			davxml.WriteError(w, http.StatusForbidden)
			return
		}
		w.Header().Set("Allow", allowCollection)
		davxml.WriteError(w, http.StatusMethodNotAllowed)
	case http.MethodGet, http.MethodHead:
		w.Header().Set("Allow", allowCollection)
		davxml.WriteError(w, http.StatusMethodNotAllowed)
	case http.MethodDelete, http.MethodPut, "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "PROPPATCH":
		// Clients must not create or change anything here (NT-03 §4).
		davxml.WriteError(w, http.StatusForbidden)
	default:
		w.Header().Set("Allow", allowCollection)
		davxml.WriteError(w, http.StatusMethodNotAllowed)
	}
}

func (h *Handler) serveMember(w http.ResponseWriter, r *http.Request, user, name string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.get(w, r, user, name)
	case "PROPFIND":
		h.propfindMember(w, r, user, name)
	case http.MethodDelete:
		if err := h.store.Delete(r.Context(), user, name); err != nil {
			h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		h.post(w, r, user, name)
	case "PROPPATCH":
		h.proppatch(w, r, user, name)
	case http.MethodOptions:
		w.Header().Set("Allow", allowMember)
		w.WriteHeader(http.StatusOK)
	case http.MethodPut, "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK":
		// Nothing is created, replaced, copied, moved or locked here
		// (NT-03 §4; spec §8.5, §9 #40; pitfall D.21).
		davxml.WriteError(w, http.StatusForbidden)
	default:
		w.Header().Set("Allow", allowMember)
		davxml.WriteError(w, http.StatusMethodNotAllowed)
	}
}

// get serves a notification's document (NT-03 §4.1, spec §8.4). http's
// ServeContent handles HEAD, If-None-Match and If-Modified-Since.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, user, name string) {
	f, err := h.store.read(r.Context(), user, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Vary", "Accept")
	ok, present := acceptable(r.Header.Values("Accept"), MediaType)
	if !ok && (present || h.opts.StrictAccept) {
		davxml.WriteError(w, http.StatusNotAcceptable)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", MediaType+"; charset=utf-8")
	hd.Set("ETag", f.info.ETag)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "private, no-cache")
	http.ServeContent(w, r, "", f.info.ModTime, bytes.NewReader(f.data))
}

// depth reads the Depth header: "0", "1", "infinity", or "" when absent.
func depth(r *http.Request) (string, bool) {
	d := strings.ToLower(strings.TrimSpace(r.Header.Get("Depth")))
	switch d {
	case "", "0", "1", "infinity":
		return d, true
	}
	return d, false
}

func (h *Handler) readPropfind(w http.ResponseWriter, r *http.Request) (davxml.Propfind, bool) {
	pf, err := davxml.ReadPropfind(r, h.opts.BodyLimit)
	if err != nil {
		h.fail(w, r, err)
		return davxml.Propfind{}, false
	}
	return pf, true
}

func (h *Handler) propfindCollection(w http.ResponseWriter, r *http.Request, user string) {
	d, ok := depth(r)
	switch {
	case !ok:
		davxml.WriteError(w, http.StatusBadRequest)
		return
	case d == "" || d == "infinity":
		// A missing Depth means infinity (RFC 4918 §9.1); refuse it up front
		// (pitfall B.7).
		davxml.WriteError(w, http.StatusForbidden, davxml.Empty(davxml.NS, "propfind-finite-depth"))
		return
	}
	pf, ok := h.readPropfind(w, r)
	if !ok {
		return
	}
	members, snap, err := h.store.snapshot(r.Context(), user)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ms := davxml.NewMultistatus(w)
	coll := &resource{user: user, snap: snap}
	err = ms.Response(coll.href(), propstats(coll, pf)...)
	if d == "1" {
		for _, info := range members {
			if err != nil {
				break
			}
			m := &resource{user: user, name: info.Name, info: info}
			err = ms.Response(m.href(), propstats(m, pf)...)
		}
	}
	h.finish(r, ms, "", err)
}

func (h *Handler) propfindMember(w http.ResponseWriter, r *http.Request, user, name string) {
	// Depth does not matter on a resource without members (RFC 4918 §9.1).
	if _, ok := depth(r); !ok {
		davxml.WriteError(w, http.StatusBadRequest)
		return
	}
	info, err := h.member(r, user, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pf, ok := h.readPropfind(w, r)
	if !ok {
		return
	}
	ms := davxml.NewMultistatus(w)
	m := &resource{user: user, name: name, info: info}
	h.finish(r, ms, "", ms.Response(m.href(), propstats(m, pf)...))
}

// member returns a member's Info, or ErrNotFound.
func (h *Handler) member(r *http.Request, user, name string) (Info, error) {
	if !ValidName(name) {
		return Info{}, ErrNotFound
	}
	return h.store.Stat(r.Context(), user, name)
}

// finish closes a streamed multistatus. Once the 207 has gone out, an error
// can only be logged (pitfall B.9).
func (h *Handler) finish(r *http.Request, ms *davxml.Multistatus, trailer string, err error) {
	if err == nil {
		err = ms.Close(trailer)
	}
	if err != nil && r.Context().Err() == nil {
		h.log.Warn("notify: multistatus cut short", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}

// report answers REPORT DAV:sync-collection (RFC 6578 §3).
func (h *Handler) report(w http.ResponseWriter, r *http.Request, user string) {
	// The report's scope comes from DAV:sync-level; the Depth header must be
	// 0, which is also REPORT's default (RFC 6578 §3.2, RFC 3253 §3.6).
	if d, ok := depth(r); !ok || (d != "" && d != "0") {
		davxml.WriteError(w, http.StatusBadRequest)
		return
	}
	body, err := davxml.ReadBody(r, h.opts.BodyLimit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	req, err := parseSyncCollection(body, int(h.opts.BodyLimit))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	changes, snap, err := h.store.Changes(r.Context(), user, req.token)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if req.limit > 0 && len(changes) > req.limit {
		// RFC 6578 §3.7: we refuse rather than truncate (see doc.go).
		davxml.WriteError(w, http.StatusInsufficientStorage, davxml.Empty(davxml.NS, "number-of-matches-within-limits"))
		return
	}
	pf := davxml.Propfind{Props: req.props}
	ms := davxml.NewMultistatus(w)
	for _, c := range changes {
		m := &resource{user: user, name: c.Name, info: c.Info}
		if c.Removed {
			err = ms.StatusResponse(m.href(), http.StatusNotFound)
		} else {
			err = ms.Response(m.href(), propstats(m, pf)...)
		}
		if err != nil {
			break
		}
	}
	h.finish(r, ms, davxml.Element(davxml.NS, "sync-token", davxml.Escape(snap.Token)), err)
}

// post hands an invite reply to the replier (RS-04 §4.7.1, spec §5.2, §9
// #22, #28, #30, #31).
func (h *Handler) post(w http.ResponseWriter, r *http.Request, user, name string) {
	f, err := h.store.read(r.Context(), user, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	inv, ok := f.n.Payload.(*ShareInvite)
	if !ok || inv.ReplyURL == "" || h.replier == nil {
		davxml.WriteError(w, http.StatusForbidden)
		return
	}
	if !davxml.MediaTypeIs(r.Header.Get("Content-Type"), replyTypes...) {
		davxml.WriteError(w, http.StatusUnsupportedMediaType)
		return
	}
	body, err := davxml.ReadBody(r, h.opts.BodyLimit)
	if err == nil && len(bytes.TrimSpace(body)) == 0 {
		err = fmt.Errorf("%w: empty invite-reply", davxml.ErrMalformed)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status, location, err := h.replier.ReplyToInvite(r.Context(), user, name, f.n, body)
	if err != nil {
		var re *ReplyError
		if errors.As(err, &re) && re.Status >= 400 && re.Status < 600 {
			h.log.Debug("notify: invite reply refused", "user", user, "name", name, "status", re.Status, "err", err)
			davxml.WriteError(w, re.Status, re.Conditions...)
			return
		}
		h.fail(w, r, err)
		return
	}
	if status == 0 {
		status = http.StatusNoContent
	}
	if location != "" {
		w.Header().Set("Location", location)
	}
	w.WriteHeader(status)
}

// proppatch refuses every change with 207: notificationtype and the other
// live properties are protected, and notifications take no dead properties
// (RFC 4918 §9.2, NT-03 §4.3.1, spec §8.5, §9 #39).
func (h *Handler) proppatch(w http.ResponseWriter, r *http.Request, user, name string) {
	if _, err := h.member(r, user, name); err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := davxml.ReadBody(r, h.opts.BodyLimit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	patches, err := davxml.ParsePropertyUpdate(body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	protected := davxml.Propstat{Status: http.StatusForbidden, Error: []string{davxml.Empty(davxml.NS, "cannot-modify-protected-property")}}
	dead := davxml.Propstat{Status: http.StatusForbidden}
	for _, p := range patches {
		for _, prop := range p.Props {
			ps := &dead
			if lookupProp(prop.Name) != nil {
				ps = &protected
			}
			if !slices.ContainsFunc(ps.Props, func(x davxml.Prop) bool { return x.Name == prop.Name }) {
				ps.Props = append(ps.Props, davxml.Prop{Name: prop.Name})
			}
		}
	}
	var pss []davxml.Propstat
	for _, ps := range []davxml.Propstat{protected, dead} {
		if len(ps.Props) > 0 {
			pss = append(pss, ps)
		}
	}
	ms := davxml.NewMultistatus(w)
	m := &resource{user: user, name: name}
	h.finish(r, ms, "", ms.Response(m.href(), pss...))
}

// fail is the one place that turns an error into a response. It never
// sends err's text.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalidName), errors.Is(err, ErrInvalidUser):
		davxml.WriteError(w, http.StatusNotFound)
	case errors.Is(err, ErrInvalidSyncToken):
		davxml.WriteError(w, http.StatusForbidden, davxml.Empty(davxml.NS, "valid-sync-token"))
	case errors.Is(err, errUnsupportedReport):
		davxml.WriteError(w, http.StatusForbidden, davxml.Empty(davxml.NS, "supported-report"))
	case errors.Is(err, davxml.ErrExternalEntities):
		davxml.WriteError(w, http.StatusForbidden, davxml.Empty(davxml.NS, "no-external-entities"))
	case errors.Is(err, davxml.ErrTooLarge), errors.Is(err, davxml.ErrMalformed):
		h.log.Debug("notify: bad request body", "method", r.Method, "path", r.URL.Path, "err", err)
		davxml.WriteError(w, davxml.Status(err))
	case r.Context().Err() != nil:
		h.log.Debug("notify: request canceled", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		h.log.Error("notify: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		davxml.WriteError(w, http.StatusInternalServerError)
	}
}
