package server_test

import (
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/davshare/davshare/server"
)

// countingListener counts the writes of the connections it accepts, each
// write(2) or sendfile(2) a TCP segment or more.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{TCPConn: c.(*net.TCPConn), writes: l.writes}, nil
}

type countingConn struct {
	*net.TCPConn
	writes *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.TCPConn.Write(p)
}

func (c *countingConn) ReadFrom(r io.Reader) (int64, error) {
	c.writes.Add(1)
	return c.TCPConn.ReadFrom(r)
}

// TestCorkedGet serves the router as cmd/davshare does (CorkListener,
// ConnContext) over plain HTTP/1.1, TLS and HTTP/2: every answer must be
// right, and a small file must leave in one write with its headers (over
// TLS too: the records are held), a bigger one as before.
func TestCorkedGet(t *testing.T) {
	e := newEnv(t)
	small := strings.Repeat("s", 4096)
	boundary := randomString(t, 64<<10)
	big := randomString(t, 64<<10+1)
	e.mustPut("alice", "/dav/files/alice/small.txt", small)
	e.mustPut("alice", "/dav/files/alice/boundary.bin", boundary)
	e.mustPut("alice", "/dav/files/alice/big.bin", big)
	etag := e.mustPut("alice", "/dav/files/alice/etag.txt", "x")

	for _, mode := range []struct {
		name   string
		tls    bool
		http2  bool
		corked bool // one write for a small GET
	}{
		{"HTTP/1.1", false, false, true},
		{"TLS", true, false, true},
		{"HTTP/2", true, true, false},
	} {
		t.Run(mode.name, func(t *testing.T) {
			var writes atomic.Int64
			ts := httptest.NewUnstartedServer(e.srv.Config.Handler)
			ts.Listener = server.CorkListener(countingListener{Listener: ts.Listener, writes: &writes})
			ts.Config.ConnContext = server.ConnContext
			if mode.tls {
				ts.EnableHTTP2 = mode.http2
				ts.StartTLS()
			} else {
				ts.Start()
			}
			defer ts.Close()
			client := ts.Client()
			rows := []struct {
				name, method, path string
				hdr                []string
				status             int
				body               string
				writes             int64 // 0: not checked
			}{
				{"warm-up", "GET", "/dav/files/alice/small.txt", nil, 200, small, 0},
				{"small", "GET", "/dav/files/alice/small.txt", nil, 200, small, 1},
				{"64 KiB", "GET", "/dav/files/alice/boundary.bin", nil, 200, boundary, 1},
				{"past 64 KiB: headers, then sendfile", "GET", "/dav/files/alice/big.bin", nil, 200, big, 2},
				{"range", "GET", "/dav/files/alice/big.bin", []string{"Range", "bytes=10-19"}, 206, big[10:20], 1},
				{"range of a small file", "GET", "/dav/files/alice/small.txt", []string{"Range", "bytes=-5"}, 206, small[:5], 1},
				{"HEAD", "HEAD", "/dav/files/alice/small.txt", nil, 200, "", 1},
				{"304", "GET", "/dav/files/alice/etag.txt", []string{"If-None-Match", etag}, 304, "", 1},
				{"404", "GET", "/dav/files/alice/missing", nil, 404, "Not Found\n", 1},
				{"small again", "GET", "/dav/files/alice/small.txt", nil, 200, small, 1},
			}
			for _, row := range rows {
				req, err := http.NewRequest(row.method, ts.URL+row.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.SetBasicAuth("alice", passwords["alice"])
				for i := 0; i+1 < len(row.hdr); i += 2 {
					req.Header.Set(row.hdr[i], row.hdr[i+1])
				}
				before := writes.Load()
				resp, err := client.Do(req)
				if err != nil {
					t.Fatalf("%s: %v", row.name, err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("%s: %v", row.name, err)
				}
				n := writes.Load() - before
				if wantMajor := map[bool]int{false: 1, true: 2}[mode.http2]; resp.ProtoMajor != wantMajor {
					t.Fatalf("%s: HTTP/%d, want HTTP/%d", row.name, resp.ProtoMajor, wantMajor)
				}
				if resp.StatusCode != row.status || string(b) != row.body {
					t.Errorf("%s: status %d, body of %d bytes; want %d, %d bytes", row.name, resp.StatusCode, len(b), row.status, len(row.body))
				}
				if !mode.tls && row.writes != 0 && n != row.writes {
					t.Errorf("%s: %d writes, want %d", row.name, n, row.writes)
				}
				if mode.tls && mode.corked && row.writes == 1 && n != 1 {
					t.Errorf("%s: %d writes, want 1", row.name, n)
				}
			}
		})
	}
}

// randomString is n random bytes, so that a misplaced chunk shows.
func randomString(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return string(b)
}
