package server

import "net/http"

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
	h := q.w.Header()
	h.Set("ETag", fi.StrongETag())
	h.Set("Content-Type", fi.MimeType())
	http.ServeContent(q.w, q.r, "", fi.ModTime(), f)
}
