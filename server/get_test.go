package server_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/davshare/davshare/sharing"
)

// TestGet drives GET and HEAD (server/get.go) through the real router, in
// the owner's home and through a read-only share mount of the same folder:
// the validators must be PROPFIND's, and ranges, conditional requests and
// HEAD must behave as RFC 9110 says.
func TestGet(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInstant)
	const content = "0123456789abcdefghijklmnopqrstuvwxyz"
	e.expect(201, "MKCOL", "/dav/files/alice/docs/", "alice", "")
	e.expect(201, "MKCOL", "/dav/files/alice/docs/sub/", "alice", "")
	e.expect(201, "PUT", "/dav/files/alice/docs/report.txt", "alice", content)
	// No extension: x/net/webdav sniffed this into text/html; PROPFIND
	// says application/octet-stream, and GET must say the same.
	e.expect(201, "PUT", "/dav/files/alice/docs/page", "alice", "<html><body>hi</body></html>")
	e.expect(201, "PUT", "/dav/files/alice/secret.txt", "alice", "alice's secret")
	e.expect(201, "PUT", "/dav/files/bob/secret.txt", "bob", "bob's secret")
	if err := os.WriteFile(e.disk("alice", "/docs/.davshare-tmp-0123"), []byte("partial upload"), 0o600); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"up":     "../secret.txt", // inside alice's home, outside the share
		"etc":    "/etc/passwd",
		"bob":    "../../bob/secret.txt", // out of alice's home, into bob's
		"inside": "report.txt",
	}
	for name, target := range links {
		if err := os.Symlink(target, e.disk("alice", "/docs/"+name)); err != nil {
			t.Fatal(err)
		}
	}
	e.share(204, "/dav/files/alice/docs/", "alice", sharee("/dav/principals/bob/", "read"))

	for _, tgt := range []struct {
		name, dir, user string
		upStatus        int // GET of the link "up"
		upBody          string
	}{
		{"owner", "/dav/files/alice/docs/", "alice", 200, "alice's secret"},
		{"read-only mount", "/dav/files/bob/Shared/docs/", "bob", 404, ""},
	} {
		t.Run(tgt.name, func(t *testing.T) {
			file := tgt.dir + "report.txt"
			val := func(href, name string) string {
				ms := parseMultistatus(t, e.propfind(href, tgt.user, "0", name))
				return ms.response(t, href).value(t, name).text()
			}
			etag := val(file, "getetag")
			lastMod := val(file, "getlastmodified")
			if etag == "" || lastMod == "" {
				t.Fatalf("PROPFIND gave getetag %q, getlastmodified %q", etag, lastMod)
			}
			full := map[string]string{
				"ETag":           etag,
				"Content-Type":   val(file, "getcontenttype"),
				"Last-Modified":  lastMod,
				"Content-Length": strconv.Itoa(len(content)),
				"Accept-Ranges":  "bytes",
			}
			rows := []struct {
				name, method, path string
				hdr                []string
				status             int
				body               string
				headers            map[string]string
			}{
				{"GET", "GET", file, nil, 200, content, full},
				{"HEAD has GET's headers and no body", "HEAD", file, nil, 200, "", full},
				{"range", "GET", file, []string{"Range", "bytes=2-5"}, 206, "2345",
					map[string]string{"Content-Range": "bytes 2-5/36", "Content-Length": "4", "ETag": etag}},
				{"suffix range", "GET", file, []string{"Range", "bytes=-3"}, 206, "xyz", nil},
				{"unsatisfiable range", "GET", file, []string{"Range", "bytes=100-"}, 416, "", nil},
				{"If-Range with the ETag", "GET", file, []string{"Range", "bytes=0-0", "If-Range", etag}, 206, "0", nil},
				{"If-Range with another ETag", "GET", file, []string{"Range", "bytes=0-0", "If-Range", `"stale"`}, 200, content, nil},
				{"If-None-Match with the ETag", "GET", file, []string{"If-None-Match", etag}, 304, "",
					map[string]string{"ETag": etag}},
				{"If-None-Match in a list", "HEAD", file, []string{"If-None-Match", `"x", ` + etag}, 304, "", nil},
				{"If-None-Match with another ETag", "GET", file, []string{"If-None-Match", `"x"`}, 200, content, nil},
				{"If-Modified-Since", "GET", file, []string{"If-Modified-Since", lastMod}, 304, "", nil},
				{"If-Match with another ETag", "GET", file, []string{"If-Match", `"x"`}, 412, "", nil},
				{"If-Match with the ETag", "GET", file, []string{"If-Match", etag}, 200, content, nil},
				{"type from the name, not sniffed", "GET", tgt.dir + "page", nil, 200, "<html><body>hi</body></html>",
					map[string]string{"Content-Type": val(tgt.dir+"page", "getcontenttype")}},
				{"link inside the tree", "GET", tgt.dir + "inside", nil, 200, content, nil},
				{"link to elsewhere in the owner's home", "GET", tgt.dir + "up", nil, tgt.upStatus, tgt.upBody, nil},
				{"link out of the tree", "GET", tgt.dir + "etc", nil, 404, "", nil},
				{"link out of the tree, HEAD", "HEAD", tgt.dir + "etc", nil, 404, "", nil},
				{"relative link out of the tree", "GET", tgt.dir + "bob", nil, 404, "", nil},
				{"missing", "GET", tgt.dir + "nothing.txt", nil, 404, "", nil},
				{"below a file", "GET", file + "/x", nil, 404, "", nil},
				{"our temporary file", "GET", tgt.dir + ".davshare-tmp-0123", nil, 404, "", nil},
				{"collection", "GET", tgt.dir + "sub/", nil, 405, "", nil},
				{"collection, HEAD", "HEAD", tgt.dir + "sub/", nil, 405, "", nil},
				{"collection without the slash", "GET", tgt.dir + "sub", nil, 405, "", nil},
			}
			for _, row := range rows {
				resp, body := e.call(row.method, row.path, tgt.user, "", row.hdr...)
				if resp.StatusCode != row.status {
					t.Errorf("%s: %s %s: status %d, want %d; body %q", row.name, row.method, row.path, resp.StatusCode, row.status, body)
					continue
				}
				if (row.body != "" || row.status < 300) && body != row.body {
					t.Errorf("%s: body %q, want %q", row.name, body, row.body)
				}
				if resp.StatusCode >= 300 && strings.Contains(body, "secret") ||
					strings.Contains(body, "root:") || strings.Contains(body, "partial upload") {
					t.Errorf("%s: leaked %q", row.name, body)
				}
				for k, v := range row.headers {
					if got := resp.Header.Get(k); got != v {
						t.Errorf("%s: %s is %q, want %q", row.name, k, got, v)
					}
				}
			}
		})
	}
}

