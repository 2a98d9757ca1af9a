package server

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/internal/davxml"
	"github.com/davshare/davshare/sharing"
)

// Shares is what the router needs from sharing.Manager: the share-resource
// POST (RS-04 §4.3), the sharing properties for PROPFIND (RS-04 §4.4,
// §4.2; RFC 3744 §5.3–§5.4) and per-instance properties for PROPPATCH at
// an instance root (RS-04 §4.8.1).
type Shares interface {
	Share(ctx context.Context, caller string, loc dsfs.Location, body []byte) error
	ShareAccess(loc dsfs.Location) string
	ResourceURI(loc dsfs.Location) (string, bool)
	InviteXML(user string, loc dsfs.Location) (string, bool)
	Privileges(user string, loc dsfs.Location) []string
	PatchInstance(ctx context.Context, user string, m dsfs.Mount, patches []davxml.Patch, protected func(xml.Name) bool) ([]dsfs.PatchResult, error)
}

var _ Shares = (*sharing.Manager)(nil)

// Media types of a share-resource body (RS-04 §4.3; spec §12 #16).
var shareTypes = []string{"application/davsharing+xml", "application/davshare+xml"}

// post answers POST on a files path. The only POST we serve is the
// share-resource request; any other body is 415, and POST without sharing
// is 405 (x/net/webdav would serve POST as GET, pitfall A.4). Order (spec
// §4.2): 404 for a missing target, 415 for the media type, then the
// privilege, the target, the body.
func (q *request) post() {
	if q.s.Shares == nil {
		q.w.Header().Set("Allow", allowFiles)
		davxml.WriteError(q.w, http.StatusMethodNotAllowed)
		return
	}
	loc, err := q.ns.Resolve(q.name)
	if err != nil {
		q.fail(err)
		return
	}
	if _, err := q.ns.StatAt(loc); err != nil {
		q.fail(err)
		return
	}
	if !davxml.MediaTypeIs(q.r.Header.Get("Content-Type"), shareTypes...) {
		q.fail(sharing.ErrUnsupportedMediaType)
		return
	}
	body, err := davxml.ReadBody(q.r, q.s.BodyLimit)
	if err != nil {
		q.fail(err)
		return
	}
	if err := q.s.Shares.Share(q.r.Context(), q.user, loc, body); err != nil {
		q.fail(err)
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// sharingValue computes the sharing properties (spec §3).
func (p *propfinder) sharingValue(e dsfs.Entry, name string) (string, bool) {
	sh := p.q.s.Shares
	if sh == nil {
		return "", false
	}
	switch name {
	case "share-access":
		return davxml.Empty(davxml.NS, sh.ShareAccess(e.Loc)), true
	case "share-resource-uri", "sharer-resource-uri":
		if uri, ok := sh.ResourceURI(e.Loc); ok {
			return "<D:href>" + davxml.Escape(uri) + "</D:href>", true
		}
	case "invite":
		return sh.InviteXML(p.q.user, e.Loc)
	case "supported-privilege-set":
		return sharing.SupportedPrivilegeSetXML, true
	case "current-user-privilege-set":
		return sharing.PrivilegeSetXML(sh.Privileges(p.q.user, e.Loc)), true
	}
	return "", false
}

// instanceRoot reports a PROPPATCH target whose properties are the
// instance's own: a sharee's mount root, writable even with read access
// (RS-04 §4.8.1, spec §9 #38).
func (q *request) instanceRoot(loc dsfs.Location) bool {
	return loc.MountRoot() && q.s.Shares != nil
}

// patchAt applies a PROPPATCH to the per-instance properties at a mount
// root, and to the tree's dead properties elsewhere.
func (q *request) patchAt(loc dsfs.Location, patches []davxml.Patch) ([]dsfs.PatchResult, error) {
	if q.instanceRoot(loc) {
		return q.s.Shares.PatchInstance(q.r.Context(), q.user, *loc.Mount, patches, protected)
	}
	return loc.Tree.Patch(loc.Path, patches, protected)
}

// sharingStatus maps sharing's sentinels (part of errorStatus).
func sharingStatus(err error) (int, bool) {
	switch {
	case errors.Is(err, sharing.ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType, true
	case errors.Is(err, sharing.ErrBadRequest):
		return http.StatusBadRequest, true
	case errors.Is(err, sharing.ErrNeedShare), errors.Is(err, sharing.ErrNotShareable),
		errors.Is(err, sharing.ErrSelf), errors.Is(err, sharing.ErrNeedBind),
		errors.Is(err, sharing.ErrInsideShare), errors.Is(err, sharing.ErrNotPending):
		return http.StatusForbidden, true
	case errors.Is(err, sharing.ErrNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, sharing.ErrConflict):
		return http.StatusConflict, true
	}
	return 0, false
}

// withBaseURL gives the notification handler's invite replier the scheme
// and host the client used, for the absolute Location of a new instance
// (RS-04 §4.7.1).
func withBaseURL(r *http.Request) *http.Request {
	return r.WithContext(sharing.WithBaseURL(r.Context(), clientOrigin(r)))
}
