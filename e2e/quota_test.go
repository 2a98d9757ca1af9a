package e2e

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestExpectedEntityLength: a chunked PUT (Finder's framing) that
// announces with X-Expected-Entity-Length more bytes than the file system
// has free is refused with 507 before anything is written (RFC 4331 §6; the
// server's quota-available-bytes is the file system's free space), for a new
// name and over an existing file; an announcement that fits is stored; a
// body that arrives empty although bytes were announced is refused (400)
// rather than stored as an empty file.
func TestExpectedEntityLength(t *testing.T) {
	binary(t)
	t.Parallel()
	s := newServer(t, map[string]string{traceUser: tracePass})
	home := filepath.Join(s.Data, "files", traceUser)
	const huge = 1 << 62

	// The premise: the free space the server reports is below 1<<62.
	ms, err := parseMultistatus(s.expect(t, 207, "PROPFIND", "/dav/files/alice/", traceUser, tracePass,
		[]byte(`<D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/></D:prop></D:propfind>`), "Depth", "0"))
	if err != nil || len(ms) != 1 {
		t.Fatalf("PROPFIND quota-available-bytes: %v", err)
	}
	avail, err := strconv.ParseInt(ms[0].props["{DAV:}quota-available-bytes"].value, 10, 64)
	if err != nil || avail <= 0 || avail >= huge {
		t.Fatalf("quota-available-bytes = %q (%v); want a number of bytes below %d", ms[0].props["{DAV:}quota-available-bytes"].value, err, int64(huge))
	}
	t.Logf("quota-available-bytes: %d", avail)

	hdr := func(expected int64) http.Header {
		h := http.Header{}
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(traceUser+":"+tracePass)))
		h.Set("User-Agent", "WebDAVFS/3.0.0 (03008000) Darwin/22.1.0 (x86_64)")
		h.Set("X-Expected-Entity-Length", strconv.FormatInt(expected, 10))
		return h
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB, sent in 8 KiB chunks
	putBody := func(name string, expected int64, body []byte) int {
		t.Helper()
		resp, err := rawChunked(s, "PUT", "/dav/files/alice/"+name, hdr(expected), body, []int{8192})
		if err != nil {
			t.Fatalf("chunked PUT %s: %v", name, err)
		}
		return resp.status
	}
	put := func(name string, expected int64) int { return putBody(name, expected, body) }
	leftovers := func() {
		t.Helper()
		entries, err := os.ReadDir(home)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".davshare-") {
				t.Errorf("a refused upload left files/alice/%s behind", e.Name())
			}
		}
	}

	if st := put("big.iso", huge); st != http.StatusInsufficientStorage {
		t.Errorf("chunked PUT announcing %d bytes: status %d, want 507", int64(huge), st)
	}
	if _, err := os.Lstat(filepath.Join(home, "big.iso")); !os.IsNotExist(err) {
		t.Errorf("after the 507, files/alice/big.iso: %v; want nothing created", err)
	}
	s.expect(t, 404, "PROPFIND", "/dav/files/alice/big.iso", traceUser, tracePass, nil, "Depth", "0")
	leftovers()

	// Over an existing file: refused, the old content stays.
	old := []byte("the old content\n")
	s.expect(t, 201, "PUT", "/dav/files/alice/keep.txt", traceUser, tracePass, old)
	if st := put("keep.txt", huge); st != http.StatusInsufficientStorage {
		t.Errorf("chunked PUT over keep.txt announcing %d bytes: status %d, want 507", int64(huge), st)
	}
	if got, err := os.ReadFile(filepath.Join(home, "keep.txt")); err != nil || !bytes.Equal(got, old) {
		t.Errorf("after the 507, files/alice/keep.txt = %q, %v; want the old content", got, err)
	}
	leftovers()

	// Twice the free space is refused too (other tests write and delete
	// on the same file system, so not just one byte more); the true
	// length fits.
	if st := put("edge.bin", 2*avail); st != http.StatusInsufficientStorage {
		t.Errorf("chunked PUT announcing twice the free space (%d): status %d, want 507", 2*avail, st)
	}
	if st := put("fits.bin", int64(len(body))); st != http.StatusCreated {
		t.Errorf("chunked PUT announcing its true length: status %d, want 201", st)
	}
	if got, err := os.ReadFile(filepath.Join(home, "fits.bin")); err != nil || !bytes.Equal(got, body) {
		t.Errorf("files/alice/fits.bin: %d bytes, %v; want the %d bytes sent", len(got), err, len(body))
	}

	// The body was lost on the way (a proxy that drops chunked bodies):
	// nothing is stored, the old content stays.
	if st := putBody("lost.bin", int64(len(body)), nil); st != http.StatusBadRequest {
		t.Errorf("empty chunked PUT announcing %d bytes: status %d, want 400", len(body), st)
	}
	if _, err := os.Lstat(filepath.Join(home, "lost.bin")); !os.IsNotExist(err) {
		t.Errorf("after the refused empty upload, files/alice/lost.bin: %v; want nothing created", err)
	}
	if st := putBody("keep.txt", int64(len(old)), nil); st != http.StatusBadRequest {
		t.Errorf("empty chunked PUT over keep.txt announcing %d bytes: status %d, want 400", len(old), st)
	}
	if got, err := os.ReadFile(filepath.Join(home, "keep.txt")); err != nil || !bytes.Equal(got, old) {
		t.Errorf("after the refused empty upload, files/alice/keep.txt = %q, %v; want the old content", got, err)
	}
	leftovers()
}
