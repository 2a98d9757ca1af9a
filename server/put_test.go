package server_test

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue #2, bullet 4: PUT and the HTTP preconditions of every write.

// etagOf returns the ETag that GET and PROPFIND report, checking that they
// agree.
func (e *env) etagOf(t *testing.T, path string) string {
	t.Helper()
	resp, _ := e.expect(http.StatusOK, "GET", path, "alice", "")
	get := resp.Header.Get("ETag")
	_, body := e.expect(http.StatusMultiStatus, "PROPFIND", path, "alice", propfindBody("getetag"), "Depth", "0")
	pf := parseMultistatus(t, body).Responses[0].value(t, "getetag").text()
	if get == "" || get != pf {
		t.Fatalf("%s: GET ETag %q, PROPFIND getetag %q", path, get, pf)
	}
	return get
}

func TestPutCreateOverwriteETag(t *testing.T) {
	e := newEnv(t)
	const path = "/dav/files/alice/doc.txt"
	var prev string
	for i, tc := range []struct {
		name    string
		content string
		status  int
	}{
		{"create", "first", http.StatusCreated},
		{"overwrite", "second version", http.StatusNoContent},
		{"overwrite same size", "second-version", http.StatusNoContent},
		{"overwrite empty", "", http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.expect(tc.status, "PUT", path, "alice", tc.content)
			put := resp.Header.Get("ETag")
			if !strings.HasPrefix(put, `"`) || !strings.HasSuffix(put, `"`) || len(put) < 3 {
				t.Fatalf("PUT ETag %q is not a strong entity tag; body %s", put, body)
			}
			if got := e.etagOf(t, path); got != put {
				t.Fatalf("PUT ETag %s, GET/PROPFIND %s", put, got)
			}
			if i > 0 && put == prev {
				t.Fatalf("ETag %s unchanged by new content", put)
			}
			prev = put
			if got, _ := e.file("alice", "doc.txt"); got != tc.content {
				t.Fatalf("content %q, want %q", got, tc.content)
			}
			if tc.status == http.StatusCreated && resp.Header.Get("Location") == "" {
				t.Error("201 without Location")
			}
		})
	}
}

// TestPutInterrupted cuts uploads mid-body: the old content stays, the
// upload never has a name on disk (it is an unnamed file until complete),
// and nothing of it is left open, on disk or in a listing.
func TestPutInterrupted(t *testing.T) {
	cases := []struct {
		name    string
		existed bool
		chunked bool
	}{
		{"overwrite, Content-Length", true, false},
		{"create, Content-Length", false, false},
		{"overwrite, chunked", true, true},
		{"create, chunked", false, true},
	}
	e := newEnv(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("big%d.bin", i)
			path := "/dav/files/alice/" + name
			if tc.existed {
				e.mustPut("alice", path, "old content")
			}
			e.mustPut("alice", "/dav/files/alice/other.txt", "other")
			home := e.home("alice")

			conn, err := net.DialTimeout("tcp", e.host(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			auth := base64.StdEncoding.EncodeToString([]byte("alice:" + passwords["alice"]))
			head := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n", path, e.host(), auth)
			part := strings.Repeat("n", 1000)
			if tc.chunked {
				head += "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n", len(part), part)
			} else {
				head += "Content-Length: 100000\r\n\r\n" + part
			}
			if _, err := conn.Write([]byte(head)); err != nil {
				t.Fatal(err)
			}
			// The upload is under way once the server has its unnamed
			// file open; nothing of it may have a name on disk meanwhile.
			if !waitFor(5*time.Second, func() bool { return len(unnamedOpen(t, home)) > 0 }) {
				t.Fatalf("no unnamed file open in %s: the upload never started (named: %v)", home, reservedOnDisk(t, home))
			}
			if names := reservedOnDisk(t, home); len(names) > 0 {
				t.Fatalf("the upload under way has a name on disk: %v", names)
			}
			_, body := e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/", "alice", "", "Depth", "1")
			if strings.Contains(body, ".davshare-") {
				t.Fatalf("listing shows a temporary file: %s", body)
			}
			conn.Close()

			if !waitFor(5*time.Second, func() bool { return len(reservedOnDisk(t, home))+len(unnamedOpen(t, home)) == 0 }) {
				t.Fatalf("temporary files left behind: %v, still open: %v", reservedOnDisk(t, home), unnamedOpen(t, home))
			}
			got, ok := e.file("alice", name)
			switch {
			case tc.existed && (!ok || got != "old content"):
				t.Fatalf("content after the cut upload: %q (exists %v), want the old content", got, ok)
			case !tc.existed && ok:
				t.Fatalf("a cut upload created the file (%d bytes)", len(got))
			}
			_, body = e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/", "alice", "", "Depth", "1")
			if strings.Contains(body, ".davshare-") {
				t.Fatalf("listing shows a temporary file: %s", body)
			}
			if tc.existed {
				_, got := e.expect(http.StatusOK, "GET", path, "alice", "")
				if got != "old content" {
					t.Fatalf("GET after the cut upload: %q", got)
				}
			} else {
				e.expect(http.StatusNotFound, "GET", path, "alice", "")
			}
		})
	}
}

