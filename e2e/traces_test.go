package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Request-trace replay: e2e/testdata/traces/*.json are request sequences of
// real clients (Finder, Explorer, GNOME gvfs, KDE KIO), written from their
// public documentation and the threads cited in shared/docs/clients.md
// (each file lists its sources). TestTraces replays every trace against the
// binary, over HTTP and over HTTPS, and checks every response: status,
// headers, multistatus contents, and the data directory on disk.
//
// Trace format (JSON):
//
//	{"client": "...", "sources": ["..."], "headers": {"User-Agent": "..."},
//	 "steps": [{
//	   "name": "...", "why": "...",
//	   "method": "PUT", "path": "${home}/a.txt",
//	   "auth": false,                  // default true: Basic credentials of alice
//	   "headers": {"If": "(<${token}>)"},
//	   "body": "text" or ["line", ...], // lines joined with \n
//	   "gen": {"seed": "s", "size": 1000}, // deterministic bytes instead of body
//	   "chunks": [4096, 8192],         // send the body with Transfer-Encoding: chunked,
//	                                   // in chunks of these sizes (the last takes the rest)
//	   "expect": {"status": 201, "status_in": [207, 401],
//	              "headers": {"Name": "regexp"}, "no_headers": ["Location"],
//	              "body_contains": [...], "body_not_contains": [...], "body_gen": {...},
//	              "responses": 2, "hrefs": [...], "no_hrefs": [...],
//	              "props": [{"href": "...", "name": "{ns}local", "status": 200,
//	                         "value": "regexp", "equals": "exact text"}]},
//	   "capture": {"token": {"header": "Lock-Token", "regex": "^<(.+)>$"}},
//	   "disk": [{"path": "a.txt", "content": "..."}, {"path": "b", "absent": true},
//	            {"path": "c", "gen": {...}}, {"path": "d", "size": 0}, {"path": "e", "dir": true},
//	            {"path": "f", "mtime": "Thu, 05 Mar 2020 10:00:00 GMT"}]}]}
//
// ${user}, ${home} (/dav/files/USER), ${base} (scheme://host:port), ${host}
// and captured values are substituted in paths, header values, bodies and
// expectations. Disk paths are relative to DATA/files/USER.

const (
	traceUser = "alice"
	tracePass = "alice-pw"
)

type trace struct {
	Client  string            `json:"client"`
	Sources []string          `json:"sources"`
	Headers map[string]string `json:"headers"`
	Steps   []traceStep       `json:"steps"`
}

type traceStep struct {
	Name    string             `json:"name"`
	Why     string             `json:"why"`
	Method  string             `json:"method"`
	Path    string             `json:"path"`
	Auth    *bool              `json:"auth"`
	Headers map[string]string  `json:"headers"`
	Body    *textLines         `json:"body"`
	Gen     *genSpec           `json:"gen"`
	Chunks  []int              `json:"chunks"`
	Expect  traceExpect        `json:"expect"`
	Capture map[string]capture `json:"capture"`
	Disk    []diskCheck        `json:"disk"`
}

type traceExpect struct {
	Status      int               `json:"status"`
	StatusIn    []int             `json:"status_in"`
	Headers     map[string]string `json:"headers"`
	NoHeaders   []string          `json:"no_headers"`
	Contains    []string          `json:"body_contains"`
	NotContains []string          `json:"body_not_contains"`
	BodyGen     *genSpec          `json:"body_gen"`
	Responses   *int              `json:"responses"`
	Hrefs       []string          `json:"hrefs"`
	NoHrefs     []string          `json:"no_hrefs"`
	Props       []propCheck       `json:"props"`
}

type propCheck struct {
	Href   string  `json:"href"`
	Name   string  `json:"name"`
	Status int     `json:"status"`
	Value  *string `json:"value"`  // a regexp
	Equals *string `json:"equals"` // the exact text
}

type capture struct {
	Header string `json:"header"`
	Regex  string `json:"regex"`
}

type diskCheck struct {
	Path    string   `json:"path"`
	Absent  bool     `json:"absent"`
	Dir     bool     `json:"dir"`
	Content *string  `json:"content"`
	Gen     *genSpec `json:"gen"`
	Size    *int64   `json:"size"`
	MTime   string   `json:"mtime"`
}

// genSpec names deterministic content: size bytes from a ChaCha8 stream
// keyed by the seed.
type genSpec struct {
	Seed string `json:"seed"`
	Size int    `json:"size"`
}

func (g genSpec) bytes() []byte {
	b := make([]byte, g.Size)
	rand.NewChaCha8(sha256.Sum256([]byte(g.Seed))).Read(b)
	return b
}

// textLines is a JSON string, or an array of lines joined with "\n".
type textLines string

func (l *textLines) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = textLines(s)
		return nil
	}
	var lines []string
	if err := json.Unmarshal(b, &lines); err != nil {
		return fmt.Errorf("body: want a string or an array of strings: %w", err)
	}
	*l = textLines(strings.Join(lines, "\n"))
	return nil
}

func loadTrace(t *testing.T, file string) trace {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var tr trace
	if err := dec.Decode(&tr); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(tr.Steps) == 0 || tr.Client == "" || len(tr.Sources) == 0 {
		t.Fatalf("%s: a trace needs client, sources and steps", file)
	}
	for i, st := range tr.Steps {
		if st.Name == "" || st.Method == "" || st.Path == "" {
			t.Fatalf("%s: step %d needs name, method and path", file, i+1)
		}
		if st.Chunks != nil && (len(st.Chunks) == 0 || slices.Min(st.Chunks) <= 0) {
			t.Fatalf("%s: step %d: chunks must be positive sizes", file, i+1)
		}
		if st.Body != nil && st.Gen != nil {
			t.Fatalf("%s: step %d has both body and gen", file, i+1)
		}
	}
	return tr
}

// TestTraces replays each recorded client trace against a fresh server,
// once over HTTP and once over HTTPS (--tls-self-signed).
func TestTraces(t *testing.T) {
	binary(t)
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "traces", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no traces in testdata/traces: %v", err)
	}
	for _, file := range files {
		tr := loadTrace(t, file)
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		for _, scheme := range []string{"http", "https"} {
			t.Run(name+"/"+scheme, func(t *testing.T) {
				t.Parallel()
				s := newTraceServer(t, scheme == "https")
				replay(t, s, tr)
			})
		}
	}
}

// newTraceServer starts a server with the trace user, over HTTPS with a
// self-signed certificate when tls is set.
func newTraceServer(t *testing.T, tls bool) *server {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	addUser(t, data, traceUser, tracePass)
	args := []string{"--data", data, "--listen", "127.0.0.1:0", "--log-level", "debug"}
	if tls {
		args = append(args, "--tls-self-signed")
	}
	return startServer(t, serverConfig{Data: data, Args: args})
}

// traceRun is the state of one replay.
type traceRun struct {
	t    *testing.T
	s    *server
	tr   trace
	vars map[string]string
}

var traceVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

func (r *traceRun) expand(where, s string) string {
	r.t.Helper()
	return traceVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := r.vars[name]
		if !ok {
			r.t.Fatalf("%s: unknown variable ${%s}", where, name)
		}
		return v
	})
}

func replay(t *testing.T, s *server, tr trace) {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	r := &traceRun{t: t, s: s, tr: tr, vars: map[string]string{
		"user": traceUser,
		"home": "/dav/files/" + traceUser,
		"base": s.URL,
		"host": u.Host,
	}}
	t.Logf("replaying %s (%d steps)", tr.Client, len(tr.Steps))
	for i, st := range tr.Steps {
		r.step(i+1, st)
	}
}

// traceResponse is what a step got back.
type traceResponse struct {
	status int
	header http.Header
	body   []byte
	proto  string
}

func (r *traceRun) step(n int, st traceStep) {
	t := r.t
	t.Helper()
	label := fmt.Sprintf("step %d %q", n, st.Name)
	method := st.Method
	path := r.expand(label, st.Path)
	header := http.Header{}
	for k, v := range r.tr.Headers {
		header.Set(k, r.expand(label, v))
	}
	for k, v := range st.Headers {
		header.Set(k, r.expand(label, v))
	}
	if st.Auth == nil || *st.Auth {
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(traceUser+":"+tracePass)))
	}
	var body []byte
	hasBody := false
	switch {
	case st.Gen != nil:
		body, hasBody = st.Gen.bytes(), true
	case st.Body != nil:
		body, hasBody = []byte(r.expand(label, string(*st.Body))), true
	}

	var resp traceResponse
	if st.Chunks != nil {
		resp = r.sendChunked(label, method, path, header, body, st.Chunks)
	} else {
		resp = r.send(label, method, path, header, body, hasBody)
	}

	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	r.checkResponse(label, st.Expect, resp, fail)
	for name, c := range st.Capture {
		v := resp.header.Get(c.Header)
		if c.Regex != "" {
			m := regexp.MustCompile(c.Regex).FindStringSubmatch(v)
			switch {
			case m == nil:
				v = ""
			case len(m) > 1:
				v = m[1]
			default:
				v = m[0]
			}
		}
		if v == "" {
			fail("capture %s: header %s = %q does not match %q", name, c.Header, resp.header.Get(c.Header), c.Regex)
		}
		r.vars[name] = v
	}
	for _, d := range st.Disk {
		r.checkDisk(label, d, fail)
	}
	if len(errs) > 0 {
		var req strings.Builder
		fmt.Fprintf(&req, "%s %s\n", method, path)
		for k, v := range header {
			if k != "Authorization" {
				fmt.Fprintf(&req, "%s: %s\n", k, strings.Join(v, ", "))
			}
		}
		if hasBody && len(body) <= 4096 && st.Gen == nil {
			req.Write(body)
		} else if hasBody {
			fmt.Fprintf(&req, "(%d bytes)", len(body))
		}
		t.Fatalf("%s %s: %s\n\nrequest:\n%s\n\nresponse: %s %d\n%s\n%s", r.tr.Client, label,
			strings.Join(errs, "\n  "), req.String(), resp.proto, resp.status, dumpHeader(resp.header), truncate(resp.body, 8192))
	}
}

func dumpHeader(h http.Header) string {
	var b strings.Builder
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(h[k], ", "))
	}
	return b.String()
}

func truncate(b []byte, max int) string {
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// send sends a request with Go's client (Content-Length framing).
func (r *traceRun) send(label, method, path string, header http.Header, body []byte, hasBody bool) traceResponse {
	r.t.Helper()
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, r.s.URL+path, rd)
	if err != nil {
		r.t.Fatalf("%s: %v", label, err)
	}
	if hasBody && len(body) == 0 {
		req.Body = http.NoBody // an explicit "Content-Length: 0"
	}
	req.Header = header
	resp, err := r.s.client.Do(req)
	if err != nil {
		r.t.Fatalf("%s: %s %s: %v", label, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("%s: reading the response: %v", label, err)
	}
	return traceResponse{status: resp.StatusCode, header: resp.Header, body: b, proto: resp.Proto}
}

// sendChunked writes the request itself on a new connection, with the body
// in chunks of the given sizes (Transfer-Encoding: chunked), as Finder
// sends uploads.
func (r *traceRun) sendChunked(label, method, path string, header http.Header, body []byte, sizes []int) traceResponse {
	r.t.Helper()
	resp, err := rawChunked(r.s, method, path, header, body, sizes)
	if err != nil {
		r.t.Fatalf("%s: chunked %s %s: %v", label, method, path, err)
	}
	return resp
}

// rawChunked sends one HTTP/1.1 request with a chunked body over a new
// connection (TLS when the server is https) and reads the response.
func rawChunked(s *server, method, path string, header http.Header, body []byte, sizes []int) (traceResponse, error) {
	var conn net.Conn
	var err error
	d := &net.Dialer{Timeout: requestTimeout}
	if strings.HasPrefix(s.URL, "https:") {
		cfg := s.client.Transport.(*http.Transport).TLSClientConfig.Clone()
		cfg.NextProtos = []string{"http/1.1"}
		conn, err = tls.DialWithDialer(d, "tcp", s.Addr, cfg)
	} else {
		conn, err = d.Dial("tcp", s.Addr)
	}
	if err != nil {
		return traceResponse{}, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(requestTimeout))
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, s.Addr)
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(w, "%s: %s\r\n", k, v)
		}
	}
	w.WriteString("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
	rest := body
	for i := 0; len(rest) > 0; i++ {
		n := min(len(rest), sizes[min(i, len(sizes)-1)])
		fmt.Fprintf(w, "%x\r\n", n)
		w.Write(rest[:n])
		w.WriteString("\r\n")
		rest = rest[n:]
		if err := w.Flush(); err != nil {
			return traceResponse{}, err
		}
	}
	w.WriteString("0\r\n\r\n")
	if err := w.Flush(); err != nil {
		return traceResponse{}, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return traceResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return traceResponse{}, err
	}
	return traceResponse{status: resp.StatusCode, header: resp.Header, body: b, proto: resp.Proto}, nil
}

func (r *traceRun) checkResponse(label string, e traceExpect, resp traceResponse, fail func(string, ...any)) {
	r.t.Helper()
	switch {
	case e.Status != 0 && resp.status != e.Status:
		fail("status %d, want %d", resp.status, e.Status)
	case len(e.StatusIn) > 0 && !slices.Contains(e.StatusIn, resp.status):
		fail("status %d, want one of %v", resp.status, e.StatusIn)
	case e.Status == 0 && len(e.StatusIn) == 0:
		r.t.Fatalf("%s: the trace expects no status", label)
	}
	for k, re := range e.Headers {
		re = r.expand(label, re)
		if v := resp.header.Get(k); !regexp.MustCompile(re).MatchString(v) {
			fail("header %s = %q, want a match for %q", k, v, re)
		}
	}
	for _, k := range e.NoHeaders {
		if v, ok := resp.header[http.CanonicalHeaderKey(k)]; ok {
			fail("header %s = %q, want none", k, v)
		}
	}
	for _, c := range e.Contains {
		if c = r.expand(label, c); !bytes.Contains(resp.body, []byte(c)) {
			fail("body lacks %q", c)
		}
	}
	for _, c := range e.NotContains {
		if c = r.expand(label, c); bytes.Contains(resp.body, []byte(c)) {
			fail("body contains %q", c)
		}
	}
	if e.BodyGen != nil && !bytes.Equal(resp.body, e.BodyGen.bytes()) {
		fail("body: %d bytes that are not the %d bytes of %q", len(resp.body), e.BodyGen.Size, e.BodyGen.Seed)
	}
	if e.Responses == nil && len(e.Hrefs) == 0 && len(e.NoHrefs) == 0 && len(e.Props) == 0 {
		return
	}
	ms, err := parseMultistatus(resp.body)
	if err != nil {
		fail("multistatus: %v", err)
		return
	}
	if e.Responses != nil && len(ms) != *e.Responses {
		fail("%d DAV:response elements, want %d", len(ms), *e.Responses)
	}
	for _, h := range e.Hrefs {
		if h = r.expand(label, h); ms.find(h) == nil {
			fail("no DAV:response for %q (hrefs: %q)", h, ms.hrefs())
		}
	}
	for _, h := range e.NoHrefs {
		if h = r.expand(label, h); ms.find(h) != nil {
			fail("a DAV:response for %q, want none", h)
		}
	}
	for _, p := range e.Props {
		href := r.expand(label, p.Href)
		res := ms.find(href)
		if res == nil {
			fail("no DAV:response for %q (hrefs: %q)", href, ms.hrefs())
			continue
		}
		got, ok := res.props[p.Name]
		if !ok {
			fail("%s: property %s not in the response", href, p.Name)
			continue
		}
		if got.status != p.Status {
			fail("%s: property %s has status %d, want %d", href, p.Name, got.status, p.Status)
		}
		if p.Value != nil {
			re := r.expand(label, *p.Value)
			if !regexp.MustCompile(re).MatchString(got.value) {
				fail("%s: property %s = %q, want a match for %q", href, p.Name, got.value, re)
			}
		}
		if p.Equals != nil {
			if want := r.expand(label, *p.Equals); got.value != want {
				fail("%s: property %s = %q, want %q", href, p.Name, got.value, want)
			}
		}
	}
}

func (r *traceRun) checkDisk(label string, d diskCheck, fail func(string, ...any)) {
	r.t.Helper()
	rel := r.expand(label, d.Path)
	p := filepath.Join(r.s.Data, "files", traceUser, filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	if d.Absent {
		if err == nil || !os.IsNotExist(err) {
			fail("on disk: files/%s/%s exists (%v), want it absent", traceUser, rel, err)
		}
		return
	}
	if err != nil {
		fail("on disk: files/%s/%s: %v", traceUser, rel, err)
		return
	}
	if d.Dir != fi.IsDir() {
		fail("on disk: files/%s/%s is a directory: %v, want %v", traceUser, rel, fi.IsDir(), d.Dir)
		return
	}
	if d.Size != nil && fi.Size() != *d.Size {
		fail("on disk: files/%s/%s has %d bytes, want %d", traceUser, rel, fi.Size(), *d.Size)
	}
	if d.MTime != "" {
		want, err := http.ParseTime(d.MTime)
		if err != nil {
			r.t.Fatalf("%s: mtime %q: %v", label, d.MTime, err)
		}
		if !fi.ModTime().Equal(want) {
			fail("on disk: files/%s/%s modified %v, want %v", traceUser, rel, fi.ModTime().UTC(), want.UTC())
		}
	}
	if d.Content == nil && d.Gen == nil {
		return
	}
	b, err := os.ReadFile(p)
	if err != nil {
		fail("on disk: %v", err)
		return
	}
	if d.Content != nil && string(b) != r.expand(label, *d.Content) {
		fail("on disk: files/%s/%s = %q, want %q", traceUser, rel, truncate(b, 200), *d.Content)
	}
	if d.Gen != nil && !bytes.Equal(b, d.Gen.bytes()) {
		fail("on disk: files/%s/%s: %d bytes that are not the %d bytes of %q", traceUser, rel, len(b), d.Gen.Size, d.Gen.Seed)
	}
}

// A parsed 207 Multi-Status body.
type msResponse struct {
	href  string // unescaped path
	props map[string]msProp
}

type msProp struct {
	status int
	value  string
}

type multistatus []msResponse

func (ms multistatus) find(href string) *msResponse {
	for i := range ms {
		if ms[i].href == href {
			return &ms[i]
		}
	}
	return nil
}

func (ms multistatus) hrefs() []string {
	var out []string
	for _, r := range ms {
		out = append(out, r.href)
	}
	return out
}

func parseMultistatus(body []byte) (multistatus, error) {
	var doc struct {
		XMLName   xml.Name `xml:"DAV: multistatus"`
		Responses []struct {
			Href      string `xml:"DAV: href"`
			Propstats []struct {
				Props struct {
					Any []struct {
						XMLName xml.Name
						Inner   string `xml:",innerxml"`
					} `xml:",any"`
				} `xml:"DAV: prop"`
				Status string `xml:"DAV: status"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	var ms multistatus
	for _, r := range doc.Responses {
		u, err := url.Parse(strings.TrimSpace(r.Href))
		if err != nil {
			return nil, fmt.Errorf("href %q: %w", r.Href, err)
		}
		res := msResponse{href: u.Path, props: map[string]msProp{}}
		for _, ps := range r.Propstats {
			f := strings.Fields(ps.Status)
			if len(f) < 2 {
				return nil, fmt.Errorf("propstat status %q", ps.Status)
			}
			code, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("propstat status %q", ps.Status)
			}
			for _, p := range ps.Props.Any {
				v := strings.TrimSpace(p.Inner)
				if !strings.Contains(v, "<") {
					v = html.UnescapeString(v) // text only: its character data
				}
				res.props["{"+p.XMLName.Space+"}"+p.XMLName.Local] = msProp{status: code, value: v}
			}
		}
		ms = append(ms, res)
	}
	return ms, nil
}
