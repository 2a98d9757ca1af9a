package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/internal/davxml"
)

// put stores a body atomically (fs.Namespace.Put): 201 for a new resource,
// 204 for a replaced one, with the new strong ETag.
func (q *request) put() {
	r := q.r
	loc, ok := q.writable()
	if !ok {
		return
	}
	fi := q.stat(loc)
	if fi != nil && fi.IsDir() {
		w := q.w
		w.Header().Set("Allow", allowFiles)
		davxml.WriteError(w, http.StatusMethodNotAllowed)
		return
	}
	if err := checkPreconditions(r, fi); err != nil {
		q.fail(err)
		return
	}
	writes := []lock.Write{writeAt(loc, lock.Zero)}
	if fi == nil {
		if pw, ok := q.parentWrite(loc); ok {
			writes = append(writes, pw)
		}
	}
	if err := q.checkWrite(loc, writes...); err != nil {
		q.fail(err)
		return
	}
	if err := q.fits(loc, fi); err != nil {
		q.fail(err)
		return
	}
	var body io.Reader = r.Body
	if r.ContentLength <= 0 && expectedLength(r) > 0 {
		body = &announcedBody{r: r.Body}
	}
	mtime, mtimeSet := ocMtime(r)
	res, err := q.ns.Put(r.Context(), q.name, body, r.ContentLength, mtime)
	if err != nil {
		q.failCreate(err, q.name)
		return
	}
	h := q.w.Header()
	h.Set("ETag", res.Info.StrongETag())
	if mtimeSet {
		h.Set("X-OC-MTime", "accepted")
	}
	if res.Created {
		h.Set("Location", q.href(q.name, false))
		q.w.WriteHeader(http.StatusCreated)
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// fits refuses an upload that announces more bytes than the tree has room
// for (507, RFC 4331 §6). Finder announces chunked uploads with
// X-Expected-Entity-Length.
func (q *request) fits(loc dsfs.Location, old *dsfs.FileInfo) error {
	want := q.r.ContentLength
	if want < 0 {
		want = expectedLength(q.r)
	}
	if want <= 0 {
		return nil
	}
	if old != nil {
		want -= old.Size()
	}
	avail, err := loc.Tree.Available()
	if err != nil || avail < 0 {
		return nil
	}
	if want > avail {
		return dsfs.ErrInsufficientStorage
	}
	return nil
}

// expectedLength is the X-Expected-Entity-Length of a request, the size
// Finder announces for a chunked upload; 0 when absent or malformed.
func expectedLength(r *http.Request) int64 {
	n, err := strconv.ParseInt(r.Header.Get("X-Expected-Entity-Length"), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// announcedBody is the body of an upload that X-Expected-Entity-Length
// announced as non-empty: arriving empty, it fails, and the upload is
// refused (400) instead of stored as an empty file. Servers behind a proxy
// or FastCGI setup that dropped chunked bodies stored 0-byte files for
// Finder's uploads; sabre's CorePlugin refuses the same case. A body that
// is merely shorter or longer than announced is stored: Finder uses
// chunked framing because a file may change while it is being uploaded.
type announcedBody struct {
	r io.Reader
	n int64
}

var errAnnouncedEmpty = errors.New("server: X-Expected-Entity-Length announced a body, but it arrived empty")

func (b *announcedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err == io.EOF && b.n == 0 {
		err = errAnnouncedEmpty
	}
	return n, err
}

// ocMtime reads X-OC-Mtime (Unix seconds), which ownCloud-style sync clients
// and rclone's owncloud vendor mode send to preserve modification times.
func ocMtime(r *http.Request) (time.Time, bool) {
	v := r.Header.Get("X-OC-Mtime")
	if v == "" {
		return time.Time{}, false
	}
	sec, err := strconv.ParseFloat(v, 64)
	if err != nil || sec < 0 || sec > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(sec*1e9)), true
}
