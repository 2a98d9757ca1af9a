package fs

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/davshare/davshare/internal/davxml"
	"github.com/pkg/xattr"
)

// A cached "no properties" answer must not survive a property written by
// another program: setxattr moves the ctime, which is part of the key.
func TestPropCacheFollowsOutsideWrites(t *testing.T) {
	dir := t.TempDir()
	if err := ProbeXattrs(dir); err != nil {
		t.Skip(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	rfs, err := OpenRootFs(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rfs.Close()
	tree := NewTree("alice", rfs, XattrProps{fs: rfs})
	tree.props.racy = time.Nanosecond // the file is brand new
	ns, err := NewNamespace(t.Context(), "alice", staticTrees{tree}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	list := func() []davxml.Property {
		var got []davxml.Property
		loc, _ := ns.Resolve("/")
		if err := ns.List(t.Context(), loc, true, func(e Entry) error {
			if e.Info.Name() == "f" {
				got = e.Props
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if p := list(); len(p) != 0 {
		t.Fatalf("fresh file has properties %v", p)
	}
	b, err := EncodeProps([]davxml.Property{{Name: xml.Name{Space: "urn:x", Local: "color"}, Inner: "red"}})
	if err != nil {
		t.Fatal(err)
	}
	if p := list(); len(p) != 0 || tree.props.hits != 1 {
		t.Fatalf("second listing: %v, %d cache hits, want none and 1", p, tree.props.hits)
	}
	if err := xattr.Set(filepath.Join(dir, "f"), propsKey, b); err != nil { // as another program would
		t.Fatal(err)
	}
	if p := list(); len(p) != 1 || p[0].Inner != "red" {
		t.Fatalf("after an outside write the listing shows %v", p)
	}
}

type staticTrees struct{ t *Tree }

func (s staticTrees) Tree(string) (*Tree, error) { return s.t, nil }
