package fs_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/internal/davxml"
	"github.com/spf13/afero"
)

func BenchmarkCleanName(b *testing.B) {
	names := []struct{ name, path string }{
		{"root", "/"},
		{"short", "/a.txt"},
		{"deep", "/Projects/Apollo/2026/specs/drafts/chapter-07/figure-3.png"},
		{"messy", "//Projects//Apollo///notes/"},
		{"unicode", "/Überblick/Ålesund/☃ snowman/notes.txt"},
		{"refused", "/Projects/../etc/passwd"},
	}
	for _, n := range names {
		b.Run(n.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				dsfs.CleanName(n.path)
			}
		})
	}
}

// trees opens in-memory trees by owner.
type trees map[string]*dsfs.Tree

func (t trees) Tree(user string) (*dsfs.Tree, error) {
	if tr, ok := t[user]; ok {
		return tr, nil
	}
	return nil, fmt.Errorf("no tree for %s", user)
}

// mounts is a fixed mount table.
type mounts []dsfs.Mount

func (m mounts) Mounts(context.Context, string) ([]dsfs.Mount, error) { return m, nil }
func (m mounts) Unmount(context.Context, string, dsfs.Mount) error    { return nil }
func (m mounts) MoveMount(context.Context, string, dsfs.Mount, string) error {
	return nil
}

func BenchmarkResolve(b *testing.B) {
	ts := trees{}
	for _, u := range []string{"alice", "bob"} {
		ts[u] = dsfs.NewTree(u, afero.NewMemMapFs(), dsfs.NewMemProps())
	}
	var ms mounts
	for i := range 20 {
		ms = append(ms, dsfs.Mount{Path: fmt.Sprintf("/Shared/share-%02d", i), Owner: "bob", Target: fmt.Sprintf("/Projects/p%02d", i), ID: fmt.Sprint(i)})
	}
	ns, err := dsfs.NewNamespace(context.Background(), "alice", ts, ms, nil)
	if err != nil {
		b.Fatal(err)
	}
	names := []struct{ name, path string }{
		{"home", "/Documents/2026/report.odt"},
		{"in a mount", "/Shared/share-13/drafts/chapter-07.md"},
		{"mount root", "/Shared/share-07"},
	}
	for _, n := range names {
		b.Run(n.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ns.Resolve(n.path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeProps(b *testing.B) {
	ms := "urn:schemas-microsoft-com:"
	props := []davxml.Property{
		{Name: xml.Name{Space: ms, Local: "Win32CreationTime"}, Inner: "Wed, 01 Jan 2025 10:00:00 GMT"},
		{Name: xml.Name{Space: ms, Local: "Win32LastAccessTime"}, Inner: "Wed, 01 Jan 2025 10:00:00 GMT"},
		{Name: xml.Name{Space: ms, Local: "Win32LastModifiedTime"}, Inner: "Wed, 01 Jan 2025 10:00:00 GMT"},
		{Name: xml.Name{Space: ms, Local: "Win32FileAttributes"}, Inner: "00000020"},
		{Name: xml.Name{Space: "urn:example:a", Local: "nested"}, Lang: "fr",
			Inner: `<x0:b xmlns:x0="urn:example:b" x0:at="v">texte <x1:c xmlns:x1="urn:example:c"></x1:c></x0:b>` + strings.Repeat("<x0:i xmlns:x0=\"urn:example:b\">item</x0:i>", 8)},
	}
	enc, err := dsfs.EncodeProps(props)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dsfs.DecodeProps(enc); err != nil {
			b.Fatal(err)
		}
	}
}
