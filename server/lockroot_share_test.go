package server_test

import (
	"strings"
	"testing"

	"github.com/davshare/davshare/sharing"
)

// A lock the owner takes above her shared folder must not tell a sharee
// where the share lives in the owner's home: the 423 and lockdiscovery name
// the lock root as the sharee sees it (their mount root), never the owner's
// path.
func TestLockRootSeenFromMount(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInvite)
	const secret = "Secret-Plans"
	e.expect(201, "MKCOL", "/dav/files/alice/"+secret+"/", "alice", "")
	e.expect(201, "MKCOL", "/dav/files/alice/"+secret+"/Project/", "alice", "")
	e.share(204, "/dav/files/alice/"+secret+"/Project/", "alice", sharee("/dav/principals/carol/", "read-write"))
	mount := strings.TrimPrefix(e.accept("carol", "", "Project"), e.srv.URL)

	lockBody := `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`
	_, own := e.expect(200, "LOCK", "/dav/files/alice/"+secret+"/", "alice", lockBody, "Depth", "infinity")
	if !strings.Contains(own, "/dav/files/alice/"+secret) {
		t.Fatalf("the owner's own lockroot: %s", own)
	}

	_, refused := e.expect(423, "PUT", mount+"new.txt", "carol", "x")
	if strings.Contains(refused, secret) || !strings.Contains(refused, "<D:href>"+strings.TrimSuffix(mount, "/")+"</D:href>") {
		t.Fatalf("423 body names %s's lock root badly: %s", "alice", refused)
	}
	disc := e.propfind(mount, "carol", "0", "lockdiscovery")
	if strings.Contains(disc, secret) || !strings.Contains(disc, "<D:lockroot><D:href>"+strings.TrimSuffix(mount, "/")+"</D:href>") {
		t.Fatalf("carol's lockdiscovery: %s", disc)
	}
}
