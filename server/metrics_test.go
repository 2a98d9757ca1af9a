package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/server"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// opsEnv is the real router with Metrics, a RateLimiter and the
// notification handler, on a loopback listener with http.Server timeouts.
type opsEnv struct {
	t       *testing.T
	data    string
	srv     *httptest.Server
	metrics *server.Metrics
	locks   *lock.Manager
}

// opsConfig says how to build an opsEnv.
type opsConfig struct {
	onMain            bool
	limiter           auth.LimiterOptions
	bodyIdleTimeout   time.Duration
	readHeaderTimeout time.Duration
}

func newOpsEnv(t *testing.T, c opsConfig) *opsEnv {
	t.Helper()
	data := newData(t, passwords, "alice")
	store, err := auth.Open(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := notify.Open(data, notify.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	if err := ns.CreateCollection(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	m := server.NewMetrics()
	homes := dsfs.NewHomes(filepath.Join(data, "files"))
	t.Cleanup(func() { homes.Close() })
	locks := lock.NewManager(time.Hour)
	s := server.New(server.Options{
		Accounts:        store,
		Auth:            auth.NewAuthenticator(store, auth.AuthOptions{Limiter: m.Limiter(auth.NewLimiter(c.limiter))}),
		Homes:           homes,
		Locks:           locks,
		Logger:          slog.New(slog.DiscardHandler),
		Notifications:   notify.NewHandler(ns, notify.HandlerOptions{StrictAccept: true}, nil, nil),
		Metrics:         m,
		MetricsOnMain:   c.onMain,
		BodyIdleTimeout: c.bodyIdleTimeout,
	})
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.Config.ReadHeaderTimeout = c.readHeaderTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return &opsEnv{t: t, data: data, srv: srv, metrics: m, locks: locks}
}

func (e *opsEnv) call(method, path, user, pass, body string, hdr ...string) (int, string) {
	e.t.Helper()
	resp, b := send(e.t, e.srv.Client(), newRequest(e.t, method, e.srv.URL+path, user, pass, body, hdr...))
	return resp.StatusCode, b
}

// scrape reads the registry the way Prometheus would, through the handler,
// and returns every sample by its text form: `name{label="v",...}`.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", w.Code, w.Body)
	}
	return parseExposition(t, w.Body.String())
}

func parseExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestMetricsCountRequests(t *testing.T) {
	e := newOpsEnv(t, opsConfig{limiter: auth.LimiterOptions{MaxUserFailures: 2, MaxAddressFailures: 100}})
	const pw = "alice-secret"
	content := strings.Repeat("0123456789", 1000) // 10,000 bytes
	if code, _ := e.call("PUT", "/dav/files/alice/a.txt", "alice", pw, content); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	for range 2 {
		if code, body := e.call("GET", "/dav/files/alice/a.txt", "alice", pw, ""); code != 200 || body != content {
			t.Fatalf("GET: %d, %d bytes", code, len(body))
		}
	}
	e.call("PROPFIND", "/dav/files/alice/", "alice", pw, "", "Depth", "1")
	e.call("OPTIONS", "/dav/files/alice/", "", "", "")
	e.call("BREW", "/dav/files/alice/", "alice", pw, "") // not a method we know
	e.call("BREW2", "/dav/files/alice/", "alice", pw, "")
	e.call("LOCK", "/dav/files/alice/a.txt", "alice", pw,
		`<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`)
	// An unknown user name is throttled like a known one; alice is not.
	for range 2 {
		if code, _ := e.call("PROPFIND", "/dav/files/alice/", "mallory", "guess", ""); code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", code)
		}
	}
	if code, _ := e.call("PROPFIND", "/dav/files/alice/", "mallory", "guess", ""); code != http.StatusTooManyRequests {
		t.Fatalf("third try after two failures: %d, want 429", code)
	}
	sent, err := notify.SendSystemStatus(e.data, notify.Broadcast{To: []string{"alice"},
		Status: notify.SystemStatus{Level: notify.LevelLow, Description: "maintenance tonight"}})
	if err != nil {
		t.Fatal(err)
	}
	// The server picks the file up on its next rescan of the collection.
	accept := []string{"Accept", "application/davnotification+xml"}
	metricsEventually(t, func() bool {
		code, _ := e.call("GET", "/dav/notifications/alice/"+sent.Name, "alice", pw, "", accept...)
		return code == http.StatusOK
	})

	// Not served on the main listener unless asked for.
	if code, _ := e.call("GET", "/metrics", "alice", pw, ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the main listener without on_main: %d, want 404", code)
	}

	got := scrape(t, e.metrics.Handler())
	want := map[string]float64{
		`davshare_http_requests_total{code="201",method="PUT"}`:      1,
		`davshare_http_requests_total{code="200",method="GET"}`:      3, // 2 files + 1 notification, at least
		`davshare_http_requests_total{code="207",method="PROPFIND"}`: 1,
		`davshare_http_requests_total{code="200",method="OPTIONS"}`:  1,
		`davshare_http_requests_total{code="405",method="OTHER"}`:    2,
		`davshare_http_requests_total{code="200",method="LOCK"}`:     1,
		`davshare_http_requests_total{code="401",method="PROPFIND"}`: 2,
		`davshare_http_requests_total{code="429",method="PROPFIND"}`: 1,
		`davshare_http_request_duration_seconds{method="PUT"}_count`: 1,
		`davshare_http_request_body_bytes_total{method="PUT"}`:       10000,
		`davshare_http_response_bytes_total{method="GET"}`:           20000, // plus the notification
		`davshare_auth_failures_total`:                               2,
		`davshare_auth_throttled_total`:                              1,
		`davshare_notifications_fetched_total`:                       1,
		`davshare_locks_active`:                                      1,
	}
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s missing", k)
		case strings.Contains(k, `method="GET"`) && g < v, !strings.Contains(k, `method="GET"`) && g != v:
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	for k := range got {
		if strings.Contains(k, "BREW") {
			t.Errorf("an unknown method became a label value: %s", k)
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("the Go collector is not registered")
	}
}

func TestMetricsOnMain(t *testing.T) {
	e := newOpsEnv(t, opsConfig{onMain: true})
	if code, _ := e.call("GET", "/metrics", "", "", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials on the main listener: %d, want 401", code)
	}
	if code, _ := e.call("GET", "/metrics", "alice", "wrong", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong password: %d, want 401", code)
	}
	code, body := e.call("GET", "/metrics", "alice", "alice-secret", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics as alice: %d", code)
	}
	got := parseExposition(t, body)
	if got[`davshare_http_requests_total{code="401",method="GET"}`] != 2 {
		t.Errorf("the scrape does not show the two refused scrapes: %v", got)
	}
}

// TestMetricsShareHook shows how cmd wires the share count once sharing
// is ready, and that registering again (a restarted Server) replaces it.
func TestMetricsShareHook(t *testing.T) {
	m := server.NewMetrics()
	for _, n := range []float64{3, 7} {
		if err := m.GaugeFunc("davshare_shares", "Shares.", func() float64 { return n }); err != nil {
			t.Fatal(err)
		}
	}
	if got := scrape(t, m.Handler())["davshare_shares"]; got != 7 {
		t.Errorf("davshare_shares = %v, want 7", got)
	}
}

func metricsEventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
