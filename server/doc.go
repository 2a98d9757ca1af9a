// Package server is davshare's HTTP front: the middleware chain, the router
// for the URL space, and the WebDAV methods we answer ourselves.
//
// URL space (architecture.md):
//
//	/healthz                     200 once ready, no authentication
//	/dav/files/{user}/…          the user's home and mounted shares (RFC 4918)
//	/dav/principals/{user}/      the principal (RFC 3744 §2, RFC 5397)
//	/dav/notifications/{user}/…  the notification collection (NT-03)
//	OPTIONS anywhere             answered without authentication
//
// golang.org/x/net/webdav is the engine for GET and HEAD of collections,
// DELETE, MKCOL and COPY, over the fs package's Namespace. We answer the
// other methods
// because x/net/webdav cannot do them right (style.md, part 2): OPTIONS
// (hard-coded headers, A.5), PROPFIND (per-entry opens, no quota, owner,
// lockdiscovery or collection ETags, unbounded Depth; B.7–B.9, C.10),
// PROPPATCH (O_RDWR opens, unprotected computed properties; C.12–C.13), PUT
// (in-place truncation, no preconditions, 201 on overwrite; F.29), LOCK and
// UNLOCK (exclusive only, predictable tokens, anyone may unlock; D.15–D.17),
// POST and REPORT (served as GET or 400; A.3–A.4); GET and HEAD of files
// and MOVE we answer for speed (get.go, move.go: no cloned request, no
// repeated stat), MOVE also with 409 for a missing parent where x/net said
// 403.
//
// Every write, whoever serves it, first passes the same three checks here:
// the caller may write there (read-only shares refuse with 403), the HTTP
// preconditions hold (If-Match, If-None-Match, If-Unmodified-Since: 412), and
// the If header and lock tokens satisfy fs/lock (412 or 423). x/net/webdav
// then runs with a lock system that only records that the check passed.
//
// Security boundaries: nothing but OPTIONS and /healthz runs before
// authentication; the {user} segment must be the authenticated user (else
// 404, revealing nothing); every path goes through fs.CleanName once; error
// responses never carry internal error text.
package server
