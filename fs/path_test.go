package fs_test

import (
	"errors"
	"strings"
	"testing"

	dsfs "github.com/davshare/davshare/fs"
)

func TestCleanName(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string // "" when the name must be refused
	}{
		{"empty is the root", "", "/"},
		{"root", "/", "/"},
		{"slashes collapse", "//a///b//", "/a/b"},
		{"a leading double slash collapses", "//a", "/a"},
		{"an inner double slash collapses", "/a//b", "/a/b"},
		{"canonical stays", "/a/b c/d", "/a/b c/d"},
		{"relative becomes rooted", "a/b", "/a/b"},
		{"trailing slash dropped", "/a/b/", "/a/b"},
		{"three dots are a name", "/a/.../b", "/a/.../b"},
		{"dots inside a name", "/a..b/..c/d..", "/a..b/..c/d.."},
		{"backslash is a name character", `/..\bob\x`, `/..\bob\x`},
		{"percent is literal", "/%2e%2e/x", "/%2e%2e/x"},
		{"unicode", "/ü/☃/x y", "/ü/☃/x y"},
		{"dotdot", "/../etc/passwd", ""},
		{"dotdot inside", "/a/../b", ""},
		{"dotdot at the end", "/a/..", ""},
		{"dotdot alone", "..", ""},
		{"dot", "/./a", ""},
		{"dot alone", ".", ""},
		{"dot at the end", "/a/.", ""},
		{"dotdot after double slash", "///..//", ""},
		{"NUL", "/a\x00b", ""},
		{"overlong dot", "/\xc0\xae\xc0\xae/x", ""},
		{"invalid UTF-8", "/\xff", ""},
		{"lone surrogate encoding", "/\xed\xa0\x80", ""},
		{"255-byte name", "/a/" + strings.Repeat("n", 255), "/a/" + strings.Repeat("n", 255)},
		{"256-byte name", "/a/" + strings.Repeat("n", 256), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dsfs.CleanName(tc.in)
			if tc.want == "" {
				if !errors.Is(err, dsfs.ErrInvalidPath) {
					t.Fatalf("CleanName(%q) = %q, %v; want ErrInvalidPath", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CleanName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// A canonical name, what nearly every request carries, is checked without
// allocating: every request cleans several names.
func TestCleanNameCanonicalAllocatesNothing(t *testing.T) {
	for _, name := range []string{"/", "/a", "/Shared/bench/move/w3-a"} {
		if n := testing.AllocsPerRun(100, func() { dsfs.CleanName(name) }); n != 0 {
			t.Errorf("CleanName(%q): %v allocations, want 0", name, n)
		}
	}
}
