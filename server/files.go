package server

import (
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/internal/davxml"
	"golang.org/x/net/webdav"
)

// request is one request in a user's file space.
type request struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	user string
	ns   *dsfs.Namespace
	name string // clean name in the namespace
}

// serveFiles handles /dav/files/{user}/rest for the owner of that space.
func (s *Server) serveFiles(w http.ResponseWriter, r *http.Request, acct auth.Account, user, rest string) {
	name, err := dsfs.CleanName(rest)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ns, err := dsfs.NewNamespace(r.Context(), user, s.Homes, s.Mounts, s.Observer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer ns.Close()
	q := &request{s: s, w: w, r: r, user: user, ns: ns, name: name}
	switch r.Method {
	case "PROPFIND":
		q.propfind()
	case "PROPPATCH":
		q.proppatch()
	case http.MethodPut:
		q.put()
	case "LOCK":
		q.lock()
	case "UNLOCK":
		q.unlock()
	case http.MethodGet, http.MethodHead:
		q.get()
	case http.MethodDelete, "MKCOL", "COPY":
		q.delegate()
	case "MOVE":
		q.move()
	case http.MethodPost:
		q.post()
	case "REPORT":
		davxml.WriteError(w, http.StatusForbidden, davxml.Empty(davxml.NS, "supported-report"))
	default:
		w.Header().Set("Allow", allowFiles)
		davxml.WriteError(w, http.StatusMethodNotAllowed)
	}
}

func (q *request) fail(err error) { q.s.failWith(q.w, q.r, err, q.lockHref) }

// href is the URL path of a namespace name, with a trailing slash for
// collections.
func (q *request) href(name string, dir bool) string {
	h := filesPrefix + q.user + name
	if name == "/" {
		h = homeHref(q.user)
	} else if dir {
		h += "/"
	}
	return h
}

// lockHref is the URL of a canonical lock root as the caller sees it; a
// root the caller cannot see is reported as the request's own URL.
func (q *request) lockHref(root string) string {
	name, ok := q.ns.NameOf(root)
	if !ok {
		return q.r.URL.Path
	}
	return q.href(name, false)
}

// existing resolves and stats the request's name, answering the error
// (404 for nothing there) itself.
func (q *request) existing() (dsfs.Location, *dsfs.FileInfo, bool) {
	loc, err := q.ns.Resolve(q.name)
	if err != nil {
		q.fail(err)
		return loc, nil, false
	}
	fi, err := q.ns.StatAt(loc)
	if err != nil {
		q.fail(err)
		return loc, nil, false
	}
	return loc, fi, true
}

// writable resolves the request's name for a write, answering the error
// itself: read-only shares refuse every write with 403 (spec §5.8).
func (q *request) writable() (dsfs.Location, bool) {
	loc, err := q.ns.Resolve(q.name)
	if err == nil && loc.ReadOnly() {
		err = &fs.PathError{Op: q.r.Method, Path: q.name, Err: dsfs.ErrReadOnly}
	}
	if err != nil {
		q.fail(err)
		return loc, false
	}
	return loc, true
}

// stat returns the resource at loc, or nil if there is none.
func (q *request) stat(loc dsfs.Location) *dsfs.FileInfo {
	fi, err := q.ns.StatAt(loc)
	if err != nil {
		return nil
	}
	return fi
}

// checkWrite is the one lock check for every write: it evaluates the If
// header against current state and requires the tokens of every lock that
// covers what the request writes (RFC 4918 §7, §10.4).
func (q *request) checkWrite(self dsfs.Location, writes ...lock.Write) error {
	var ih *lock.IfHeader
	selfRes := lock.Resource{Name: self.LockName()}
	if h := q.r.Header.Get("If"); h != "" {
		parsed, err := lock.ParseIf(h)
		if err != nil {
			return err
		}
		ih = &parsed
		if fi := q.stat(self); fi != nil {
			selfRes.ETag = fi.StrongETag()
		}
	}
	return q.s.Locks.Check(time.Now(), q.user, ih, selfRes, q.resolveTag, writes...)
}

// resolveTag maps a tagged If-header URL to a lock resource in the caller's
// own space; URLs elsewhere do not resolve.
func (q *request) resolveTag(uri string) (lock.Resource, bool) {
	name, ok := q.nameOf(uri)
	if !ok {
		return lock.Resource{}, false
	}
	loc, err := q.ns.Resolve(name)
	if err != nil {
		return lock.Resource{}, false
	}
	res := lock.Resource{Name: loc.LockName()}
	if fi := q.stat(loc); fi != nil {
		res.ETag = fi.StrongETag()
	}
	return res, true
}

// nameOf turns an absolute URL or path into a name in the caller's files
// space, if it is one.
func (q *request) nameOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || !namesThisServer(q.r, u) {
		return "", false
	}
	return q.nameIn(u)
}

