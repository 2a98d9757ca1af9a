package server

import (
	"bytes"
	"io"
	"net/http"

	dsfs "github.com/davshare/davshare/fs"
)

// smallGet is the largest body sent in one write with its headers.
const smallGet = 64 << 10

// get serves GET and HEAD of a file. x/net/webdav would do the same through
// a cloned request and a Handler per request, open the file by name, stat
// it and let ServeContent sniff its type; here the path is walked once, the
// open descriptor is stat'ed once, and the validators are the ones PROPFIND
// reports: ETag is getetag, Content-Type is getcontenttype (from the name,
// never from the content: an uploaded file is not sniffed into text/html),
// Last-Modified is getlastmodified. http.ServeContent then answers ranges,
// conditional requests (304, 412) and HEAD, and sends the body: a small
// file from memory, read in one pread(2) (fs.ReadAt), a larger one with
// sendfile(2) from the *os.File.
func (q *request) get() {
	loc, err := q.ns.Resolve(q.name)
	if err != nil {
		q.fail(err)
		return
	}
	var c dsfs.Content
	if q.r.Method == http.MethodGet {
		// A small file is read whole into a pooled buffer (fs.ReadAt);
		// HEAD reads nothing.
		buf := q.s.readBufs.Get().(*[]byte)
		defer q.s.readBufs.Put(buf)
		c, err = q.ns.ReadAt(loc, *buf)
	} else {
		c.File, c.Info, err = q.ns.OpenAt(loc)
	}
	if err != nil {
		q.fail(err)
		return
	}
	if c.File != nil {
		defer c.File.Close()
	}
	fi := c.Info
	if fi.IsDir() {
		// A collection keeps x/net/webdav's answer (405), which the
		// authorization matrix pins; it is no hot path.
		q.delegate()
		return
	}
	if fi.Size() <= smallGet && q.r.Method == http.MethodGet && q.r.ProtoMajor == 1 {
		// Header block and body in one segment (cork.go). Under HTTP/2
		// the connection's own goroutine writes, never this one.
		if cc := corkFrom(q.r.Context()); cc != nil {
			cc.cork()
			defer func() {
				// Over TLS the body goes through net/http's buffers, not
				// ReadFrom; they must be out before the cork is.
				if f, ok := q.w.(http.Flusher); ok {
					f.Flush()
				}
				cc.uncork()
			}()
		}
	}
	h := q.w.Header()
	h.Set("ETag", fi.StrongETag())
	h.Set("Content-Type", fi.MimeType())
	var content io.ReadSeeker = c.File
	if c.File == nil {
		content = bytes.NewReader(c.Data)
	}
	http.ServeContent(q.w, q.r, "", fi.ModTime(), content)
}
