package sharing

import (
	"reflect"
	"testing"
)

// The records are read back from extended attributes that other programs
// (a restore, a hand edit, a second server version) may have written:
// decoding must never panic, and whatever decodes must survive a round
// trip unchanged, plain or compressed.
func FuzzDecodeRecords(f *testing.F) {
	f.Add([]byte(`{"v":1,"id":"0c7f2a8e-5b1d-4e59-9a3e-2f6b1d9c4a10","o":"alice","c":1700000000,"s":[{"h":"/dav/principals/bob/","u":"bob","a":"read","s":"accepted","i":"/Apollo"}]}`))
	f.Add([]byte(`{"v":1,"s":{"0c7f2a8e":"/Projects/Apollo"}}`))
	f.Add([]byte(`{"v":1,"m":{"0c7f2a8e":{"p":"/Apollo","o":"alice","props":[{"n":{"Space":"DAV:","Local":"displayname"},"v":"Apollo"}]}}}`))
	f.Add([]byte(`{"v":1,"m":{"0":{"p":"/0","props":[]}}}`)) // found by fuzzing: [] must read back as none
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`null`))
	// Compressed records (longer than sealAbove), whole and cut short.
	for _, enc := range []func() ([]byte, error){
		func() ([]byte, error) { return encodeShare(bigShare(40)) },
		func() ([]byte, error) { return encodeRegistry(bigRegistry(40)) },
		func() ([]byte, error) { return encodeMounts(bigMounts(40)) },
	} {
		b, err := enc()
		if err != nil || b[0] != zlibMagic {
			f.Fatalf("seed not compressed: %v", err)
		}
		f.Add(b)
		f.Add(b[:len(b)-5])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := decodeShare(b); err == nil {
			enc, err := encodeShare(s)
			if err != nil {
				t.Fatalf("decoded share does not encode: %v", err)
			}
			sealedForm(t, enc)
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
			sealedForm(t, enc)
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
			sealedForm(t, enc)
			again, err := decodeMounts(enc)
			if err != nil || !reflect.DeepEqual(m, again) {
				t.Fatalf("mount table round trip: %v", err)
			}
		}
	})
}

// sealedForm fails unless enc is plain JSON or compressed: the first
// byte alone tells openRecord which. (Long JSON may stay plain when
// compression would not shrink it.)
func sealedForm(t *testing.T, enc []byte) {
	t.Helper()
	if enc[0] != '{' && enc[0] != zlibMagic {
		t.Fatalf("encoded as %d bytes starting %q", len(enc), enc[0])
	}
}
