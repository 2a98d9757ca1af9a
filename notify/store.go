package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Info describes one notification resource without reading it.
type Info struct {
	Name    string
	ETag    string // strong, quoted; a hash of the content
	Size    int64
	ModTime time.Time
	Type    TypeElement // the value of DAV:notificationtype
}

// Options tunes a Store. The zero value is usable.
type Options struct {
	// MaxTombstones bounds the deletions each collection remembers for
	// sync-collection; a token older than the oldest kept one is refused
	// with DAV:valid-sync-token. Default 1000.
	MaxTombstones int
	// RescanInterval is how often Watch rescans every collection as a safety
	// net for missed events (network filesystems, exhausted inotify
	// watches). Default 5 minutes; negative disables it.
	RescanInterval time.Duration
	// Debounce is how long Watch gathers file events before it rescans.
	// Default 50ms.
	Debounce time.Duration
	// Now returns the time for DAV:dtstamp; default time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.MaxTombstones <= 0 {
		o.MaxTombstones = 1000
	}
	if o.RescanInterval == 0 {
		o.RescanInterval = 5 * time.Minute
	}
	if o.Debounce <= 0 {
		o.Debounce = 50 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Store keeps every user's notification collection under
// DIR/notifications/{user}/ and its sync state. It is safe for concurrent
// use. Files that other programs add or remove are picked up by Watch or by
// any rescan.
type Store struct {
	dir  string   // DIR/notifications
	root *os.Root // confines every file operation to dir
	log  *slog.Logger
	opts Options

	mu     sync.Mutex
	users  map[string]*collection
	closed bool
}

// collection is one user's in-memory state; mu serialises everything that
// touches the user's directory or sync state.
type collection struct {
	mu      sync.Mutex
	user    string
	st      *syncState
	invalid map[string]stamp // files skipped as malformed, so we warn once
}

// stamp is what a rescan compares to decide whether a file changed.
type stamp struct {
	size, mtime int64
	ino         uint64
}

func stampOf(fi fs.FileInfo) stamp {
	return stamp{fi.Size(), fi.ModTime().UnixNano(), fileID(fi)}
}

// Dir returns the directory that holds every notification collection.
func Dir(dataDir string) string { return filepath.Join(dataDir, "notifications") }

// Open opens the store under dataDir, creating DIR/notifications if needed,
// and rescans every existing collection so that changes made while the
// server was down are reflected in the sync tokens.
func Open(dataDir string, opts Options, log *slog.Logger) (*Store, error) {
	opts.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := Dir(dataDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("notify: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("notify: open %s: %w", dir, err)
	}
	s := &Store{dir: dir, root: root, log: log, opts: opts, users: map[string]*collection{}}
	s.RescanAll(context.Background())
	return s, nil
}

// Close releases the store. Stop Watch first.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.root.Close()
}

// with runs fn with the user's collection loaded and locked. A missing
// directory is created (the account store normally does that).
func (s *Store) with(ctx context.Context, user string, fn func(c *collection) error) error {
	if err := checkUser(user); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	c := s.users[user]
	if c == nil {
		c = &collection{user: user, invalid: map[string]stamp{}}
		s.users[user] = c
	}
	s.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		if err := s.load(c); err != nil {
			return err
		}
	}
	return fn(c)
}

// load reads the user's sync state and reconciles it with the directory.
func (s *Store) load(c *collection) error {
	if err := s.root.Mkdir(c.user, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("notify: create collection: %w", err)
	}
	data, _, err := readLimited(s.root, path.Join(c.user, stateFile), 64<<20)
	fresh := false
	switch {
	case err == nil:
		st, derr := decodeSyncState(data)
		if derr != nil {
			s.log.Warn("notify: sync state unreadable; starting a new epoch, clients will resync", "user", c.user, "err", derr)
			st, fresh = newSyncState(), true
		}
		c.st = st
	case errors.Is(err, fs.ErrNotExist):
		c.st, fresh = newSyncState(), true
	default:
		return fmt.Errorf("notify: read sync state: %w", err)
	}
	dirty, err := s.rescanLocked(c, nil)
	if err == nil && fresh && !dirty {
		// Keep the new epoch even for an empty collection, so its tokens
		// survive a restart too.
		err = s.persist(c)
	}
	if err != nil {
		c.st = nil
	}
	return err
}