// nameIn is nameOf for a URL already parsed and known to name this server.
func (q *request) nameIn(u *url.URL) (string, bool) {
	name, below, err := dsfs.NameBelow(u.Path, filesPrefix+q.user)
	return name, below && err == nil
}

// write describes a write to loc; created or removed members also change
// their parent collection's membership (RFC 4918 §7.3, depth-0 locks).
func writeAt(loc dsfs.Location, depth lock.Depth) lock.Write {
	return lock.Write{Name: loc.LockName(), Depth: depth}
}

func (q *request) parentWrite(loc dsfs.Location) (lock.Write, bool) {
	if loc.Name == "/" || loc.MountRoot() {
		return lock.Write{}, false
	}
	parent, err := q.ns.Resolve(path.Dir(loc.Name))
	if err != nil {
		return lock.Write{}, false
	}
	return writeAt(parent, lock.Zero), true
}

// delegate runs x/net/webdav for GET, HEAD, DELETE, MKCOL and COPY after
// our authorization, precondition and lock checks.
func (q *request) delegate() {
	r := q.r
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		q.serveWebdav(r, func(int) {})
		return
	}
	w, ok := q.checkedWrite()
	if !ok {
		return
	}
	src, dst, fi := w.src, w.dst, w.fi
	q.serveWebdav(r, func(status int) {
		if status >= 300 {
			return
		}
		switch r.Method {
		case http.MethodDelete:
			q.s.Locks.RemoveTree(src.LockName())
		case "COPY":
			if fi != nil && fi.IsDir() {
				// The short COPY answer is still buffered by net/http, so
				// the client sees it only once the properties are there.
				if err := q.copyCollectionProps(src, dst, r.Header.Get("Depth") != "0"); err != nil {
					q.s.log.WarnContext(r.Context(), "copying collection properties", "path", r.URL.Path, "err", err)
				}
			}
		}
	})
}

// write is a DELETE, MKCOL, COPY or MOVE that passed checkedWrite.
type write struct {
	src, dst dsfs.Location
	fi, dfi  *dsfs.FileInfo // source and destination as they were; nil: none
	dstKnown bool           // dfi was looked up (a MOVE's may not be)
}

// checkedWrite is the preamble of DELETE, MKCOL, COPY and MOVE: who may
// write where, the Destination, the HTTP preconditions and the lock check,
// answering a refusal itself.
func (q *request) checkedWrite() (write, bool) {
	r := q.r
	var w write
	var err error
	if w.src, err = q.ns.Resolve(q.name); err != nil {
		q.fail(err)
		return w, false
	}
	switch r.Method {
	case http.MethodDelete, "MKCOL":
		if w.src.ReadOnly() && !(r.Method == http.MethodDelete && w.src.MountRoot()) {
			q.fail(&fs.PathError{Op: r.Method, Path: q.name, Err: dsfs.ErrReadOnly})
			return w, false
		}
	case "COPY", "MOVE":
		var ok bool
		if w.dst, ok = q.destination(w.src); !ok {
			return w, false
		}
		if r.Method == "COPY" {
			w.dfi, w.dstKnown = q.stat(w.dst), true
		}
		// A MOVE learns whether its destination exists from the rename
		// (move.go): a stat here would be one more resolution of the name.
	}
	w.fi = q.stat(w.src)
	if err := checkPreconditions(r, w.fi); err != nil {
		q.fail(err)
		return w, false
	}
	if w.fi == nil && r.Method == "MOVE" {
		// x/net/webdav answered a failed rename with 403, and would rename
		// a link that leads out of the tree although Stat hides it.
		q.fail(&fs.PathError{Op: r.Method, Path: q.name, Err: fs.ErrNotExist})
		return w, false
	}
	if w.fi != nil && r.Method == "COPY" && dsfs.Special(w.fi) {
		q.fail(dsfs.NotRegular(r.Method, q.name))
		return w, false
	}
	if w.fi != nil {
		if err := overwritable(r.Method, w.src, w.dst); err != nil {
			q.fail(err)
			return w, false
		}
	}
	if err := q.checkWrite(w.src, q.writesFor(w)...); err != nil {
		// An unknown destination was checked as a new member, which asks
		// for the parent's lock too: the stricter check. One that exists
		// is only replaced, and the exact check decides.
		if w.dstKnown || r.Method != "MOVE" {
			q.fail(err)
			return w, false
		}
		w.dfi, w.dstKnown = q.stat(w.dst), true
		if w.dfi == nil {
			q.fail(err)
			return w, false
		}
		if err := q.checkWrite(w.src, q.writesFor(w)...); err != nil {
			q.fail(err)
			return w, false
		}
	}
	return w, true
}

