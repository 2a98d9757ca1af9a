package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSpecialFiles: a FIFO that another program left in a home is listed,
// but reading or copying it is refused at once (403), never a request that
// waits for a writer forever; it can still be moved and deleted. Each
// request goes through raw, whose 10 s deadline fails a hang.
func TestSpecialFiles(t *testing.T) {
	e := newEnv(t)
	if err := syscall.Mkfifo(filepath.Join(e.home("alice"), "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A regression that opens the FIFO blocks its handler until a writer
	// comes, and the server's Close waits for handlers: open it for
	// writing once, so that such a test fails instead of hanging.
	t.Cleanup(func() {
		for _, name := range []string{"pipe", "moved"} {
			if f, err := os.OpenFile(filepath.Join(e.home("alice"), name), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
	})
	url := "/dav/files/alice/pipe"
	for _, tc := range []struct {
		method string
		hdr    []string
		want   int
	}{
		{"GET", nil, http.StatusForbidden},
		{"HEAD", nil, http.StatusForbidden},
		{"COPY", []string{"Destination", e.url("/dav/files/alice/copy")}, http.StatusForbidden},
		{"PROPFIND", []string{"Depth", "0"}, http.StatusMultiStatus},
		{"MOVE", []string{"Destination", e.url("/dav/files/alice/moved")}, http.StatusCreated},
		{"DELETE", nil, http.StatusNoContent},
	} {
		resp, body := e.raw(tc.method, url, "alice", "", tc.hdr...)
		if resp.StatusCode != tc.want {
			t.Errorf("%s of a FIFO: %d, want %d: %s", tc.method, resp.StatusCode, tc.want, body)
		}
		if tc.method == "MOVE" {
			url = "/dav/files/alice/moved"
		}
	}
	if left, _ := filepath.Glob(filepath.Join(e.home("alice"), "*")); len(left) != 0 {
		t.Errorf("left in the home: %v", left)
	}
}
