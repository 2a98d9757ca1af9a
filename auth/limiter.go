package auth

import (
	"cmp"
	"crypto/sha256"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults for LimiterOptions, and for the [auth] section of the
// configuration.
const (
	DefaultMaxUserFailures    = 10
	DefaultMaxAddressFailures = 50
	DefaultFailureWindow      = 5 * time.Minute
	// DefaultLimiterEntries bounds each of the limiter's two tables (user
	// names, client addresses). An entry costs well under 100 bytes.
	DefaultLimiterEntries = 10000
	// DefaultMaxInFlight is generous for real clients: rclone, Finder and
	// sync tools open a few dozen connections at most.
	DefaultMaxInFlight = 64
)

// LimiterOptions configures NewLimiter.
type LimiterOptions struct {
	// MaxUserFailures is how many failed logins one user name may collect
	// within Window, from any address, before further attempts for it are
	// refused. Zero or less turns the per-user limit off.
	MaxUserFailures int
	// MaxAddressFailures is the same for one client address, whatever user
	// names it tries. Zero or less turns the per-address limit off.
	MaxAddressFailures int
	// Window is the period over which failures are counted; zero means
	// DefaultFailureWindow.
	Window time.Duration
	// TrustForwardedFor takes the client address from the last entry of
	// X-Forwarded-For, as appended by the one reverse proxy in front of the
	// server. Leave it off unless such a proxy exists and overwrites or
	// appends the header: otherwise every client picks its own address.
	TrustForwardedFor bool
	// MaxEntries bounds each table; zero means DefaultLimiterEntries.
	MaxEntries int
	// MaxInFlight bounds the password checks under way at once for one user
	// name or one address; zero means DefaultMaxInFlight. It is the most a
	// burst of concurrent guesses can overshoot a full bucket by.
	MaxInFlight int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// RateLimiter is the Limiter davshare uses: a leaky bucket of failed logins
// per user name and per client address.
//
// Only failures fill a bucket; a password check under way counts as in
// flight, and at most MaxInFlight may be under way per user name and per
// address. So a client that logs in on many connections at once (every
// WebDAV client does) is never refused for its own successes, while a burst
// of concurrent guesses overshoots a full bucket by at most MaxInFlight, and
// an overshoot only makes the wait longer: the long-run rate stays max per
// Window. (Credentials already verified never reach the limiter: see
// Authenticator.Middleware.) A bucket drains continuously at
// max/Window, so a user who mistyped a few times recovers by waiting, and a
// guesser who has filled a bucket gets one more attempt every Window/max
// (30 s with the defaults): at most max attempts per Window on average, for
// ever. Allow refuses while a bucket would overflow, and says how long until
// it will not.
//
// A refused user name is refused for everyone, the right password included:
// only that stops a guesser with many addresses, and it reveals nothing (an
// unknown name is throttled exactly like a known one). The price is that a
// stranger can keep a known user name locked out by failing one login every
// Window/max; the per-address limit makes that cost one address per
// MaxAddressFailures failures. Successful logins do not reset the counters:
// WebDAV clients authenticate every request, so a reset would give a guesser
// a fresh allowance after each of the victim's requests, and an insider could
// clear their own address's bucket with their own account.
//
// Memory is bounded: keys are fixed-size digests of the user name and the
// address (IPv6 addresses count per /64, the smallest block a host gets), an
// empty bucket is dropped at once, and a full table makes room by dropping
// its drained entries or, failing that, the emptiest one.
type RateLimiter struct {
	trustXFF bool
	now      func() time.Time

	mu       sync.Mutex
	users    *buckets // nil when off
	addrs    *buckets // nil when off
	inflight map[key]int
	maxIn    int
}

var _ Limiter = (*RateLimiter)(nil)

// NewLimiter returns a RateLimiter for opts.
func NewLimiter(opts LimiterOptions) *RateLimiter {
	if opts.Window <= 0 {
		opts.Window = DefaultFailureWindow
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultLimiterEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	return &RateLimiter{
		trustXFF: opts.TrustForwardedFor,
		now:      opts.Now,
		inflight: make(map[key]int),
		maxIn:    opts.MaxInFlight,
		users:    newBuckets(opts.MaxUserFailures, opts.Window, opts.MaxEntries),
		addrs:    newBuckets(opts.MaxAddressFailures, opts.Window, opts.MaxEntries),
	}
}

// Allow implements Limiter. It refuses when the user name's or the client
// address's bucket is full, or too many of their checks are under way, and
// otherwise counts the attempt in flight until Record.
func (l *RateLimiter) Allow(r *http.Request, user Username) (time.Duration, bool) {
	uk, ak := userKey(user), l.addrKey(r)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := max(l.users.wait(uk, now), l.addrs.wait(ak, now))
	if wait > 0 {
		return wait, false
	}
	if (l.users != nil && l.inflight[uk] >= l.maxIn) || (l.addrs != nil && l.inflight[ak] >= l.maxIn) {
		return time.Second, false // checks under way end within a second
	}
	l.inflight[uk]++
	l.inflight[ak]++
	return 0, true
}

// Record implements Limiter: the attempt is no longer in flight, and a
// failure fills both buckets.
func (l *RateLimiter) Record(r *http.Request, user Username, success bool) {
	uk, ak := userKey(user), l.addrKey(r)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range [...]key{uk, ak} {
		if l.inflight[k]--; l.inflight[k] <= 0 {
			delete(l.inflight, k)
		}
	}
	if !success {
		l.users.add(uk, now, 1)
		l.addrs.add(ak, now, 1)
	}
}

// Len returns the number of user names and addresses tracked, for tests and
// metrics.
func (l *RateLimiter) Len() (users, addrs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.users.len(), l.addrs.len()
}

// ClientAddr is the address the limiter counts r against: the host of
// r.RemoteAddr, or with TrustForwardedFor the last X-Forwarded-For entry.
func (l *RateLimiter) ClientAddr(r *http.Request) string {
	if l.trustXFF {
		if vals := r.Header.Values("X-Forwarded-For"); len(vals) > 0 {
			last := vals[len(vals)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return a.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type key [16]byte

func userKey(user Username) key {
	sum := sha256.Sum256([]byte(user))
	return key(sum[:16])
}

func (l *RateLimiter) addrKey(r *http.Request) key {
	s := l.ClientAddr(r)
	a, err := netip.ParseAddr(s)
	if err != nil {
		// Not an IP address (a Unix socket, a test): count the text.
		sum := sha256.Sum256([]byte("addr\x00" + s))
		return key(sum[:16])
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return key(a.As16())
}

// buckets is one table of leaky buckets.
type buckets struct {
	max  float64
	rate float64 // failures drained per second
	size int
	m    map[key]bucket
}

type bucket struct {
	level float64
	at    time.Time
}

func newBuckets(max int, window time.Duration, size int) *buckets {
	if max <= 0 {
		return nil
	}
	return &buckets{
		max:  float64(max),
		rate: float64(max) / window.Seconds(),
		size: size,
		m:    make(map[key]bucket),
	}
}

func (b *buckets) level(bk bucket, now time.Time) float64 {
	return max(0, bk.level-b.rate*now.Sub(bk.at).Seconds())
}

// wait returns how long until k's bucket has room for one more failure;
// zero when it has now.
func (b *buckets) wait(k key, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	bk, ok := b.m[k]
	if !ok {
		return 0
	}
	over := b.level(bk, now) - (b.max - 1)
	if over <= 1e-9 {
		return 0
	}
	return time.Duration(over / b.rate * float64(time.Second))
}

// add changes k's level by delta, dropping the entry once it is empty.
func (b *buckets) add(k key, now time.Time, delta float64) {
	if b == nil {
		return
	}
	bk, ok := b.m[k]
	lvl := delta
	if ok {
		lvl += b.level(bk, now)
	}
	if lvl <= 1e-9 {
		delete(b.m, k)
		return
	}
	if !ok && len(b.m) >= b.size {
		b.makeRoom(now)
	}
	b.m[k] = bucket{level: lvl, at: now}
}

// makeRoom drops every drained entry and, when that leaves the table more
// than 7/8 full, the emptiest entries down to 7/8, so that flooding the table
// with new keys cannot push out a full bucket before emptier ones. Dropping
// an eighth at a time keeps the cost per new key low under a flood.
func (b *buckets) makeRoom(now time.Time) {
	type entry struct {
		k   key
		lvl float64
	}
	live := make([]entry, 0, len(b.m))
	for k, bk := range b.m {
		if lvl := b.level(bk, now); lvl > 1e-9 {
			live = append(live, entry{k, lvl})
		} else {
			delete(b.m, k)
		}
	}
	keep := b.size - b.size/8 - 1
	if len(live) <= keep {
		return
	}
	slices.SortFunc(live, func(x, y entry) int { return cmp.Compare(x.lvl, y.lvl) })
	for _, e := range live[:len(live)-keep] {
		delete(b.m, e.k)
	}
}

func (b *buckets) len() int {
	if b == nil {
		return 0
	}
	return len(b.m)
}
