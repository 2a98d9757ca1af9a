package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// target is one server (or one view of a server) that scenarios run on.
type target struct {
	name           string // "davshare", "mount", "baseline" or "ceiling"
	base           string // folder URL, ending in "/"
	user, password string
	client         *http.Client
	pid            int  // server process to sample RSS of; 0: none
	owner          bool // fixtures are made here (false for a mount view)
	insecure       bool // accept any TLS certificate (leanGet too)
}

func newTarget(name, rawURL, user, password string, insecure bool) (*target, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%s URL %q: %v", name, rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s URL %q: want http://HOST[:PORT]/PATH/ or https://…", name, rawURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s URL %q: a folder URL has no query or fragment", name, rawURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s URL %q: pass credentials with --user and --password, not in the URL", name, rawURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return &target{
		name:     name,
		base:     u.String(),
		user:     user,
		password: password,
		client:   &http.Client{Transport: newTransport(insecure)},
		owner:    true,
		insecure: insecure,
	}, nil
}

// maxConcurrency is the most requests any scenario has in flight on one
// target; the transport keeps that many idle connections so that no
// request pays for a new connection once the scenario is warm.
const maxConcurrency = 64

// newTransport is tuned for a load generator on loopback: keep-alive
// connections for every worker, no proxy, no compression, large buffers
// for the large transfers.
func newTransport(insecure bool) *http.Transport {
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          4 * maxConcurrency,
		MaxIdleConnsPerHost:   2 * maxConcurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 0, // a PROPFIND of 100,000 entries may take a while; the context bounds it
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ReadBufferSize:        64 << 10,
		WriteBufferSize:       64 << 10,
	}
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // --insecure asks for it
	}
	return t
}

func (t *target) close() {
	if tr, ok := t.client.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
}

// url is the URL of rel, a slash-separated path relative to the folder.
// The fixture names need no escaping.
func (t *target) url(rel string) string { return t.base + rel }

// request is one WebDAV request.
type request struct {
	method, rel string
	header      map[string]string
	body        []byte // or bodySize bytes of the generator pattern
	bodySize    int64
	hasBody     bool
}

// statusError is a response with a status other than the expected one.
type statusError struct {
	method, url string
	status      int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.url, e.status, http.StatusText(e.status))
}

// do sends a request and returns the response, whose body the caller must
// close. Credentials are sent with every request.
func (t *target) do(ctx context.Context, r request) (*http.Response, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	} else if r.hasBody {
		body = newPattern(r.bodySize)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, t.url(r.rel), body)
	if err != nil {
		return nil, err
	}
	if r.body == nil && r.hasBody {
		size := r.bodySize
		req.ContentLength = size
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(newPattern(size)), nil }
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if t.user != "" || t.password != "" {
		req.SetBasicAuth(t.user, t.password)
	}
	return t.client.Do(req)
}

