package fs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestAvailableSkipsTheUsageWalk: the free space a PUT checks comes from
// statfs alone; only Quota (PROPFIND's quota properties) walks the home
// for its usage.
func TestAvailableSkipsTheUsageWalk(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRootFs(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tr := NewTree("alice", r, NewMemProps())
	avail, err := tr.Available()
	if err != nil || avail <= 0 {
		t.Fatalf("Available = %d, %v; want the file system's free space", avail, err)
	}
	if !tr.usageAt.IsZero() {
		t.Fatal("Available walked the tree for its usage")
	}
	q, err := tr.Quota(context.Background())
	if err != nil || q.Used != 1000 || q.Available <= 0 {
		t.Fatalf("Quota = %+v, %v; want 1000 bytes used and the free space", q, err)
	}
	if tr.usageAt.IsZero() {
		t.Fatal("Quota did not record its walk")
	}
}
