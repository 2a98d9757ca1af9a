package notify

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden/notify")

// goldenDir is at the repository root (architecture: testdata holds golden
// XML).
const goldenDir = "../testdata/golden/notify"

// normalise reduces a document to what matters for comparison: the element
// tree with indentation removed, serialised the same way every time.
func normalise(t *testing.T, b []byte) string {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatalf("normalise: %v\n%s", err, b)
	}
	doc.IndentWithSettings(&etree.IndentSettings{Spaces: etree.NoIndent, PreserveLeafWhitespace: true})
	s, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGolden(t *testing.T) {
	stamp := time.Date(2024, 3, 5, 9, 15, 0, 0, time.UTC)
	revoked := sampleInvite()
	revoked.Status, revoked.Access, revoked.ReplyURL, revoked.Prop, revoked.Comment = InviteAccepted, AccessNoAccess, "", nil, ""
	file := sampleInvite()
	file.Access = AccessReadWrite
	file.Prop = &Props{DisplayName: "plan.odt", ResourceType: []xml.Name{}, ContentType: "application/vnd.oasis.opendocument.text"}
	tests := []struct {
		name string
		p    Payload
	}{
		{"share-invite-notification", sampleInvite()},
		{"share-invite-notification-file", file},
		{"share-invite-notification-revoked", revoked},
		{"share-reply-notification", &ShareReply{Sharee: "/dav/principals/bob/", Status: InviteAccepted, Href: "/dav/files/alice/Projects/Apollo/", Comment: "Got it, thanks"}},
		{"systemstatus", &SystemStatus{Level: LevelMedium, Href: "https://status.example.net/maintenance-2024-07-01", Description: "Read-only maintenance window Monday 02:00-03:00 UTC", Lang: "en"}},
		{"systemstatus-href-only", &SystemStatus{Level: LevelHigh, Href: "https://status.example.net/"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Build(&Notification{DTStamp: stamp, Payload: tc.p})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(goldenDir, tc.name+".xml")
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./notify -run TestGolden -update)", err)
			}
			if normalise(t, got) != normalise(t, want) {
				t.Errorf("%s differs from the golden file:\n got %s\nwant %s", tc.name, got, want)
			}
		})
	}
}
