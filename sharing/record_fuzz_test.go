package sharing

import (
	"reflect"
	"testing"
)

// The records are read back from extended attributes that other programs
// (a restore, a hand edit, a second server version) may have written:
// decoding must never panic, and whatever decodes must survive a round
// trip unchanged.
func FuzzDecodeRecords(f *testing.F) {
	f.Add([]byte(`{"v":1,"id":"0c7f2a8e-5b1d-4e59-9a3e-2f6b1d9c4a10","owner":"alice","sharees":[{"href":"/dav/principals/bob/","user":"bob","access":"read","status":"accepted","instance":"/Apollo"}]}`))
	f.Add([]byte(`{"v":1,"shares":{"0c7f2a8e":"/Projects/Apollo"}}`))
	f.Add([]byte(`{"v":1,"mounts":{"0c7f2a8e":{"path":"/Apollo","owner":"alice"}}}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := decodeShare(b); err == nil {
			enc, err := encodeShare(s)
			if err != nil {
				t.Fatalf("decoded share does not encode: %v", err)
			}
			again, err := decodeShare(enc)
			if err != nil || !reflect.DeepEqual(s, again) {
				t.Fatalf("share round trip: %v\n%+v\n%+v", err, s, again)
			}
		}
		if r, err := decodeRegistry(b); err == nil {
			enc, err := encodeRegistry(r)
			if err != nil {
				t.Fatal(err)
			}
			again, err := decodeRegistry(enc)
			if err != nil || !reflect.DeepEqual(r, again) {
				t.Fatalf("registry round trip: %v", err)
			}
		}
		if m, err := decodeMounts(b); err == nil {
			enc, err := encodeMounts(m)
			if err != nil {
				t.Fatal(err)
			}
			again, err := decodeMounts(enc)
			if err != nil || !reflect.DeepEqual(m, again) {
				t.Fatalf("mount table round trip: %v", err)
			}
		}
	})
}