// copyCollectionProps gives the collections a COPY created the dead
// properties of their sources: x/net/webdav copies them for files only
// (copyFiles calls copyProps for non-collections).
func (q *request) copyCollectionProps(src, dst dsfs.Location, infinite bool) error {
	props, err := q.ns.Props(src)
	if err != nil {
		return err
	}
	if len(props) > 0 {
		if err := dst.Tree.Props.Save(dst.Path, props); err != nil {
			return err
		}
	}
	if !infinite {
		return nil
	}
	return q.ns.List(q.r.Context(), src, false, func(e dsfs.Entry) error {
		if !e.Info.IsDir() {
			return nil
		}
		d, err := q.ns.Resolve(path.Join(dst.Name, path.Base(e.Loc.Name)))
		if err != nil {
			return err
		}
		return q.copyCollectionProps(e.Loc, d, true)
	})
}

// writesFor lists what a write method writes, for the lock check.
func (q *request) writesFor(w write) []lock.Write {
	src, dst := w.src, w.dst
	var ws []lock.Write
	add := func(loc dsfs.Location, depth lock.Depth, membership bool) {
		ws = append(ws, writeAt(loc, depth))
		if membership {
			if pw, ok := q.parentWrite(loc); ok {
				ws = append(ws, pw)
			}
		}
	}
	switch q.r.Method {
	case http.MethodDelete:
		add(src, lock.Infinite, true)
	case "MKCOL":
		add(src, lock.Zero, true)
	case "COPY":
		add(dst, lock.Infinite, w.dfi == nil)
	case "MOVE":
		add(src, lock.Infinite, true)
		add(dst, lock.Infinite, w.dfi == nil)
	}
	return ws
}

// overwritable refuses, before x/net/webdav runs, a COPY or MOVE that it
// would refuse only after deleting what the request overwrites (RFC 4918
// §9.9.3 has the destination deleted first): a rename across trees or
// mounts, and a copy over a mount root, which would end the instance (a
// client deletes an instance explicitly). A refused request changes
// nothing.
func overwritable(method string, src, dst dsfs.Location) error {
	switch {
	case method == "MOVE":
		return dsfs.CheckRename(src, dst)
	case method == "COPY" && dst.MountRoot():
		return &fs.PathError{Op: method, Path: dst.Name, Err: dsfs.ErrCrossTree}
	}
	return nil
}

