package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/davshare/davshare/auth"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds davshare's Prometheus metrics in a registry of its own (no
// global state, so tests and several servers in one process do not mix).
//
//	davshare_http_requests_total{method,code}        requests answered
//	davshare_http_request_duration_seconds{method}   latency histogram
//	davshare_http_request_body_bytes_total{method}   bytes read from request bodies
//	davshare_http_response_bytes_total{method}       bytes written in response bodies
//	davshare_auth_failures_total                     logins refused: wrong user name or password
//	davshare_auth_throttled_total                    logins refused by the throttle (429)
//	davshare_notifications_fetched_total             notification resources sent to clients (GET 200)
//	davshare_locks_active                            locks held (lock.Store.Len)
//	davshare_shares                                  shares, once cmd wires ShareCount (see GaugeFunc)
//
// plus the Go runtime and process collectors. The method label is one of
// the methods davshare knows or "OTHER", so a client cannot grow the label
// set by inventing methods.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	bytesIn      *prometheus.CounterVec
	bytesOut     *prometheus.CounterVec
	authFailures prometheus.Counter
	throttled    prometheus.Counter
	notesFetched prometheus.Counter
}

// NewMetrics returns a Metrics with every metric registered.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davshare_http_requests_total",
			Help: "HTTP requests answered, by method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "davshare_http_request_duration_seconds",
			Help:    "Time from the request's arrival to the end of its response, by method.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"method"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davshare_http_request_body_bytes_total",
			Help: "Bytes read from request bodies, by method.",
		}, []string{"method"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davshare_http_response_bytes_total",
			Help: "Bytes written in response bodies, by method.",
		}, []string{"method"}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "davshare_auth_failures_total",
			Help: "Logins refused for a wrong user name or password.",
		}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "davshare_auth_throttled_total",
			Help: "Logins refused with 429 because of too many failures for the user name or the client address.",
		}),
		notesFetched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "davshare_notifications_fetched_total",
			Help: "Notification resources sent to clients (GET answered 200).",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut, m.authFailures, m.throttled, m.notesFetched,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry the metrics live in, for tests and for adding
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// GaugeFunc registers a gauge whose value fn reports at each scrape, such
// as davshare_locks_active (registered by New) or davshare_shares (for cmd
// to register with the sharing store's count once sharing is wired).
// Registering a name again replaces the earlier function, so a restarted
// Server can reuse its Metrics.
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) error {
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn)
	err := m.reg.Register(g)
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		m.reg.Unregister(dup.ExistingCollector)
		err = m.reg.Register(g)
	}
	return err
}

// Limiter wraps the login limiter (nil for none) so that refusals are
// counted: a Record without success is an authentication failure, an Allow
// that refuses is a throttled login. A nil Metrics returns inner.
func (m *Metrics) Limiter(inner auth.Limiter) auth.Limiter {
	if m == nil {
		return inner
	}
	return &countingLimiter{m: m, inner: inner}
}

type countingLimiter struct {
	m     *Metrics
	inner auth.Limiter
}

func (l *countingLimiter) Allow(r *http.Request, user auth.Username) (time.Duration, bool) {
	if l.inner == nil {
		return 0, true
	}
	d, ok := l.inner.Allow(r, user)
	if !ok {
		l.m.throttled.Inc()
	}
	return d, ok
}

func (l *countingLimiter) Record(r *http.Request, user auth.Username, success bool) {
	if !success {
		l.m.authFailures.Inc()
	}
	if l.inner != nil {
		l.inner.Record(r, user, success)
	}
}

// knownMethods are the method label values; anything else is "OTHER".
var knownMethods = map[string]bool{
	"GET": true, "HEAD": true, "PUT": true, "DELETE": true, "OPTIONS": true, "POST": true,
	"PROPFIND": true, "PROPPATCH": true, "MKCOL": true, "COPY": true, "MOVE": true,
	"LOCK": true, "UNLOCK": true, "REPORT": true,
}

func methodLabel(m string) string {
	if knownMethods[m] {
		return m
	}
	return "OTHER"
}

// observe records one finished request; the access log calls it.
func (m *Metrics) observe(r *http.Request, status int, in, out int64, d time.Duration) {
	if m == nil {
		return
	}
	method := methodLabel(r.Method)
	m.requests.WithLabelValues(method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method).Observe(d.Seconds())
	if in > 0 {
		m.bytesIn.WithLabelValues(method).Add(float64(in))
	}
	if out > 0 {
		m.bytesOut.WithLabelValues(method).Add(float64(out))
	}
	if status == http.StatusOK && r.Method == http.MethodGet && isNotification(r.URL.Path) {
		m.notesFetched.Inc()
	}
}

// isNotification reports a notification resource (not its collection).
func isNotification(p string) bool {
	rest, ok := strings.CutPrefix(p, notificationsPrefix)
	if !ok {
		return false
	}
	_, name, _ := strings.Cut(rest, "/")
	return name != "" && !strings.HasSuffix(name, "/")
}
