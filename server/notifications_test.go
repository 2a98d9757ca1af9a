package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/davshare/davshare/notify"
)

// The router puts notification collections behind authentication and
// ownership; the notify package tests the collection's own behaviour.
func TestNotificationRouting(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.notes.Deliver(ctx, "alice", "hello.xml", &notify.SystemStatus{Level: notify.LevelMedium, Description: "maintenance"}); err != nil {
		t.Fatal(err)
	}
	accept := []string{"Accept", "application/davnotification+xml"}
	_, body := e.expect(200, "GET", "/dav/notifications/alice/hello.xml", "alice", "", accept...)
	if !strings.Contains(body, "maintenance") {
		t.Fatalf("notification body: %s", body)
	}
	e.expect(401, "GET", "/dav/notifications/alice/hello.xml", "", "", accept...)
	e.expect(404, "GET", "/dav/notifications/alice/hello.xml", "bob", "", accept...)
	e.expect(404, "PROPFIND", "/dav/notifications/alice/", "bob", "", "Depth", "1")
	e.expect(404, "DELETE", "/dav/notifications/alice/hello.xml", "bob", "")
	e.expect(200, "GET", "/dav/notifications/alice/hello.xml", "alice", "", accept...) // bob's DELETE changed nothing
	e.expect(406, "GET", "/dav/notifications/alice/hello.xml", "alice", "", "Accept", "text/html")
	e.expect(403, "PUT", "/dav/notifications/alice/new.xml", "alice", "<x/>")
	e.expect(404, "GET", "/dav/notifications/alice/new.xml", "alice", "", accept...)

	_, ms := e.expect(207, "PROPFIND", "/dav/principals/alice/", "alice",
		`<D:propfind xmlns:D="DAV:"><D:prop><D:notification-URL/></D:prop></D:propfind>`, "Depth", "0")
	if !strings.Contains(ms, "<D:href>/dav/notifications/alice/</D:href>") {
		t.Fatalf("principal lacks notification-URL: %s", ms)
	}
	resp, _ := e.call("OPTIONS", "/dav/notifications/alice/", "", "")
	if got := resp.Header.Get("Allow"); !strings.Contains(got, "REPORT") || !strings.Contains(resp.Header.Get("DAV"), "3") {
		t.Fatalf("OPTIONS on notifications: Allow %q DAV %q", got, resp.Header.Get("DAV"))
	}
	e.expect(204, "DELETE", "/dav/notifications/alice/hello.xml", "alice", "")
	e.expect(404, "GET", "/dav/notifications/alice/hello.xml", "alice", "", accept...)
}