func TestPutPreconditions(t *testing.T) {
	e := newEnv(t)
	const path = "/dav/files/alice/p.txt"
	past := time.Now().Add(-24 * time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat)
	cases := []struct {
		name   string
		exists bool
		hdr    func(etag string) []string
		status int
	}{
		{"If-Match wrong", true, func(string) []string { return []string{"If-Match", `"nope"`} }, 412},
		{"If-Match right", true, func(et string) []string { return []string{"If-Match", et} }, 204},
		{"If-Match in a list", true, func(et string) []string { return []string{"If-Match", `"a", ` + et} }, 204},
		{"If-Match weak form", true, func(et string) []string { return []string{"If-Match", "W/" + et} }, 412},
		{"If-Match star", true, func(string) []string { return []string{"If-Match", "*"} }, 204},
		{"If-Match star, missing", false, func(string) []string { return []string{"If-Match", "*"} }, 412},
		{"If-Match, missing", false, func(string) []string { return []string{"If-Match", `"x"`} }, 412},
		{"If-None-Match star", true, func(string) []string { return []string{"If-None-Match", "*"} }, 412},
		{"If-None-Match star, missing", false, func(string) []string { return []string{"If-None-Match", "*"} }, 201},
		{"If-None-Match current", true, func(et string) []string { return []string{"If-None-Match", et} }, 412},
		{"If-None-Match other", true, func(string) []string { return []string{"If-None-Match", `"other"`} }, 204},
		{"If-Unmodified-Since past", true, func(string) []string { return []string{"If-Unmodified-Since", past} }, 412},
		{"If-Unmodified-Since future", true, func(string) []string { return []string{"If-Unmodified-Since", future} }, 204},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			etag := ""
			if tc.exists {
				etag = e.mustPut("alice", path, "before")
			} else {
				e.call("DELETE", path, "alice", "")
			}
			resp, body := e.call("PUT", path, "alice", "after", tc.hdr(etag)...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			got, ok := e.file("alice", "p.txt")
			switch {
			case tc.status == 412 && tc.exists && got != "before":
				t.Fatalf("a refused PUT changed the content to %q", got)
			case tc.status == 412 && !tc.exists && ok:
				t.Fatal("a refused PUT created the file")
			case tc.status < 300 && got != "after":
				t.Fatalf("content %q, want after", got)
			}
		})
	}
}

