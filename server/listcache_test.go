package server_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/internal/davxml"
	"github.com/pkg/xattr"
)

// TestListingCacheSeesEveryChange: a cached listing (fs/listcache.go) must
// never show a folder as it was. Each row fills the cache with two
// PROPFINDs (the second must be a hit, or the row proves nothing), changes
// the folder (on disk, as another program would, or through WebDAV) and
// expects the very next PROPFIND, without waiting, to show the change.
func TestListingCacheSeesEveryChange(t *testing.T) {
	e := newEnv(t)
	home := filepath.Join(e.data, "files", "alice")
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	rows := []struct {
		name   string
		change func(t *testing.T, dir string)
		check  func(t *testing.T, ms multistatus, href string)
	}{
		{"file created by another program",
			func(t *testing.T, dir string) { mustWrite(t, filepath.Join(dir, "new.txt"), "hello") },
			func(t *testing.T, ms multistatus, href string) {
				wantText(t, ms.response(t, href+"new.txt"), "getcontentlength", "5")
			}},
		{"file removed by another program",
			func(t *testing.T, dir string) { mustDo(t, os.Remove(filepath.Join(dir, "f1.txt"))) },
			func(t *testing.T, ms multistatus, href string) { wantAbsent(t, ms, href+"f1.txt") }},
		{"file renamed by another program",
			func(t *testing.T, dir string) {
				mustDo(t, os.Rename(filepath.Join(dir, "f1.txt"), filepath.Join(dir, "g1.txt")))
			},
			func(t *testing.T, ms multistatus, href string) {
				wantAbsent(t, ms, href+"f1.txt")
				ms.response(t, href+"g1.txt")
			}},
		{"file grown in place by another program",
			func(t *testing.T, dir string) {
				f, err := os.OpenFile(filepath.Join(dir, "f2.txt"), os.O_WRONLY|os.O_APPEND, 0)
				mustDo(t, err)
				_, err = f.WriteString("-more")
				mustDo(t, err)
				mustDo(t, f.Close())
			},
			func(t *testing.T, ms multistatus, href string) {
				wantText(t, ms.response(t, href+"f2.txt"), "getcontentlength", fmt.Sprint(len("content 2-more")))
			}},
		{"times set by another program",
			func(t *testing.T, dir string) { mustDo(t, os.Chtimes(filepath.Join(dir, "f3.txt"), old, old)) },
			func(t *testing.T, ms multistatus, href string) {
				wantText(t, ms.response(t, href+"f3.txt"), "getlastmodified", old.Format(http.TimeFormat))
			}},
		{"dead property written by another program",
			func(t *testing.T, dir string) {
				b, err := dsfs.EncodeProps([]davxml.Property{{Name: xml.Name{Space: "DAV:", Local: "displayname"}, Inner: "Renamed"}})
				mustDo(t, err)
				mustDo(t, xattr.Set(filepath.Join(dir, "f4.txt"), "user.davshare.props.v1", b))
			},
			func(t *testing.T, ms multistatus, href string) {
				wantText(t, ms.response(t, href+"f4.txt"), "displayname", "Renamed")
			}},
		{"file added inside a subfolder (the subfolder's times move)",
			func(t *testing.T, dir string) { mustWrite(t, filepath.Join(dir, "sub", "inner.txt"), "x") },
			func(t *testing.T, ms multistatus, href string) {
				got := ms.response(t, href+"sub/").value(t, "getlastmodified").text()
				if got == old.Format(http.TimeFormat) {
					t.Errorf("sub/ still shows its old time %s", got)
				}
			}},
		{"file replaced through WebDAV",
			func(t *testing.T, dir string) {
				e.expect(http.StatusNoContent, "PUT", "/dav/files/alice/"+filepath.Base(dir)+"/f5.txt", "alice", "a longer body than before")
			},
			func(t *testing.T, ms multistatus, href string) {
				wantText(t, ms.response(t, href+"f5.txt"), "getcontentlength", fmt.Sprint(len("a longer body than before")))
			}},
		{"dead property set through WebDAV",
			func(t *testing.T, dir string) {
				e.expect(http.StatusMultiStatus, "PROPPATCH", "/dav/files/alice/"+filepath.Base(dir)+"/f6.txt", "alice",
					`<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Via DAV</D:displayname></D:prop></D:set></D:propertyupdate>`)
			},
			func(t *testing.T, ms multistatus, href string) {
				wantText(t, ms.response(t, href+"f6.txt"), "displayname", "Via DAV")
			}},
	}
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			name := fmt.Sprintf("d%d", i)
			dir := filepath.Join(home, name)
			mustDo(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
			for j := range 8 {
				mustWrite(t, filepath.Join(dir, fmt.Sprintf("f%d.txt", j)), fmt.Sprintf("content %d", j))
			}
			mustDo(t, os.Chtimes(filepath.Join(dir, "sub"), old, old))
			href := "/dav/files/alice/" + name + "/"
			list := func() multistatus {
				_, body := e.expect(http.StatusMultiStatus, "PROPFIND", href, "alice",
					propfindBody("getcontentlength", "getlastmodified", "getetag", "displayname", "resourcetype"), "Depth", "1")
				return parseMultistatus(t, body)
			}
			list()
			hits, _ := e.homes.ListingStats()
			list()
			if after, _ := e.homes.ListingStats(); after <= hits {
				t.Fatalf("the second listing was not served from the cache (hits %d → %d)", hits, after)
			}
			row.change(t, dir)
			row.check(t, list(), href)
		})
	}
}

