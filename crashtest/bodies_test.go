package crashtest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/server"
)

// bodyLimit is limits.xml_body_bytes here: the default.
const bodyLimit = 1 << 20

// inProcess is the real router in this process, so that a hostile
// request's allocations can be measured.
type inProcess struct {
	t   *testing.T
	srv *httptest.Server
}

func newInProcess(t *testing.T) *inProcess {
	t.Helper()
	data := t.TempDir()
	if err := dsfs.ProbeXattrs(data); err != nil {
		t.Skipf("no user xattrs in the test directory: %v", err)
	}
	store, err := auth.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Add("alice", "alice@example.org", "Alice", "alice-pw"); err != nil {
		t.Fatal(err)
	}
	notes, err := notify.Open(data, notify.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { notes.Close() })
	if err := notes.CreateCollection(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	homes := dsfs.NewHomes(filepath.Join(data, "files"))
	t.Cleanup(func() { homes.Close() })
	s := server.New(server.Options{
		Accounts:  store,
		Auth:      auth.NewAuthenticator(store, auth.AuthOptions{}),
		Homes:     homes,
		Locks:     lock.NewManager(time.Hour),
		Logger:    slog.New(slog.DiscardHandler),
		BodyLimit: bodyLimit,
		Notifications: notify.NewHandler(notes, notify.HandlerOptions{StrictAccept: true, BodyLimit: bodyLimit},
			nil, nil),
	})
	e := &inProcess{t: t, srv: httptest.NewServer(s.Handler())}
	t.Cleanup(e.srv.Close)
	if code, _ := e.call("PUT", "/dav/files/alice/f.txt", strings.NewReader("hello"), -1); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	return e
}

// call sends body with the given Content-Length (-1: chunked).
func (e *inProcess) call(method, path string, body io.Reader, length int64, hdr ...string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.ContentLength = length
	if length < 0 && body != nil {
		req.Body = io.NopCloser(body) // hide the length: chunked
	}
	req.SetBasicAuth("alice", "alice-pw")
	req.Header.Set("Content-Type", "application/xml")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// xmlTargets are the requests that parse an XML body, with the document
// element each expects.
var xmlTargets = []struct {
	method, path, root string
	hdr                []string
}{
	{"PROPFIND", "/dav/files/alice/", "propfind", []string{"Depth", "1"}},
	{"PROPPATCH", "/dav/files/alice/f.txt", "propertyupdate", nil},
	{"LOCK", "/dav/files/alice/f.txt", "lockinfo", nil},
	{"REPORT", "/dav/notifications/alice/", "sync-collection", nil},
}

// hostile documents; each is a function of the target's root element.
func deepDoc(root string, depth int) string {
	return `<?xml version="1.0"?><D:` + root + ` xmlns:D="DAV:">` + strings.Repeat("<D:prop>", depth) +
		strings.Repeat("</D:prop>", depth) + `</D:` + root + `>`
}

// wideDoc fills size bytes with small elements, in the places each parser
// reads most: property names in a prop, or the owner of a lock.
func wideDoc(root string, size int) string {
	head := `<?xml version="1.0"?><D:` + root + ` xmlns:D="DAV:" xmlns:x="urn:x">`
	switch root {
	case "propertyupdate":
		head += `<D:set><D:prop><x:p>`
	case "lockinfo":
		head += `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>`
	default:
		head += `<D:prop>`
	}
	tail := map[string]string{
		"propertyupdate": `</x:p></D:prop></D:set>`,
		"lockinfo":       `</D:owner>`,
	}[root]
	if tail == "" {
		tail = `</D:prop>`
	}
	tail += `</D:` + root + `>`
	n := (size - len(head) - len(tail)) / len("<x:a/>")
	pad := size - len(head) - len(tail) - n*len("<x:a/>")
	return head + strings.Repeat("<x:a/>", n) + strings.Repeat(" ", pad) + tail // exactly size bytes
}

const dtdDoc = `<?xml version="1.0"?>
<!DOCTYPE lol [<!ENTITY x SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<D:ROOT xmlns:D="DAV:"><D:prop><D:displayname>&x;&b;</D:displayname></D:prop></D:ROOT>`

// TestHostileXMLBodies sends every hostile body to every XML-reading
// request through HTTP, and measures what each costs the process.
func TestHostileXMLBodies(t *testing.T) {
	e := newInProcess(t)
	// How far the heap may grow during one hostile request, client and
	// server together: a 1 MiB body is read into memory, parsed, and its
	// names may be echoed in a multistatus; a blow-up (entity expansion,
	// unbounded nesting) would be orders of magnitude more.
	const heapBound = 256 << 20
	for _, tg := range xmlTargets {
		cases := []struct {
			name   string
			body   string
			length bool // send Content-Length
			want   []int
			cond   string // in the error body
		}{
			{"over the limit", wideDoc(tg.root, bodyLimit+1), true, []int{413}, ""},
			{"over the limit, chunked", wideDoc(tg.root, bodyLimit+1), false, []int{413}, ""},
			{"DTD with entities", strings.ReplaceAll(dtdDoc, "ROOT", tg.root), true, []int{403, 400}, "no-external-entities"},
			{"10,000 levels deep", deepDoc(tg.root, 10000), true, []int{400}, ""},
			// Many small elements just under the limit: any answer but a
			// server error, within the allocation bound.
			{"many elements", wideDoc(tg.root, bodyLimit-1), true, nil, ""},
		}
		for _, c := range cases {
			t.Run(tg.method+"/"+c.name, func(t *testing.T) {
				length := int64(len(c.body))
				if !c.length {
					length = -1
				}
				if len(c.body) != bodyLimit+1 && strings.HasPrefix(c.name, "over") {
					t.Fatalf("test body is %d bytes", len(c.body))
				}
				runtime.GC()
				peak := watchHeap()
				code, body := e.call(tg.method, tg.path, strings.NewReader(c.body), length, tg.hdr...)
				growth := peak()
				t.Logf("%d: heap grew by at most %.1f MiB for a %.1f KiB body", code, float64(growth)/(1<<20), float64(len(c.body))/1024)
				if c.want != nil && !containsInt(c.want, code) {
					t.Errorf("status %d, want one of %v; body %.300s", code, c.want, body)
				}
				if code >= 500 && code != http.StatusInsufficientStorage {
					// 507 is PROPPATCH's answer to a value too large
					// for the file's extended attributes (RFC 4918 §9.2).
					t.Errorf("status %d: a hostile body is the client's fault", code)
				}
				if code == http.StatusForbidden && c.cond != "" && !strings.Contains(body, c.cond) {
					t.Errorf("the error body lacks %s: %.300s", c.cond, body)
				}
				if strings.Contains(body, "root:") || strings.Contains(body, "aaaaaaaaaa") {
					t.Error("an entity was expanded into the answer")
				}
				if growth > heapBound {
					t.Errorf("heap grew by %.1f MiB, bound %d MiB", float64(growth)/(1<<20), heapBound>>20)
				}
			})
		}
	}
}

// watchHeap samples the heap until the returned function is called, which
// returns the largest growth seen over the heap at the start.
func watchHeap() (peak func() uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, top := ms.HeapAlloc, ms.HeapAlloc
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapAlloc)
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return top - base
	}
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestErrorBodiesCarryNoInternals: error answers are status text or a
// DAV:error element, never the text of an internal error (package
// prefixes, parser messages, paths on disk).
func TestErrorBodiesCarryNoInternals(t *testing.T) {
	e := newInProcess(t)
	lockBody := `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`
	if code, _ := e.call("LOCK", "/dav/files/alice/f.txt", strings.NewReader(lockBody), int64(len(lockBody))); code != http.StatusOK {
		t.Fatalf("LOCK: %d", code)
	}
	cases := []struct {
		method, path, body string
		hdr                []string
	}{
		{"PROPFIND", "/dav/files/alice/", `<D:propfind xmlns:D="DAV:"><D:prop>`, nil},          // truncated XML
		{"PROPFIND", "/dav/files/alice/", `<D:propfind xmlns:D="DAV:"><x:y xmlns:x=""/>`, nil}, // bad namespace
		{"PROPPATCH", "/dav/files/alice/f.txt", `<D:propertyupdate xmlns:D="DAV:"/>`, nil},     // nothing to do
		{"LOCK", "/dav/files/alice/f.txt", `<D:lockinfo xmlns:D="DAV:"><D:locktype><D:read/></D:locktype></D:lockinfo>`, nil},
		{"PUT", "/dav/files/alice/f.txt", "new", nil},                                           // locked: 423
		{"PUT", "/dav/files/alice/missing/dir/f.txt", "x", nil},                                 // no parent: 409
		{"GET", "/dav/files/alice/%2e%2e/%2e%2e/etc/passwd", "", nil},                           // escaping path
		{"GET", "/dav/files/alice/.davshare-tmp-0123", "", nil},                                 // reserved name
		{"MOVE", "/dav/files/alice/f.txt", "", []string{"Destination", "/dav/files/bob/f.txt"}}, // another space
		{"UNLOCK", "/dav/files/alice/f.txt", "", []string{"Lock-Token", "<urn:uuid:00000000-0000-0000-0000-000000000000>"}},
		{"REPORT", "/dav/notifications/alice/", `<D:sync-collection xmlns:D="DAV:"><D:sync-token>bogus</D:sync-token></D:sync-collection>`, nil},
		{"GET", "/dav/notifications/alice/missing.xml", "", nil},
	}
	forbidden := []string{"davxml:", "fs:", "lock:", "notify:", "server:", "sharing:", "auth:", "xml:", "syntax error",
		"no such file", "permission denied", "/tmp/", "/var/", "goroutine", "panic"}
	for _, c := range cases {
		code, body := e.call(c.method, c.path, strings.NewReader(c.body), int64(len(c.body)), c.hdr...)
		if code < 400 {
			t.Errorf("%s %s: status %d, want an error", c.method, c.path, code)
			continue
		}
		for _, f := range forbidden {
			if strings.Contains(strings.ToLower(body), strings.ToLower(f)) {
				t.Errorf("%s %s: %d body carries %q: %.300s", c.method, c.path, code, f, body)
			}
		}
	}
}
