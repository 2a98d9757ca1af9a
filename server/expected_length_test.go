package server_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// rawPut sends a PUT with the given framing headers and raw body bytes and
// returns the status.
func (e *env) rawPut(t *testing.T, path, headers, body string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", e.host(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	auth := base64.StdEncoding.EncodeToString([]byte("alice:" + passwords["alice"]))
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nConnection: close\r\n%s\r\n%s",
		path, e.host(), auth, headers, body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Finder announces a chunked upload's size in X-Expected-Entity-Length. A
// body that arrives empty although a size was announced was lost on the
// way (proxies and FastCGI setups stored 0-byte files): refused, nothing
// stored. A body that differs in length but is not empty is stored (the
// file may have changed during the upload), and so is an empty upload that
// announces 0.
func TestPutExpectedEntityLengthEmptyBody(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, headers, body string
		status              int
		stored              string // "-": nothing stored
	}{
		{"chunked, empty, 1000 announced", "X-Expected-Entity-Length: 1000\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 400, "-"},
		{"Content-Length 0, 1000 announced", "X-Expected-Entity-Length: 1000\r\nContent-Length: 0\r\n", "", 400, "-"},
		{"chunked, shorter than announced", "X-Expected-Entity-Length: 1000\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", 201, "hello"},
		{"chunked, empty, 0 announced", "X-Expected-Entity-Length: 0\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 201, ""},
		{"chunked, empty, nothing announced", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n", 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("f%d.txt", time.Now().UnixNano())
			if st := e.rawPut(t, "/dav/files/alice/"+name, tc.headers, tc.body); st != tc.status {
				t.Fatalf("status %d, want %d", st, tc.status)
			}
			got, ok := e.file("alice", name)
			switch {
			case tc.stored == "-" && ok:
				t.Fatalf("refused upload stored %q", got)
			case tc.stored != "-" && (!ok || got != tc.stored):
				t.Fatalf("stored %q (exists %v), want %q", got, ok, tc.stored)
			}
		})
	}
	// Over an existing file, a refused upload keeps the old content.
	e.mustPut("alice", "/dav/files/alice/keep.txt", "old content")
	if st := e.rawPut(t, "/dav/files/alice/keep.txt", "X-Expected-Entity-Length: 11\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"); st != 400 {
		t.Fatalf("empty chunked PUT over keep.txt announcing 11 bytes: %d, want 400", st)
	}
	if got, _ := e.file("alice", "keep.txt"); got != "old content" {
		t.Fatalf("keep.txt after the refused upload: %q", got)
	}
}
