package server_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/davshare/davshare/sharing"
)

// TestShareRecordsPastXattrBlock: a folder shared with 150 colleagues, one POST
// each, and 150 folders shared with one colleague. Their records (the
// share record on the folder; the owner's registry and the sharee's mount
// table on the home roots) pass 4 KiB as plain JSON, and ext4 keeps all of
// a file's attributes in one 4 KiB block: before records were compressed,
// the 38th sharee and the 79th share were refused with 507. Every POST
// must succeed, and everything must be there again after a restart.
func TestShareRecordsPastXattrBlock(t *testing.T) {
	for _, tc := range []struct {
		name             string
		folders, sharees []string
	}{
		{"one folder, 150 sharees", []string{"Team"}, numbered("u", 150)},
		{"150 folders, one sharee", numbered("Folder", 150), []string{"bob"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newShareEnv(t, sharing.ModeInstant)
			for _, u := range tc.sharees {
				if u != "bob" {
					e.addUser(u)
				}
			}
			for _, f := range tc.folders {
				e.expect(201, "MKCOL", "/dav/files/alice/"+f+"/", "alice", "")
				e.expect(201, "PUT", "/dav/files/alice/"+f+"/readme.txt", "alice", "in "+f)
			}
			for _, f := range tc.folders {
				for _, u := range tc.sharees {
					e.share(204, "/dav/files/alice/"+f+"/", "alice", sharee("/dav/principals/"+u+"/", "read-write"))
				}
			}
			verifyShared(t, e, tc.folders, tc.sharees)
			e.restart()
			verifyShared(t, e, tc.folders, tc.sharees)
		})
	}
}

// numbered is prefix1 … prefixN.
func numbered(prefix string, n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// verifyShared checks that each of alice's folders is shared with every
// sharee, who accepted (instant mode): DAV:invite lists them all, the
// offline checker finds every sharee's mount table consistent with the
// share records, and the first and the last sharee find every folder in
// their Shared/ and read through it. (Every sharee's first login costs a
// bcrypt, ten times slower under -race.)
func verifyShared(t *testing.T, e *shareEnv, folders, sharees []string) {
	t.Helper()
	want := []string{"/dav/principals/alice/"}
	for _, u := range sharees {
		want = append(want, "/dav/principals/"+u+"/")
	}
	slices.Sort(want)
	for _, f := range folders {
		p := "/dav/files/alice/" + f + "/"
		inv := props200(t, e.propfind(p, "alice", "0", "invite"), p)
		got := hrefsIn(t, inv)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("DAV:invite of %s lists %d hrefs, want %d (alice and the sharees): %v", f, len(got), len(want), got)
		}
		if n := strings.Count(inv, "invite-accepted"); n != len(want) {
			t.Fatalf("DAV:invite of %s: %d accepted, want %d", f, n, len(want))
		}
	}
	for _, u := range slices.Compact([]string{sharees[0], sharees[len(sharees)-1]}) {
		shared := "/dav/files/" + u + "/Shared/"
		wantMounts := []string{shared}
		for _, f := range folders {
			wantMounts = append(wantMounts, shared+f+"/")
		}
		slices.Sort(wantMounts)
		if got := parseMultistatus(t, e.propfind(shared, u, "1", "resourcetype")).hrefs(); !slices.Equal(got, wantMounts) {
			t.Fatalf("%s's Shared/ lists %d entries, want %d: %v", u, len(got), len(wantMounts), got)
		}
		for _, f := range folders {
			if _, b := e.expect(200, "GET", shared+f+"/readme.txt", u, ""); b != "in "+f {
				t.Fatalf("%s reads %q through the mount of %s", u, b, f)
			}
		}
	}
	var users []string
	for _, a := range e.accts.List() {
		users = append(users, string(a.Name))
	}
	r, err := sharing.Check(t0(), sharing.CheckOptions{Trees: e.homes, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 || len(r.Shares) != len(folders) || r.Mounts != len(folders)*len(sharees) {
		t.Fatalf("davshare check: %d shares, %d mount entries, problems %+v; want %d shares, %d entries, no problems",
			len(r.Shares), r.Mounts, r.Problems, len(folders), len(folders)*len(sharees))
	}
}

// TestRefusedShareLeavesNoInstantFolder: a share POST whose record cannot
// be stored (here a sharee comment of 200 KB that no compression brings
// under the file system's attribute limit) is refused with 507 and changes
// nothing: not the owner's folder, and not the sharee's home, where
// instant mode would have made the Shared folder to hold the mount.
func TestRefusedShareLeavesNoInstantFolder(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInstant)
	e.expect(201, "MKCOL", "/dav/files/alice/Team/", "alice", "")
	noise := make([]byte, 100<<10)
	rand.Read(noise)
	comment := "<d:comment>" + hex.EncodeToString(noise) + "</d:comment>"
	e.share(507, "/dav/files/alice/Team/", "alice", sharee("/dav/principals/bob/", "read-write", comment))

	if _, err := os.Lstat(e.disk("bob", "Shared")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("bob's home has a Shared entry after the refused share (err %v); want none", err)
	}
	if got := e.propfind("/dav/files/alice/Team/", "alice", "0", "share-access"); strings.Contains(got, "shared-owner") {
		t.Fatalf("Team is shared after the refused share:\n%s", got)
	}
	// The same share without the comment goes through, and the folder
	// comes with it.
	e.share(204, "/dav/files/alice/Team/", "alice", sharee("/dav/principals/bob/", "read-write"))
	if fi, err := os.Lstat(e.disk("bob", "Shared")); err != nil || !fi.IsDir() {
		t.Fatalf("bob's Shared folder after the share: %v, %v; want a folder", fi, err)
	}
}

// TestInstantShareBesideAFileNamedShared: where the sharee's home has a
// file by the instant folder's name, the share cannot be mounted there;
// the sharee is invited instead (to mount it where they choose), and the
// file stays as it was.
func TestInstantShareBesideAFileNamedShared(t *testing.T) {
	e := newShareEnv(t, sharing.ModeInstant)
	e.expect(201, "MKCOL", "/dav/files/alice/Team/", "alice", "")
	e.expect(201, "PUT", "/dav/files/carol/Shared", "carol", "not a folder")
	e.share(204, "/dav/files/alice/Team/", "alice", sharee("/dav/principals/carol/", "read"))

	if _, b := e.expect(200, "GET", "/dav/files/carol/Shared", "carol", ""); b != "not a folder" {
		t.Fatalf("carol's file Shared reads %q after the share", b)
	}
	loc := e.accept("carol", "", "")
	if want := e.srv.URL + "/dav/files/carol/Team/"; loc != want {
		t.Fatalf("carol's mount is at %s, want %s", loc, want)
	}
}
