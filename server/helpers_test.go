package server_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Helpers shared by the end-to-end tests of issue #2. They only add to the
// harness in env_test.go.

const davNS = "DAV:"

// home is the on-disk home directory of user.
func (e *env) home(user string) string { return filepath.Join(e.data, "files", user) }

// url is the absolute URL of a path on the test server.
func (e *env) url(path string) string { return e.srv.URL + path }

// host is the test server's host:port, as clients send it in Host.
func (e *env) host() string { return e.srv.Listener.Addr().String() }

// raw sends target exactly as given on the request line, over a fresh
// connection, so that nothing on the client side cleans or re-encodes it,
// and returns the response as it is: redirects are not followed.
func (e *env) raw(method, target, user, body string, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	conn, err := net.DialTimeout("tcp", e.host(), 5*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, e.host())
	if user != "" {
		fmt.Fprintf(&b, "Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(user+":"+passwords[user])))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := conn.Write(b.Bytes()); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		e.t.Fatalf("%s %s: reading the response: %v", method, target, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(rb)
}

// mustPut creates or replaces a file through HTTP.
func (e *env) mustPut(user, path, content string) string {
	e.t.Helper()
	resp, body := e.call("PUT", path, user, content)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("PUT %s: status %d: %s", path, resp.StatusCode, body)
	}
	return resp.Header.Get("ETag")
}

// lockBody is a LOCK request body.
func lockBody(shared bool) string {
	scope := "<D:exclusive/>"
	if shared {
		scope = "<D:shared/>"
	}
	return `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope>` + scope +
		`</D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>mailto:alice@example.org</D:href></D:owner></D:lockinfo>`
}

// lock takes a lock and returns its token (without angle brackets).
func (e *env) lock(status int, path, user string, shared bool, hdr ...string) string {
	e.t.Helper()
	resp, body := e.expect(status, "LOCK", path, user, lockBody(shared), hdr...)
	if status >= 300 {
		return ""
	}
	tok := resp.Header.Get("Lock-Token")
	if len(tok) < 3 || tok[0] != '<' || tok[len(tok)-1] != '>' {
		e.t.Fatalf("LOCK %s: Lock-Token %q; body %s", path, tok, body)
	}
	tok = tok[1 : len(tok)-1]
	if !strings.Contains(body, tok) {
		e.t.Fatalf("LOCK %s: body lacks the token %s: %s", path, tok, body)
	}
	return tok
}

// propfindBody asks for the named properties; each name is "local" in DAV:
// or "{space}local".
func propfindBody(names ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>`)
	for _, n := range names {
		name := parseName(n)
		if name.Space == davNS {
			b.WriteString("<D:" + name.Local + "/>")
		} else {
			fmt.Fprintf(&b, `<X:%s xmlns:X="%s"/>`, name.Local, name.Space)
		}
	}
	b.WriteString(`</D:prop></D:propfind>`)
	return b.String()
}

func parseName(n string) xml.Name {
	if strings.HasPrefix(n, "{") {
		space, local, _ := strings.Cut(n[1:], "}")
		return xml.Name{Space: space, Local: local}
	}
	return xml.Name{Space: davNS, Local: n}
}

// Multi-status parsing (RFC 4918 §14.16).

type multistatus struct {
	XMLName   xml.Name   `xml:"DAV: multistatus"`
	Responses []response `xml:"DAV: response"`
}

type response struct {
	Href      string     `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []propstat `xml:"DAV: propstat"`
}

type propstat struct {
	Prop   propList  `xml:"DAV: prop"`
	Status string    `xml:"DAV: status"`
	Error  *davError `xml:"DAV: error"`
}

// davError is a DAV:error element: its children name the conditions.
type davError struct {
	Conditions []struct {
		XMLName xml.Name
	} `xml:",any"`
}

func (e *davError) has(local string) bool {
	if e == nil {
		return false
	}
	for _, c := range e.Conditions {
		if c.XMLName == (xml.Name{Space: davNS, Local: local}) {
			return true
		}
	}
	return false
}

type propList struct {
	Props []prop `xml:",any"`
}

type prop struct {
	XMLName xml.Name
	Lang    string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Inner   string `xml:",innerxml"`
}

func parseMultistatus(t *testing.T, body string) multistatus {
	t.Helper()
	var ms multistatus
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("not a multistatus: %v\n%s", err, body)
	}
	return ms
}

// response returns the response for href, failing the test if it is absent.
func (ms multistatus) response(t *testing.T, href string) response {
	t.Helper()
	for _, r := range ms.Responses {
		if r.Href == href {
			return r
		}
	}
	t.Fatalf("no response for %s among %v", href, ms.hrefs())
	return response{}
}

func (ms multistatus) hrefs() []string {
	var hs []string
	for _, r := range ms.Responses {
		hs = append(hs, r.Href)
	}
	sort.Strings(hs)
	return hs
}

