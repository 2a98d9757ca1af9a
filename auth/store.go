package auth

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Store is the account list of one data directory. Reads are served from
// memory; every write goes through accounts.json under the directory's lock
// (see the package documentation), so several Stores on one directory, in
// one process or several, never lose each other's changes. Changes made by
// other processes become visible after [Store.Watch] has noticed them.
//
// A Store is safe for concurrent use.
type Store struct {
	dir    string
	logger *slog.Logger
	cost   int // bcrypt cost; tests lower it

	// writeMu serialises this Store's writes and reloads, so that the
	// snapshot only moves forward and events are queued in file order. The
	// flock alone would do across processes; within one it spares blocked
	// threads and covers filesystems whose flock is per process.
	writeMu sync.Mutex

	mu    sync.RWMutex
	snap  snapshot
	stamp fileStamp // of the file snap was loaded from or written to

	events eventQueue
}

// snapshot is an immutable view of the accounts.
type snapshot struct {
	sorted  []Account
	byName  map[Username]Account
	byEmail map[string]Username
}

func newSnapshot(accts []Account) snapshot {
	s := snapshot{
		sorted:  slices.Clone(accts),
		byName:  make(map[Username]Account, len(accts)),
		byEmail: make(map[string]Username, len(accts)),
	}
	sortAccounts(s.sorted)
	for _, a := range s.sorted {
		s.byName[a.Name] = a
		if a.Email != "" { // only hand-edited files lack one
			s.byEmail[emailKey(a.Email)] = a.Name
		}
	}
	return s
}

// Open loads the accounts of dataDir, creating the directory (0750) if it
// does not exist yet. A missing accounts.json is an empty account list; the
// file is created by the first write. A nil logger discards.
func Open(dataDir string, logger *slog.Logger) (*Store, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("auth: no data directory given")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	s := &Store{dir: dataDir, logger: logger, cost: bcrypt.DefaultCost}
	accts, stamp, err := readAccounts(s.path())
	if err != nil {
		return nil, err
	}
	s.snap, s.stamp = newSnapshot(accts), stamp
	return s, nil
}

