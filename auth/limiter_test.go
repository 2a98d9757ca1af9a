package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// testClock is a settable clock for the limiter.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func reqFrom(addr string) *http.Request {
	r := httptest.NewRequest("PROPFIND", "/dav/files/alice/", nil)
	r.RemoteAddr = addr
	return r
}

// fail makes one attempt that fails and reports whether it was allowed.
func fail(l *RateLimiter, addr string, user Username) bool {
	r := reqFrom(addr)
	if _, ok := l.Allow(r, user); !ok {
		return false
	}
	l.Record(r, user, false)
	return true
}

func TestLimiterPerUser(t *testing.T) {
	clk := newClock()
	l := NewLimiter(LimiterOptions{MaxUserFailures: 10, MaxAddressFailures: 1000, Window: 5 * time.Minute, Now: clk.now})
	for i := range 10 {
		// From a different address each time: only the user limit counts.
		if !fail(l, fmt.Sprintf("192.0.2.%d:1000", i), "alice") {
			t.Fatalf("failure %d refused; the first 10 must be allowed", i+1)
		}
	}
	retry, ok := l.Allow(reqFrom("198.51.100.7:1"), "alice")
	if ok {
		t.Fatal("the 11th attempt within the window was allowed")
	}
	if retry < 29*time.Second || retry > 30*time.Second {
		t.Errorf("Retry-After %v, want about Window/max = 30s", retry)
	}
	// Others are not affected.
	if _, ok := l.Allow(reqFrom("198.51.100.7:1"), "bob"); !ok {
		t.Error("bob is throttled because of alice's failures")
	}
	// The bucket drains: one more attempt every 30 s.
	clk.advance(retry)
	if !fail(l, "198.51.100.7:1", "alice") {
		t.Fatal("no attempt allowed after Retry-After")
	}
	if _, ok := l.Allow(reqFrom("198.51.100.7:1"), "alice"); ok {
		t.Error("a second attempt right after the drained one was allowed")
	}
	// After the whole window, the full allowance is back.
	clk.advance(5 * time.Minute)
	for i := range 10 {
		if !fail(l, "198.51.100.8:1", "alice") {
			t.Fatalf("after a quiet window, failure %d refused", i+1)
		}
	}
}

func TestLimiterPerAddress(t *testing.T) {
	clk := newClock()
	l := NewLimiter(LimiterOptions{MaxUserFailures: 10, MaxAddressFailures: 50, Now: clk.now})
	for i := range 50 {
		if !fail(l, "203.0.113.9:4000", Username(fmt.Sprintf("user%d", i))) {
			t.Fatalf("failure %d refused; the first 50 must be allowed", i+1)
		}
	}
	if _, ok := l.Allow(reqFrom("203.0.113.9:4001"), "fresh"); ok {
		t.Error("the address was not throttled after 50 failures (another port is the same client)")
	}
	if _, ok := l.Allow(reqFrom("203.0.113.10:4000"), "fresh"); !ok {
		t.Error("another address is throttled")
	}
}

func TestLimiterSuccessIsFree(t *testing.T) {
	clk := newClock()
	l := NewLimiter(LimiterOptions{MaxUserFailures: 3, MaxAddressFailures: 3, Now: clk.now})
	for i := range 1000 {
		r := reqFrom("192.0.2.1:1")
		if _, ok := l.Allow(r, "alice"); !ok {
			t.Fatalf("success %d was throttled", i)
		}
		l.Record(r, "alice", true)
	}
	if u, a := l.Len(); u != 0 || a != 0 {
		t.Errorf("successes left %d user and %d address entries, want none", u, a)
	}
	// Two failures then a success: the success does not erase the failures.
	fail(l, "192.0.2.1:1", "alice")
	fail(l, "192.0.2.1:1", "alice")
	r := reqFrom("192.0.2.1:1")
	if _, ok := l.Allow(r, "alice"); !ok {
		t.Fatal("the right password after 2 of 3 failures was throttled")
	}
	l.Record(r, "alice", true)
	if !fail(l, "192.0.2.1:1", "alice") {
		t.Fatal("third failure refused")
	}
	if _, ok := l.Allow(reqFrom("192.0.2.2:1"), "alice"); ok {
		t.Error("a success reset the failure count")
	}
}

func TestLimiterOff(t *testing.T) {
	l := NewLimiter(LimiterOptions{})
	for range 1000 {
		if !fail(l, "192.0.2.1:1", "alice") {
			t.Fatal("a limiter with both limits off refused an attempt")
		}
	}
	if u, a := l.Len(); u != 0 || a != 0 {
		t.Errorf("a limiter that is off tracks %d users and %d addresses", u, a)
	}
}

