package e2e

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const davsharingType = "application/davsharing+xml; charset=utf-8"

var shareInviteHref = regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?href>(/dav/notifications/[^<]*/share-[^<]*\.xml)</`)

// shareWith shares owner's collection at path (e.g. "Project/") with each
// sharee at the given access ("read" or "read-write"); every sharee accepts
// the invitation from their notification collection into their home. It
// returns each sharee's mount path ("/dav/files/carol/Project/").
func shareWith(t *testing.T, s *server, owner, path string, access map[string]string) map[string]string {
	t.Helper()
	var body strings.Builder
	body.WriteString(`<?xml version="1.0" encoding="utf-8"?><D:share-resource xmlns:D="DAV:">`)
	for _, u := range slices.Sorted(maps.Keys(access)) {
		body.WriteString(`<D:sharee><D:href>/dav/principals/` + u + `/</D:href><D:share-access><D:` +
			access[u] + `/></D:share-access></D:sharee>`)
	}
	body.WriteString(`</D:share-resource>`)
	resp, b := s.do(t, "POST", "/dav/files/"+owner+"/"+path, owner, password(owner), []byte(body.String()),
		"Content-Type", davsharingType)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("share-resource POST: status %d\n%s", resp.StatusCode, b)
	}
	mounts := map[string]string{}
	for u := range access {
		list := s.expect(t, http.StatusMultiStatus, "PROPFIND", "/dav/notifications/"+u+"/", u, password(u), nil, "Depth", "1")
		m := shareInviteHref.FindSubmatch(list)
		if m == nil {
			t.Fatalf("%s has no share invitation:\n%s", u, list)
		}
		reply := `<?xml version="1.0" encoding="utf-8"?><D:invite-reply xmlns:D="DAV:"><D:invite-accepted/>` +
			`<D:create-in><D:href>/dav/files/` + u + `/</D:href></D:create-in></D:invite-reply>`
		resp, b := s.do(t, "POST", string(m[1]), u, password(u), []byte(reply), "Content-Type", davsharingType)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s accepting %s: status %d, want 201\n%s", u, m[1], resp.StatusCode, b)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(loc.Path, "/dav/files/"+u+"/") {
			t.Fatalf("%s's mount: Location %q", u, resp.Header.Get("Location"))
		}
		p := loc.Path
		if !strings.HasSuffix(p, "/") {
			p += "/"
		}
		mounts[u] = p
	}
	return mounts
}

func password(user string) string { return user + "-pw" }

// snapshot is a directory's tree: every file's contents and every
// directory, for a byte-for-byte comparison.
func snapshot(t *testing.T, root string) (map[string][]byte, []string) {
	t.Helper()
	files, dirs := readTree(t, root)
	slices.Sort(dirs)
	return files, dirs
}

// TestClientsInShareMounts drives rclone and cadaver inside accepted share
// mounts: carol's read-write mount of alice's Project/ writes through to
// alice's disk, and every write through bob's read-only mount is refused
// with 403 and leaves alice's folder untouched, while his reads work.
func TestClientsInShareMounts(t *testing.T) {
	rcloneBin := requireTool(t, "rclone", "rclone")
	cadaverBin := requireTool(t, "cadaver", "cadaver")
	t.Parallel()
	s := newServer(t, map[string]string{"alice": password("alice"), "bob": password("bob"), "carol": password("carol")})
	project := filepath.Join(s.Data, "files", "alice", "Project")
	disk := func(rel string) string { return filepath.Join(project, filepath.FromSlash(rel)) }
	onDisk := func(rel string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(disk(rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("files/alice/Project/%s on disk: %d bytes, %v; want %d bytes", rel, len(got), err, len(want))
		}
	}
	gone := func(rel string) {
		t.Helper()
		if _, err := os.Lstat(disk(rel)); !os.IsNotExist(err) {
			t.Errorf("files/alice/Project/%s: %v; want it gone", rel, err)
		}
	}

	readme := []byte("alice's project readme\n")
	s.expect(t, http.StatusCreated, "MKCOL", "/dav/files/alice/Project/", "alice", password("alice"), nil)
	s.expect(t, http.StatusCreated, "PUT", "/dav/files/alice/Project/README.txt", "alice", password("alice"), readme)
	mounts := shareWith(t, s, "alice", "Project/", map[string]string{"bob": "read", "carol": "read-write"})
	t.Logf("mounts: %v", mounts)

	// rcloneAt is an rclone whose :webdav: remote is a share mount.
	rcloneAt := func(t *testing.T, user string) *rclone {
		t.Helper()
		r := newRclone(t, rcloneBin, s, user, password(user), "other")
		i := slices.Index(r.flags, "--webdav-url")
		if i < 0 {
			t.Fatalf("rclone flags lack --webdav-url: %q", r.flags)
		}
		r.flags[i+1] = s.URL + mounts[user]
		return r
	}
	// cadaverAt is a cadaver session in user's mount, with work as its
	// local directory.
	cadaverAt := func(t *testing.T, user, work string) *cadaver {
		t.Helper()
		home := t.TempDir()
		netrc := "machine 127.0.0.1\nlogin " + user + "\npassword " + password(user) + "\n"
		if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte(netrc), 0o600); err != nil {
			t.Fatal(err)
		}
		return startCadaver(t, cadaverBin, s.URL+mounts[user], home, work)
	}

	t.Run("rclone read-write", func(t *testing.T) {
		src := t.TempDir()
		files := map[string][]byte{
			"Ünïcödé 日本/ü.txt":           []byte("unicode name\n"),
			"nested/deeper/leaf.txt":     []byte("leaf\n"),
			"nested/sibling.txt":         bytes.Repeat([]byte("sibling "), 500),
			"top level.txt":              []byte("top\n"),
			"Ünïcödé 日本/sub/emoji 🎉.bin": bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000),
		}
		for name, b := range files {
			p := filepath.Join(src, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r := rcloneAt(t, "carol")
		r.must(t, "copy", src, ":webdav:up")
		out := r.must(t, "lsf", "-R", ":webdav:up")
		if got, want := lines(out), lsfListing(files, nil); !slices.Equal(got, want) {
			t.Errorf("lsf -R in carol's mount:\n got %q\nwant %q", got, want)
		}
		got, _ := readTree(t, disk("up"))
		sameFiles(t, "alice's disk after carol's upload", got, files)

		down := t.TempDir()
		r.must(t, "copy", ":webdav:up", down)
		got, _ = readTree(t, down)
		sameFiles(t, "tree downloaded from carol's mount", got, files)

		r.must(t, "moveto", ":webdav:up/Ünïcödé 日本/ü.txt", ":webdav:up/moved ✓.txt")
		gone("up/Ünïcödé 日本/ü.txt")
		onDisk("up/moved ✓.txt", files["Ünïcödé 日本/ü.txt"])
		r.must(t, "purge", ":webdav:up/nested")
		gone("up/nested")

		want := map[string][]byte{
			"moved ✓.txt":                files["Ünïcödé 日本/ü.txt"],
			"top level.txt":              files["top level.txt"],
			"Ünïcödé 日本/sub/emoji 🎉.bin": files["Ünïcödé 日本/sub/emoji 🎉.bin"],
		}
		out = r.must(t, "lsf", "-R", ":webdav:up")
		if got, w := lines(out), lsfListing(want, nil); !slices.Equal(got, w) {
			t.Errorf("lsf -R after moveto and purge:\n got %q\nwant %q", got, w)
		}
		got, _ = readTree(t, disk("up"))
		sameFiles(t, "alice's disk after moveto and purge", got, want)
	})

	carolFile := bytes.Repeat([]byte("carol wrote this through cadaver\n"), 300)
	t.Run("cadaver read-write", func(t *testing.T) {
		work := t.TempDir()
		v2 := []byte("second version, under a lock\n")
		for name, b := range map[string][]byte{"c.txt": carolFile, "v2.txt": v2} {
			if err := os.WriteFile(filepath.Join(work, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		const ns = "http://webdav.org/cadaver/custom-properties/"
		propColor := func(rel string) string {
			t.Helper()
			body := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><C:color xmlns:C="` + ns + `"/></D:prop></D:propfind>`
			b := s.expect(t, 207, "PROPFIND", "/dav/files/alice/Project/"+rel, "alice", password("alice"), []byte(body), "Depth", "0")
			m := regexp.MustCompile(`<([A-Za-z0-9]+:)?color[^>]*>([^<]*)</`).FindStringSubmatch(string(b))
			if m == nil {
				return ""
			}
			return m[2]
		}

		c := cadaverAt(t, "carol", work)
		c.do("put c.txt carol.txt", "succeeded")
		onDisk("carol.txt", carolFile)
		c.do("get carol.txt got.txt", "succeeded")
		if got, err := os.ReadFile(filepath.Join(work, "got.txt")); err != nil || !bytes.Equal(got, carolFile) {
			t.Errorf("get carol.txt: %d bytes, %v; want the %d bytes put", len(got), err, len(carolFile))
		}
		c.do("propset carol.txt color green", "succeeded")
		c.do("propget carol.txt color", "Value of color is: green")
		if got := propColor("carol.txt"); got != "green" {
			t.Errorf("alice's PROPFIND of the property carol set: %q, want green", got)
		}

		c.do("put c.txt work.txt", "succeeded")
		c.do("lock work.txt", "succeeded")
		// The owner, without the token, cannot write the file carol locked.
		s.expect(t, http.StatusLocked, "PUT", "/dav/files/alice/Project/work.txt", "alice", password("alice"), []byte("intruder"))
		c.do("put v2.txt work.txt", "succeeded")
		onDisk("work.txt", v2)
		c.do("unlock work.txt", "succeeded")
		s.expect(t, http.StatusNoContent, "PUT", "/dav/files/alice/Project/work.txt", "alice", password("alice"), v2)

		c.do("move work.txt moved.txt", "succeeded")
		gone("work.txt")
		onDisk("moved.txt", v2)
		c.do("copy moved.txt copied.txt", "succeeded")
		onDisk("copied.txt", v2)
		onDisk("moved.txt", v2)
		c.do("rm copied.txt", "succeeded")
		gone("copied.txt")
		c.do("rm moved.txt", "succeeded")
		gone("moved.txt")
		c.quit()
	})

	t.Run("read-only", func(t *testing.T) {
		beforeFiles, beforeDirs := snapshot(t, project)
		if _, ok := beforeFiles["carol.txt"]; !ok {
			t.Fatalf("carol.txt is not in alice's Project/ (did the cadaver subtest run?): %q", slices.Sorted(maps.Keys(beforeFiles)))
		}

		r := rcloneAt(t, "bob")
		src := t.TempDir()
		if err := os.WriteFile(filepath.Join(src, "bob.txt"), []byte("bob was here\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := r.run(t, "copy", src, ":webdav:")
		if code == 0 || !strings.Contains(out, "403") {
			t.Errorf("rclone copy into bob's read-only mount: exit %d, want non-zero with a 403:\n%s", code, out)
		}
		out, code = r.run(t, "copy", src, ":webdav:bobdir")
		if code == 0 || !strings.Contains(out, "403") {
			t.Errorf("rclone copy into a new folder of bob's read-only mount: exit %d, want non-zero with a 403:\n%s", code, out)
		}
		out = r.must(t, "lsf", ":webdav:")
		if got := lines(out); !slices.Contains(got, "carol.txt") || !slices.Contains(got, "README.txt") || slices.Contains(got, "bob.txt") {
			t.Errorf("rclone lsf of bob's mount: %q, want README.txt and carol.txt, no bob.txt", got)
		}
		down := t.TempDir()
		r.must(t, "copyto", ":webdav:carol.txt", filepath.Join(down, "carol.txt"))
		if got, err := os.ReadFile(filepath.Join(down, "carol.txt")); err != nil || !bytes.Equal(got, carolFile) {
			t.Errorf("bob's download of carol.txt: %d bytes, %v; want %d bytes", len(got), err, len(carolFile))
		}

		work := t.TempDir()
		if err := os.WriteFile(filepath.Join(work, "bob.txt"), []byte("bob was here\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c := cadaverAt(t, "bob", work)
		forbidden := regexp.MustCompile(`(?im)^.*(403|forbidden).*$`)
		refused := func(line string) {
			t.Helper()
			if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
				t.Fatalf("cadaver %q: %v", line, err)
			}
			out := c.waitPrompt()
			if strings.Contains(out, "succeeded") || !forbidden.MatchString(out) {
				t.Errorf("cadaver %q in bob's read-only mount: want a failure with 403 or Forbidden:\n%s", line, out)
			}
			t.Logf("cadaver %q as bob: %s", line, forbidden.FindString(out))
		}
		refused("put bob.txt bob.txt")
		refused("put bob.txt carol.txt")
		refused("rm carol.txt")
		refused("mkcol bobdir")
		refused("move carol.txt stolen.txt")
		refused("lock carol.txt")
		c.do("get carol.txt got.txt", "succeeded")
		if got, err := os.ReadFile(filepath.Join(work, "got.txt")); err != nil || !bytes.Equal(got, carolFile) {
			t.Errorf("cadaver get carol.txt as bob: %d bytes, %v; want %d bytes", len(got), err, len(carolFile))
		}
		c.quit()

		afterFiles, afterDirs := snapshot(t, project)
		sameFiles(t, "alice's Project/ after bob's attempts", afterFiles, beforeFiles)
		if !slices.Equal(afterDirs, beforeDirs) {
			t.Errorf("alice's Project/ directories after bob's attempts:\n got %q\nwant %q", afterDirs, beforeDirs)
		}
		// No lock was left behind: alice can still write carol's file.
		s.expect(t, http.StatusNoContent, "PUT", "/dav/files/alice/Project/carol.txt", "alice", password("alice"), carolFile)
	})
}
