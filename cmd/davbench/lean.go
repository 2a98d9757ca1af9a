package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// leanConn is a bare HTTP/1.1 keep-alive client for the small GETs, as wrk
// is: one connection per worker, the request bytes built once, the status
// line and Content-Length parsed by hand, the body discarded. With
// net/http's client on the same two cores the client's CPU per request was
// about the server's, and the ratio (client + baseline)/(client + ours)
// hid most of what a server change did.
type leanConn struct {
	conn     net.Conn
	br       *bufio.Reader
	req      []byte    // the whole request
	url      string    // for messages
	deadline time.Time // last one set on conn
}

// leanGet GETs rel through w's connection to t, dialing it first if
// needed, and returns the body length. A status other than 200, a body
// shorter than its Content-Length, or a response it cannot frame is an
// error; the connection is then closed and the next call dials again.
func (t *target) leanGet(ctx context.Context, w *worker, rel string) (int64, error) {
	if w.lean == nil || w.lean.url != t.url(rel) {
		w.closeLean()
		c, err := t.dialLean(ctx, rel)
		if err != nil {
			return 0, err
		}
		w.lean = c
	}
	n, keep, err := w.lean.get(ctx)
	if err != nil || !keep {
		w.closeLean()
	}
	return n, err
}

// closeLean closes the worker's lean connection, if any.
func (w *worker) closeLean() {
	if w.lean != nil {
		w.lean.conn.Close()
		w.lean = nil
	}
}

// dialLean connects to t's server (TLS for https, with ALPN unset so
// that the server speaks HTTP/1.1) for GETs of rel.
func (t *target) dialLean(ctx context.Context, rel string) (*leanConn, error) {
	raw := t.url(rel)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	if u.Scheme == "https" {
		cfg := &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: t.insecure} //nolint:gosec // --insecure asks for it
		conn, err = (&tls.Dialer{NetDialer: &d, Config: cfg}).DialContext(ctx, "tcp", host)
	} else {
		conn, err = d.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: davbench\r\n", u.RequestURI(), u.Host)
	if t.user != "" || t.password != "" {
		fmt.Fprintf(&b, "Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(t.user+":"+t.password)))
	}
	b.WriteString("\r\n")
	return &leanConn{conn: conn, br: bufio.NewReaderSize(conn, 16<<10), req: b.Bytes(), url: raw}, nil
}

var errFraming = errors.New("a response davbench's small-GET client cannot frame")

// get sends the request and reads one response; keep is false when the
// server will close the connection.
func (c *leanConn) get(ctx context.Context) (n int64, keep bool, err error) {
	if d, ok := ctx.Deadline(); ok && !d.Equal(c.deadline) {
		if err := c.conn.SetDeadline(d); err != nil {
			return 0, false, err
		}
		c.deadline = d
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, false, err
	}
	line, err := c.line()
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("GET %s: status line %q: %w", c.url, line, errFraming)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("GET %s: status line %q: %w", c.url, line, errFraming)
	}
	length := int64(-1)
	keep = line[7] == '1'
	for {
		h, err := c.line()
		if err != nil {
			return 0, false, err
		}
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, false, fmt.Errorf("GET %s: Content-Length %q: %w", c.url, value, errFraming)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			return 0, false, fmt.Errorf("GET %s: Transfer-Encoding %q: %w", c.url, value, errFraming)
		case asciiEqualFold(name, "Connection") && asciiEqualFold(value, "close"):
			keep = false
		}
	}
	if length < 0 {
		return 0, false, fmt.Errorf("GET %s: no Content-Length: %w", c.url, errFraming)
	}
	got, err := c.br.Discard(int(length))
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return int64(got), false, fmt.Errorf("GET %s: body of %d bytes, %d announced: %w", c.url, got, length, err)
	}
	if status != http.StatusOK {
		return int64(got), keep, &statusError{"GET", c.url, status}
	}
	return int64(got), keep, nil
}

// line reads one header line without its CRLF.
func (c *leanConn) line() ([]byte, error) {
	l, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("GET %s: reading the response: %w", c.url, err)
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(l, []byte("\n")), []byte("\r")), nil
}

// asciiEqualFold compares a header name or token case-insensitively.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i]|0x20, s[i]|0x20
		if x != y || (x < 'a' || x > 'z') && b[i] != s[i] {
			return false
		}
	}
	return true
}