// persist writes the sync state atomically.
func (s *Store) persist(c *collection) error {
	data, err := json.Marshal(c.st)
	if err != nil {
		return err
	}
	if err := writeAtomic(s.root, c.user, stateFile, data); err != nil {
		return fmt.Errorf("notify: write sync state: %w", err)
	}
	return nil
}

// Rescan reconciles one collection with its directory: files added,
// changed or removed by other programs get new sequence numbers.
func (s *Store) Rescan(ctx context.Context, user string) error {
	return s.rescan(ctx, user, nil)
}

func (s *Store) rescan(ctx context.Context, user string, force map[string]bool) error {
	return s.with(ctx, user, func(c *collection) error {
		_, err := s.rescanLocked(c, force)
		return err
	})
}

// RescanAll rescans every collection that has a directory; problems are
// logged per user.
func (s *Store) RescanAll(ctx context.Context) {
	users, err := listUsers(s.root)
	if err != nil {
		s.log.Error("notify: list collections", "err", err)
		return
	}
	for _, u := range users {
		if err := s.Rescan(ctx, u); err != nil && ctx.Err() == nil {
			s.log.Error("notify: rescan", "user", u, "err", err)
		}
	}
}

// rescanLocked lists the directory and reconciles every entry; names in
// force are read again even if their size and time look unchanged. It
// persists the state when anything moved.
func (s *Store) rescanLocked(c *collection, force map[string]bool) (bool, error) {
	d, err := s.root.Open(c.user)
	if err != nil {
		return false, err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return false, err
	}
	dirty := false
	onDisk := make(map[string]bool, len(entries))
	for _, e := range entries {
		name := e.Name()
		if !ValidName(name) || !e.Type().IsRegular() {
			continue
		}
		onDisk[name] = true
		fi, err := e.Info()
		if err != nil {
			continue // vanished meanwhile; handled below
		}
		if !force[name] {
			if m := c.st.Members[name]; m != nil && m.sameFile(fi) {
				continue
			}
			if st, ok := c.invalid[name]; ok && st == stampOf(fi) {
				continue
			}
		}
		_, d, err := s.refreshLocked(c, name)
		if err != nil {
			return dirty, err
		}
		dirty = dirty || d
	}
	for name := range c.st.Members {
		if !onDisk[name] {
			dirty = c.st.remove(name, s.opts.MaxTombstones) || dirty
		}
	}
	for name := range c.invalid {
		if !onDisk[name] {
			delete(c.invalid, name)
		}
	}
	if dirty {
		return true, s.persist(c)
	}
	return false, nil
}

// file is a notification as read from disk.
type file struct {
	data []byte
	n    *Notification
	info Info
}

