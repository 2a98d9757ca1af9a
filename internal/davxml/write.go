package davxml

import (
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
	started bool
	out     []byte // what is not written to w yet, up to about flushAt
	scratch []byte // one response, reused
}

// flushAt is how much of a document is gathered before it is written to
// the ResponseWriter. The buffer starts at 4 KiB, which holds a Depth 0
// answer, and is made full size only when a listing needs it: a fixed
// 32 KiB buffer per PROPFIND was a large allocation, and a tenth of the
// CPU of a Depth 0 PROPFIND went to collecting it.
const flushAt = 32 << 10

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
	m.out = append(make([]byte, 0, 4<<10), `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<D:multistatus xmlns:D="DAV:">`...)
}

// reserve makes room for n more bytes: past the first 4 KiB, room for
// flushAt and then some at once, rather than append's doublings.
func (m *Multistatus) reserve(n int) {
	if len(m.out)+n <= cap(m.out) {
		return
	}
	out := make([]byte, len(m.out), max(flushAt+flushAt/4, len(m.out)+n))
	copy(out, m.out)
	m.out = out
}

// flushFull writes out what was gathered once it reaches flushAt.
func (m *Multistatus) flushFull() error {
	if len(m.out) < flushAt {
		return nil
	}
	return m.flush()
}

func (m *Multistatus) flush() error {
	_, err := m.w.Write(m.out)
	m.out = m.out[:0]
	return err
}

// Response writes one DAV:response with propstats. href must already be
// escaped with Href.
func (m *Multistatus) Response(href string, pss ...Propstat) error {
	b := AppendResponseStart(m.scratch[:0], href)
	b = AppendPropstats(b, pss...)
	b = AppendResponseEnd(b)
	m.scratch = b
	return m.WriteRaw(b)
}

// WriteRaw writes one DAV:response built with the Append functions below,
// which callers use to encode large listings without allocating per
// member.
func (m *Multistatus) WriteRaw(response []byte) error {
	m.start()
	m.reserve(len(response))
	m.out = append(m.out, response...)
	return m.flushFull()
}

// AppendResponseStart opens a DAV:response for href (escaped with Href or
// AppendHref).
func AppendResponseStart(b []byte, href string) []byte {
	b = append(b, "<D:response><D:href>"...)
	b = append(b, href...)
	return append(b, "</D:href>"...)
}

// AppendResponseEnd closes a DAV:response.
func AppendResponseEnd(b []byte) []byte { return append(b, "</D:response>"...) }

// AppendPropstats appends complete DAV:propstat elements.
func AppendPropstats(b []byte, pss ...Propstat) []byte {
	for _, ps := range pss {
		b = AppendPropstatStart(b)
		for _, p := range ps.Props {
			b = AppendProp(b, p)
		}
		b = AppendPropstatEnd(b, ps.Status, ps.Error...)
	}
	return b
}

// AppendPropstatStart opens a DAV:propstat and its DAV:prop.
func AppendPropstatStart(b []byte) []byte { return append(b, "<D:propstat><D:prop>"...) }

// AppendPropstatEnd closes the DAV:prop with status and optional
// precondition elements, and the DAV:propstat.
func AppendPropstatEnd(b []byte, status int, conditions ...string) []byte {
	b = append(b, "</D:prop><D:status>"...)
	b = append(b, StatusLine(status)...)
	b = append(b, "</D:status>"...)
	if len(conditions) > 0 {
		b = append(b, "<D:error>"...)
		for _, e := range conditions {
			b = append(b, e...)
		}
		b = append(b, "</D:error>"...)
	}
	return append(b, "</D:propstat>"...)
}

// AppendProp appends one property element.
func AppendProp(b []byte, p Prop) []byte {
	b = append(b, '<')
	b = appendStartTag(b, p.Name)
	if p.Lang != "" {
		b = append(b, ` xml:lang="`...)
		b = AppendEscaped(b, p.Lang)
		b = append(b, '"')
	}
	if p.Inner == "" {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	b = append(b, p.Inner...)
	return AppendEnd(b, p.Name)
}

// AppendStart appends the start tag of a property whose content the
// caller appends next; AppendEnd closes it.
func AppendStart(b []byte, n xml.Name) []byte {
	b = append(b, '<')
	b = appendStartTag(b, n)
	return append(b, '>')
}

// AppendEnd appends the end tag of n.
func AppendEnd(b []byte, n xml.Name) []byte {
	b = append(b, "</"...)
	switch n.Space {
	case NS:
		b = append(b, "D:"...)
	case "":
	default:
		b = append(b, "P:"...)
	}
	b = append(b, n.Local...)
	return append(b, '>')
}

func appendStartTag(b []byte, n xml.Name) []byte {
	switch n.Space {
	case NS:
		b = append(b, "D:"...)
		return append(b, n.Local...)
	case "":
		return append(b, n.Local...)
	}
	b = append(b, "P:"...)
	b = append(b, n.Local...)
	b = append(b, ` xmlns:P="`...)
	b = AppendEscaped(b, n.Space)
	return append(b, '"')
}

// StatusResponse writes a DAV:response that carries only a status, as for a
// removed member in a sync-collection report.
func (m *Multistatus) StatusResponse(href string, status int) error {
	m.start()
	m.reserve(len(href) + 128)
	m.out = append(m.out, "<D:response><D:href>"...)
	m.out = append(m.out, href...)
	m.out = append(m.out, "</D:href><D:status>"...)
	m.out = append(m.out, StatusLine(status)...)
	m.out = append(m.out, "</D:status></D:response>"...)
	return m.flushFull()
}

// Close ends the document. trailer is raw XML written before the end tag,
// e.g. a DAV:sync-token element.
func (m *Multistatus) Close(trailer string) error {
	m.start()
	m.out = append(m.out, trailer...)
	m.out = append(m.out, "</D:multistatus>"...)
	return m.flush()
}

// startTag is the element name plus any namespace declaration it needs.
func startTag(n xml.Name) string { return string(appendStartTag(nil, n)) }

// Empty renders an empty element, e.g. Empty(NS, "collection") = <D:collection/>.
func Empty(space, local string) string {
	return "<" + startTag(xml.Name{Space: space, Local: local}) + "/>"
}

// Element renders <name>inner</name>; inner is trusted XML.
func Element(space, local, inner string) string {
	n := xml.Name{Space: space, Local: local}
	return string(AppendEnd(append(AppendStart(nil, n), inner...), n))
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

// AppendHref appends Href(p) without allocating when p needs no escaping,
// as most file names do.
func AppendHref(b []byte, p string) []byte {
	for i := 0; i < len(p); i++ {
		if !plainPathByte[p[i]] {
			return append(b, Href(p)...)
		}
	}
	return append(b, p...)
}

// plainPathByte marks the bytes that Href leaves as they are whatever
// surrounds them: RFC 3986 unreserved characters and "/".
var plainPathByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "-._~/" {
		t[c] = true
	}
	return t
}()

// AppendEscapedBytes appends Escape(string(s)) without allocating.
func AppendEscapedBytes(b, s []byte) []byte {
	for _, c := range s {
		switch c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&quot;"...)
		case '\'':
			b = append(b, "&#39;"...)
		case '\r':
			b = append(b, "&#xD;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// AppendEscaped appends Escape(s).
func AppendEscaped(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "&<>\"'\r") {
		return append(b, s...)
	}
	return append(b, escaper.Replace(s)...)
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
