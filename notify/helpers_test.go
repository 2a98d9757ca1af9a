package notify

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testLogger sends the package's logs to t.Log, so a failing test shows
// them and a passing one stays quiet.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// clock is a settable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2024, 3, 5, 9, 15, 0, 0, time.UTC)} }

func openStore(t testing.TB, dataDir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dataDir, opts, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// env is a Handler behind a tiny test mux that stands in for the router.
type env struct {
	t     testing.TB
	dir   string
	clock *clock
	store *Store
	srv   *httptest.Server
}

func newEnv(t testing.TB, hopts HandlerOptions, replier InviteReplier) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: newClock()}
	e.store = openStore(t, e.dir, Options{Now: e.clock.Now})
	h := NewHandler(e.store, hopts, testLogger(t), replier)
	mux := http.NewServeMux()
	mux.HandleFunc("/dav/notifications/{user}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		h.Serve(w, r, r.PathValue("user"), r.PathValue("rest"))
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// do sends a request; hdr is "Name: value" pairs.
func (e *env) do(method, path, body string, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

func (e *env) deliver(user, name string, p Payload) Info {
	e.t.Helper()
	info, err := e.store.Deliver(context.Background(), user, name, p)
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

func status(text string) *SystemStatus {
	return &SystemStatus{Level: LevelMedium, Description: text, Lang: "en"}
}

// multistatus is a 207 body, decoded loosely for assertions.
type multistatus struct {
	Responses []msResponse `xml:"response"`
	SyncToken string       `xml:"sync-token"`
}

type msResponse struct {
	Href     string `xml:"href"`
	Status   string `xml:"status"`
	Propstat []struct {
		Prop struct {
			Inner string `xml:",innerxml"`
		} `xml:"prop"`
		Status string `xml:"status"`
		Error  struct {
			Inner string `xml:",innerxml"`
		} `xml:"error"`
	} `xml:"propstat"`
}

func parseMultistatus(t testing.TB, body string) multistatus {
	t.Helper()
	var ms multistatus
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("multistatus: %v\n%s", err, body)
	}
	return ms
}

// byHref indexes responses by the last path segment of their href.
func (ms multistatus) byName() map[string]msResponse {
	m := map[string]msResponse{}
	for _, r := range ms.Responses {
		m[filepath.Base(r.Href)] = r
	}
	return m
}

// writeFile drops a file into a collection the way another program would.
func writeFile(t testing.TB, dataDir, user, name, content string) {
	t.Helper()
	dir := filepath.Join(Dir(dataDir), user)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

const syncBody = `<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:">
  <D:sync-token>%s</D:sync-token>
  <D:sync-level>1</D:sync-level>
  <D:prop><D:getetag/><D:notificationtype/></D:prop>
</D:sync-collection>`

// syncCollection runs a sync-collection REPORT and returns the decoded 207.
func (e *env) syncCollection(user, token string) multistatus {
	e.t.Helper()
	resp, body := e.do("REPORT", "/dav/notifications/"+user+"/", strings.Replace(syncBody, "%s", token, 1), "Content-Type: application/xml", "Depth: 0")
	if resp.StatusCode != http.StatusMultiStatus {
		e.t.Fatalf("sync-collection: %d\n%s", resp.StatusCode, body)
	}
	return parseMultistatus(e.t, body)
}
