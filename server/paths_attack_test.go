package server_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/davshare/davshare/sharing"
)

// Issue #7, part 2: path attacks beyond confine_test.go, which covers
// encoded "..", NUL, overlong UTF-8 and planted links in one's own home.
// Here: links inside a share's original, links that loop or run through
// files, hard links between homes, links swapped under running requests,
// very long names, and the encoded forms through mounts.

const (
	ownerPrivate = "zq7-owner-private" // alice's files outside her shared folder
	bobPrivate   = "zq7-bob-private"   // bob's home
	outsideFile  = "zq7-outside-data"  // files of a directory outside the data directory
)

// linkEnv is a server where alice shares Apollo/ (plan.txt, sub/inner.txt)
// read with bob and read-write with carol, both accepted; alice also has
// Private/secret.txt, bob has private.txt, and outside is a directory
// outside the data directory.
type linkEnv struct {
	*shareEnv
	outside string
}

func newLinkEnv(t *testing.T) *linkEnv {
	e := newShareEnv(t, sharing.ModeInvite)
	setupApollo(e)
	e.expect(201, "MKCOL", apollo+"sub/", "alice", "")
	e.expect(201, "PUT", apollo+"sub/inner.txt", "alice", "inner")
	e.expect(201, "MKCOL", "/dav/files/alice/Private/", "alice", "")
	e.expect(201, "PUT", "/dav/files/alice/Private/secret.txt", "alice", ownerPrivate)
	e.expect(201, "PUT", "/dav/files/bob/private.txt", "bob", bobPrivate)
	e.share(204, apollo, "alice", sharee("/dav/principals/bob/", "read"), sharee("/dav/principals/carol/", "read-write"))
	e.accept("bob", "", "")
	e.accept("carol", "", "")
	out := t.TempDir()
	for _, n := range []string{"x", "passwd", "secret.txt", "private.txt"} {
		if err := os.WriteFile(filepath.Join(out, n), []byte(outsideFile), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &linkEnv{shareEnv: e, outside: out}
}

// plant makes symbolic links below alice's home: name → target.
func (e *linkEnv) plant(t *testing.T, links map[string]string) {
	t.Helper()
	for name, target := range links {
		if err := os.Symlink(target, e.disk("alice", name)); err != nil {
			t.Fatal(err)
		}
	}
}

// secretIn reports which secret, if any, s carries.
func secretIn(s string) string {
	for _, m := range []string{ownerPrivate, bobPrivate, outsideFile, "root:x:0:0"} {
		if strings.Contains(s, m) {
			return m
		}
	}
	return ""
}

// unchanged asserts that nothing outside the share changed on disk:
// alice's Private, bob's home and the outside directory.
func (e *linkEnv) unchanged(t *testing.T, before string) {
	t.Helper()
	if after := e.outsideState(t); after != before {
		t.Fatalf("files outside the share changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func (e *linkEnv) outsideState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, dir := range []string{e.disk("alice", "Private"), e.disk("bob", ""), e.outside} {
		des, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			c, _ := os.ReadFile(filepath.Join(dir, de.Name()))
			b.WriteString(dir + "/" + de.Name() + " " + de.Type().String() + " " + string(c) + "\n")
		}
	}
	return b.String()
}

// TestShareLinksStayInShare plants links inside the shared original that
// point elsewhere in the owner's home, into another home and out of the
// data directory. Through a mount they are neither listed nor reachable,
// for reading or writing, by a read or a read-write sharee; links that stay
// inside the shared folder work. The owner, through her own URL, still
// follows links that stay inside her home (confine_test.go): the folder is
// shared, the rest of her home is not.
func TestShareLinksStayInShare(t *testing.T) {
	e := newLinkEnv(t)
	e.plant(t, map[string]string{
		"Apollo/priv":       "../Private",
		"Apollo/privfile":   "../Private/secret.txt",
		"Apollo/privabs":    e.disk("alice", "Private"),
		"Apollo/home":       "..",
		"Apollo/bobhome":    "../../bob",
		"Apollo/outside":    e.outside,
		"Apollo/etc":        "/etc",
		"Apollo/sub/up":     "../../Private",
		"Apollo/inside":     "sub",
		"Apollo/insidefile": "sub/inner.txt",
		"Apollo/sub/top":    "..",
	})
	// Paths through a link that leads out of the share. The last three
	// end at such a link: to a client that name is free, so a PUT or a
	// LOCK there may create a file in the share, replacing the link (never
	// writing through it).
	escapes := []struct {
		p    string
		link bool
	}{
		{"priv/secret.txt", false}, {"privabs/secret.txt", false}, {"home/Private/secret.txt", false},
		{"bobhome/private.txt", false}, {"outside/x", false}, {"etc/passwd", false},
		{"sub/up/secret.txt", false}, {"sub/top/priv/secret.txt", false}, {"inside/up/secret.txt", false},
		{"privfile", true}, {"etc", true}, {"sub/up", true},
	}
	for _, user := range []string{"bob", "carol"} {
		mount := "/dav/files/" + user + "/Apollo/"
		t.Run(user+"/listing", func(t *testing.T) {
			e.t = t
			ms := parseMultistatus(t, e.propfind(mount, user, "1", "resourcetype"))
			want := []string{mount, mount + "inside/", mount + "insidefile", mount + "plan.txt", mount + "sub/"}
			if got := ms.hrefs(); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("listing %v, want %v", got, want)
			}
			ms = parseMultistatus(t, e.propfind(mount+"sub/", user, "1", "resourcetype"))
			want = []string{mount + "sub/", mount + "sub/inner.txt", mount + "sub/top/"}
			if got := ms.hrefs(); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("listing of sub %v, want %v", got, want)
			}
		})
		t.Run(user+"/inside links work", func(t *testing.T) {
			e.t = t
			for p, want := range map[string]string{"inside/inner.txt": "inner", "insidefile": "inner", "sub/top/plan.txt": "the plan"} {
				if _, b := e.expect(200, "GET", mount+p, user, ""); b != want {
					t.Fatalf("GET %s: %q", p, b)
				}
			}
		})
		for _, esc := range escapes {
			t.Run(user+"/"+esc.p, func(t *testing.T) {
				e.t = t
				before := e.outsideState(t)
				for _, m := range []struct {
					method, body string
					hdr          []string
				}{
					{"GET", "", nil},
					{"HEAD", "", nil},
					{"PROPFIND", "", []string{"Depth", "0"}},
					{"PROPPATCH", deadPropPatch, nil},
					{"COPY", "", []string{"Destination", "/dav/files/" + user + "/stolen"}},
					{"MOVE", "", []string{"Destination", "/dav/files/" + user + "/stolen"}},
					{"DELETE", "", nil},
					{"MKCOL", "", nil},
					{"LOCK", lockBody(false), nil},
					{"PUT", "pwned", nil},
				} {
					resp, b := e.call(m.method, mount+esc.p, user, m.body, m.hdr...)
					st := resp.StatusCode
					ok := st == 404
					switch {
					case user == "bob" && !safeMethod(m.method) && m.method != "COPY":
						ok = ok || st == 403 // a read instance refuses writes first
					case m.method == "MKCOL" || (!esc.link && (m.method == "PUT" || m.method == "LOCK")):
						ok = ok || st == 409 || (esc.link && st == 405) // no parent; or the name is taken
					case esc.link && (m.method == "PUT" || m.method == "LOCK"):
						ok = ok || st == 200 || st == 201 || st == 204 || st == 423
					}
					if !ok {
						t.Errorf("%s %s as %s: %d; body %s", m.method, esc.p, user, st, b)
					}
					if s := secretIn(b); s != "" {
						t.Fatalf("%s %s as %s leaks %s: %s", m.method, esc.p, user, s, b)
					}
				}
				e.unchanged(t, before)
				if _, err := os.Lstat(e.disk(user, "stolen")); err == nil {
					t.Fatalf("a COPY or MOVE through a link created %s/stolen", user)
				}
			})
		}
		t.Run(user+"/copy of the instance", func(t *testing.T) {
			e.t = t
			e.expect(201, "COPY", mount, user, "", "Destination", "/dav/files/"+user+"/Copy/")
			filepath.WalkDir(e.disk(user, "Copy"), func(p string, d os.DirEntry, err error) error {
				if err != nil {
					t.Fatal(err)
				}
				if c, _ := os.ReadFile(p); secretIn(string(c)) != "" {
					t.Fatalf("the copy carries %s in %s", secretIn(string(c)), p)
				}
				return nil
			})
		})
	}
	t.Run("owner follows her own links", func(t *testing.T) {
		e.t = t
		if _, b := e.expect(200, "GET", apollo+"priv/secret.txt", "alice", ""); b != ownerPrivate {
			t.Fatalf("alice reads %q", b)
		}
		e.expect(404, "GET", apollo+"bobhome/private.txt", "alice", "")
	})
	t.Run("an original that became a link is not found", func(t *testing.T) {
		e.t = t
		// alice, with a shell, puts a link to her private folder where the
		// shared folder was (the share record stays on the real folder).
		if err := os.Rename(e.disk("alice", "Apollo"), e.disk("alice", "Apollo.real")); err != nil {
			t.Fatal(err)
		}
		e.plant(t, map[string]string{"Apollo": "Private"})
		for _, p := range []string{"", "secret.txt"} {
			resp, b := e.call("GET", "/dav/files/bob/Apollo/"+p, "bob", "")
			if resp.StatusCode != 404 || secretIn(b) != "" {
				t.Fatalf("GET Apollo/%s through a replaced original: %d %s", p, resp.StatusCode, b)
			}
		}
	})
}

