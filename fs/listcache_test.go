package fs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// listEnv is one home with folders d0…dN-1 of n files each.
func listEnv(t *testing.T, folders, files int) (*Homes, *Namespace, string) {
	t.Helper()
	dir := t.TempDir()
	for i := range folders {
		d := filepath.Join(dir, "alice", fmt.Sprintf("d%d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range files {
			if err := os.WriteFile(filepath.Join(d, fmt.Sprint(j)), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := NewHomes(dir)
	t.Cleanup(func() { h.Close() })
	if h.lists == nil {
		t.Skip("no inotify")
	}
	ns, err := NewNamespace(context.Background(), "alice", h, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h, ns, filepath.Join(dir, "alice")
}

func count(t *testing.T, ns *Namespace, name string) int {
	t.Helper()
	loc, err := ns.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := ns.List(context.Background(), loc, false, func(Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestListCacheLimits(t *testing.T) {
	h, ns, _ := listEnv(t, 4, 10)
	c := h.lists
	c.maxDirs, c.maxMembers = 2, 25
	for round := range 2 {
		for i := range 4 {
			if n := count(t, ns, fmt.Sprintf("/d%d", i)); n != 10 {
				t.Fatalf("round %d: d%d lists %d members, want 10", round, i, n)
			}
			c.mu.Lock()
			dirs, total := len(c.byDir), c.total
			c.mu.Unlock()
			if dirs > 2 || total > 25 {
				t.Fatalf("cache holds %d folders and %d members, limits 2 and 25", dirs, total)
			}
		}
	}
	// A folder bigger than the limit is listed in full, uncached.
	c.maxMembers = 5
	if n := count(t, ns, "/d0"); n != 10 {
		t.Fatalf("an uncacheable folder lists %d members, want 10", n)
	}
}

func TestListCacheForgetsDeletedFolders(t *testing.T) {
	h, ns, home := listEnv(t, 1, 3)
	count(t, ns, "/d0")
	count(t, ns, "/d0")
	if s := h.lists.Stats(); s.Hits != 1 {
		t.Fatalf("stats %+v, want one hit", s)
	}
	if err := os.RemoveAll(filepath.Join(home, "d0")); err != nil {
		t.Fatal(err)
	}
	c := h.lists
	c.mu.Lock()
	c.drainLocked()
	dirs, wds := len(c.byDir), len(c.byWd)
	c.mu.Unlock()
	if dirs != 0 || wds != 0 {
		t.Fatalf("after the folder went: %d listings, %d watches; want none", dirs, wds)
	}
}
