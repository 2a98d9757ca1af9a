package notify

import (
	"errors"
	"testing"

	"github.com/davshare/davshare/internal/davxml"
)

// FuzzParseSyncCollection: a REPORT body is client input; parsing must not
// panic, and every refusal must be one of the errors the handler maps to a
// 4xx status (never a 500).
func FuzzParseSyncCollection(f *testing.F) {
	f.Add([]byte(`<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`))
	f.Add([]byte(`<D:sync-collection xmlns:D="DAV:"><D:sync-token>urn:davshare:sync:1:2</D:sync-token><D:limit><D:nresults>10</D:nresults></D:limit></D:sync-collection>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><D:sync-collection xmlns:D="DAV:">&e;</D:sync-collection>`))
	f.Add([]byte(`<D:expand-property xmlns:D="DAV:"/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := parseSyncCollection(b, 1<<16)
		if err == nil {
			return
		}
		for _, known := range []error{davxml.ErrMalformed, davxml.ErrTooLarge, davxml.ErrExternalEntities, errUnsupportedReport} {
			if errors.Is(err, known) {
				return
			}
		}
		t.Fatalf("unclassified error %v for %q", err, b)
	})
}