// TestGetSizes: files on both sides of the size that GET reads into memory
// (64 KiB; larger ones go out with sendfile) come back whole, and a range
// of each is the right slice.
func TestGetSizes(t *testing.T) {
	e := newEnv(t)
	for _, size := range []int{0, 1, 4096, 64<<10 - 1, 64 << 10, 64<<10 + 1, 300_000} {
		content := strings.Repeat("davshare", size/8+1)[:size]
		path := "/dav/files/alice/f-" + strconv.Itoa(size)
		e.expect(201, "PUT", path, "alice", content)
		resp, body := e.call("GET", path, "alice", "")
		if resp.StatusCode != 200 || body != content || resp.Header.Get("Content-Length") != strconv.Itoa(size) {
			t.Errorf("GET of %d bytes: status %d, %d bytes, Content-Length %q", size, resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
		}
		if size < 2 {
			continue
		}
		from, to := size/2-1, size/2
		resp, body = e.call("GET", path, "alice", "", "Range", "bytes="+strconv.Itoa(from)+"-"+strconv.Itoa(to))
		if resp.StatusCode != 206 || body != content[from:to+1] {
			t.Errorf("range %d-%d of %d bytes: status %d, body %q, want %q", from, to, size, resp.StatusCode, body, content[from:to+1])
		}
	}
}
