package sharing

import (
	"context"
	"strings"
	"testing"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/spf13/afero"
)

// checkFixture is alice's /Projects/Apollo shared instantly with bob
// (read) and carol (read-write), both mounted at /Shared/Apollo.
func checkFixture(t *testing.T) *fixture {
	f := newFixture(t, ModeInstant)
	if err := f.share("alice", "/Projects/Apollo", body(sh("/dav/principals/bob/", "read"), sh("/dav/principals/carol/", "read-write"))); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) check() CheckReport {
	f.t.Helper()
	r, err := Check(context.Background(), CheckOptions{Trees: f.trees, Users: []string{"alice", "bob", "carol"}, Store: f.store})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func kinds(r CheckReport) string {
	var ks []string
	for _, p := range r.Problems {
		ks = append(ks, p.Kind+"@"+p.User+":"+p.Path)
	}
	return strings.Join(ks, " ")
}

func (f *fixture) set(user, p, key, value string) {
	f.t.Helper()
	tr, _ := f.trees.Tree(user)
	if err := f.store.Set(tr, p, key, []byte(value)); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) get(user, p, key string) string {
	f.t.Helper()
	tr, _ := f.trees.Tree(user)
	b, err := f.store.Get(tr, p, key)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(f *fixture)
		want   string // kinds@user:path, in report order
		// repaired: the problems are gone after the Manager reopens.
		repaired bool
	}{
		{"clean", func(f *fixture) {}, "", true},
		{"mount entry lost", func(f *fixture) {
			tr, _ := f.trees.Tree("bob")
			f.store.Remove(tr, "/", keyMounts)
		}, "mount-missing@bob:/Shared/Apollo", true},
		{"mount entry elsewhere", func(f *fixture) {
			f.set("carol", "/", keyMounts, strings.Replace(f.get("carol", "/", keyMounts), "/Shared/Apollo", "/Elsewhere", 1))
		}, "mount-path@carol:/Elsewhere", true},
		{"mount of an unknown share", func(f *fixture) {
			f.set("alice", "/", keyMounts, `{"v":1,"m":{"0000-gone":{"p":"/Old","o":"bob"}}}`)
		}, "mount-orphan@alice:/Old", true},
		{"mount table corrupt", func(f *fixture) {
			f.set("bob", "/", keyMounts, `{"v":1,"m":`)
		}, "mounts-corrupt@bob:/", true},
		{"original deleted by another program", func(f *fixture) {
			tr, _ := f.trees.Tree("alice")
			tr.Fs.RemoveAll("/Projects/Apollo")
		}, "original-missing@alice:/Projects/Apollo mount-orphan@bob:/Shared/Apollo mount-orphan@carol:/Shared/Apollo", true},
		{"record lost", func(f *fixture) {
			tr, _ := f.trees.Tree("alice")
			f.store.Remove(tr, "/Projects/Apollo", keyShare)
		}, "record-missing@alice:/Projects/Apollo mount-orphan@bob:/Shared/Apollo mount-orphan@carol:/Shared/Apollo", true},
		{"record corrupt", func(f *fixture) {
			f.set("alice", "/Projects/Apollo", keyShare, `{"v":1,"id":`)
		}, "record-corrupt@alice:/Projects/Apollo mount-orphan@bob:/Shared/Apollo mount-orphan@carol:/Shared/Apollo", false},
		{"original moved by another program", func(f *fixture) {
			tr, _ := f.trees.Tree("alice")
			rec := f.get("alice", "/Projects/Apollo", keyShare)
			tr.Fs.Rename("/Projects/Apollo", "/Apollo")
			f.store.Remove(tr, "/Projects/Apollo", keyShare) // MemStore does not follow renames by itself
			f.set("alice", "/Apollo", keyShare, rec)
		}, "registry-stale@alice:/Projects/Apollo", true},
		{"record copied with its attributes", func(f *fixture) {
			tr, _ := f.trees.Tree("alice")
			afero.WriteFile(tr.Fs, "/copy.txt", nil, 0o644)
			f.set("alice", "/copy.txt", keyShare, f.get("alice", "/Projects/Apollo", keyShare))
		}, "record-unregistered@alice:/copy.txt", false},
		{"accepted entry without a mount", func(f *fixture) {
			rec := f.get("alice", "/Projects/Apollo", keyShare)
			rec = strings.Replace(rec, `"i":"/Shared/Apollo"`, `"i":"/Shared/Apollo (2)"`, 1)
			f.set("alice", "/Projects/Apollo", keyShare, rec)
		}, "mount-path@bob:/Shared/Apollo", true},
		{"registry corrupt", func(f *fixture) {
			f.set("alice", "/", keyRegistry, `[]`)
		}, "registry-corrupt@alice:/ record-unregistered@alice:/Projects/Apollo mount-orphan@bob:/Shared/Apollo mount-orphan@carol:/Shared/Apollo", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := checkFixture(t)
			r := f.check()
			if len(r.Problems) != 0 || len(r.Shares) != 1 || r.Mounts != 2 {
				t.Fatalf("before tampering: %d shares, %d mounts, problems %s", len(r.Shares), r.Mounts, kinds(r))
			}
			tc.tamper(f)
			r = f.check()
			if got := kinds(r); got != tc.want {
				t.Fatalf("problems:\n got %s\nwant %s", got, tc.want)
			}
			for _, p := range r.Problems {
				if p.Detail == "" || p.Fix == "" {
					t.Errorf("%+v: no detail or fix", p)
				}
			}
			if !tc.repaired {
				return
			}
			f.open() // what the server does at its next start
			if r := f.check(); len(r.Problems) != 0 {
				t.Errorf("after the Manager reopened: %s", kinds(r))
			}
		})
	}
}

// Problems that a second pass no longer sees (a running server between two
// writes) are not reported with Settle.
func TestCheckSettle(t *testing.T) {
	f := checkFixture(t)
	tr, _ := f.trees.Tree("bob")
	table := f.get("bob", "/", keyMounts)
	f.store.Remove(tr, "/", keyMounts)
	trees := &settleTrees{fixture: f, restore: func() { f.set("bob", "/", keyMounts, table) }}
	r, err := Check(context.Background(), CheckOptions{Trees: trees, Users: []string{"alice", "bob", "carol"}, Store: f.store, Settle: 1})
	if err != nil || len(r.Problems) != 0 {
		t.Fatalf("with Settle: %s, %v", kinds(r), err)
	}
	if trees.opened < 6 {
		t.Fatalf("one pass only (%d trees opened)", trees.opened)
	}
}

// settleTrees repairs the records once the first pass has opened every home.
type settleTrees struct {
	*fixture
	restore func()
	opened  int
}

func (s *settleTrees) Tree(user string) (*dsfs.Tree, error) {
	s.opened++
	if s.opened == 4 {
		s.restore()
	}
	return s.trees.Tree(user)
}
