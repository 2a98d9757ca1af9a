package sharing

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/internal/davxml"
	"github.com/davshare/davshare/notify"
	"github.com/google/uuid"
)

// Mode is how a new share reaches its sharee (spec §7.1).
type Mode string

// Sharing modes.
const (
	// ModeInvite sends a share-invite-notification the sharee answers.
	ModeInvite Mode = "invite"
	// ModeInstant mounts the share in the sharee's instant folder at once.
	ModeInstant Mode = "instant"
)

// Accounts is what sharing needs from the account store.
type Accounts interface {
	Lookup(name auth.Username) (auth.Account, bool)
	LookupEmail(email string) (auth.Account, bool)
	List() []auth.Account
}

// Notifier delivers and withdraws notifications; *notify.Store implements
// it. Names are deterministic per (share, sharee), so a new delivery
// replaces the earlier one (spec §5.1 coalescing).
type Notifier interface {
	Deliver(ctx context.Context, user, name string, p notify.Payload) (notify.Info, error)
	Delete(ctx context.Context, user, name string) error
}

// Options configures a Manager.
type Options struct {
	Trees    dsfs.TreeOpener // required: the users' home trees
	Accounts Accounts        // required
	Notifier Notifier        // nil: no notifications are sent
	Store    Store           // nil: XattrStore
	Mode     Mode            // default ModeInvite
	// InstantFolder is the folder of a sharee's home that holds instant
	// shares (default "Shared").
	InstantFolder string
	// HideSharees hides the other sharees from a sharee's DAV:invite
	// (config sharing.sharees_see_sharees = false; spec §13).
	HideSharees bool
	// VerifyInterval is how often Watch checks that every original is
	// still where the records say (default 2s).
	VerifyInterval time.Duration
	Logger         *slog.Logger
	Now            func() time.Time
}

// share is one shared original in memory.
type share struct {
	rec  Share
	path string // current path of the original in the owner's tree
	dir  bool
}

// Manager holds every share in memory, loaded from disk at Open, and keeps
// the records on disk in step: each mutation is serialised by mu and
// persisted before it returns. Reads on the request path (Mounts and the
// PROPFIND lookups) use an immutable snapshot and never do I/O.
//
// Manager implements fs.MountSource, fs.Observer and notify.InviteReplier.
type Manager struct {
	opts  Options
	store Store
	log   *slog.Logger

	mu     sync.Mutex
	shares map[ShareID]*share
	tables map[string]map[ShareID]MountEntry // sharee → mount table

	snap atomic.Pointer[snapshot]
	kick chan struct{} // asks Watch for a verification pass soon
	bg   sync.WaitGroup
}

var (
	_ dsfs.MountSource     = (*Manager)(nil)
	_ dsfs.Observer        = (*Manager)(nil)
	_ notify.InviteReplier = (*Manager)(nil)
)

// snapshot is the read side, rebuilt after every mutation.
type snapshot struct {
	mounts map[string][]dsfs.Mount                  // sharee → mounts sorted by path
	byLoc  map[string]*shareView                    // locKey(owner, path)
	byID   map[ShareID]*shareView                   //
	roots  map[string][]string                      // owner → original paths
	props  map[string]map[ShareID][]davxml.Property // sharee → per-instance props
}

// shareView is an immutable copy of a share for readers.
type shareView struct {
	id      ShareID
	owner   string
	path    string
	dir     bool
	sharees []Sharee
}

func locKey(owner, p string) string { return owner + "\x00" + p }

