package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// Windows Explorer PROPPATCHes Win32* properties after an upload and
// expects 207 with 200 each; the modification time must become real.
func TestWin32Properties(t *testing.T) {
	e := newEnv(t)
	e.expect(201, "PUT", "/dav/files/alice/doc.txt", "alice", "data")
	body := `<?xml version="1.0" encoding="utf-8" ?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>
<Z:Win32CreationTime>Tue, 03 Mar 2020 10:00:00 GMT</Z:Win32CreationTime>
<Z:Win32LastAccessTime>Wed, 04 Mar 2020 10:00:00 GMT</Z:Win32LastAccessTime>
<Z:Win32LastModifiedTime>Thu, 05 Mar 2020 10:00:00 GMT</Z:Win32LastModifiedTime>
<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>
</D:prop></D:set></D:propertyupdate>`
	_, ms := e.expect(207, "PROPPATCH", "/dav/files/alice/doc.txt", "alice", body)
	if strings.Count(ms, "HTTP/1.1 200 OK") != 1 || strings.Contains(ms, "403") || strings.Contains(ms, "424") {
		t.Fatalf("PROPPATCH answer: %s", ms)
	}
	_, pf := e.expect(207, "PROPFIND", "/dav/files/alice/doc.txt", "alice",
		`<D:propfind xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:prop><D:getlastmodified/><Z:Win32FileAttributes/></D:prop></D:propfind>`, "Depth", "0")
	if !strings.Contains(pf, "Thu, 05 Mar 2020 10:00:00 GMT") || !strings.Contains(pf, "00000020") {
		t.Fatalf("mtime or attributes not kept: %s", pf)
	}
	resp, _ := e.expect(200, "GET", "/dav/files/alice/doc.txt", "alice", "")
	if lm, _ := http.ParseTime(resp.Header.Get("Last-Modified")); lm.Year() != 2020 {
		t.Fatalf("GET Last-Modified %q", resp.Header.Get("Last-Modified"))
	}
}
