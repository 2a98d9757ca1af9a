package fs

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWriteBehind uploads 2.5 chunks: the first two must have been handed
// to the disk before commit (so its fsync finds little left), the content
// must arrive whole, and a small upload must not be touched.
func TestWriteBehind(t *testing.T) {
	dir := t.TempDir()
	rfs, err := OpenRootFs(dir)
	if err != nil {
		t.Fatal(err)
	}
	tree := NewTree("alice", rfs, XattrProps{fs: rfs})
	for _, tc := range []struct {
		size, behind int64
	}{
		{4096, 0},
		{writeBehindChunk - 1, 0},
		{5 * writeBehindChunk / 2, 2 * writeBehindChunk},
	} {
		want := bytes.Repeat([]byte("davshare"), int(tc.size/8+1))[:tc.size]
		up, err := tree.create("/f.bin", true)
		if err != nil {
			t.Fatal(err)
		}
		// A reader that is not a file, as a request body is.
		n, err := up.ReadFrom(io.LimitReader(struct{ io.Reader }{bytes.NewReader(want)}, tc.size+1))
		if err != nil || n != tc.size {
			t.Fatalf("size %d: ReadFrom = %d, %v", tc.size, n, err)
		}
		if up.behind != tc.behind {
			t.Errorf("size %d: %d bytes written behind, want %d", tc.size, up.behind, tc.behind)
		}
		if _, _, err := up.commit(time.Time{}); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "f.bin"))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d: read back %d bytes (%v), want the %d uploaded", tc.size, len(got), err, tc.size)
		}
	}
}