// TestWritePreconditions applies the same preconditions to DELETE, MOVE,
// COPY and PROPPATCH: failing ones change nothing, passing ones work.
func TestWritePreconditions(t *testing.T) {
	e := newEnv(t)
	const src = "/dav/files/alice/w.txt"
	past := time.Now().Add(-24 * time.Hour).UTC().Format(http.TimeFormat)
	conds := []struct {
		name string
		hdr  func(etag string) []string
		pass bool
	}{
		{"If-Match wrong", func(string) []string { return []string{"If-Match", `"nope"`} }, false},
		{"If-None-Match star", func(string) []string { return []string{"If-None-Match", "*"} }, false},
		{"If-None-Match current", func(et string) []string { return []string{"If-None-Match", et} }, false},
		{"If-Unmodified-Since past", func(string) []string { return []string{"If-Unmodified-Since", past} }, false},
		{"If-Match right", func(et string) []string { return []string{"If-Match", et} }, true},
	}
	patch := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><A:mark xmlns:A="urn:example:a">set</A:mark></D:prop></D:set></D:propertyupdate>`
	methods := []struct {
		method string
		body   string
		hdr    []string
		status int // when the precondition passes
		check  func(t *testing.T, applied bool)
	}{
		{"DELETE", "", nil, 204, func(t *testing.T, applied bool) {
			if _, ok := e.file("alice", "w.txt"); ok == applied {
				t.Fatalf("w.txt exists: %v, DELETE applied: %v", ok, applied)
			}
		}},
		{"MOVE", "", []string{"Destination", "/dav/files/alice/moved.txt"}, 201, func(t *testing.T, applied bool) {
			_, srcOK := e.file("alice", "w.txt")
			_, dstOK := e.file("alice", "moved.txt")
			if srcOK == applied || dstOK != applied {
				t.Fatalf("after MOVE (applied %v): source %v, destination %v", applied, srcOK, dstOK)
			}
		}},
		{"COPY", "", []string{"Destination", "/dav/files/alice/copied.txt"}, 201, func(t *testing.T, applied bool) {
			_, srcOK := e.file("alice", "w.txt")
			_, dstOK := e.file("alice", "copied.txt")
			if !srcOK || dstOK != applied {
				t.Fatalf("after COPY (applied %v): source %v, destination %v", applied, srcOK, dstOK)
			}
		}},
		{"PROPPATCH", patch, nil, 207, func(t *testing.T, applied bool) {
			_, body := e.expect(http.StatusMultiStatus, "PROPFIND", src, "alice", propfindBody("{urn:example:a}mark"), "Depth", "0")
			st, _, _ := parseMultistatus(t, body).Responses[0].find("{urn:example:a}mark")
			if (st == http.StatusOK) != applied {
				t.Fatalf("mark has status %d, PROPPATCH applied: %v", st, applied)
			}
		}},
	}
	for _, m := range methods {
		for _, c := range conds {
			t.Run(m.method+"/"+c.name, func(t *testing.T) {
				for _, n := range []string{"moved.txt", "copied.txt"} {
					e.call("DELETE", "/dav/files/alice/"+n, "alice", "")
				}
				e.call("DELETE", src, "alice", "")
				etag := e.mustPut("alice", src, "content")
				hdr := append(append([]string{}, m.hdr...), c.hdr(etag)...)
				resp, body := e.call(m.method, src, "alice", m.body, hdr...)
				want := http.StatusPreconditionFailed
				if c.pass {
					want = m.status
				}
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d; body %s", resp.StatusCode, want, body)
				}
				m.check(t, c.pass)
				if got, ok := e.file("alice", "w.txt"); ok && got != "content" {
					t.Fatalf("content %q", got)
				}
			})
		}
	}
}

func TestPutConflicts(t *testing.T) {
	e := newEnv(t)
	e.expect(http.StatusCreated, "MKCOL", "/dav/files/alice/dir", "alice", "")
	e.mustPut("alice", "/dav/files/alice/file.txt", "f")
	cases := []struct {
		name   string
		path   string
		status int
	}{
		{"missing parent", "/dav/files/alice/nope/x.txt", http.StatusConflict},
		{"missing grandparent", "/dav/files/alice/nope/deeper/x.txt", http.StatusConflict},
		{"parent is a file", "/dav/files/alice/file.txt/x.txt", http.StatusConflict},
		{"collection", "/dav/files/alice/dir", http.StatusMethodNotAllowed},
		{"collection with slash", "/dav/files/alice/dir/", http.StatusMethodNotAllowed},
		{"home", "/dav/files/alice/", http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.expect(tc.status, "PUT", tc.path, "alice", "body")
			if _, ok := e.file("alice", "nope"); ok {
				t.Fatal("PUT created a parent")
			}
			if got, _ := e.file("alice", "file.txt"); got != "f" {
				t.Fatalf("file.txt is now %q", got)
			}
			if len(reservedOnDisk(t, e.home("alice"))) != 0 {
				t.Fatal("temporary file left")
			}
		})
	}
}

func TestPutOCMtime(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name     string
		value    string
		accepted bool
		want     time.Time
	}{
		{"seconds", "1500000000", true, time.Unix(1500000000, 0)},
		{"fraction", "1234567890.5", true, time.Unix(1234567890, 0)},
		{"epoch", "0", true, time.Unix(0, 0)},
		{"garbage", "yesterday", false, time.Time{}},
		{"negative", "-5", false, time.Time{}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := fmt.Sprintf("/dav/files/alice/m%d.txt", i)
			before := time.Now().Add(-2 * time.Second)
			resp, _ := e.expect(http.StatusCreated, "PUT", path, "alice", "mtime", "X-OC-Mtime", tc.value)
			got := resp.Header.Get("X-OC-MTime")
			if tc.accepted != (got == "accepted") {
				t.Fatalf("X-OC-MTime %q, accepted %v", got, tc.accepted)
			}
			_, body := e.expect(http.StatusMultiStatus, "PROPFIND", path, "alice", propfindBody("getlastmodified"), "Depth", "0")
			lm := parseMultistatus(t, body).Responses[0].value(t, "getlastmodified").text()
			mt, err := http.ParseTime(lm)
			if err != nil {
				t.Fatalf("getlastmodified %q: %v", lm, err)
			}
			if tc.accepted {
				if !mt.Equal(tc.want) {
					t.Fatalf("getlastmodified %s, want %s", mt, tc.want)
				}
			} else if mt.Before(before.Truncate(time.Second)) {
				t.Fatalf("an ignored X-OC-Mtime still set the time to %s", mt)
			}
			resp, _ = e.expect(http.StatusOK, "GET", path, "alice", "")
			// net/http sends no Last-Modified for the Unix epoch.
			if !mt.Equal(time.Unix(0, 0)) && resp.Header.Get("Last-Modified") != lm {
				t.Fatalf("Last-Modified %q, getlastmodified %q", resp.Header.Get("Last-Modified"), lm)
			}
		})
	}
}
