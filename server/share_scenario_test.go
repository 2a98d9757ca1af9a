package server_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/sharing"
)

const lockInfo = `<?xml version="1.0" encoding="utf-8"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype><d:owner>t</d:owner></d:lockinfo>`

// TestShareScenario is the multi-user scenario of issue #4: alice shares
// with bob (read) and carol (read-write), carol writes, bob reads it, a
// lock of alice's blocks carol, alice revokes bob, alice renames the folder
// on disk and carol's mount follows, the server restarts and everything
// holds; finally the folder is deleted on disk and carol is told.
func TestShareScenario(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInvite)
	team := "/dav/files/alice/Team/"
	e.expect(201, "MKCOL", team, "alice", "")
	e.expect(201, "PUT", team+"doc.txt", "alice", "v1")
	e.share(204, team, "alice", sharee("/dav/principals/bob/", "read"), sharee("mailto:carol@example.org", "read-write",
		`<d:prop><d:displayname>Carol C</d:displayname></d:prop><d:comment>please review</d:comment>`))
	if inv := e.notification("carol", "share-").Payload.(*notify.ShareInvite); inv.Comment != "please review" {
		t.Fatalf("comment %+v", inv)
	}
	e.accept("bob", "", "")
	e.accept("carol", "", "From Alice")
	bobTeam, carolTeam := "/dav/files/bob/Team/", "/dav/files/carol/From%20Alice/"

	// carol writes, bob reads carol's write.
	e.expect(201, "PUT", carolTeam+"carol.txt", "carol", "by carol")
	if _, b := e.expect(200, "GET", bobTeam+"carol.txt", "bob", ""); b != "by carol" {
		t.Fatalf("bob reads %q", b)
	}
	if b, _ := os.ReadFile(e.disk("alice", "/Team/carol.txt")); string(b) != "by carol" {
		t.Fatal("carol's write is not in alice's folder")
	}
	e.expect(403, "PUT", bobTeam+"bob.txt", "bob", "no")

	// A lock through one instance conflicts with writes through the others.
	resp, _ := e.expect(200, "LOCK", team+"doc.txt", "alice", lockInfo, "Timeout", "Second-60")
	tok := resp.Header.Get("Lock-Token")
	e.expect(423, "PUT", carolTeam+"doc.txt", "carol", "v2")
	e.expect(204, "PUT", team+"doc.txt", "alice", "v2", "If", "("+tok+")")
	e.expect(204, "UNLOCK", team+"doc.txt", "alice", "", "Lock-Token", tok)
	resp, _ = e.expect(200, "LOCK", carolTeam+"doc.txt", "carol", lockInfo, "Timeout", "Second-60")
	ctok := resp.Header.Get("Lock-Token")
	e.expect(423, "PUT", team+"doc.txt", "alice", "v3")
	e.expect(204, "UNLOCK", carolTeam+"doc.txt", "carol", "", "Lock-Token", ctok)

	// Per-instance displayname, to check after the restart.
	e.expect(207, "PROPPATCH", carolTeam, "carol", `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>Team (Alice)</d:displayname></d:prop></d:set></d:propertyupdate>`)

	// alice revokes bob.
	e.share(204, team, "alice", sharee("/dav/principals/bob/", "no-access"))
	e.expect(404, "GET", bobTeam+"carol.txt", "bob", "")

	// alice renames the folder on disk (SMB, a shell): carol's mount follows.
	uri := props200(t, e.propfind(team, "alice", "0", "share-resource-uri"), team)
	if err := os.MkdirAll(e.disk("alice", "/Projects"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(e.disk("alice", "/Team"), e.disk("alice", "/Projects/Team 2026")); err != nil {
		t.Fatal(err)
	}
	moved := "/dav/files/alice/Projects/Team%202026/"
	waitUntil(t, 5*time.Second, "carol's mount follows the rename", func() bool {
		resp, _ := e.call("GET", carolTeam+"carol.txt", "carol", "")
		return resp.StatusCode == 200
	})
	if got := props200(t, e.propfind(moved, "alice", "0", "share-resource-uri"), "/dav/files/alice/Projects/Team%202026/"); got != uri {
		t.Fatalf("share-resource-uri %s after the rename, was %s", got, uri)
	}

	// Restart: records are rebuilt from disk.
	e.restart()
	if _, b := e.expect(200, "GET", carolTeam+"carol.txt", "carol", ""); b != "by carol" {
		t.Fatalf("after restart carol reads %q", b)
	}
	e.expect(404, "GET", bobTeam+"carol.txt", "bob", "")
	inv := compact(props200(t, e.propfind(moved, "alice", "0", "invite", "share-access"), "/dav/files/alice/Projects/Team%202026/"))
	if !strings.Contains(inv, "<D:shared-owner/>") || !strings.Contains(inv, "<D:href>/dav/principals/carol/</D:href><D:invite-accepted/><D:share-access><D:read-write/></D:share-access><D:prop><D:displayname>Carol C</D:displayname>") || strings.Contains(inv, "bob") {
		t.Fatalf("after restart: %s", inv)
	}
	if p := props200(t, e.propfind("/dav/files/carol/", "carol", "1", "displayname"), carolTeam); !strings.Contains(p, "Team (Alice)") {
		t.Fatalf("per-instance displayname after restart: %s", p)
	}
	e.expect(201, "PUT", carolTeam+"after.txt", "carol", "after restart")

	// Deleted on disk: the mount disappears and carol is told, within 5s.
	if err := os.RemoveAll(e.disk("alice", "/Projects")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "carol's mount disappears", func() bool {
		resp, _ := e.call("PROPFIND", carolTeam, "carol", "", "Depth", "0")
		return resp.StatusCode == 404
	})
	waitUntil(t, 5*time.Second, "carol is told", func() bool {
		n := e.notification("carol", "share-")
		return n != nil && n.Payload.(*notify.ShareInvite).Access == notify.AccessNoAccess
	})
}

// TestShareOutOfBandFile: a shared file replaced by a program that writes
// a new file and renames it over the old one keeps its share, and a shared
// file moved by a shell is followed.
func TestShareOutOfBandFile(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInstant)
	e.expect(201, "PUT", "/dav/files/alice/notes.txt", "alice", "v1")
	e.share(204, "/dav/files/alice/notes.txt", "alice", sharee("/dav/principals/bob/", "read-write"))
	e.expect(204, "PUT", "/dav/files/bob/Shared/notes.txt", "bob", "v2") // atomic replace through the mount
	e.expect(204, "PUT", "/dav/files/alice/notes.txt", "alice", "v3")
	tmp := e.disk("alice", "/notes.txt.swp")
	if err := os.WriteFile(tmp, []byte("v4"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, e.disk("alice", "/notes.txt")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // two verification passes
	if _, b := e.expect(200, "GET", "/dav/files/bob/Shared/notes.txt", "bob", ""); b != "v4" {
		t.Fatalf("bob reads %q", b)
	}
	if err := os.Rename(e.disk("alice", "/notes.txt"), e.disk("alice", "/renamed.txt")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "the mount follows the file", func() bool {
		return strings.Contains(e.propfind("/dav/files/alice/renamed.txt", "alice", "0", "share-access"), "shared-owner")
	})
	e.expect(200, "GET", "/dav/files/bob/Shared/notes.txt", "bob", "")
}

var litmusSummaryRE = regexp.MustCompile("(?m)^<- summary for `([^']+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed\\.")

// TestShareLitmusOnMount runs litmus against a read-write mount in bob's
// tree and against alice's home: every suite must pass on the mount as it
// does on a home.
func TestShareLitmusOnMount(t *testing.T) {
	litmus, err := exec.LookPath("litmus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("litmus not found (CI=true): apt-get install litmus")
		}
		t.Skip("litmus not found: apt-get install litmus")
	}
	e := newShareEnv(t, sharing.ModeInvite)
	e.expect(201, "MKCOL", "/dav/files/alice/L/", "alice", "")
	e.expect(201, "MKCOL", "/dav/files/alice/home/", "alice", "")
	e.share(204, "/dav/files/alice/L/", "alice", sharee("/dav/principals/bob/", "read-write"))
	e.accept("bob", "", "")
	run := func(url, user string) map[string][3]int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, litmus, "-k", url, user, sharePasswords[user])
		cmd.Dir = t.TempDir() // litmus writes debug.log and child.log there
		cmd.Env = append(os.Environ(), "TESTS=basic copymove props locks http")
		out, _ := cmd.CombinedOutput()
		got := map[string][3]int{}
		for _, m := range litmusSummaryRE.FindAllStringSubmatch(string(out), -1) {
			a, _ := strconv.Atoi(m[2])
			b, _ := strconv.Atoi(m[3])
			c, _ := strconv.Atoi(m[4])
			got[m[1]] = [3]int{a, b, c}
		}
		if len(got) < 5 {
			t.Fatalf("litmus on %s printed %d summaries:\n%s", url, len(got), out)
		}
		if f := filterFails(string(out)); f != "" {
			t.Logf("litmus on %s:\n%s", url, f)
		}
		return got
	}
	mount := run(e.srv.URL+"/dav/files/bob/L/", "bob")
	home := run(e.srv.URL+"/dav/files/alice/home/", "alice")
	for _, s := range []string{"basic", "copymove", "props", "locks", "http"} {
		m, h := mount[s], home[s]
		if m != h {
			t.Errorf("suite %s: mount %v, home %v (run, passed, failed)", s, m, h)
		}
		if m[0] == 0 || m[2] != 0 {
			t.Errorf("suite %s on the mount: %d run, %d failed", s, m[0], m[2])
		}
	}
	t.Logf("litmus on a read-write mount: %v; on a home: %v", mount, home)
}

func filterFails(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "FAIL") || strings.Contains(l, "WARNING") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
