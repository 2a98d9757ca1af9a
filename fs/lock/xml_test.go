package lock

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestActiveLockXML(t *testing.T) {
	tests := []struct {
		name string
		l    Lock
		href string
		want string
	}{
		{
			"exclusive depth-0 with owner",
			Lock{Token: tok, ZeroDepth: true, OwnerXML: `<D:href>http://example.org/~alice</D:href>`, Timeout: time.Hour},
			"/files/alice/a%20b.txt",
			`<D:activelock><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>` +
				`<D:depth>0</D:depth><D:owner><D:href>http://example.org/~alice</D:href></D:owner>` +
				`<D:timeout>Second-3600</D:timeout><D:locktoken><D:href>` + tok + `</D:href></D:locktoken>` +
				`<D:lockroot><D:href>/files/alice/a%20b.txt</D:href></D:lockroot></D:activelock>`,
		},
		{
			"shared depth-infinity, no owner, escaped token",
			Lock{Token: "urn:x:<&>", Shared: true, Timeout: InfiniteTimeout},
			"/files/alice/d/",
			`<D:activelock><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype>` +
				`<D:depth>infinity</D:depth><D:timeout>Infinite</D:timeout>` +
				`<D:locktoken><D:href>urn:x:&lt;&amp;&gt;</D:href></D:locktoken>` +
				`<D:lockroot><D:href>/files/alice/d/</D:href></D:lockroot></D:activelock>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.l.ActiveLockXML(tt.href)
			if got != tt.want {
				t.Fatalf("ActiveLockXML\n got %s\nwant %s", got, tt.want)
			}
			wellFormed(t, got)
		})
	}
}

func TestSupportedLockXML(t *testing.T) {
	wellFormed(t, SupportedLockXML)
	for _, scope := range []string{"<D:exclusive/>", "<D:shared/>"} {
		if !strings.Contains(SupportedLockXML, scope) {
			t.Errorf("SupportedLockXML lacks %s", scope)
		}
	}
}

// wellFormed parses fragment inside a document declaring the D: prefix.
func wellFormed(t *testing.T, fragment string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(`<D:prop xmlns:D="DAV:">` + fragment + `</D:prop>`))
	for {
		tk, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			t.Fatalf("not well-formed: %v\n%s", err, fragment)
		}
		if se, ok := tk.(xml.StartElement); ok && se.Name.Space != "DAV:" {
			t.Fatalf("element %v outside DAV:", se.Name)
		}
	}
}
