package server

import "net/http"

// smallGet is the largest body sent in one write with its headers.
const smallGet = 64 << 10

// get serves GET and HEAD of a file. x/net/webdav would do the same through
// a cloned request and a Handler per request, open the file by name, stat
// it and let ServeContent sniff its type; here the path is walked once, the
// open descriptor is stat'ed once, and the validators are the ones PROPFIND
// reports: ETag is getetag, Content-Type is getcontenttype (from the name,
// never from the content: an uploaded file is not sniffed into text/html),
// Last-Modified is getlastmodified. http.ServeContent then answers ranges,
// conditional requests (304, 412) and HEAD, and sends the body with
// sendfile(2) from the *os.File.
func (q *request) get() {
	loc, err := q.ns.Resolve(q.name)
	if err != nil {
		q.fail(err)
		return
	}
	f, fi, err := q.ns.OpenAt(loc)
	if err != nil {
		q.fail(err)
		return
	}
	defer f.Close()
	if fi.IsDir() {
		// A collection keeps x/net/webdav's answer (405), which the
		// authorization matrix pins; it is no hot path.
		q.delegate()
		return
	}
	if fi.Size() <= smallGet && q.r.Method == http.MethodGet && q.r.ProtoMajor == 1 {
		// Header block and body in one segment (cork.go). Under HTTP/2
		// the connection's own goroutine writes, never this one.
		if c := corkFrom(q.r.Context()); c != nil {
			c.cork()
			defer func() {
				// Over TLS the body goes through net/http's buffers, not
				// ReadFrom; they must be out before the cork is.
				if f, ok := q.w.(http.Flusher); ok {
					f.Flush()
				}
				c.uncork()
			}()
		}
	}
	h := q.w.Header()
	h.Set("ETag", fi.StrongETag())
	h.Set("Content-Type", fi.MimeType())
	http.ServeContent(q.w, q.r, "", fi.ModTime(), f)
}