// TestListingCacheSharedThroughAlias: a folder reached through a link in
// the home and through its own name is one cached listing, and a change
// shows under both names.
func TestListingCacheSharedThroughAlias(t *testing.T) {
	e := newEnv(t)
	home := filepath.Join(e.data, "files", "alice")
	mustDo(t, os.MkdirAll(filepath.Join(home, "real"), 0o755))
	mustWrite(t, filepath.Join(home, "real", "a.txt"), "a")
	mustDo(t, os.Symlink("real", filepath.Join(home, "alias")))
	list := func(p string) multistatus {
		_, body := e.expect(http.StatusMultiStatus, "PROPFIND", p, "alice", propfindBody("getcontentlength"), "Depth", "1")
		return parseMultistatus(t, body)
	}
	for range 2 {
		list("/dav/files/alice/real/")
		list("/dav/files/alice/alias/")
	}
	mustWrite(t, filepath.Join(home, "real", "b.txt"), "bb")
	wantText(t, list("/dav/files/alice/alias/").response(t, "/dav/files/alice/alias/b.txt"), "getcontentlength", "2")
	wantText(t, list("/dav/files/alice/real/").response(t, "/dav/files/alice/real/b.txt"), "getcontentlength", "2")
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, name, content string) {
	t.Helper()
	mustDo(t, os.WriteFile(name, []byte(content), 0o644))
}

func wantText(t *testing.T, r response, name, want string) {
	t.Helper()
	if got := r.value(t, name).text(); got != want {
		t.Errorf("%s %s = %q, want %q", r.Href, name, got, want)
	}
}

func wantAbsent(t *testing.T, ms multistatus, href string) {
	t.Helper()
	for _, r := range ms.Responses {
		if r.Href == href {
			t.Errorf("%s is still listed", href)
		}
	}
}

// TestListingCacheOff: with files.cache_listings = false every listing is
// read from disk.
func TestListingCacheOff(t *testing.T) {
	e := newEnv(t)
	e.homes.DisableListingCache()
	home := filepath.Join(e.data, "files", "alice")
	mustDo(t, os.MkdirAll(filepath.Join(home, "d"), 0o755))
	for i := range 3 {
		mustWrite(t, filepath.Join(home, "d", fmt.Sprintf("f%d", i)), "x")
		_, body := e.expect(http.StatusMultiStatus, "PROPFIND", "/dav/files/alice/d/", "alice", propfindBody("getcontentlength"), "Depth", "1")
		if n := len(parseMultistatus(t, body).Responses); n != i+2 {
			t.Fatalf("listing %d: %d responses, want %d", i, n, i+2)
		}
	}
	if hits, misses := e.homes.ListingStats(); hits+misses != 0 {
		t.Fatalf("the cache was consulted: %d hits, %d misses", hits, misses)
	}
}