// exchange sends a request, copies the response body to sink (discarding
// it when sink is nil) and fails unless the status is one of want. It
// returns the number of body bytes read.
func (t *target) exchange(ctx context.Context, r request, sink io.Writer, want ...int) (int64, error) {
	resp, err := t.do(ctx, r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if sink == nil {
		sink = io.Discard
	}
	n, err := io.Copy(sink, resp.Body)
	for _, w := range want {
		if resp.StatusCode == w {
			if err != nil {
				return n, fmt.Errorf("%s %s: reading the response: %w", r.method, t.url(r.rel), err)
			}
			return n, nil
		}
	}
	return n, &statusError{r.method, t.url(r.rel), resp.StatusCode}
}

// propBody asks for the five properties a file browser lists a folder with.
var propBody = []byte(`<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop>
<D:resourcetype/><D:getcontentlength/><D:getlastmodified/><D:getetag/><D:getcontenttype/>
</D:prop></D:propfind>`)

func propfindRequest(rel, depth string) request {
	return request{
		method: "PROPFIND",
		rel:    rel,
		header: map[string]string{"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
		body:   propBody,
	}
}

// propfindCount sends PROPFIND with the five properties and checks that
// the multistatus holds want responses (want < 0: any). Counting end tags
// as the body streams by costs little and catches a truncated listing.
func (t *target) propfindCount(ctx context.Context, rel, depth string, want int) (int64, error) {
	var c tagCounter
	n, err := t.exchange(ctx, propfindRequest(rel, depth), &c, http.StatusMultiStatus)
	if err != nil {
		return n, err
	}
	if got := c.count(); want >= 0 && got != want {
		return n, fmt.Errorf("PROPFIND %s: %d responses, want %d", t.url(rel), got, want)
	}
	return n, nil
}

// tagCounter counts the end tags of multistatus response elements in a
// stream, whatever their namespace prefix: "</response>" and
// "</P:response>" (end tags have no attributes, so these are the only
// spellings; "responsedescription" does not match). It keeps the last
// tagLookback bytes of each write to see a tag cut between two writes, so
// prefixes up to tagLookback-len("</:response>") bytes are recognised.
type tagCounter struct {
	n    int
	tail []byte // the last bytes seen, at most tagLookback
	buf  []byte // tail + the current write
}

const tagLookback = 64

var responseTag = []byte("response>")

func (c *tagCounter) Write(p []byte) (int, error) {
	c.buf = append(append(c.buf[:0], c.tail...), p...)
	b, seen := c.buf, len(c.tail)
	for from := 0; ; {
		i := bytes.Index(b[from:], responseTag)
		if i < 0 {
			break
		}
		i += from
		from = i + len(responseTag)
		if from > seen && isEndTag(b[:i]) { // counted once: when its last byte arrives
			c.n++
		}
	}
	c.tail = append(c.tail[:0], b[len(b)-min(len(b), tagLookback):]...)
	return len(p), nil
}

// isEndTag tells whether before ends in "</" or "</PREFIX:".
func isEndTag(before []byte) bool {
	j := len(before)
	if j >= 2 && before[j-1] == '/' && before[j-2] == '<' {
		return true
	}
	if j == 0 || before[j-1] != ':' {
		return false
	}
	for j--; j > 0; j-- {
		switch before[j-1] {
		case '/':
			return j-1 > 0 && before[j-2] == '<' && j < len(before)-1
		case '<', '>', ' ', '\t', '\n', '\r', ':', '"', '\'', '=':
			return false
		}
	}
	return false
}

func (c *tagCounter) count() int { return c.n }

// entry is one member of a folder listing.
type entry struct {
	name       string
	size       int64
	collection bool
}

// listing is PROPFIND Depth 1 on a folder, parsed: the members by name,
// without the folder itself.
func (t *target) listing(ctx context.Context, rel string) (map[string]entry, error) {
	resp, err := t.do(ctx, propfindRequest(rel, "1"))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, &statusError{"PROPFIND", t.url(rel), resp.StatusCode}
	}
	self, err := url.Parse(t.url(rel))
	if err != nil {
		return nil, err
	}
	out := map[string]entry{}
	dec := xml.NewDecoder(resp.Body)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("PROPFIND %s: %w", t.url(rel), err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name != (xml.Name{Space: "DAV:", Local: "response"}) {
			continue
		}
		var r msResponse
		if err := dec.DecodeElement(&r, &se); err != nil {
			return nil, fmt.Errorf("PROPFIND %s: %w", t.url(rel), err)
		}
		href, err := self.Parse(strings.TrimSpace(r.Href))
		if err != nil {
			return nil, fmt.Errorf("PROPFIND %s: href %q: %w", t.url(rel), r.Href, err)
		}
		if strings.TrimSuffix(href.Path, "/") == strings.TrimSuffix(self.Path, "/") {
			continue
		}
		e := entry{name: path.Base(strings.TrimSuffix(href.Path, "/")), size: -1}
		for _, ps := range r.Propstat {
			if !strings.Contains(ps.Status, " 200 ") {
				continue
			}
			if ps.Prop.ResourceType.Collection != nil {
				e.collection = true
			}
			if n, err := strconv.ParseInt(strings.TrimSpace(ps.Prop.Length), 10, 64); err == nil {
				e.size = n
			}
		}
		out[e.name] = e
	}
}

type msResponse struct {
	Href     string `xml:"DAV: href"`
	Propstat []struct {
		Status string `xml:"DAV: status"`
		Prop   struct {
			Length       string `xml:"DAV: getcontentlength"`
			ResourceType struct {
				Collection *struct{} `xml:"DAV: collection"`
			} `xml:"DAV: resourcetype"`
		} `xml:"DAV: prop"`
	} `xml:"DAV: propstat"`
}

// probe checks that the folder URL answers PROPFIND as a collection with
// these credentials, creating the folder when create is set and it is
// missing. Its errors are what a user with a wrong URL or password reads.
func (t *target) probe(ctx context.Context, create bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for attempt := 0; ; attempt++ {
		resp, err := t.do(ctx, request{method: "PROPFIND", rel: "", header: map[string]string{"Depth": "0"}})
		if err != nil {
			return fmt.Errorf("%s: cannot reach %s: %v", t.name, t.base, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch st := resp.StatusCode; {
		case st == http.StatusMultiStatus:
			if !bytes.Contains(body, []byte("collection")) {
				return fmt.Errorf("%s: %s is not a folder (its resourcetype is not a collection)", t.name, t.base)
			}
			return nil
		case st == http.StatusUnauthorized:
			return fmt.Errorf("%s: %s answered 401 Unauthorized: wrong user name or password (user %q)", t.name, t.base, t.user)
		case st == http.StatusForbidden:
			return fmt.Errorf("%s: %s answered 403 Forbidden: user %q may not use this URL (another user's folder?)", t.name, t.base, t.user)
		case st == http.StatusNotFound && create && attempt == 0:
			if _, err := t.exchange(ctx, request{method: "MKCOL", rel: ""}, nil, http.StatusCreated); err != nil {
				return fmt.Errorf("%s: %s does not exist and could not be created (%v): check the URL", t.name, t.base, err)
			}
		case st == http.StatusNotFound:
			return fmt.Errorf("%s: %s answered 404 Not Found: check the URL", t.name, t.base)
		case st == http.StatusMethodNotAllowed || st == http.StatusNotImplemented || st == http.StatusOK:
			return fmt.Errorf("%s: %s answered PROPFIND with %d %s: not a WebDAV URL", t.name, t.base, st, http.StatusText(st))
		default:
			return fmt.Errorf("%s: %s answered PROPFIND with %d %s", t.name, t.base, st, http.StatusText(st))
		}
	}
}

// checkLoopback refuses a URL whose host is not a loopback address, so
// that a load test never hits another machine by mistake.
func checkLoopback(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s is not a loopback address: pass --allow-remote to load another machine", host)
		}
		return nil
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("resolving %s: %v", host, err)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return fmt.Errorf("%s resolves to %s, not a loopback address: pass --allow-remote to load another machine", host, a.IP)
		}
	}
	return nil
}