// TestShareFileLinks: a shared file is reached alone, with no name below
// it and no way up from it; a PUT replaces it atomically beside the
// original; a link that the owner's shell puts in its place leads nowhere.
func TestShareFileLinks(t *testing.T) {
	e := newLinkEnv(t)
	e.expect(201, "PUT", "/dav/files/alice/report.txt", "alice", "report")
	e.share(204, "/dav/files/alice/report.txt", "alice", sharee("/dav/principals/carol/", "read-write"))
	loc := e.accept("carol", "", "")
	mount := strings.TrimPrefix(loc, e.srv.URL)
	if _, b := e.expect(200, "GET", mount, "carol", ""); b != "report" {
		t.Fatalf("GET %s: %q", mount, b)
	}
	e.expect(204, "PUT", mount, "carol", "report v2") // an atomic replace beside the original
	if b, _ := os.ReadFile(e.disk("alice", "report.txt")); string(b) != "report v2" {
		t.Fatalf("alice's report.txt: %q", b)
	}
	for _, p := range []string{"/x", "/../Private/secret.txt"} {
		resp, b := e.call("GET", mount+p, "carol", "")
		if resp.StatusCode != 404 && resp.StatusCode != 400 || secretIn(b) != "" {
			t.Fatalf("GET %s: %d %s", mount+p, resp.StatusCode, b)
		}
	}
	before := e.outsideState(t)
	if err := os.Rename(e.disk("alice", "report.txt"), e.disk("alice", "report.real")); err != nil {
		t.Fatal(err)
	}
	e.plant(t, map[string]string{"report.txt": "Private/secret.txt"})
	for _, m := range []string{"GET", "PUT", "PROPPATCH", "LOCK"} {
		body := map[string]string{"PUT": "pwned", "PROPPATCH": deadPropPatch, "LOCK": lockBody(false)}[m]
		resp, b := e.call(m, mount, "carol", body)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || secretIn(b) != "" {
			t.Errorf("%s %s over a link to alice's private file: %d %s", m, mount, resp.StatusCode, b)
		}
	}
	e.unchanged(t, before)
}

