package server

import (
	"errors"
	"io/fs"
	"net/http"
	"path"

	"github.com/davshare/davshare/internal/davxml"
)

// move answers MOVE (RFC 4918 §9.9) itself. Through x/net/webdav it cost a
// cloned request, a Handler, and a stat of the destination that
// checkedWrite had just made; perf put a third of a MOVE there. Now the
// destination is not stat'ed at all unless the rename finds it taken. The
// answers are x/net's (201 new, 204 replaced, 412 for Overwrite: F on an
// existing destination, 400 for a Depth other than infinity) with our
// fixes: a missing Overwrite is T (§10.6, pitfall E.22), and a destination
// whose parent collection is missing is 409 (§9.9.4; x/net said 403). The
// rename is fs.Namespace.RenameAt, so dead properties (xattrs) go along, a
// mount root moves as a mount and the sharing observer hears of the move.
func (q *request) move() {
	w, ok := q.checkedWrite()
	if !ok {
		return
	}
	r := q.r
	if d := r.Header.Get("Depth"); d != "" && d != "infinity" {
		// §9.9.2: a MOVE acts on the whole tree of a collection.
		davxml.WriteError(q.w, http.StatusBadRequest)
		return
	}
	if !w.dstKnown {
		// The usual MOVE goes to a new name: a rename that refuses to
		// replace settles it in one step, and tells when the destination
		// exists after all.
		err := q.ns.RenameAt(r.Context(), w.src, w.dst, false)
		if err == nil {
			q.moved(w, http.StatusCreated)
			return
		}
		if !errors.Is(err, fs.ErrExist) {
			q.failCreate(err, w.dst.Name)
			return
		}
		w.dfi = q.stat(w.dst)
	}
	if w.dfi != nil {
		if r.Header.Get("Overwrite") == "F" {
			davxml.WriteError(q.w, http.StatusPreconditionFailed)
			return
		}
		// §9.9.3: the destination is deleted first, as by a DELETE.
		if err := q.ns.RemoveAll(r.Context(), w.dst.Name); err != nil {
			q.fail(err)
			return
		}
	}
	if err := q.ns.RenameAt(r.Context(), w.src, w.dst, true); err != nil {
		q.failCreate(err, w.dst.Name)
		return
	}
	if w.dfi != nil {
		q.moved(w, http.StatusNoContent)
		return
	}
	q.moved(w, http.StatusCreated)
}

// moved ends a MOVE that succeeded: locks on the source are gone with it.
func (q *request) moved(w write, status int) {
	q.s.Locks.RemoveTree(w.src.LockName())
	q.w.WriteHeader(status)
}

// failCreate answers a request that failed to create name: 409 when the
// collection that would hold it is missing or is no collection (RFC 4918
// §9.7.1 PUT, §9.9.4 MOVE, §9.10.4 LOCK of an unmapped URL), else as fail.
func (q *request) failCreate(err error, name string) {
	if errors.Is(err, fs.ErrNotExist) && q.missingParent(name) {
		davxml.WriteError(q.w, http.StatusConflict)
		return
	}
	q.fail(err)
}

// missingParent reports whether the collection that would hold name is
// missing (or is no collection).
func (q *request) missingParent(name string) bool {
	parent, err := q.ns.Resolve(path.Dir(name))
	if err != nil {
		return true
	}
	fi := q.stat(parent)
	return fi == nil || !fi.IsDir()
}
