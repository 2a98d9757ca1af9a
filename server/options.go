package server

import (
	"net/http"
	"strings"
)

// Allow lists by kind of path. OPTIONS is unauthenticated, so the answer
// depends only on the shape of the URL, never on whether something exists
// there: it must not reveal what a user stores.
const (
	allowFiles         = "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK"
	allowNotifications = "OPTIONS, GET, HEAD, POST, DELETE, PROPFIND, PROPPATCH, REPORT"
	allowPrincipal     = "OPTIONS, PROPFIND"
	allowDiscovery     = "OPTIONS, PROPFIND"
)

// serveOptions answers OPTIONS on every path, "/" included, without
// authentication, so desktop clients can probe (clients.md checklist 1).
func (s *Server) serveOptions(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("DAV", s.davHdr)
	h.Set("MS-Author-Via", "DAV")
	p := r.URL.Path
	allow := allowDiscovery
	switch {
	case strings.HasPrefix(p, filesPrefix) && len(p) > len(filesPrefix):
		allow = allowFiles
		if s.Sharing {
			allow += ", POST"
		}
	case strings.HasPrefix(p, notificationsPrefix) && len(p) > len(notificationsPrefix):
		allow = allowNotifications
	case strings.HasPrefix(p, principalsPrefix) && len(p) > len(principalsPrefix):
		allow = allowPrincipal
	}
	h.Set("Allow", allow)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