func TestLimiterClientAddress(t *testing.T) {
	tests := []struct {
		name       string
		trust      bool
		remote     string
		xff        []string
		want       string
		sameBucket string // another remote address that must share the bucket
	}{
		{name: "IPv4 host", remote: "192.0.2.1:5555", want: "192.0.2.1"},
		{name: "XFF ignored by default", remote: "192.0.2.1:5555", xff: []string{"203.0.113.5"}, want: "192.0.2.1"},
		{name: "XFF last entry when trusted", trust: true, remote: "10.0.0.1:80", xff: []string{"1.1.1.1, 203.0.113.5"}, want: "203.0.113.5"},
		{name: "XFF last header when trusted", trust: true, remote: "10.0.0.1:80", xff: []string{"1.1.1.1", "203.0.113.6"}, want: "203.0.113.6"},
		{name: "XFF garbage falls back", trust: true, remote: "10.0.0.1:80", xff: []string{"1.1.1.1, nonsense"}, want: "10.0.0.1"},
		{name: "IPv6 counts per /64", remote: "[2001:db8:1:2::1]:443", want: "2001:db8:1:2::1", sameBucket: "[2001:db8:1:2:ffff::9]:1"},
		{name: "IPv4-mapped IPv6 is IPv4", remote: "[::ffff:192.0.2.1]:1", want: "::ffff:192.0.2.1", sameBucket: "192.0.2.1:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLimiter(LimiterOptions{MaxAddressFailures: 1, TrustForwardedFor: tt.trust})
			r := reqFrom(tt.remote)
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := l.ClientAddr(r); got != tt.want {
				t.Errorf("ClientAddr = %q, want %q", got, tt.want)
			}
			if tt.sameBucket != "" {
				fail(l, tt.remote, "x")
				if _, ok := l.Allow(reqFrom(tt.sameBucket), "y"); ok {
					t.Errorf("%s and %s are counted apart", tt.remote, tt.sameBucket)
				}
			}
		})
	}
}

// TestLimiterBoundedMemory floods the tables with distinct names and
// addresses: they stay within MaxEntries, and a victim's full bucket is not
// pushed out by the flood of emptier ones.
func TestLimiterBoundedMemory(t *testing.T) {
	clk := newClock()
	l := NewLimiter(LimiterOptions{MaxUserFailures: 5, MaxAddressFailures: 5, MaxEntries: 500, Now: clk.now})
	for range 5 {
		fail(l, "198.51.100.1:1", "victim")
	}
	for i := range 50000 {
		fail(l, fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255), Username(fmt.Sprintf("flood-%d", i)))
		if i%1000 == 0 {
			clk.advance(time.Second)
		}
	}
	u, a := l.Len()
	if u > 500 || a > 500 {
		t.Errorf("tables hold %d users and %d addresses, want at most 500 each", u, a)
	}
	if _, ok := l.Allow(reqFrom("192.0.2.99:1"), "victim"); ok {
		t.Error("the flood evicted the victim's full bucket")
	}
	// Once everything has drained, the tables empty themselves as they are used.
	clk.advance(time.Hour)
	fail(l, "192.0.2.1:1", "after")
	if u, _ := l.Len(); u > 500 {
		t.Errorf("%d user entries after draining", u)
	}
}

// TestLimiterConcurrent: a burst of concurrent guesses overshoots a full
// bucket by at most MaxInFlight, and the overshoot only lengthens the wait,
// so the long-run rate stays MaxUserFailures per Window.
func TestLimiterConcurrent(t *testing.T) {
	clk := newClock()
	l := NewLimiter(LimiterOptions{MaxUserFailures: 10, MaxAddressFailures: 1000, MaxInFlight: 16, Now: clk.now})
	var allowed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 200 {
		wg.Go(func() {
			<-start
			r := reqFrom(fmt.Sprintf("192.0.2.%d:1", i%250))
			if _, ok := l.Allow(r, "alice"); ok {
				allowed.Add(1)
				time.Sleep(time.Millisecond) // the password check
				l.Record(r, "alice", false)
			}
		})
	}
	close(start)
	wg.Wait()
	n := allowed.Load()
	if n < 10 || n > 10+16 {
		t.Fatalf("%d concurrent guesses allowed, want 10 to 26", n)
	}
	retry, ok := l.Allow(reqFrom("192.0.2.1:1"), "alice")
	perFailure := DefaultFailureWindow / 10
	if ok || retry < time.Duration(n-10)*perFailure {
		t.Fatalf("after %d failures: allowed %v, retry %v, want a refusal for at least %v", n, ok, retry, time.Duration(n-10)*perFailure)
	}
}

