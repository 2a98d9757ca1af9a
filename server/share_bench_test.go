package server_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/davshare/davshare/sharing"
)

// benchShare sets up alice's folder Big with n files of size bytes, shared
// read-write with bob and mounted at /dav/files/bob/Big/.
func benchShare(b *testing.B, n, size int) *shareEnv {
	e := newShareEnv(b, sharing.ModeInstant)
	if err := os.MkdirAll(e.disk("alice", "/Big"), 0o755); err != nil {
		b.Fatal(err)
	}
	content := strings.Repeat("x", size)
	for i := 0; i < n; i++ {
		if err := os.WriteFile(e.disk("alice", fmt.Sprintf("/Big/f%04d.txt", i)), []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	e.share(204, "/dav/files/alice/Big/", "alice", sharee("/dav/principals/bob/", "read-write"))
	return e
}

func benchRequest(b *testing.B, e *shareEnv, method, url, user, body string, want int, hdr ...string) {
	b.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+url, strings.NewReader(body))
	req.SetBasicAuth(user, sharePasswords[user])
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s: %d", method, url, resp.StatusCode)
	}
}

const benchPropfind = `<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/><d:getetag/><d:getlastmodified/><d:displayname/></d:prop></d:propfind>`

// BenchmarkSharePropfindDepth1 lists 1,000 files through the owner's path
// and through a sharee's mount.
func BenchmarkSharePropfindDepth1(b *testing.B) {
	e := benchShare(b, 1000, 10)
	for _, c := range []struct{ name, url, user string }{
		{"owner", "/dav/files/alice/Big/", "alice"},
		{"mount", "/dav/files/bob/Shared/Big/", "bob"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				benchRequest(b, e, "PROPFIND", c.url, c.user, benchPropfind, 207, "Depth", "1")
			}
		})
	}
}

// BenchmarkShareGet4K reads a 4 KiB file through the owner's path and
// through a sharee's mount.
func BenchmarkShareGet4K(b *testing.B) {
	e := benchShare(b, 1, 4096)
	for _, c := range []struct{ name, url, user string }{
		{"owner", "/dav/files/alice/Big/f0000.txt", "alice"},
		{"mount", "/dav/files/bob/Shared/Big/f0000.txt", "bob"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(4096)
			for i := 0; i < b.N; i++ {
				benchRequest(b, e, "GET", c.url, c.user, "", 200)
			}
		})
	}
}

// BenchmarkMoveAmongShares moves a file back and forth in a folder that is
// not shared, while the owner has 0 or 50 shared folders: a MOVE that
// touches no share must not cost more with more shares around.
func BenchmarkMoveAmongShares(b *testing.B) {
	for _, n := range []int{0, 50} {
		b.Run(fmt.Sprintf("shares=%d", n), func(b *testing.B) {
			e := newShareEnv(b, sharing.ModeInstant)
			for i := range n {
				dir := fmt.Sprintf("/dav/files/alice/s%03d/", i)
				e.expect(201, "MKCOL", dir, "alice", "")
				e.share(204, dir, "alice", sharee("/dav/principals/bob/", "read"))
			}
			e.expect(201, "MKCOL", "/dav/files/alice/work/", "alice", "")
			e.expect(201, "PUT", "/dav/files/alice/work/a.txt", "alice", "x")
			from, to := "/dav/files/alice/work/a.txt", "/dav/files/alice/work/b.txt"
			b.ResetTimer()
			for b.Loop() {
				benchRequest(b, e, "MOVE", from, "alice", "", 201, "Destination", e.srv.URL+to)
				from, to = to, from
			}
		})
	}
}