// TestPathsThroughFilesAndLoops: a path whose parent is a file, or that
// runs through a loop of links or a dangling one, names nothing: 404 (409
// where a parent is needed), never 500, in a home and through a mount.
func TestPathsThroughFilesAndLoops(t *testing.T) {
	e := newLinkEnv(t)
	e.plant(t, map[string]string{
		"loop": "loop", "a": "b", "b": "a", "dangling": "nowhere",
		"Apollo/loop": "loop", "Apollo/dangling": "nowhere",
	})
	before := diskState(t, e.data)
	var paths []string
	for _, p := range []string{"Apollo/plan.txt/x", "loop/x", "a/x", "dangling/x", "Apollo/plan.txt/x/y"} {
		paths = append(paths, "/dav/files/alice/"+p)
	}
	for _, p := range []string{"plan.txt/x", "loop/x", "dangling/x", "plan.txt/x/y"} {
		paths = append(paths, "/dav/files/carol/Apollo/"+p)
	}
	for _, p := range paths {
		user := strings.Split(p, "/")[3]
		for _, m := range []struct {
			method, body string
			hdr          []string
			want         []int
		}{
			{"GET", "", nil, []int{404}},
			{"HEAD", "", nil, []int{404}},
			{"PROPFIND", "", []string{"Depth", "1"}, []int{404}},
			{"PROPPATCH", deadPropPatch, nil, []int{404}},
			{"DELETE", "", nil, []int{404}},
			{"COPY", "", []string{"Destination", "/dav/files/" + user + "/dst"}, []int{404}},
			{"MOVE", "", []string{"Destination", "/dav/files/" + user + "/dst"}, []int{404}},
			{"MKCOL", "", nil, []int{409}},
			{"PUT", "x", nil, []int{409}},
			{"LOCK", lockBody(false), nil, []int{409}},
		} {
			t.Run(p+"/"+m.method, func(t *testing.T) {
				e.t = t
				resp, b := e.call(m.method, p, user, m.body, m.hdr...)
				if !containsInt(m.want, resp.StatusCode) {
					t.Errorf("%s %s: %d, want %v; body %s", m.method, p, resp.StatusCode, m.want, b)
				}
			})
		}
		// Onto such a path, as a Destination.
		t.Run(p+"/as Destination", func(t *testing.T) {
			e.t = t
			src := "/dav/files/" + user + "/Apollo/plan.txt"
			if user == "carol" {
				src = "/dav/files/carol/Apollo/sub/inner.txt"
			}
			for _, method := range []string{"COPY", "MOVE"} {
				resp, b := e.call(method, src, user, "", "Destination", p)
				if resp.StatusCode != 409 && resp.StatusCode != 403 {
					t.Errorf("%s onto %s: %d, want 409 or 403; body %s", method, p, resp.StatusCode, b)
				}
			}
		})
	}
	if after := diskState(t, e.data); after != before {
		t.Fatalf("the disk changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestLongNames: a name of 255 bytes (NAME_MAX) works everywhere; 256
// bytes is 400 for every method, as a Destination too, before anything
// reaches the disk; a 10,000-byte path is a 4xx. In a home and through a
// read-write mount.
func TestLongNames(t *testing.T) {
	e := newLinkEnv(t)
	n255, m255 := strings.Repeat("n", 255), strings.Repeat("m", 253)+"é" // 255 bytes each
	long := strings.Repeat(strings.Repeat("d", 199)+"/", 50)             // 10,000 bytes
	for _, c := range []struct{ user, base, src string }{
		{"alice", "/dav/files/alice/", apollo + "plan.txt"},
		{"carol", "/dav/files/carol/Apollo/", "/dav/files/carol/Apollo/plan.txt"},
	} {
		t.Run(c.user+"/255 bytes", func(t *testing.T) {
			e.t = t
			e.expect(201, "PUT", c.base+n255, c.user, "long")
			if _, b := e.expect(200, "GET", c.base+n255, c.user, ""); b != "long" {
				t.Fatalf("GET: %q", b)
			}
			e.expect(207, "PROPFIND", c.base+n255, c.user, "", "Depth", "0")
			e.expect(207, "PROPPATCH", c.base+n255, c.user, deadPropPatch)
			e.expect(201, "COPY", c.base+n255, c.user, "", "Destination", c.base+m255)
			e.expect(204, "MOVE", c.base+m255, c.user, "", "Destination", c.base+n255)
			e.expect(204, "DELETE", c.base+n255, c.user, "")
			e.expect(201, "MKCOL", c.base+n255+"/", c.user, "")
			e.expect(201, "PUT", c.base+n255+"/"+m255, c.user, "deep")
			tok := strings.Trim(func() string {
				resp, _ := e.expect(200, "LOCK", c.base+n255+"/"+m255, c.user, lockBody(false), "Depth", "0")
				return resp.Header.Get("Lock-Token")
			}(), "<>")
			e.expect(204, "UNLOCK", c.base+n255+"/"+m255, c.user, "", "Lock-Token", "<"+tok+">")
			e.expect(204, "DELETE", c.base+n255+"/", c.user, "")
		})
		for _, tc := range []struct {
			name, p string
			want    func(int) bool
		}{
			{"256 bytes", c.base + strings.Repeat("n", 256), func(st int) bool { return st == 400 }},
			{"256 bytes in 128 characters", c.base + strings.Repeat("é", 128), func(st int) bool { return st == 400 }},
			{"256 bytes below a folder", c.base + "sub/" + strings.Repeat("n", 256) + "/x", func(st int) bool { return st == 400 }},
			{"10000-byte path", c.base + long, func(st int) bool { return st >= 400 && st < 500 }},
		} {
			t.Run(c.user+"/"+tc.name, func(t *testing.T) {
				e.t = t
				before := diskState(t, e.data)
				for _, m := range []struct {
					method, body string
					hdr          []string
				}{
					{"GET", "", nil}, {"HEAD", "", nil}, {"PUT", "x", nil}, {"DELETE", "", nil},
					{"MKCOL", "", nil}, {"PROPFIND", "", []string{"Depth", "0"}},
					{"PROPPATCH", deadPropPatch, nil}, {"LOCK", lockBody(false), nil},
					{"UNLOCK", "", []string{"Lock-Token", "<" + noSuchLock + ">"}},
					{"COPY", "", []string{"Destination", c.base + "dst"}},
					{"MOVE", "", []string{"Destination", c.base + "dst"}},
					{"POST", shareBody(sharee("/dav/principals/bob/", "read")), []string{"Content-Type", davsharing}},
				} {
					resp, b := e.call(m.method, tc.p, c.user, m.body, m.hdr...)
					if !tc.want(resp.StatusCode) {
						t.Errorf("%s: %d; body %.200s", m.method, resp.StatusCode, b)
					}
				}
				for _, method := range []string{"COPY", "MOVE"} {
					if resp, b := e.call(method, c.src, c.user, "", "Destination", tc.p); !tc.want(resp.StatusCode) {
						t.Errorf("%s onto it: %d; body %.200s", method, resp.StatusCode, b)
					}
				}
				if after := diskState(t, e.data); after != before {
					t.Fatalf("the disk changed:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			})
		}
	}
	t.Run("an instance name stays within 255 bytes", func(t *testing.T) {
		// carol already has a file of the shared folder's name, so her
		// instance gets " (2)" added: cut, not pushed past 255 bytes.
		e.t = t
		e.expect(201, "MKCOL", "/dav/files/alice/"+n255+"/", "alice", "")
		e.expect(201, "PUT", "/dav/files/carol/"+n255, "carol", "carol's")
		e.share(204, "/dav/files/alice/"+n255+"/", "alice", sharee("/dav/principals/carol/", "read"))
		loc := strings.TrimPrefix(e.accept("carol", "", ""), e.srv.URL)
		name := strings.Trim(strings.TrimPrefix(loc, "/dav/files/carol/"), "/")
		if dec, err := url.PathUnescape(name); err != nil || len(dec) > 255 || !strings.HasSuffix(dec, " (2)") {
			t.Fatalf("instance %q (%d bytes)", dec, len(dec))
		}
		e.expect(207, "PROPFIND", loc, "carol", "", "Depth", "0")
	})
}

// TestHardLinkAcrossHomes plants a hard link in alice's home to a file in
// bob's home (same file system), as only someone with a shell on both
// homes can. The server cannot tell a hard link from a file by name, and
// does not try: it serves the file alice's name leads to, and a dead
// property set through her name is set on the one inode both names share
// (docs/security.md, "Hard links"). What it guarantees: no WebDAV request
// ever creates a hard link, and what alice does to her name stays in her
// tree: a PUT replaces her name atomically (bob's file keeps its content),
// DELETE and MOVE touch only her name, COPY makes an independent file.
func TestHardLinkAcrossHomes(t *testing.T) {
	e := newLinkEnv(t)
	bobFile := e.disk("bob", "private.txt")
	link := e.disk("alice", "hl.txt")
	plantLink := func(t *testing.T) {
		t.Helper()
		os.Remove(link)
		if err := os.Link(bobFile, link); err != nil {
			t.Skipf("no hard links here: %v", err)
		}
	}
	bobIntact := func(t *testing.T) {
		t.Helper()
		if b, err := os.ReadFile(bobFile); err != nil || string(b) != bobPrivate {
			t.Fatalf("bob's file is now %q (%v)", b, err)
		}
	}
	plantLink(t)

	t.Run("the link reads as bob's file", func(t *testing.T) {
		e.t = t
		if _, b := e.expect(200, "GET", "/dav/files/alice/hl.txt", "alice", ""); b != bobPrivate {
			t.Fatalf("GET hl.txt: %q", b)
		}
	})
	t.Run("PUT replaces alice's name only", func(t *testing.T) {
		e.t = t
		e.expect(204, "PUT", "/dav/files/alice/hl.txt", "alice", "alice's own")
		bobIntact(t)
		if nlink(t, bobFile) != 1 {
			t.Fatal("bob's file still has two names after the PUT")
		}
		plantLink(t)
	})
	t.Run("DELETE removes alice's name only", func(t *testing.T) {
		e.t = t
		e.expect(204, "DELETE", "/dav/files/alice/hl.txt", "alice", "")
		bobIntact(t)
		plantLink(t)
	})
	t.Run("MOVE renames alice's name only", func(t *testing.T) {
		e.t = t
		e.expect(201, "MOVE", "/dav/files/alice/hl.txt", "alice", "", "Destination", "/dav/files/alice/moved.txt")
		bobIntact(t)
		e.expect(204, "PUT", "/dav/files/alice/moved.txt", "alice", "changed")
		bobIntact(t)
		plantLink(t)
	})
	t.Run("COPY makes an independent file", func(t *testing.T) {
		e.t = t
		e.expect(201, "COPY", "/dav/files/alice/hl.txt", "alice", "", "Destination", "/dav/files/alice/copied.txt")
		if nlink(t, e.disk("alice", "copied.txt")) != 1 || nlink(t, bobFile) != 2 {
			t.Fatal("COPY made a link")
		}
	})
	t.Run("a dead property lands on the shared inode", func(t *testing.T) {
		// Documented behaviour, not a wish: properties live in the inode.
		e.t = t
		e.expect(207, "PROPPATCH", "/dav/files/alice/hl.txt", "alice", deadPropPatch)
		bobIntact(t)
		_, b := e.expect(207, "PROPFIND", "/dav/files/bob/private.txt", "bob", propfindBody("{urn:zq7x}p"), "Depth", "0")
		if st, _, _ := parseMultistatus(t, b).response(t, "/dav/files/bob/private.txt").find("{urn:zq7x}p"); st != 200 {
			t.Fatalf("bob's file does not show the property set through alice's link (status %d): has this changed? update docs/security.md", st)
		}
	})
	t.Run("no request creates a hard link", func(t *testing.T) {
		e.t = t
		// Everything that writes files, by every kind of user, through
		// homes and mounts.
		for _, r := range []struct{ method, p, user, body, dest string }{
			{"PUT", "/dav/files/alice/a.txt", "alice", "a", ""},
			{"COPY", "/dav/files/alice/a.txt", "alice", "", "/dav/files/alice/b.txt"},
			{"COPY", apollo, "alice", "", "/dav/files/alice/ApolloCopy/"},
			{"MOVE", "/dav/files/alice/b.txt", "alice", "", "/dav/files/alice/c.txt"},
			{"LOCK", "/dav/files/alice/locked.txt", "alice", lockBody(false), ""},
			{"COPY", "/dav/files/bob/Apollo/plan.txt", "bob", "", "/dav/files/bob/plan-copy.txt"},
			{"COPY", "/dav/files/bob/Apollo/", "bob", "", "/dav/files/bob/ApolloCopy/"},
			{"PUT", "/dav/files/carol/Apollo/new.txt", "carol", "new", ""},
			{"COPY", "/dav/files/carol/Apollo/new.txt", "carol", "", "/dav/files/carol/Apollo/new2.txt"},
			{"MOVE", "/dav/files/carol/Apollo/new2.txt", "carol", "", "/dav/files/carol/Apollo/sub/new3.txt"},
			{"PUT", "/dav/files/carol/mine.txt", "carol", "mine", ""},
			{"COPY", "/dav/files/carol/mine.txt", "carol", "", "/dav/files/carol/Apollo/from-carol.txt"},
			{"PUT", "/dav/files/carol/Apollo/plan.txt", "carol", "plan v2", ""},
			{"MOVE", "/dav/files/carol/Apollo/", "carol", "", "/dav/files/carol/Renamed/"},
		} {
			hdr := []string{}
			if r.dest != "" {
				hdr = append(hdr, "Destination", r.dest)
			}
			if resp, b := e.call(r.method, r.p, r.user, r.body, hdr...); resp.StatusCode >= 300 {
				t.Fatalf("%s %s as %s: %d %s", r.method, r.p, r.user, resp.StatusCode, b)
			}
		}
		// Only the planted pair shares an inode.
		seen := map[uint64][]string{}
		filepath.WalkDir(filepath.Join(e.data, "files"), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if d.Type().IsRegular() {
				seen[inodeOf(t, p)] = append(seen[inodeOf(t, p)], p)
			}
			return nil
		})
		for ino, names := range seen {
			if len(names) > 1 && ino != inodeOf(t, bobFile) {
				t.Errorf("names sharing inode %d: %v", ino, names)
			}
			if n := nlink(t, names[0]); n != uint64(len(names)) {
				t.Errorf("%v: %d links on disk, %d names in the homes", names, n, len(names))
			}
		}
	})
}

func nlink(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(fi.Sys().(*syscall.Stat_t).Nlink)
}

func inodeOf(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestSymlinkRace swaps directories for links under running requests: in
// alice's home, swap/ becomes by turns a link to /etc, to bob's home and to
// a directory outside the data directory; inside the shared folder,
// Apollo/swap/ becomes a link to alice's Private and to bob's home. Four
// clients GET, PROPFIND and PUT through both (alice at her URL, carol
// through her read-write mount) while the swapper swaps 1,000 times.
// Nothing escapes: no byte of an outside file in any answer, no file
// created outside; nothing crashes and nothing answers 500.
func TestSymlinkRace(t *testing.T) {
	e := newLinkEnv(t)
	e.expect(201, "MKCOL", "/dav/files/alice/swap/", "alice", "")
	e.expect(201, "MKCOL", apollo+"swap/", "alice", "")
	for _, p := range []string{"/dav/files/alice/swap/", apollo + "swap/"} {
		for _, n := range []string{"x", "passwd", "secret.txt", "private.txt"} {
			e.expect(201, "PUT", p+n, "alice", "inside "+n)
		}
	}
	type swapDir struct {
		dir     string
		targets []string
	}
	swaps := []swapDir{
		{e.disk("alice", "swap"), []string{"/etc", e.disk("bob", ""), "../bob", e.outside}},
		{e.disk("alice", "Apollo/swap"), []string{"../../Private", e.disk("alice", "Private"), "../../../bob", e.outside}},
	}
	before := e.outsideState(t)
	etcBefore, _ := os.ReadDir("/etc")

	const rounds = 1000
	done := make(chan struct{})
	var swapErr error
	go func() {
		defer close(done)
		for i := 0; i < rounds && swapErr == nil; i++ {
			s := swaps[i%len(swaps)]
			parked := s.dir + ".parked"
			if swapErr = os.Rename(s.dir, parked); swapErr != nil {
				return
			}
			if swapErr = os.Symlink(s.targets[(i/len(swaps))%len(s.targets)], s.dir); swapErr != nil {
				return
			}
			time.Sleep(50 * time.Microsecond)
			if swapErr = os.Remove(s.dir); swapErr != nil {
				return
			}
			if swapErr = os.Rename(parked, s.dir); swapErr != nil {
				return
			}
		}
	}()

	var mu sync.Mutex
	var failures []string
	fail := func(f string, args ...any) {
		mu.Lock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(f, args...))
		}
		mu.Unlock()
	}
	var requests, ok atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				user, base := "alice", "/dav/files/alice/swap/"
				if w%2 == 1 {
					user, base = "carol", "/dav/files/carol/Apollo/swap/"
				}
				var method, p, body string
				var hdr []string
				switch i % 5 {
				case 0:
					method, p = "GET", base+"passwd"
				case 1:
					method, p = "GET", base+[]string{"x", "secret.txt", "private.txt"}[i%3]
				case 2:
					method, p, hdr = "PROPFIND", base, []string{"Depth", "1"}
				case 3:
					method, p, body = "PUT", base+fmt.Sprintf("zq7race-%d-%d.txt", w, i), "raced"
				case 4:
					method, p, body = "PUT", base+"x", "inside x"
				}
				st, b, _, err := roundTrip(e.srv.URL, method, p, user, sharePasswords[user], body, hdr...)
				requests.Add(1)
				switch {
				case err != nil:
					fail("%s %s: %v", method, p, err)
				case st >= 500:
					fail("%s %s: %d %s", method, p, st, b)
				case secretIn(b) != "":
					fail("%s %s as %s: %d leaks %s", method, p, user, st, secretIn(b))
				case st < 300:
					ok.Add(1)
				}
			}
		}()
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the swapper did not finish within 60 s")
	}
	wg.Wait()
	if swapErr != nil {
		t.Fatalf("swapping: %v", swapErr)
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d swaps, %d requests, %d succeeded", rounds, requests.Load(), ok.Load())

	// Nothing was created outside: not in /etc, bob's home, alice's
	// Private or the outside directory.
	e.unchanged(t, before)
	if etcAfter, _ := os.ReadDir("/etc"); len(etcAfter) != len(etcBefore) {
		for _, de := range etcAfter {
			if strings.HasPrefix(de.Name(), "zq7race-") {
				os.Remove(filepath.Join("/etc", de.Name()))
				t.Errorf("created /etc/%s", de.Name())
			}
		}
	}
	// Every raced file is inside one of the real directories.
	filepath.WalkDir(e.data, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), "zq7race-") {
			if dir := filepath.Dir(p); dir != e.disk("alice", "swap") && dir != e.disk("alice", "Apollo/swap") {
				t.Errorf("raced file outside the swapped directories: %s", p)
			}
		}
		return nil
	})
	// And the server still answers.
	e.expect(207, "PROPFIND", "/dav/files/alice/swap/", "alice", "", "Depth", "1")
	e.expect(200, "GET", "/dav/files/carol/Apollo/swap/x", "carol", "")
}

