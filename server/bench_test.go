package server_test

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

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/server"
)

// BenchmarkPropfindDepth1 lists a 1,000-file folder with the five
// properties file managers ask for, through the real router and HTTP.
func BenchmarkPropfindDepth1(b *testing.B) {
	const files = 1000
	data := newData(b, passwords, "alice")
	store, err := auth.Open(data, nil)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(data, "files", "alice", "big")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		b.Fatal(err)
	}
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%04d.txt", i)), []byte(strings.Repeat("x", i)), 0o640); err != nil {
			b.Fatal(err)
		}
	}
	homes := dsfs.NewHomes(filepath.Join(data, "files"))
	defer homes.Close()
	s := server.New(server.Options{
		Accounts: store,
		Auth:     auth.NewAuthenticator(store, auth.AuthOptions{}),
		Homes:    homes,
		Locks:    lock.NewManager(time.Hour),
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	body := propfindBody("resourcetype", "getcontentlength", "getlastmodified", "getetag", "displayname")
	do := func() []byte {
		req, err := http.NewRequest("PROPFIND", srv.URL+"/dav/files/alice/big/", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.SetBasicAuth("alice", passwords["alice"])
		req.Header.Set("Depth", "1")
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusMultiStatus {
			b.Fatalf("status %d, %v", resp.StatusCode, err)
		}
		return out
	}
	first := do() // also warms the credential cache
	if n := strings.Count(string(first), "<D:response>"); n != files+1 {
		b.Fatalf("%d responses, want %d", n, files+1)
	}
	b.SetBytes(int64(len(first)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		do()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(files+1), "ns/entry")
}
