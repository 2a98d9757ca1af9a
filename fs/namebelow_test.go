package fs

import "testing"

func TestNameBelow(t *testing.T) {
	for _, c := range []struct {
		p, want     string
		below, fail bool
	}{
		{"/dav/files/alice", "/", true, false},
		{"/dav/files/alice/", "/", true, false},
		{"/dav/files/alice/a/b", "/a/b", true, false},
		{"/dav/files/alice2/a", "", false, false}, // not on a segment boundary
		{"/dav/files/bob/a", "", false, false},
		{"/dav/files", "", false, false},
		{"/dav/files/alice/../bob", "", true, true},
		{"/dav/files/alice/a\x00b", "", true, true},
	} {
		name, below, err := NameBelow(c.p, "/dav/files/alice")
		if below != c.below || (err != nil) != c.fail || (err == nil && name != c.want) {
			t.Errorf("NameBelow(%q) = %q, %v, %v; want %q, below %v, fail %v", c.p, name, below, err, c.want, c.below, c.fail)
		}
	}
}