// TestMountEncodedPaths sends confine_test.go's escaping forms through
// mounts: from a sharee's instance towards the owner's home, another home
// and the sharee's own home, as request targets and as Destinations. A
// mount is applied to the cleaned name only, so none of them reaches
// anything outside the instance: 400 or 404 (403 for a write through the
// read instance), nothing changed, nothing leaked. Backslashes are name
// characters: such a name is an odd but legal name inside the instance.
func TestMountEncodedPaths(t *testing.T) {
	e := newLinkEnv(t)
	targets := []struct {
		name, rest string // rest follows /dav/files/USER/Apollo
		legal      bool
	}{
		{"dotdot to the owner", "/../../alice/Private/secret.txt", false},
		{"dotdot to the owner's folder", "/../Private/secret.txt", false},
		{"encoded dotdot", "/%2e%2e/%2e%2e/alice/Private/secret.txt", false},
		{"half encoded dotdot", "/.%2e/.%2e/alice/Private/secret.txt", false},
		{"encoded slashes", "/..%2f..%2falice%2fPrivate%2fsecret.txt", false},
		{"encoded slash after the mount", "%2f..%2f..%2falice%2fPrivate%2fsecret.txt", false},
		{"dotdot to the sharee's home", "/..%2fprivate.txt", false},
		{"NUL", "/plan.txt%00.jpg", false},
		{"NUL then dotdot", "/%00/../../alice/Private/secret.txt", false},
		{"NUL in the mount name", "%00/plan.txt", false},
		{"overlong UTF-8 dots", "/%c0%ae%c0%ae/%c0%ae%c0%ae/alice/Private/secret.txt", false},
		{"overlong UTF-8 slash", "/..%c0%af..%c0%afalice%c0%afPrivate%c0%afsecret.txt", false},
		{"invalid UTF-8", "/%ff%fe", false},
		{"backslashes", "/..%5c..%5cPrivate%5csecret.txt", true},
		{"encoded dotdot and backslashes", "/%2e%2e%5cPrivate%5csecret.txt", true},
	}
	for _, user := range []string{"bob", "carol"} {
		for _, tc := range targets {
			t.Run(user+"/"+tc.name, func(t *testing.T) {
				e.t = t
				target := "/dav/files/" + user + "/Apollo" + tc.rest
				before := diskState(t, e.data)
				for _, m := range []struct {
					method, body string
					hdr          []string
				}{
					{"GET", "", nil}, {"HEAD", "", nil}, {"PROPFIND", "", []string{"Depth", "0"}},
					{"PROPPATCH", deadPropPatch, nil}, {"DELETE", "", nil}, {"MKCOL", "", nil},
					{"COPY", "", []string{"Destination", "/dav/files/" + user + "/stolen"}},
					{"MOVE", "", []string{"Destination", "/dav/files/" + user + "/stolen"}},
					{"LOCK", lockBody(false), nil}, {"PUT", "pwned", nil},
				} {
					st, b, _, err := roundTrip(e.srv.URL, m.method, target, user, sharePasswords[user], m.body, m.hdr...)
					if err != nil {
						t.Fatal(err)
					}
					write := !safeMethod(m.method) && m.method != "COPY"
					switch {
					case st >= 500:
						t.Errorf("%s: %d", m.method, st)
					case !tc.legal && st != 400 && st != 404 && !(user == "bob" && write && st == 403):
						t.Errorf("%s: %d, want 400 or 404; body %s", m.method, st, b)
					case tc.legal && st != 404 && (m.method == "GET" || m.method == "HEAD" || m.method == "PROPFIND"):
						t.Errorf("%s of a legal name that is not there: %d, want 404", m.method, st)
					}
					if s := secretIn(b); s != "" {
						t.Fatalf("%s leaks %s: %s", m.method, s, b)
					}
				}
				if tc.legal {
					// What a write created is a file of that odd name in
					// the instance, that is in alice's Apollo.
					// (MKCOL made it a folder, which COPY may copy.)
					des, _ := os.ReadDir(e.disk("alice", "Apollo"))
					for _, de := range des {
						if strings.Contains(de.Name(), `\`) {
							os.RemoveAll(e.disk("alice", "Apollo/"+de.Name()))
						}
					}
					os.RemoveAll(e.disk(user, "stolen"))
				}
				if after := diskState(t, e.data); after != before {
					t.Fatalf("the disk changed:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			})
		}
		t.Run(user+"/as Destination", func(t *testing.T) {
			e.t = t
			e.expect(201, "PUT", "/dav/files/"+user+"/src.txt", user, "payload")
			before := diskState(t, e.data)
			for _, tc := range targets {
				if tc.legal {
					continue
				}
				dest := e.srv.URL + "/dav/files/" + user + "/Apollo" + tc.rest
				for _, method := range []string{"COPY", "MOVE"} {
					st, b, _, err := roundTrip(e.srv.URL, method, "/dav/files/"+user+"/src.txt", user, sharePasswords[user], "", "Destination", dest, "Overwrite", "T")
					if err != nil {
						t.Fatal(err)
					}
					if st != 400 && st != 403 && st != 404 {
						t.Errorf("%s to %s: %d, want 400, 403 or 404; body %s", method, tc.name, st, b)
					}
				}
			}
			if after := diskState(t, e.data); after != before {
				t.Fatalf("the disk changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}
