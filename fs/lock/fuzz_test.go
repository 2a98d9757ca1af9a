package lock

import (
	"reflect"
	"testing"
)

// FuzzParseIf checks that ParseIf never panics and that whatever it accepts
// renders with String to a header that parses back to the same value. Seeds,
// every If header litmus' locks suite sends among them, are in
// testdata/fuzz/FuzzParseIf.
func FuzzParseIf(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string) {
		h, err := ParseIf(header)
		if err != nil {
			return
		}
		if len(h.Lists) == 0 {
			t.Fatalf("ParseIf(%q) accepted a header with no list", header)
		}
		for _, l := range h.Lists {
			if len(l.Conditions) == 0 {
				t.Fatalf("ParseIf(%q) accepted an empty list", header)
			}
			for _, c := range l.Conditions {
				if (c.Token == "") == (c.ETag == "") {
					t.Fatalf("ParseIf(%q): condition %+v needs exactly one of Token and ETag", header, c)
				}
			}
		}
		s := h.String()
		again, err := ParseIf(s)
		if err != nil {
			t.Fatalf("ParseIf(%q) = %#v renders as %q, which fails: %v", header, h, s, err)
		}
		if !reflect.DeepEqual(again, h) {
			t.Fatalf("round trip of %q through %q:\n got %#v\nwant %#v", header, s, again, h)
		}
	})
}
