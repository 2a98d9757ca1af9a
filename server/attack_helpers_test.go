package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkg/xattr"
)

// Helpers of the issue #7 tests (authz_matrix_test.go,
// paths_attack_test.go).

const (
	// deadPropPatch sets the dead property {urn:zq7x}p.
	deadPropPatch = `<?xml version="1.0" encoding="utf-8"?><d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><z:p xmlns:z="urn:zq7x">v</z:p></d:prop></d:set></d:propertyupdate>`
	// noSuchLock is a well-formed lock token that nobody holds.
	noSuchLock = "urn:uuid:00000000-0000-4000-8000-000000000000"
)

// roundTrip sends one request to the server at base and reads the answer;
// target goes on the request line exactly as given (no cleaning, no
// re-encoding), redirects are not followed, and user "" sends no
// credentials. It is safe to call from any goroutine.
func roundTrip(base, method, target, user, pass, body string, hdr ...string) (int, string, http.Header, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base, rd)
	if err != nil {
		return 0, "", nil, err
	}
	req.URL.Opaque = target
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return 0, "", nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	return resp.StatusCode, string(b), resp.Header, nil
}

// diskState renders every entry below the homes and notification
// collections: kind, content digest or link target, and user.* xattrs.
func diskState(t *testing.T, data string) string {
	t.Helper()
	var b strings.Builder
	for _, top := range []string{"files", "notifications"} {
		root := filepath.Join(data, top)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			rel, _ := filepath.Rel(data, p)
			fmt.Fprintf(&b, "%s %v", rel, d.Type())
			switch {
			case d.Type()&fs.ModeSymlink != 0:
				target, _ := os.Readlink(p)
				fmt.Fprintf(&b, " -> %s", target)
			case d.Type().IsRegular():
				c, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				sum := sha256.Sum256(c)
				fmt.Fprintf(&b, " %d %s", len(c), hex.EncodeToString(sum[:8]))
			}
			if d.Type()&fs.ModeSymlink == 0 {
				names, _ := xattr.LList(p)
				sort.Strings(names)
				for _, n := range names {
					v, _ := xattr.LGet(p, n)
					sum := sha256.Sum256(v)
					fmt.Fprintf(&b, " %s=%s", n, hex.EncodeToString(sum[:8]))
				}
			}
			b.WriteByte('\n')
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// safeMethod reports the methods that never change anything.
func safeMethod(m string) bool {
	switch m {
	case "OPTIONS", "GET", "HEAD", "PROPFIND", "REPORT":
		return true
	}
	return false
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
