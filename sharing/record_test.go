package sharing

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// bigShare is a share record of n accepted sharees, as instant mode
// writes them.
func bigShare(n int) *Share {
	s := &Share{V: recordVersion, ID: newID(), Owner: "alice", Created: 1795320238}
	for i := range n {
		u := fmt.Sprintf("u%d", i)
		s.Sharees = append(s.Sharees, Sharee{Href: "/dav/principals/" + u + "/", User: u, Access: AccessReadWrite,
			Status: StatusAccepted, Instance: "/Shared/Team", Updated: 1795320238})
	}
	return s
}

// bigRegistry and bigMounts list n shares of one owner, each with a
// random id: the ids are what compresses least.
func bigRegistry(n int) map[ShareID]string {
	m := map[ShareID]string{}
	for i := range n {
		m[newID()] = fmt.Sprintf("/Folder%d", i)
	}
	return m
}

func bigMounts(n int) map[ShareID]MountEntry {
	m := map[ShareID]MountEntry{}
	for i := range n {
		m[newID()] = MountEntry{Path: fmt.Sprintf("/Shared/Folder%d", i), Owner: "alice"}
	}
	return m
}

// deflated is pad spaces and then js, zlib-compressed by another writer
// than sealRecord's. The padding is written in pieces: a bomb need not be
// in memory to be made.
func deflated(t *testing.T, pad int, js []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	spaces := bytes.Repeat([]byte(" "), 64<<10)
	for pad > 0 {
		n := min(pad, len(spaces))
		if _, err := w.Write(spaces[:n]); err != nil {
			t.Fatal(err)
		}
		pad -= n
	}
	if _, err := w.Write(js); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealRecord: each kind of record is written plain while short and
// compressed once long, and reads back as it was.
func TestSealRecord(t *testing.T) {
	for _, tc := range []struct {
		name       string
		compressed bool
		roundTrip  func(t *testing.T) []byte // encodes, decodes, compares; returns the value
	}{
		{"share, 1 sharee", false, func(t *testing.T) []byte { return roundTrip(t, bigShare(1), encodeShare, decodeShare) }},
		{"share, 150 sharees", true, func(t *testing.T) []byte { return roundTrip(t, bigShare(150), encodeShare, decodeShare) }},
		{"registry, 2 shares", false, func(t *testing.T) []byte { return roundTrip(t, bigRegistry(2), encodeRegistry, decodeRegistry) }},
		{"registry, 150 shares", true, func(t *testing.T) []byte { return roundTrip(t, bigRegistry(150), encodeRegistry, decodeRegistry) }},
		{"mounts, 2 instances", false, func(t *testing.T) []byte { return roundTrip(t, bigMounts(2), encodeMounts, decodeMounts) }},
		{"mounts, 150 instances", true, func(t *testing.T) []byte { return roundTrip(t, bigMounts(150), encodeMounts, decodeMounts) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.roundTrip(t)
			if tc.compressed {
				if b[0] != zlibMagic {
					t.Fatalf("%d bytes stored as %.40q…, want compressed", len(b), b)
				}
				return
			}
			if b[0] != '{' || len(b) > sealAbove {
				t.Fatalf("stored as %q, want plain JSON of at most %d bytes", b, sealAbove)
			}
		})
	}
}

// roundTrip encodes v, decodes it back, fails unless that is v again, and
// returns the value as stored.
func roundTrip[T any](t *testing.T, v T, encode func(T) ([]byte, error), decode func([]byte) (T, error)) []byte {
	t.Helper()
	b, err := encode(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode(b)
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, got, v)
	}
	return b
}

// TestOpenRecord: values other programs or older versions wrote. Long
// plain JSON (every record before compression) still reads; a compressed
// value that is damaged, or inflates past maxOpenedRecord, is errCorrupt
// for each kind of record and never read whole into memory.
func TestOpenRecord(t *testing.T) {
	share := bigShare(150)
	sealed, err := encodeShare(share)
	if err != nil {
		t.Fatal(err)
	}
	plain := mustJSON(t, share)
	// Leading whitespace is valid JSON, so the padded records below are
	// refused for their inflated size alone.
	padded := func(n int) []byte { return deflated(t, n-len(plain), plain) }
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1 // the Adler-32 checksum

	for _, tc := range []struct {
		name  string
		value []byte
		ok    bool // decodeShare succeeds with share
	}{
		{"plain JSON longer than the threshold", plain, true},
		{"compressed", sealed, true},
		{"compressed by another zlib writer", deflated(t, 0, plain), true},
		{"inflates to exactly the cap", padded(maxOpenedRecord), true},
		{"inflates one byte past the cap", padded(maxOpenedRecord + 1), false},
		{"truncated stream", sealed[:len(sealed)/2], false},
		{"checksum cut off", sealed[:len(sealed)-4], false},
		{"checksum wrong", flipped, false},
		{"bytes after the stream", append(bytes.Clone(sealed), '}'), false},
		{"only the magic byte", []byte{zlibMagic}, false},
		{"magic byte and garbage", append([]byte{zlibMagic, 0x9c}, bytes.Repeat([]byte{0xff}, 64)...), false},
		{"compressed non-JSON", deflated(t, 0, []byte(strings.Repeat("garbage ", 100))), false},
		{"neither JSON nor zlib", []byte("\x1f\x8bgzip?"), false},
		{"empty", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeShare(tc.value)
			if tc.ok {
				if err != nil || !reflect.DeepEqual(got, share) {
					t.Fatalf("decodeShare: %v", err)
				}
				return
			}
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("decodeShare: %v, want errCorrupt", err)
			}
			if _, err := decodeRegistry(tc.value); !errors.Is(err, errCorrupt) {
				t.Fatalf("decodeRegistry: %v, want errCorrupt", err)
			}
			if _, err := decodeMounts(tc.value); !errors.Is(err, errCorrupt) {
				t.Fatalf("decodeMounts: %v, want errCorrupt", err)
			}
		})
	}
}