// destination validates the Destination header of COPY and MOVE: it must be
// in the caller's own files space, writable, and not inside the source.
func (q *request) destination(src dsfs.Location) (dsfs.Location, bool) {
	raw := q.r.Header.Get("Destination")
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		davxml.WriteError(q.w, http.StatusBadRequest)
		return dsfs.Location{}, false
	}
	if !namesThisServer(q.r, u) {
		// §9.8.5, §9.9.4: another server's URL space.
		q.s.log.InfoContext(q.r.Context(), "Destination names another host: 502; behind a reverse proxy, pass the Host header on or set X-Forwarded-Host",
			"destination", u.Host, "host", q.r.Host)
		davxml.WriteError(q.w, http.StatusBadGateway)
		return dsfs.Location{}, false
	}
	if _, err := dsfs.CleanName(u.Path); err != nil {
		q.fail(err) // a name no client may use (NUL, "..", bad UTF-8): 400
		return dsfs.Location{}, false
	}
	name, ok := q.nameIn(u)
	if !ok {
		davxml.WriteError(q.w, http.StatusForbidden)
		return dsfs.Location{}, false
	}
	switch q.r.Header.Get("Overwrite") {
	case "", "T", "F":
	default:
		davxml.WriteError(q.w, http.StatusBadRequest)
		return dsfs.Location{}, false
	}
	dst, err := q.ns.Resolve(name)
	if err != nil {
		q.fail(err)
		return dsfs.Location{}, false
	}
	if dst.Tree == src.Tree && (dst.Path == src.Path || strings.HasPrefix(dst.Path, src.Path+"/") || src.Path == "/") {
		// COPY or MOVE into itself would recurse (pitfall E.26).
		davxml.WriteError(q.w, http.StatusForbidden)
		return dsfs.Location{}, false
	}
	if dst.ReadOnly() || (q.r.Method == "MOVE" && src.ReadOnly() && !src.MountRoot()) {
		q.fail(&fs.PathError{Op: q.r.Method, Path: name, Err: dsfs.ErrReadOnly})
		return dsfs.Location{}, false
	}
	return dst, true
}

// serveWebdav runs x/net/webdav with our namespace. Our checks have already
// run, so its lock system only confirms, and the If header it would parse
// again is removed (its own parser skips tags with another host, A.23).
func (q *request) serveWebdav(r *http.Request, after func(status int)) {
	r2 := r.Clone(r.Context())
	r2.Header.Del("If")
	h := &webdav.Handler{
		Prefix:     filesPrefix + q.user,
		FileSystem: q.ns,
		LockSystem: checkedLocks{},
		Logger: func(r *http.Request, err error) {
			if err != nil {
				q.s.log.DebugContext(r.Context(), "webdav", "method", r.Method, "path", r.URL.Path, "err", err)
			}
		},
	}
	sw := &statusWriter{ResponseWriter: q.w}
	h.ServeHTTP(sw, r2)
	after(sw.status)
}

// checkedLocks is the webdav.LockSystem x/net/webdav sees: every lock
// question was answered by fs/lock before the request got here.
type checkedLocks struct{}

func (checkedLocks) Confirm(time.Time, string, string, ...webdav.Condition) (func(), error) {
	return func() {}, nil
}
func (checkedLocks) Create(time.Time, webdav.LockDetails) (string, error) {
	return "urn:davshare:checked", nil
}
func (checkedLocks) Refresh(time.Time, string, time.Duration) (webdav.LockDetails, error) {
	return webdav.LockDetails{}, webdav.ErrNoSuchLock
}
func (checkedLocks) Unlock(time.Time, string) error { return nil }

// checkPreconditions evaluates RFC 9110 §13 conditions for a state-changing
// request against the current resource (nil when there is none).
func checkPreconditions(r *http.Request, fi *dsfs.FileInfo) error {
	etag := ""
	if fi != nil {
		etag = fi.StrongETag()
	}
	if im := r.Header.Get("If-Match"); im != "" {
		if fi == nil || !etagListMatches(im, etag, true) {
			return errPrecondition
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" && fi != nil {
		if t, err := http.ParseTime(ius); err == nil && fi.ModTime().Truncate(time.Second).After(t) {
			return errPrecondition
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && fi != nil {
		if etagListMatches(inm, etag, false) {
			return errPrecondition
		}
	}
	return nil
}

// etagListMatches reports whether a comma-separated entity-tag list (or
// "*") matches etag; strong comparison refuses weak tags (RFC 9110 §8.8.3.2).
func etagListMatches(list, etag string, strong bool) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if strings.HasPrefix(t, "W/") {
			if strong {
				continue
			}
			t = t[2:]
		}
		if t == etag {
			return true
		}
	}
	return false
}
