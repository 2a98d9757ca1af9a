package server_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/sharing"
)

var updateSharing = flag.Bool("update-sharing", false, "rewrite the golden files in testdata/golden/sharing")

var (
	uuidRE    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	dtstampRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
)

// shareGolden compares body, normalised (share ids, dtstamps, the server's
// address), with testdata/golden/sharing/name.
func shareGolden(t *testing.T, e *shareEnv, name, body string) {
	t.Helper()
	body = uuidRE.ReplaceAllString(body, "SHARE-ID")
	body = dtstampRE.ReplaceAllString(body, "DTSTAMP")
	body = strings.ReplaceAll(body, e.srv.URL, "http://HOST")
	body = strings.ReplaceAll(compact(body), "><", ">\n<") + "\n"
	file := filepath.Join("..", "testdata", "golden", "sharing", name)
	if *updateSharing {
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update-sharing to create it)", err)
	}
	if string(want) != body {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, body, want)
	}
}

// TestShareGolden pins the XML of the sharing properties on an original
// and on an instance, and of the invite and reply notifications.
func TestShareGolden(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInvite)
	setupApollo(e)
	e.share(204, apollo, "alice", sharee("/dav/principals/bob/", "read", `<d:prop><d:displayname>Bob B</d:displayname></d:prop>`),
		sharee("mailto:someone@example.net", "read-write", `<d:comment>hi</d:comment>`))
	props := []string{"owner", "share-access", "invite", "share-resource-uri", "sharer-resource-uri", "current-user-privilege-set", "supported-privilege-set"}
	_, inv := e.expect(200, "GET", e.invite("bob"), "bob", "", "Accept", notify.MediaType)
	shareGolden(t, e, "invite-notification.xml", inv)
	e.accept("bob", "", "")
	shareGolden(t, e, "propfind-original.xml", e.propfind(apollo, "alice", "0", props...))
	shareGolden(t, e, "propfind-instance.xml", e.propfind("/dav/files/bob/Apollo/", "bob", "0", props...))
	shareGolden(t, e, "propfind-home.xml", e.propfind("/dav/files/alice/", "alice", "0", "share-access", "current-user-privilege-set"))
	_, rep := e.expect(200, "GET", "/dav/notifications/alice/"+e.notificationName("alice", "reply-"), "alice", "", "Accept", notify.MediaType)
	shareGolden(t, e, "reply-notification.xml", rep)
}