// find returns the status code and the property for name ("local" in DAV:
// or "{space}local"), and whether it is there at all.
func (r response) find(name string) (int, prop, bool) {
	n := parseName(name)
	for _, ps := range r.Propstats {
		for _, p := range ps.Prop.Props {
			if p.XMLName == n {
				return statusCode(ps.Status), p, true
			}
		}
	}
	return 0, prop{}, false
}

// value returns a property that must be there with 200.
func (r response) value(t *testing.T, name string) prop {
	t.Helper()
	st, p, ok := r.find(name)
	if !ok || st != http.StatusOK {
		t.Fatalf("%s: property %s: status %d, present %v; want 200", r.Href, name, st, ok)
	}
	return p
}

// text is the property's character data with entities decoded, for simple
// values such as getetag.
func (p prop) text() string {
	var b strings.Builder
	d := xml.NewDecoder(strings.NewReader(wrapFragment(p.Inner)))
	for {
		tok, err := d.Token()
		if err != nil {
			return b.String()
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
		}
	}
}

// statusCode extracts the code from "HTTP/1.1 200 OK".
func statusCode(line string) int {
	f := strings.Fields(line)
	if len(f) < 2 {
		return 0
	}
	var c int
	fmt.Sscanf(f[1], "%d", &c)
	return c
}

// hrefsIn returns the text of every DAV:href element in an XML fragment.
func hrefsIn(t *testing.T, fragment string) []string {
	t.Helper()
	var out []string
	d := xml.NewDecoder(strings.NewReader(wrapFragment(fragment)))
	inHref := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("fragment %q: %v", fragment, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			inHref = tok.Name == xml.Name{Space: davNS, Local: "href"}
		case xml.CharData:
			if inHref {
				out = append(out, strings.TrimSpace(string(tok)))
			}
		case xml.EndElement:
			inHref = false
		}
	}
}

// wrapFragment puts the inner XML of an element of one of our responses
// back in context: innerxml keeps the "D:" prefix that the response declares
// on its root (davxml writes every DAV: element with it).
func wrapFragment(fragment string) string {
	return `<wrapper xmlns:D="DAV:">` + fragment + `</wrapper>`
}

// canonicalXML renders an XML fragment as its expanded names, attributes and
// text, so two fragments compare equal whatever prefixes they use.
func canonicalXML(t *testing.T, fragment string) string {
	t.Helper()
	var b strings.Builder
	d := xml.NewDecoder(strings.NewReader(wrapFragment(fragment)))
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return b.String()
		}
		if err != nil {
			t.Fatalf("fragment %q: %v", fragment, err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				continue
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				continue
			}
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			fmt.Fprintf(&b, "<{%s}%s", tok.Name.Space, tok.Name.Local)
			var attrs []string
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				attrs = append(attrs, fmt.Sprintf(" {%s}%s=%q", a.Name.Space, a.Name.Local, a.Value))
			}
			sort.Strings(attrs)
			b.WriteString(strings.Join(attrs, ""))
			b.WriteString(">")
		case xml.EndElement:
			fmt.Fprintf(&b, "</{%s}%s>", tok.Name.Space, tok.Name.Local)
		case xml.CharData:
			b.WriteString(string(tok))
		}
	}
}

// errorConditions returns the expanded names of the children of a DAV:error
// body (RFC 4918 §16).
func errorConditions(t *testing.T, body string) []xml.Name {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	depth := 0
	var out []xml.Name
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("error body %q: %v", body, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 && tok.Name != (xml.Name{Space: davNS, Local: "error"}) {
				t.Fatalf("error body root is %v: %s", tok.Name, body)
			}
			if depth == 2 {
				out = append(out, tok.Name)
			}
		case xml.EndElement:
			depth--
		}
	}
	return out
}

func hasCondition(conds []xml.Name, local string) bool {
	for _, c := range conds {
		if c == (xml.Name{Space: davNS, Local: local}) {
			return true
		}
	}
	return false
}

// reservedOnDisk lists the names in dir that start with ".davshare-".
func reservedOnDisk(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if strings.HasPrefix(de.Name(), ".davshare-") {
			out = append(out, de.Name())
		}
	}
	return out
}

// unnamedOpen lists this process's open unnamed files (O_TMPFILE) in dir:
// the uploads under way there. /proc shows each as "dir/#inode (deleted)".
func unnamedOpen(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		target, err := os.Readlink("/proc/self/fd/" + de.Name())
		if err != nil {
			continue // closed since the listing
		}
		if strings.HasPrefix(target, dir+"/#") && strings.HasSuffix(target, " (deleted)") {
			out = append(out, target)
		}
	}
	return out
}

// waitFor polls cond every 10ms for at most d.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}
