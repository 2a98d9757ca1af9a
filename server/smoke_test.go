package server_test

import (
	"strings"
	"testing"
)

func TestSmoke(t *testing.T) {
	e := newEnv(t)
	e.expect(201, "PUT", "/dav/files/alice/a.txt", "alice", "hello")
	_, body := e.expect(200, "GET", "/dav/files/alice/a.txt", "alice", "")
	if body != "hello" {
		t.Fatalf("GET body %q", body)
	}
	e.expect(204, "PUT", "/dav/files/alice/a.txt", "alice", "hello again")
	_, ms := e.expect(207, "PROPFIND", "/dav/files/alice/", "alice", "", "Depth", "1")
	if !strings.Contains(ms, "/dav/files/alice/a.txt") {
		t.Fatalf("listing lacks a.txt: %s", ms)
	}
	e.expect(201, "MKCOL", "/dav/files/alice/dir", "alice", "")
	e.expect(201, "COPY", "/dav/files/alice/a.txt", "alice", "", "Destination", e.srv.URL+"/dav/files/alice/dir/b.txt")
	e.expect(201, "MOVE", "/dav/files/alice/dir/b.txt", "alice", "", "Destination", "/dav/files/alice/c.txt")
	e.expect(204, "DELETE", "/dav/files/alice/c.txt", "alice", "")
	e.expect(404, "GET", "/dav/files/alice/a.txt", "bob", "")
	e.expect(401, "GET", "/dav/files/alice/a.txt", "", "")
}
