package davxml

import (
	"bufio"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ContentType is the media type of every XML body we send.
const ContentType = "application/xml; charset=utf-8"

// Prop is one property in a response. Inner is trusted, well-formed XML
// content whose elements declare their own namespaces (see Property).
type Prop struct {
	Name  xml.Name
	Lang  string
	Inner string
}

// Propstat groups properties that share a status (RFC 4918 §14.22).
type Propstat struct {
	Status int
	Props  []Prop
	// Error holds precondition elements, e.g. Empty(NS, "cannot-modify-protected-property").
	Error []string
}

// Multistatus streams a 207 Multi-Status response: the status line and the
// document head go out with the first response, so memory stays flat however
// many members a collection has.
type Multistatus struct {
	w       http.ResponseWriter
	bw      *bufio.Writer
	started bool
}

// NewMultistatus returns a writer for a 207 response on w.
func NewMultistatus(w http.ResponseWriter) *Multistatus {
	return &Multistatus{w: w}
}

func (m *Multistatus) start() {
	if m.started {
		return
	}
	m.started = true
	m.w.Header().Set("Content-Type", ContentType)
	m.w.WriteHeader(http.StatusMultiStatus)
	m.bw = bufio.NewWriterSize(m.w, 32<<10)
	m.bw.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<D:multistatus xmlns:D="DAV:">`)
}

// Response writes one DAV:response with propstats. href must already be
// escaped with Href.
func (m *Multistatus) Response(href string, pss ...Propstat) error {
	m.start()
	b := m.bw
	b.WriteString("<D:response><D:href>")
	b.WriteString(href)
	b.WriteString("</D:href>")
	for _, ps := range pss {
		b.WriteString("<D:propstat><D:prop>")
		for _, p := range ps.Props {
			writeProp(b, p)
		}
		b.WriteString("</D:prop><D:status>")
		b.WriteString(StatusLine(ps.Status))
		b.WriteString("</D:status>")
		if len(ps.Error) > 0 {
			b.WriteString("<D:error>")
			for _, e := range ps.Error {
				b.WriteString(e)
			}
			b.WriteString("</D:error>")
		}
		b.WriteString("</D:propstat>")
	}
	_, err := b.WriteString("</D:response>")
	return err
}

// StatusResponse writes a DAV:response that carries only a status, as for a
// removed member in a sync-collection report.
func (m *Multistatus) StatusResponse(href string, status int) error {
	m.start()
	m.bw.WriteString("<D:response><D:href>")
	m.bw.WriteString(href)
	m.bw.WriteString("</D:href><D:status>")
	m.bw.WriteString(StatusLine(status))
	_, err := m.bw.WriteString("</D:status></D:response>")
	return err
}

// Close ends the document. trailer is raw XML written before the end tag,
// e.g. a DAV:sync-token element.
func (m *Multistatus) Close(trailer string) error {
	m.start()
	m.bw.WriteString(trailer)
	m.bw.WriteString("</D:multistatus>")
	return m.bw.Flush()
}

func writeProp(b *bufio.Writer, p Prop) {
	b.WriteString("<")
	open := startTag(p.Name)
	b.WriteString(open)
	if p.Lang != "" {
		b.WriteString(` xml:lang="`)
		b.WriteString(Escape(p.Lang))
		b.WriteString(`"`)
	}
	if p.Inner == "" {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	b.WriteString(p.Inner)
	b.WriteString("</")
	b.WriteString(endTag(p.Name))
	b.WriteString(">")
}

// startTag is the element name plus any namespace declaration it needs.
func startTag(n xml.Name) string {
	switch n.Space {
	case NS:
		return "D:" + n.Local
	case "":
		return n.Local
	default:
		return `P:` + n.Local + ` xmlns:P="` + Escape(n.Space) + `"`
	}
}

func endTag(n xml.Name) string {
	switch n.Space {
	case NS:
		return "D:" + n.Local
	case "":
		return n.Local
	default:
		return "P:" + n.Local
	}
}

// Empty renders an empty element, e.g. Empty(NS, "collection") = <D:collection/>.
func Empty(space, local string) string {
	return "<" + startTag(xml.Name{Space: space, Local: local}) + "/>"
}

// Element renders <name>inner</name>; inner is trusted XML.
func Element(space, local, inner string) string {
	n := xml.Name{Space: space, Local: local}
	return "<" + startTag(n) + ">" + inner + "</" + endTag(n) + ">"
}

// HrefElement renders <D:href> around an escaped path.
func HrefElement(path string) string {
	return "<D:href>" + Href(path) + "</D:href>"
}

// StatusLine renders "HTTP/1.1 200 OK".
func StatusLine(code int) string {
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code)
}

// Href percent-encodes a slash-separated path for use in a DAV:href and
// escapes it for XML. It keeps "/" and RFC 3986 sub-delims readable.
func Href(p string) string {
	u := url.URL{Path: p}
	return Escape(u.EscapedPath())
}

var escaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;", "\r", "&#xD;",
)

// Escape escapes text for XML character data and attribute values.
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>\"'\r") {
		return s
	}
	return escaper.Replace(s)
}

// WriteError sends status with a DAV:error body holding the given
// precondition elements (RFC 4918 §16), or a short text body when there are
// none. It never echoes internal error text.
func WriteError(w http.ResponseWriter, status int, conditions ...string) {
	h := w.Header()
	if len(conditions) == 0 {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		if status != http.StatusNoContent && status != http.StatusNotModified {
			w.Write([]byte(http.StatusText(status) + "\n"))
		}
		return
	}
	h.Set("Content-Type", ContentType)
	w.WriteHeader(status)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<D:error xmlns:D="DAV:">`)
	for _, c := range conditions {
		b.WriteString(c)
	}
	b.WriteString("</D:error>")
	w.Write([]byte(b.String()))
}