// TestLimiterManyLoginsAtOnce: a client that opens many connections with
// the right password at once (rclone, Finder, a sync tool) is never refused,
// even with no verification cache to help.
func TestLimiterManyLoginsAtOnce(t *testing.T) {
	s := openTest(t, t.TempDir())
	mustAdd(t, s, "alice", "alice@example.org", "pw")
	lim := NewLimiter(LimiterOptions{MaxUserFailures: 10, MaxAddressFailures: 50})
	h := NewAuthenticator(s, AuthOptions{Limiter: lim, CacheTTL: -1}).Middleware(whoami)
	var refused atomic.Int64
	var wg sync.WaitGroup
	for range DefaultMaxInFlight {
		wg.Go(func() {
			r := httptest.NewRequest("GET", "/", nil)
			r.SetBasicAuth("alice", "pw")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if n := refused.Load(); n != 0 {
		t.Fatalf("%d of %d concurrent right logins refused", n, DefaultMaxInFlight)
	}
}

// TestLimiterMiddleware runs the limiter behind the real Middleware: 429 with
// Retry-After, an unknown user throttled exactly like a known one (so the
// throttle reveals nothing), and a throttled user refused even with the right
// password.
func TestLimiterMiddleware(t *testing.T) {
	s := openTest(t, t.TempDir())
	mustAdd(t, s, "alice", "alice@example.org", "pw")
	clk := newClock()
	lim := NewLimiter(LimiterOptions{MaxUserFailures: 3, MaxAddressFailures: 100, Now: clk.now})
	h := NewAuthenticator(s, AuthOptions{Limiter: lim}).Middleware(whoami)
	do := func(user, pw, addr string) *httptest.ResponseRecorder {
		r := reqFrom(addr)
		r.SetBasicAuth(user, pw)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, user := range []string{"alice", "nobody"} {
		var codes []int
		for i := range 5 {
			codes = append(codes, do(user, "wrong", fmt.Sprintf("192.0.2.%d:1", i)).Code)
		}
		if want := []int{401, 401, 401, 429, 429}; !slices.Equal(codes, want) {
			t.Errorf("%s: statuses %v, want %v", user, codes, want)
		}
	}
	w := do("alice", "pw", "198.51.100.1:1")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "100" {
		t.Errorf("right password for a throttled user: %d Retry-After %q, want 429 and 100 (s)", w.Code, w.Header().Get("Retry-After"))
	}
	clk.advance(100 * time.Second)
	if w := do("alice", "pw", "198.51.100.1:1"); w.Code != http.StatusOK {
		t.Errorf("right password after Retry-After: %d, want 200", w.Code)
	}
}

// TestFakeHashRunsBcrypt is the structural half of the timing defence: an
// unknown user costs one bcrypt comparison against a hash of the Store's
// cost, exactly as a known user with a wrong password does.
func TestFakeHashRunsBcrypt(t *testing.T) {
	s := openTest(t, t.TempDir())
	mustAdd(t, s, "alice", "alice@example.org", "pw")
	a := NewAuthenticator(s, AuthOptions{CacheTTL: -1})
	acct, _ := s.Lookup("alice")
	realCost, err := bcrypt.Cost([]byte(acct.PasswordHash))
	if err != nil {
		t.Fatal(err)
	}
	if fakeCost, err := bcrypt.Cost(a.fakeHash); err != nil || fakeCost != realCost {
		t.Fatalf("fake hash cost %d (%v), want the real hashes' %d", fakeCost, err, realCost)
	}
	for _, user := range []string{"alice", "nobody", "", "Alice"} {
		before := a.compares.Load()
		if _, ok := a.Verify(user, "wrong"); ok {
			t.Fatalf("Verify(%q, wrong) succeeded", user)
		}
		if n := a.compares.Load() - before; n != 1 {
			t.Errorf("Verify(%q, wrong) ran %d bcrypt comparisons, want 1", user, n)
		}
	}
	// The fake hash never matches, not even the empty password's stand-ins.
	if _, ok := a.Verify("nobody", "x"); ok {
		t.Error("an unknown user verified")
	}
}

// TestVerifyTimingUnknownUser compares the median time of verifying an
// unknown user with that of a known user and a wrong password. Both run one
// bcrypt comparison at the same cost, so they must be within a generous
// factor; a path that skipped bcrypt for unknown users would be hundreds of
// times faster.
func TestVerifyTimingUnknownUser(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	s := openTest(t, t.TempDir())
	// openTest already uses bcrypt.MinCost: about 1 ms a comparison, many
	// more under -race, and still far above the noise of the other work.: large against the noise, cheap enough
	mustAdd(t, s, "alice", "alice@example.org", "right")
	a := NewAuthenticator(s, AuthOptions{CacheTTL: -1})
	const samples = 25
	var known, unknown []time.Duration
	for i := range 2 * samples {
		user := "alice"
		if i%2 == 1 {
			user = fmt.Sprintf("nobody%d", i)
		}
		start := time.Now()
		if _, ok := a.Verify(user, "wrong"); ok {
			t.Fatal("Verify succeeded")
		}
		d := time.Since(start)
		if i%2 == 1 {
			unknown = append(unknown, d)
		} else {
			known = append(known, d)
		}
	}
	median := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	mk, mu := median(known), median(unknown)
	t.Logf("median: known user, wrong password %v; unknown user %v", mk, mu)
	if ratio := float64(mu) / float64(mk); ratio < 1.0/3 || ratio > 3 {
		t.Errorf("unknown user median %v vs known user median %v: ratio %.2f outside [1/3, 3]", mu, mk, ratio)
	}
}
