package notify

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzParse checks the notification parser: no panic on any input, and
// whatever it accepts builds, parses again to the same notification, and
// builds to the same bytes. Seeds: the spec examples here plus
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{specInvite, specRevoke, specReply, specStatus} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, te, err := parse(data)
		if err != nil {
			if !isMalformed(err) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if te.Name != n.Payload.Type().Name {
			t.Fatalf("document type %#v, payload type %#v", te, n.Payload.Type())
		}
		b1, err := Build(n)
		if errors.Is(err, ErrTooLarge) {
			return // indentation can push a document near the cap over it
		}
		if err != nil {
			t.Fatalf("parsed but does not build: %v\n%q", err, data)
		}
		n2, te2, err := parse(b1)
		if err != nil {
			t.Fatalf("built document does not parse: %v\n%s", err, b1)
		}
		if _, unknown := n.Payload.(*Unknown); !unknown && !reflect.DeepEqual(n, n2) {
			t.Fatalf("round trip changed the notification:\n%#v\n%#v", n.Payload, n2.Payload)
		}
		if !reflect.DeepEqual(n2.Payload.Type(), te2) {
			t.Fatalf("rebuilt type %#v, payload type %#v", te2, n2.Payload.Type())
		}
		b2, err := Build(n2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("build is not stable:\n%s\n%s", b1, b2)
		}
	})
}
