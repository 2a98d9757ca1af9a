package auth

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Defaults for AuthOptions.
const (
	DefaultCacheTTL  = 5 * time.Minute
	DefaultCacheSize = 4096
	DefaultRealm     = "davshare"
)

// AuthOptions tunes an Authenticator. The zero value gives the defaults.
type AuthOptions struct {
	// CacheTTL is how long a successful verification is remembered; zero
	// means DefaultCacheTTL, a negative value disables the cache.
	CacheTTL time.Duration
	// CacheSize bounds the number of remembered verifications; zero means
	// DefaultCacheSize, a negative value disables the cache.
	CacheSize int
	// Realm is the realm of the Basic challenge; empty means DefaultRealm.
	Realm string
	// Limiter, when set, throttles login attempts. Nil throttles nothing.
	Limiter Limiter
}

// Authenticator checks user names and passwords against a Store.
// It is safe for concurrent use.
type Authenticator struct {
	store     *Store
	logger    *slog.Logger
	challenge string // the WWW-Authenticate value
	limiter   Limiter
	fakeHash  []byte       // compared for unknown users
	cache     *verifyCache // nil when disabled

	compares atomic.Int64 // bcrypt comparisons made, read by tests
	connHits atomic.Int64 // requests let through by connCached, read by tests
}

// NewAuthenticator returns an Authenticator over store. It computes one bcrypt
// hash, the stand-in compared for unknown users.
func NewAuthenticator(store *Store, opts AuthOptions) *Authenticator {
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultCacheTTL
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.Realm == "" {
		opts.Realm = DefaultRealm
	}
	a := &Authenticator{
		store:     store,
		logger:    store.logger,
		challenge: `Basic realm=` + quote(opts.Realm) + `, charset="UTF-8"`,
		limiter:   opts.Limiter,
		fakeHash:  fakeHash(store.hashCost()),
	}
	if opts.CacheTTL > 0 && opts.CacheSize > 0 {
		a.cache = newVerifyCache(opts.CacheTTL, opts.CacheSize)
	}
	return a
}

// fakeHash returns the hash of a random password at the given cost, so that
// comparing against it takes as long as comparing against a real one and
// never succeeds.
func fakeHash(cost int) []byte {
	h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		panic("auth: bcrypt: " + err.Error()) // only for an invalid cost, which Store never has
	}
	return h
}

// Verify reports whether password is the password of user, and returns the
// account, without its PasswordHash, when it is. Unknown users cost the same
// bcrypt comparison as known ones. Successes are cached (see the package
// documentation); failures never are.
func (a *Authenticator) Verify(user, password string) (Account, bool) {
	acct, _, ok := a.verify(user, password)
	acct.PasswordHash = ""
	return acct, ok
}

// verify is Verify that also says until when the success counts without
// another bcrypt (the zero time when nothing is cached). The account's
// PasswordHash is the hash the password was verified against.
func (a *Authenticator) verify(user, password string) (Account, time.Time, bool) {
	if password == "" || len(password) > MaxPasswordBytes {
		// Never valid (bcrypt would compare only the first 72 bytes), and
		// refusing early says nothing about whether user exists.
		return Account{}, time.Time{}, false
	}
	if acct, expires, ok := a.cached(user, password); ok {
		return acct, expires, true
	}
	name := Username(user)
	acct, known := a.store.Lookup(name)
	hash := a.fakeHash
	if known {
		hash = []byte(acct.PasswordHash)
	}
	a.compares.Add(1)
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil || !known {
		return Account{}, time.Time{}, false
	}
	var expires time.Time
	if a.cache != nil {
		expires = a.cache.put(a.cache.key(user, password), name, acct.PasswordHash)
	}
	return acct, expires, true
}

// cached returns the account, with the hash the password was verified
// against, when these credentials were verified recently and the account's
// password has not changed since; it costs no bcrypt.
func (a *Authenticator) cached(user, password string) (Account, time.Time, bool) {
	if a.cache == nil || password == "" || len(password) > MaxPasswordBytes {
		return Account{}, time.Time{}, false
	}
	return a.cache.get(a.cache.key(user, password), Username(user), a.store)
}

// cacheKey is HMAC-SHA256(per-process key, user "\x00" password).
type cacheKey [sha256.Size]byte

type cacheEntry struct {
	key     cacheKey
	user    Username
	hash    string // the PasswordHash the password was verified against
	expires time.Time
}

// verifyCache remembers successful verifications, least recently used first
// out when full.
type verifyCache struct {
	secret []byte
	ttl    time.Duration
	size   int
	now    func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]*list.Element // of *cacheEntry
	lru     list.List                  // front: most recently used
}

func newVerifyCache(ttl time.Duration, size int) *verifyCache {
	secret := make([]byte, 32)
	rand.Read(secret) // never fails; see crypto/rand
	return &verifyCache{
		secret:  secret,
		ttl:     ttl,
		size:    size,
		now:     time.Now,
		entries: make(map[cacheKey]*list.Element),
	}
}

func (c *verifyCache) key(user, password string) cacheKey {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var k cacheKey
	m.Sum(k[:0])
	return k
}

// get returns the account when key was verified for user before, has not
// expired, and the account still exists with the hash it was verified
// against. An entry that fails any of these is dropped.
func (c *verifyCache) get(key cacheKey, user Username, store *Store) (Account, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return Account{}, time.Time{}, false
	}
	e := el.Value.(*cacheEntry)
	acct, exists := store.Lookup(user)
	if e.user != user || !exists || acct.PasswordHash != e.hash || !c.now().Before(e.expires) {
		c.lru.Remove(el)
		delete(c.entries, key)
		return Account{}, time.Time{}, false
	}
	c.lru.MoveToFront(el)
	return acct, e.expires, true
}

// put remembers a verification and returns when it expires.
func (c *verifyCache) put(key cacheKey, user Username, hash string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &cacheEntry{key: key, user: user, hash: hash, expires: c.now().Add(c.ttl)}
	if el, ok := c.entries[key]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return e.expires
	}
	for c.lru.Len() >= c.size {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
	}
	c.entries[key] = c.lru.PushFront(e)
	return e.expires
}

func (c *verifyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
