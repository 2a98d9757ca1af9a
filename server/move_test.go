package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMoveStatuses pins MOVE's answers (RFC 4918 §9.9.4) and what each
// leaves on disk, through HTTP: a fresh tree per case, with a file a.txt
// ("a"), a file b.txt ("b") and folders d/ (holding d/f.txt "f") and e/,
// in the home and again two folders down (names there resolve with
// openat2, in the home through os.Root: fs/beneath.go).
func TestMoveStatuses(t *testing.T) {
	for _, dir := range []string{"", "p/q/"} {
		t.Run("in /"+dir, func(t *testing.T) { testMoveStatuses(t, dir) })
	}
}

func testMoveStatuses(t *testing.T, dir string) {
	home := "/dav/files/alice/" + dir
	for _, tc := range []struct {
		name, src string
		hdr       []string
		status    int
		after     map[string]string // name → content ("/" a folder, "" absent)
	}{
		{"to a new name", "a.txt", []string{"Destination", home + "new.txt"}, 201,
			map[string]string{"a.txt": "", "new.txt": "a"}},
		{"absolute destination URL", "a.txt", []string{"Destination", "{url}" + home + "new.txt"}, 201,
			map[string]string{"a.txt": "", "new.txt": "a"}},
		{"over a file, no Overwrite (T)", "a.txt", []string{"Destination", home + "b.txt"}, 204,
			map[string]string{"a.txt": "", "b.txt": "a"}},
		{"over a file, Overwrite T", "a.txt", []string{"Destination", home + "b.txt", "Overwrite", "T"}, 204,
			map[string]string{"a.txt": "", "b.txt": "a"}},
		{"over a file, Overwrite F", "a.txt", []string{"Destination", home + "b.txt", "Overwrite", "F"}, 412,
			map[string]string{"a.txt": "a", "b.txt": "b"}},
		{"new name, Overwrite F", "a.txt", []string{"Destination", home + "new.txt", "Overwrite", "F"}, 201,
			map[string]string{"a.txt": "", "new.txt": "a"}},
		{"bad Overwrite", "a.txt", []string{"Destination", home + "b.txt", "Overwrite", "yes"}, 400,
			map[string]string{"a.txt": "a", "b.txt": "b"}},
		{"no Destination", "a.txt", nil, 400, map[string]string{"a.txt": "a"}},
		{"missing source", "nothing.txt", []string{"Destination", home + "new.txt"}, 404,
			map[string]string{"new.txt": ""}},
		{"missing destination parent", "a.txt", []string{"Destination", home + "no/new.txt"}, 409,
			map[string]string{"a.txt": "a"}},
		{"destination parent is a file", "a.txt", []string{"Destination", home + "b.txt/new.txt"}, 409,
			map[string]string{"a.txt": "a", "b.txt": "b"}},
		{"folder", "d/", []string{"Destination", home + "d2/"}, 201,
			map[string]string{"d": "", "d2/f.txt": "f"}},
		{"folder, Depth infinity", "d/", []string{"Destination", home + "d2/", "Depth", "infinity"}, 201,
			map[string]string{"d": "", "d2/f.txt": "f"}},
		{"folder, Depth 0", "d/", []string{"Destination", home + "d2/", "Depth", "0"}, 400,
			map[string]string{"d/f.txt": "f", "d2": ""}},
		{"folder over a folder", "d/", []string{"Destination", home + "e/"}, 204,
			map[string]string{"d": "", "e/f.txt": "f"}},
		{"file over a folder", "a.txt", []string{"Destination", home + "d/"}, 204,
			map[string]string{"a.txt": "", "d": "a"}},
		{"folder into itself", "d/", []string{"Destination", home + "d/sub/"}, 403,
			map[string]string{"d/f.txt": "f"}},
		{"onto itself", "a.txt", []string{"Destination", home + "a.txt"}, 403,
			map[string]string{"a.txt": "a"}},
		{"another host", "a.txt", []string{"Destination", "http://elsewhere.example" + home + "new.txt"}, 502,
			map[string]string{"a.txt": "a", "new.txt": ""}},
		{"another user's space", "a.txt", []string{"Destination", "/dav/files/bob/new.txt"}, 403,
			map[string]string{"a.txt": "a"}},
		{"outside the files space", "a.txt", []string{"Destination", "/dav/notifications/alice/new.txt"}, 403,
			map[string]string{"a.txt": "a"}},
		{"the folder itself", "", []string{"Destination", home + "x/"}, 403,
			map[string]string{"a.txt": "a"}},
		{"to the home", "a.txt", []string{"Destination", "/dav/files/alice/"}, 403,
			map[string]string{"a.txt": "a"}},
		{"reserved destination name", "a.txt", []string{"Destination", home + ".davshare-x"}, 404,
			map[string]string{"a.txt": "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if dir != "" {
				e.expect(201, "MKCOL", "/dav/files/alice/p/", "alice", "")
				e.expect(201, "MKCOL", "/dav/files/alice/p/q/", "alice", "")
			}
			e.mustPut("alice", home+"a.txt", "a")
			e.mustPut("alice", home+"b.txt", "b")
			e.expect(201, "MKCOL", home+"d/", "alice", "")
			e.mustPut("alice", home+"d/f.txt", "f")
			e.expect(201, "MKCOL", home+"e/", "alice", "")
			hdr := append([]string(nil), tc.hdr...)
			for i := range hdr {
				hdr[i] = strings.Replace(hdr[i], "{url}", e.srv.URL, 1)
			}
			e.expect(tc.status, "MOVE", home+tc.src, "alice", "", hdr...)
			for name, want := range tc.after {
				p := filepath.Join(e.home("alice"), dir, name)
				fi, err := os.Stat(p)
				got := ""
				switch {
				case err != nil:
				case fi.IsDir():
					got = "/"
				default:
					b, _ := os.ReadFile(p)
					got = string(b)
				}
				if got != want {
					t.Errorf("%s holds %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestMoveIntoLockedFolder pins the lock check of a MOVE whose destination
// is in a folder with a depth-0 lock (RFC 4918 §7.4, §9.9.4): a new member
// needs the folder's token, replacing an existing member does not (the
// membership stays), and taking a member out needs it again. The
// destination is only stat'ed when the stricter check fails (move.go).
func TestMoveIntoLockedFolder(t *testing.T) {
	const home = "/dav/files/alice/"
	e := newEnv(t)
	e.expect(http.StatusCreated, "MKCOL", home+"flat/", "alice", "")
	for _, f := range []string{"flat/member.txt", "flat/other.txt", "s1", "s2", "s3"} {
		e.mustPut("alice", home+f, f)
	}
	tok := e.lock(http.StatusOK, home+"flat/", "alice", false, "Depth", "0")
	for _, tc := range []struct {
		name, src, dst string
		hdr            []string
		status         int
	}{
		{"new member without the token", "s1", "flat/new.txt", nil, http.StatusLocked},
		{"new member with the token", "s1", "flat/new.txt", []string{"If", "<" + home + "flat/> (<" + tok + ">)"}, http.StatusCreated},
		{"replacing a member without the token", "s2", "flat/member.txt", nil, http.StatusNoContent},
		{"Overwrite F on a member without the token", "s3", "flat/other.txt", []string{"Overwrite", "F"}, http.StatusPreconditionFailed},
		{"a member out without the token", "flat/other.txt", "out.txt", nil, http.StatusLocked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.expect(tc.status, "MOVE", home+tc.src, "alice", "", append([]string{"Destination", home + tc.dst}, tc.hdr...)...)
		})
	}
	for name, want := range map[string]string{"s1": "", "flat/new.txt": "s1", "s2": "", "flat/member.txt": "s2", "s3": "s3", "flat/other.txt": "flat/other.txt", "out.txt": ""} {
		if got, _ := e.file("alice", name); got != want {
			t.Errorf("%s holds %q, want %q", name, got, want)
		}
	}
}