// SetHashCost changes the bcrypt cost of passwords hashed from now on.
// Production keeps bcrypt.DefaultCost; test suites that create many
// accounts lower it to bcrypt.MinCost. Existing hashes keep their cost.
func (s *Store) SetHashCost(cost int) error {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return fmt.Errorf("%w: bcrypt cost %d outside %d..%d", ErrInvalid, cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	s.mu.Lock()
	s.cost = cost
	s.mu.Unlock()
	return nil
}

func (s *Store) path() string { return filepath.Join(s.dir, accountsFile) }

// Add creates an account and the user's home DIR/files/NAME/ and
// notification collection DIR/notifications/NAME/ (0750) when they do not
// exist yet. An empty displayName defaults to the user name. Errors wrap
// ErrInvalid (bad name, address, display name or password) or ErrExists (the
// name or, case-insensitively, the address is taken).
func (s *Store) Add(name Username, email, displayName, password string) (Account, error) {
	if err := ValidateUsername(name); err != nil {
		return Account{}, err
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return Account{}, err
	}
	displayName, err = normalizeDisplayName(displayName, name)
	if err != nil {
		return Account{}, err
	}
	hash, err := s.hash(password) // outside the lock: bcrypt is slow on purpose
	if err != nil {
		return Account{}, err
	}
	acct := Account{
		Name:         name,
		Email:        email,
		DisplayName:  displayName,
		PasswordHash: hash,
		Created:      time.Now().UTC().Truncate(time.Second),
	}
	err = s.update(func(accts []Account) ([]Account, error) {
		for _, a := range accts {
			if a.Name == name {
				return nil, fmt.Errorf("%w: the username %q is taken", ErrExists, name)
			}
			if emailKey(a.Email) == emailKey(email) {
				return nil, fmt.Errorf("%w: the email address %q is already used by %q", ErrExists, email, a.Name)
			}
		}
		if err := s.makeHome(name); err != nil {
			return nil, err
		}
		return append(accts, acct), nil
	})
	if err != nil {
		return Account{}, err
	}
	s.logger.Info("auth: account added", "user", name)
	return acct, nil
}

func (s *Store) makeHome(name Username) error {
	for _, area := range []string{"files", "notifications"} {
		if err := os.MkdirAll(filepath.Join(s.dir, area, string(name)), 0o750); err != nil {
			return fmt.Errorf("auth: creating the %s directory of %q: %w", area, name, err)
		}
	}
	return nil
}

// SetPassword replaces the password of an existing account. Cached
// verifications of the old password stop counting at once. Errors wrap
// ErrInvalid or ErrNotFound.
func (s *Store) SetPassword(name Username, password string) error {
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	err = s.update(func(accts []Account) ([]Account, error) {
		i := slices.IndexFunc(accts, func(a Account) bool { return a.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		accts[i].PasswordHash = hash
		return accts, nil
	})
	if err == nil {
		s.logger.Info("auth: password changed", "user", name)
	}
	return err
}

// Delete removes the account name. It removes only the login: the user's
// files (DIR/files/NAME) and notifications (DIR/notifications/NAME) are left
// in place, because a NAS admin must never lose data by removing a login;
// adding the name again gives them back. The error wraps ErrNotFound when
// there is no such account.
func (s *Store) Delete(name Username) error {
	err := s.update(func(accts []Account) ([]Account, error) {
		i := slices.IndexFunc(accts, func(a Account) bool { return a.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		return slices.Delete(accts, i, i+1), nil
	})
	if err == nil {
		s.logger.Info("auth: account deleted; its files are kept", "user", name)
	}
	return err
}

// List returns all accounts sorted by name.
func (s *Store) List() []Account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.snap.sorted)
}

// Lookup returns the account called name.
func (s *Store) Lookup(name Username) (Account, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.snap.byName[name]
	return a, ok
}

// LookupEmail returns the account with the address email, compared
// case-insensitively.
func (s *Store) LookupEmail(email string) (Account, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	name, ok := s.snap.byEmail[emailKey(strings.TrimSpace(email))]
	if !ok {
		return Account{}, false
	}
	return s.snap.byName[name], true
}

// Len returns the number of accounts.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.snap.sorted)
}

func (s *Store) hashCost() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cost
}

func (s *Store) hash(password string) (string, error) {
	if err := ValidatePassword(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.hashCost())
	if err != nil {
		return "", fmt.Errorf("auth: hashing the password: %w", err)
	}
	return string(h), nil
}

// update runs one read-modify-write of accounts.json: under the lock it reads
// the file as it is now (not this Store's possibly stale copy), lets fn change
// the list, writes the result atomically and installs it here. Subscribers
// hear of the change after every lock is released.
func (s *Store) update(fn func([]Account) ([]Account, error)) error {
	err := func() error {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
		unlock, err := lockDir(s.dir)
		if err != nil {
			return err
		}
		defer unlock()
		accts, stamp, err := readAccounts(s.path())
		if err != nil {
			return err
		}
		changed, err := fn(slices.Clone(accts))
		if err != nil {
			s.install(accts, stamp) // what was read is newer than what we had
			return err
		}
		accts = changed
		stamp, err = writeAccounts(s.dir, accts)
		if err != nil {
			return err
		}
		s.install(accts, stamp)
		return nil
	}()
	s.events.deliver()
	return err
}

// reloadIfChanged re-reads accounts.json when its stamp differs from the one
// last loaded. It returns the stamp it looked at, so the watcher can log a
// broken file once rather than at every tick.
func (s *Store) reloadIfChanged() (fileStamp, error) {
	stamp, err := statFile(s.path())
	if err != nil {
		return stamp, fmt.Errorf("auth: %w", err)
	}
	s.mu.RLock()
	same := stamp == s.stamp
	s.mu.RUnlock()
	if same {
		return stamp, nil
	}
	err = func() error {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
		var accts []Account
		accts, stamp, err = readAccounts(s.path())
		if err != nil {
			return err
		}
		if ev := s.install(accts, stamp); !ev.empty() {
			s.logger.Info("auth: accounts reloaded", "added", len(ev.Added),
				"removed", len(ev.Removed), "changed", len(ev.Changed), "total", len(accts))
		}
		return nil
	}()
	s.events.deliver()
	return stamp, err
}

// install makes accts the current snapshot and queues the event that
// describes the difference, which it returns. The caller holds writeMu.
func (s *Store) install(accts []Account, stamp fileStamp) Event {
	next := newSnapshot(accts)
	s.mu.Lock()
	prev := s.snap
	s.snap, s.stamp = next, stamp
	s.mu.Unlock()
	ev := diff(prev, next)
	if !ev.empty() {
		s.events.push(ev)
	}
	return ev
}