// refreshLocked reads one file and reconciles the state with it. It
// returns nil (and no error) when the name is not a valid notification on
// disk. dirty says whether the state changed and must be persisted; the
// caller persists.
func (s *Store) refreshLocked(c *collection, name string) (*file, bool, error) {
	data, fi, err := readLimited(s.root, path.Join(c.user, name), MaxDocumentSize)
	if err == nil {
		var n *Notification
		var te TypeElement
		n, te, err = parse(data)
		if err == nil {
			delete(c.invalid, name)
			m := member{ETag: etagOf(data), Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Ino: fileID(fi), Type: typeJSON(te)}
			dirty := true
			if old := c.st.Members[name]; old != nil {
				dirty = old.Size != m.Size || old.MTime != m.MTime || old.Ino != m.Ino
			}
			dirty = c.st.put(name, m) || dirty
			return &file{data: data, n: n, info: c.st.Members[name].info(name)}, dirty, nil
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		delete(c.invalid, name)
	case isMalformed(err):
		if st, seen := c.invalid[name]; !seen || fi == nil || st != stampOf(fi) {
			s.log.Warn("notify: ignoring a file that is not a valid notification", "user", c.user, "name", name, "err", err)
		}
		if fi != nil {
			c.invalid[name] = stampOf(fi)
		}
	default:
		return nil, false, err
	}
	return nil, c.st.remove(name, s.opts.MaxTombstones), nil
}

// etagOf is a strong ETag derived from the content, so it survives
// restarts and is the same for every process that reads the file.
func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// Deliver stores p as the notification name in user's collection, with
// DAV:dtstamp set to now. Delivering again under the same name replaces
// the earlier notification (new ETag, new dtstamp), which is how invites
// and replies coalesce (spec §5.1); use NameFor to derive the name. An
// identical document (same payload within the same second) changes nothing.
func (s *Store) Deliver(ctx context.Context, user, name string, p Payload) (Info, error) {
	if err := checkName(name); err != nil {
		return Info{}, err
	}
	data, err := Build(&Notification{DTStamp: s.opts.Now().UTC().Truncate(time.Second), Payload: p})
	if err != nil {
		return Info{}, err
	}
	_, te, err := parse(data)
	if err != nil {
		return Info{}, fmt.Errorf("notify: built document does not parse: %w", err)
	}
	var info Info
	err = s.with(ctx, user, func(c *collection) error {
		etag := etagOf(data)
		p := path.Join(c.user, name)
		if m := c.st.Members[name]; m != nil && m.ETag == etag {
			if fi, err := s.root.Stat(p); err == nil && m.sameFile(fi) {
				info = m.info(name)
				return nil
			}
		}
		if err := writeAtomic(s.root, c.user, name, data); err != nil {
			return fmt.Errorf("notify: write %s: %w", name, err)
		}
		fi, err := s.root.Stat(p)
		if err != nil {
			return err
		}
		delete(c.invalid, name)
		c.st.put(name, member{ETag: etag, Size: fi.Size(), MTime: fi.ModTime().UnixNano(), Ino: fileID(fi), Type: typeJSON(te)})
		info = c.st.Members[name].info(name)
		return s.persist(c)
	})
	if err == nil {
		s.log.Debug("notify: delivered", "user", user, "name", name, "type", te.Name.Local, "etag", info.ETag)
	}
	return info, err
}

// Delete removes a notification; it disappears for every device, and the
// next sync-collection reports it as removed (NT-03 §4, spec §8.5).
func (s *Store) Delete(ctx context.Context, user, name string) error {
	if err := checkName(name); err != nil {
		return ErrNotFound
	}
	return s.with(ctx, user, func(c *collection) error {
		f, dirty, err := s.refreshLocked(c, name)
		if err != nil {
			return err
		}
		if f == nil {
			if dirty {
				return errors.Join(ErrNotFound, s.persist(c))
			}
			return ErrNotFound
		}
		if err := s.root.Remove(path.Join(c.user, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("notify: delete %s: %w", name, err)
		}
		if err := syncDir(s.root, c.user); err != nil {
			return err
		}
		c.st.remove(name, s.opts.MaxTombstones)
		return s.persist(c)
	})
}

// Get reads and parses one notification.
func (s *Store) Get(ctx context.Context, user, name string) (*Notification, Info, error) {
	f, err := s.read(ctx, user, name)
	if err != nil {
		return nil, Info{}, err
	}
	return f.n, f.info, nil
}

// read returns a notification's bytes, parsed form and Info, after
// reconciling the state with the file (so the ETag always matches the
// bytes, even before the watcher has seen a change).
func (s *Store) read(ctx context.Context, user, name string) (*file, error) {
	if err := checkName(name); err != nil {
		return nil, ErrNotFound
	}
	var f *file
	err := s.with(ctx, user, func(c *collection) error {
		var dirty bool
		var err error
		f, dirty, err = s.refreshLocked(c, name)
		if err != nil {
			return err
		}
		if dirty {
			if err := s.persist(c); err != nil {
				return err
			}
		}
		if f == nil {
			return ErrNotFound
		}
		return nil
	})
	return f, err
}

// List returns the user's notifications sorted by name; with types, only
// those whose type element has one of those names.
func (s *Store) List(ctx context.Context, user string, types ...xml.Name) ([]Info, error) {
	all, _, err := s.snapshot(ctx, user)
	if err != nil || len(types) == 0 {
		return all, err
	}
	return slices.DeleteFunc(all, func(i Info) bool { return !slices.Contains(types, i.Type.Name) }), nil
}

// Stat returns one notification's Info from the sync state, without reading
// the file.
func (s *Store) Stat(ctx context.Context, user, name string) (Info, error) {
	var info Info
	err := s.with(ctx, user, func(c *collection) error {
		m := c.st.Members[name]
		if m == nil {
			return ErrNotFound
		}
		info = m.info(name)
		return nil
	})
	return info, err
}

// Snapshot is a consistent view of a collection for PROPFIND and REPORT.
type Snapshot struct {
	Token string // DAV:sync-token
	ETag  string // the collection's ETag
}

// SyncToken returns the collection's current DAV:sync-token and ETag.
func (s *Store) SyncToken(ctx context.Context, user string) (Snapshot, error) {
	var snap Snapshot
	err := s.with(ctx, user, func(c *collection) error {
		snap = Snapshot{Token: c.st.token(), ETag: c.st.etag()}
		return nil
	})
	return snap, err
}

// Changes answers a sync-collection request (RFC 6578 §3): with an empty
// token every member, otherwise the members added or changed and the names
// removed since token, oldest first, and the token to use next.
// ErrInvalidSyncToken when the token cannot be honoured.
func (s *Store) Changes(ctx context.Context, user, token string) ([]Change, Snapshot, error) {
	var out []Change
	var snap Snapshot
	err := s.with(ctx, user, func(c *collection) error {
		var since uint64
		initial := strings.TrimSpace(token) == ""
		if !initial {
			var err error
			if since, err = c.st.since(token); err != nil {
				return err
			}
		}
		out = c.st.changes(since, initial)
		snap = Snapshot{Token: c.st.token(), ETag: c.st.etag()}
		return nil
	})
	return out, snap, err
}

// CreateCollection makes sure user has a notification collection; the
// account store calls it when it creates an account.
func (s *Store) CreateCollection(ctx context.Context, user string) error {
	return s.with(ctx, user, func(*collection) error { return nil })
}

// forget drops the in-memory state of a user whose directory vanished, so
// the next access starts a new epoch.
func (s *Store) forget(user string) {
	s.mu.Lock()
	delete(s.users, user)
	s.mu.Unlock()
}

// listUsers returns the names of the collection directories under root.
func listUsers(root *os.Root) ([]string, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, e := range entries {
		if e.IsDir() && validUser(e.Name()) {
			users = append(users, e.Name())
		}
	}
	slices.Sort(users)
	return users, nil
}

// snapshot returns every member, sorted by name, with the collection's
// token, under one lock so the two agree.
func (s *Store) snapshot(ctx context.Context, user string) ([]Info, Snapshot, error) {
	var out []Info
	var snap Snapshot
	err := s.with(ctx, user, func(c *collection) error {
		out = make([]Info, 0, len(c.st.Members))
		for name, m := range c.st.Members {
			out = append(out, m.info(name))
		}
		snap = Snapshot{Token: c.st.token(), ETag: c.st.etag()}
		return nil
	})
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out, snap, err
}