// Open loads every share of every account from disk, reconciles the
// derived records with the share records and delivers the invitations a
// kill left undelivered (see doc.go).
func Open(ctx context.Context, o Options) (*Manager, error) {
	if o.Trees == nil || o.Accounts == nil {
		return nil, errors.New("sharing: Trees and Accounts are required")
	}
	if o.Store == nil {
		o.Store = XattrStore{}
	}
	if o.Mode == "" {
		o.Mode = ModeInvite
	}
	if o.Mode != ModeInvite && o.Mode != ModeInstant {
		return nil, fmt.Errorf("sharing: unknown mode %q", o.Mode)
	}
	o.InstantFolder = strings.Trim(o.InstantFolder, "/")
	if o.InstantFolder == "" {
		o.InstantFolder = "Shared"
	}
	if o.VerifyInterval <= 0 {
		o.VerifyInterval = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{
		opts:   o,
		store:  o.Store,
		log:    o.Logger,
		shares: map[ShareID]*share{},
		tables: map[string]map[ShareID]MountEntry{},
		kick:   make(chan struct{}, 1),
	}
	var out outbox
	m.mu.Lock()
	users := o.Accounts.List()
	for _, a := range users {
		m.loadOwner(string(a.Name))
	}
	for _, a := range users {
		m.loadTable(string(a.Name))
	}
	m.reconcileTables()
	m.redeliverLocked(&out)
	m.resolvePendingLocked(&out, users)
	m.rebuild()
	m.mu.Unlock()
	out.send(ctx, m)
	return m, nil
}

// Close waits for background work started by account events.
func (m *Manager) Close() error {
	m.bg.Wait()
	return nil
}

func (m *Manager) tree(user string) (*dsfs.Tree, error) { return m.opts.Trees.Tree(user) }

// loadOwner reads the owner's registry and each share record it names;
// records not found where the registry says are searched for in the home.
func (m *Manager) loadOwner(owner string) {
	t, err := m.tree(owner)
	if err != nil {
		m.log.Error("sharing: open home", "user", owner, "err", err)
		return
	}
	b, err := m.store.Get(t, "/", keyRegistry)
	if err != nil {
		if !errors.Is(err, ErrNoRecord) {
			m.log.Error("sharing: read registry", "user", owner, "err", err)
		}
		return
	}
	reg, err := decodeRegistry(b)
	if err != nil {
		m.log.Warn("sharing: registry unreadable; shares of this user are not loaded", "user", owner, "err", err)
		return
	}
	missing := map[ShareID]bool{}
	for id, p := range reg {
		if rec := m.readShare(t, p); rec != nil && rec.ID == id && rec.Owner == owner {
			m.addLoaded(rec, t, p)
			continue
		}
		missing[id] = true
	}
	if len(missing) > 0 {
		m.store.Find(t, keyShare, func(name string, v []byte) bool {
			rec, err := decodeShare(v)
			if err == nil && missing[rec.ID] && rec.Owner == owner {
				m.addLoaded(rec, t, name)
				delete(missing, rec.ID)
			}
			return len(missing) > 0
		})
		for id := range missing {
			m.log.Warn("sharing: a shared original is gone; dropping its share", "owner", owner, "share", id)
		}
		if err := m.saveRegistry(owner); err != nil {
			m.log.Error("sharing: write registry", "user", owner, "err", err)
		}
	}
}

func (m *Manager) readShare(t *dsfs.Tree, p string) *Share {
	b, err := m.store.Get(t, p, keyShare)
	if err != nil {
		return nil
	}
	rec, err := decodeShare(b)
	if err != nil {
		m.log.Warn("sharing: share record unreadable", "owner", t.Owner, "path", p, "err", err)
		return nil
	}
	return rec
}

func (m *Manager) addLoaded(rec *Share, t *dsfs.Tree, p string) {
	if len(rec.Sharees) == 0 {
		return
	}
	sh := &share{rec: *rec, path: p}
	if fi, err := t.Fs.Stat(p); err == nil {
		sh.dir = fi.IsDir()
	}
	m.shares[rec.ID] = sh
}

func (m *Manager) loadTable(user string) {
	t, err := m.tree(user)
	if err != nil {
		return
	}
	b, err := m.store.Get(t, "/", keyMounts)
	if err != nil {
		return
	}
	tab, err := decodeMounts(b)
	if err != nil {
		m.log.Warn("sharing: mount table unreadable; rebuilding it from the share records", "user", user, "err", err)
		return
	}
	m.tables[user] = tab
}

// reconcileTables makes every mount table agree with the share records:
// entries the records do not list as accepted at that path are dropped,
// accepted instances missing from a table are added.
func (m *Manager) reconcileTables() {
	want := map[string]map[ShareID]string{}
	for id, sh := range m.shares {
		for _, e := range sh.rec.Sharees {
			if e.Status == StatusAccepted && e.User != "" && e.Instance != "" {
				if want[e.User] == nil {
					want[e.User] = map[ShareID]string{}
				}
				want[e.User][id] = e.Instance
			}
		}
	}
	users := map[string]bool{}
	for u := range want {
		users[u] = true
	}
	for u := range m.tables {
		users[u] = true
	}
	for u := range users {
		tab, changed := m.tables[u], false
		if tab == nil {
			tab = map[ShareID]MountEntry{}
		}
		for id, e := range tab {
			if p, ok := want[u][id]; !ok || p != e.Path {
				delete(tab, id)
				changed = true
			}
		}
		for id, p := range want[u] {
			if _, ok := tab[id]; !ok {
				tab[id] = MountEntry{Path: p, Owner: m.shares[id].rec.Owner}
				changed = true
			}
		}
		m.tables[u] = tab
		if changed {
			if err := m.saveTable(u); err != nil {
				m.log.Error("sharing: write mount table", "user", u, "err", err)
			}
		}
	}
}

// Persistence. Callers hold mu. The share record is written first; the
// registry and mount tables are derived from it and repaired at Open.

func (m *Manager) saveShare(sh *share) error {
	t, err := m.tree(sh.rec.Owner)
	if err != nil {
		return err
	}
	if len(sh.rec.Sharees) == 0 {
		err := m.store.Remove(t, sh.path, keyShare)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	b, err := encodeShare(&sh.rec)
	if err != nil {
		return err
	}
	return m.store.Set(t, sh.path, keyShare, b)
}

func (m *Manager) saveRegistry(owner string) error {
	t, err := m.tree(owner)
	if err != nil {
		return err
	}
	reg := map[ShareID]string{}
	for id, sh := range m.shares {
		if sh.rec.Owner == owner {
			reg[id] = sh.path
		}
	}
	if len(reg) == 0 {
		return m.store.Remove(t, "/", keyRegistry)
	}
	b, err := encodeRegistry(reg)
	if err != nil {
		return err
	}
	return m.store.Set(t, "/", keyRegistry, b)
}

func (m *Manager) saveTable(user string) error {
	t, err := m.tree(user)
	if err != nil {
		return err
	}
	tab := m.tables[user]
	if len(tab) == 0 {
		delete(m.tables, user)
		return m.store.Remove(t, "/", keyMounts)
	}
	b, err := encodeMounts(tab)
	if err != nil {
		return err
	}
	return m.store.Set(t, "/", keyMounts, b)
}

// rebuild publishes a new snapshot of the in-memory state. Callers hold mu.
func (m *Manager) rebuild() {
	s := &snapshot{
		mounts: map[string][]dsfs.Mount{},
		byLoc:  map[string]*shareView{},
		byID:   map[ShareID]*shareView{},
		roots:  map[string][]string{},
		props:  map[string]map[ShareID][]davxml.Property{},
	}
	for id, sh := range m.shares {
		v := &shareView{id: id, owner: sh.rec.Owner, path: sh.path, dir: sh.dir,
			sharees: append([]Sharee(nil), sh.rec.Sharees...)}
		s.byID[id] = v
		s.byLoc[locKey(v.owner, v.path)] = v
		s.roots[v.owner] = append(s.roots[v.owner], v.path)
		for _, e := range sh.rec.Sharees {
			if e.Status != StatusAccepted || e.User == "" || e.Instance == "" {
				continue
			}
			s.mounts[e.User] = append(s.mounts[e.User], dsfs.Mount{
				Path: e.Instance, Owner: v.owner, Target: v.path,
				ReadOnly: e.Access != AccessReadWrite, ID: string(id),
			})
		}
	}
	for u, ms := range s.mounts {
		sort.Slice(ms, func(i, j int) bool { return ms[i].Path < ms[j].Path })
		s.mounts[u] = ms
	}
	for u, tab := range m.tables {
		for id, e := range tab {
			if len(e.Props) > 0 {
				if s.props[u] == nil {
					s.props[u] = map[ShareID][]davxml.Property{}
				}
				s.props[u][id] = e.Props
			}
		}
	}
	m.snap.Store(s)
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Mounts implements fs.MountSource from the snapshot: no I/O, no lock. The
// slice is shared and must not be modified.
func (m *Manager) Mounts(ctx context.Context, user string) ([]dsfs.Mount, error) {
	return m.snap.Load().mounts[user], nil
}

// newID mints a share id.
func newID() ShareID { return ShareID(uuid.NewString()) }

// inviteName is the deterministic name of the invite notification of a
// (share, sharee) pair (spec §5.1).
func inviteName(id ShareID, user string) string {
	n := "share-" + string(id) + "-" + user + ".xml"
	if notify.ValidName(n) {
		return n
	}
	return notify.NameFor("share", string(id), user)
}

// replyName is the name of the reply notification to the sharer (§5.4).
func replyName(id ShareID, user string) string {
	n := "reply-" + string(id) + "-" + user + ".xml"
	if notify.ValidName(n) {
		return n
	}
	return notify.NameFor("reply", string(id), user)
}

// PrincipalHref is the canonical principal URL of a local user (§3.8).
func PrincipalHref(user string) string { return "/dav/principals/" + user + "/" }

// FilesHref is the URL path of a name in a user's files space.
func FilesHref(user, name string, dir bool) string {
	h := "/dav/files/" + user + name
	if dir && !strings.HasSuffix(h, "/") {
		h += "/"
	}
	return h
}
