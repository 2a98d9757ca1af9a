package notify

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkSyncCollection measures REPORT sync-collection through HTTP on a
// collection of 10,000 notifications: "incremental" after 10 changes (7
// deliveries, 3 deletions), which is what a polling client sends, and
// "initial" (empty token), which lists everything. resp-bytes is the size of
// one response body.
func BenchmarkSyncCollection(b *testing.B) {
	const members = 10000
	dir := b.TempDir()
	user := filepath.Join(Dir(dir), "bob")
	if err := os.MkdirAll(user, 0o750); err != nil {
		b.Fatal(err)
	}
	stamp := time.Date(2024, 3, 5, 9, 15, 0, 0, time.UTC)
	for i := range members {
		doc, err := Build(&Notification{DTStamp: stamp, Payload: &SystemStatus{Level: LevelLow, Description: fmt.Sprintf("notice %d", i)}})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(user, fmt.Sprintf("n%05d.xml", i)), doc, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	s := openStore(b, dir, Options{}) // the startup rescan indexes all 10,000
	h := NewHandler(s, HandlerOptions{}, nil, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Serve(w, r, "bob", "")
	}))
	b.Cleanup(srv.Close)
	snap, err := s.SyncToken(ctx, "bob")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 7 {
		if _, err := s.Deliver(ctx, "bob", fmt.Sprintf("new%d.xml", i), status("new")); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 3 {
		if err := s.Delete(ctx, "bob", fmt.Sprintf("n%05d.xml", i*1000)); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name, token string
		want        int
	}{{"incremental", snap.Token, 10}, {"initial", "", members + 7 - 3}} {
		b.Run(bc.name, func(b *testing.B) {
			body := strings.Replace(syncBody, "%s", bc.token, 1)
			var size int
			for b.Loop() {
				req, _ := http.NewRequest("REPORT", srv.URL+"/dav/notifications/bob/", strings.NewReader(body))
				req.Header.Set("Depth", "0")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusMultiStatus {
					b.Fatalf("status %d", resp.StatusCode)
				}
				size = len(out)
				if n := strings.Count(string(out), "<D:response>"); n != bc.want {
					b.Fatalf("%d responses, want %d", n, bc.want)
				}
			}
			b.ReportMetric(float64(size), "resp-bytes")
		})
	}
}
