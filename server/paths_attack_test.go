package server_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	outsideFile  = "zq7-outside-data"  // a directory outside the data directory
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

// TestShareFileLinks: a shared file is reached alone; a link put in its
// place, or a file put where a name below it would be, leads nowhere.
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
