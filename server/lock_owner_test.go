package server_test

import (
	"strings"
	"testing"
)

func TestLockOwnerIsBounded(t *testing.T) {
	e := newEnv(t)
	e.expect(201, "PUT", "/dav/files/alice/f.txt", "alice", "x")
	big := `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>` +
		strings.Repeat("a", 5000) + `</D:owner></D:lockinfo>`
	e.expect(413, "LOCK", "/dav/files/alice/f.txt", "alice", big)
	e.expect(204, "PUT", "/dav/files/alice/f.txt", "alice", "y") // no lock was taken
	small := strings.Replace(big, strings.Repeat("a", 5000), "<D:href>mailto:alice@example.org</D:href>", 1)
	_, body := e.expect(200, "LOCK", "/dav/files/alice/f.txt", "alice", small)
	if !strings.Contains(body, "mailto:alice@example.org") {
		t.Fatalf("owner not echoed: %s", body)
	}
}
