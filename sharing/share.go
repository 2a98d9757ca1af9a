package sharing

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/notify"
	"github.com/spf13/afero"
)

// outbox collects the notifications of one mutation; they are sent after
// the records are on disk and the lock is released. If the mutation is
// refused instead, cancel drops them and undoes the folders it made.
type outbox struct {
	deliver []delivery
	remove  []removal
	made    []madeFolder // instant folders created on the way
}

type madeFolder struct {
	tree *dsfs.Tree
	dir  string
}

// cancel drops what a refused change would have sent, and removes the
// instant folders it made if they are still empty. Callers hold mu.
func (o *outbox) cancel(m *Manager) {
	for _, f := range o.made {
		if err := f.tree.Fs.Remove(f.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
			m.log.Warn("sharing: remove instant folder of a refused share", "dir", f.dir, "err", err)
		}
	}
	*o = outbox{}
}

type delivery struct {
	user, name string
	p          notify.Payload
	// share is set for a pending invitation: the record marks it
	// Undelivered until it is sent (markDelivered).
	share ShareID
}

type removal struct{ user, name string }

func (o *outbox) send(ctx context.Context, m *Manager) {
	if m.opts.Notifier == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, r := range o.remove {
		if err := m.opts.Notifier.Delete(ctx, r.user, r.name); err != nil && !errors.Is(err, notify.ErrNotFound) {
			m.log.Warn("sharing: withdraw notification", "user", r.user, "name", r.name, "err", err)
		}
	}
	var sent []delivery
	for _, d := range o.deliver {
		if _, err := m.opts.Notifier.Deliver(ctx, d.user, d.name, d.p); err != nil {
			m.log.Error("sharing: deliver notification", "user", d.user, "name", d.name, "err", err)
			continue // still marked: the next Open delivers it
		}
		if d.share != "" {
			sent = append(sent, d)
		}
	}
	m.markDelivered(sent)
}

// markDelivered clears Undelivered on the entries whose invitation was
// just sent, one record write per share. An entry that changed meanwhile
// (answered, revoked, or re-invited with another access) is left alone:
// the mutation that changed it settles the flag. Callers do not hold mu.
func (m *Manager) markDelivered(sent []delivery) {
	if len(sent) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	byShare := map[ShareID][]delivery{}
	for _, d := range sent {
		byShare[d.share] = append(byShare[d.share], d)
	}
	changed := false
	for id, ds := range byShare {
		sh := m.shares[id]
		if sh == nil {
			continue
		}
		next := *sh
		next.rec.Sharees = append([]Sharee(nil), sh.rec.Sharees...)
		dirty := false
		for _, d := range ds {
			i := m.findUser(&next, d.user)
			if i < 0 {
				continue
			}
			e := &next.rec.Sharees[i]
			inv, _ := d.p.(*notify.ShareInvite)
			if e.Undelivered && e.Status == StatusNoResponse && e.Invite == d.name && inv != nil && inv.Access == notify.Access(e.Access) {
				e.Undelivered = false
				dirty = true
			}
		}
		if !dirty {
			continue
		}
		if err := m.saveShare(&next); err != nil {
			// Still marked on disk: the next Open delivers it once more,
			// under the same name.
			m.log.Error("sharing: write share record", "share", id, "err", err)
			continue
		}
		*sh = next
		changed = true
	}
	if changed {
		m.rebuild()
	}
}

// redeliverLocked queues the invitations that records still mark
// Undelivered: a kill came between the record and the notification, or
// the delivery failed. Only Open calls it, before any request is served:
// at any other time the invitation may be on its way, or already ignored.
// Callers hold mu.
func (m *Manager) redeliverLocked(o *outbox) {
	for _, sh := range m.shares {
		for i := range sh.rec.Sharees {
			e := &sh.rec.Sharees[i]
			if !e.Undelivered || e.User == "" || e.Status != StatusNoResponse {
				continue
			}
			if _, ok := m.opts.Accounts.Lookup(auth.Username(e.User)); !ok {
				continue
			}
			m.log.Info("sharing: delivering an invitation left undelivered before this start", "share", sh.rec.ID, "user", e.User)
			m.invite(o, sh, e, e.Access)
		}
	}
}

// invite queues a share-invite-notification for e (RS-04 §4.6.1): pending
// with a reply-url, or an update of an accepted share (or a revocation,
// access AccessNone) without one.
func (m *Manager) invite(o *outbox, sh *share, e *Sharee, access Access) {
	if e.User == "" {
		return
	}
	name := inviteName(sh.rec.ID, e.User)
	inv := &notify.ShareInvite{
		Principal:         notify.Principal{Href: PrincipalHref(sh.rec.Owner)},
		Status:            notify.InviteAccepted,
		SharerResourceURI: sh.rec.ID.URI(),
		Access:            notify.Access(access),
		Comment:           e.Comment,
	}
	if a, ok := m.opts.Accounts.Lookup(auth.Username(sh.rec.Owner)); ok && a.DisplayName != "" {
		inv.Principal.Prop = &notify.Props{DisplayName: a.DisplayName}
	}
	d := delivery{user: e.User, name: name, p: inv}
	if access != AccessNone {
		inv.Prop = resourceProps(sh)
		if e.Status == StatusNoResponse {
			inv.Status = notify.InviteNoResponse
			inv.ReplyURL = notify.MemberURL(e.User, name)
			e.Invite = name
			// The record that asks for the invitation is written before
			// it is sent, and says so until it is (crash safety).
			e.Undelivered = true
			d.share = sh.rec.ID
		}
	}
	o.deliver = append(o.deliver, d)
}

// resourceProps describes the shared resource in an invite (spec §5.1).
func resourceProps(sh *share) *notify.Props {
	p := &notify.Props{DisplayName: path.Base(sh.path), ResourceType: []xml.Name{}}
	if sh.dir {
		p.ResourceType = []xml.Name{{Space: nsDAV, Local: "collection"}}
	} else if ct := mime.TypeByExtension(strings.ToLower(path.Ext(sh.path))); ct != "" {
		p.ContentType = ct
	} else {
		p.ContentType = "application/octet-stream"
	}
	return p
}

// reply queues a share-reply-notification to the sharer (RS-04 §4.6.2).
func (m *Manager) reply(o *outbox, sh *share, e *Sharee, st notify.InviteStatus, comment string) {
	o.deliver = append(o.deliver, delivery{user: sh.rec.Owner, name: replyName(sh.rec.ID, e.User), p: &notify.ShareReply{
		Sharee:  e.Href,
		Status:  st,
		Href:    (&url.URL{Path: FilesHref(sh.rec.Owner, sh.path, sh.dir)}).EscapedPath(),
		Comment: comment,
	}})
}

// withdraw queues the deletion of a pending invite notification.
func (m *Manager) withdraw(o *outbox, sh *share, e *Sharee) {
	if e.User != "" && e.Status == StatusNoResponse {
		o.remove = append(o.remove, removal{e.User, inviteName(sh.rec.ID, e.User)})
	}
}

// resolved is a sharee href after resolution (spec §4.2 step 7).
type resolved struct {
	href, user, email string
	// pending: a mailto: address with no account yet (spec §7.2); it waits
	// for the account rather than being invalid.
	pending bool
}

// key identifies the sharee across hrefs: mailto: and principal URLs of
// one account are the same sharee.
func (r resolved) key() string {
	if r.user != "" {
		return "u:" + r.user
	}
	return "h:" + r.href
}

func entryKey(e *Sharee) string {
	if e.User != "" {
		return "u:" + e.User
	}
	return "h:" + e.Href
}

// resolve maps a sharee href to a local account where it names one:
// principal URLs (/dav/principals/u/, absolute http(s) forms, and the
// /principals/users/u/ alias) and mailto: addresses of accounts.
func (m *Manager) resolve(href string) resolved {
	u, err := url.Parse(href)
	if err != nil {
		return resolved{href: href}
	}
	if strings.EqualFold(u.Scheme, "mailto") {
		addr := strings.ToLower(strings.TrimSpace(u.Opaque))
		if a, err := url.PathUnescape(addr); err == nil {
			addr = a
		}
		if a, ok := m.opts.Accounts.LookupEmail(addr); ok {
			return resolved{href: PrincipalHref(string(a.Name)), user: string(a.Name), email: addr}
		}
		return resolved{href: "mailto:" + addr, email: addr, pending: strings.Contains(addr, "@")}
	}
	if u.Scheme != "" && !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return resolved{href: href}
	}
	p := u.Path
	var name string
	switch {
	case strings.HasPrefix(p, "/dav/principals/"):
		name = strings.TrimPrefix(p, "/dav/principals/")
	case strings.HasPrefix(p, "/principals/users/"):
		name = strings.TrimPrefix(p, "/principals/users/")
	default:
		return resolved{href: href}
	}
	name = strings.TrimSuffix(name, "/")
	if name == "" || strings.Contains(name, "/") || auth.ValidateUsername(auth.Username(name)) != nil {
		return resolved{href: href}
	}
	if _, ok := m.opts.Accounts.Lookup(auth.Username(name)); ok {
		return resolved{href: PrincipalHref(name), user: name}
	}
	return resolved{href: PrincipalHref(name)}
}

// Share applies a DAV:share-resource POST by caller to the resource at loc
// (RS-04 §4.3, spec §4.2). Everything is validated before anything
// changes; then records are written and notifications sent. The caller
// (the server) has already answered 404 for a missing target and 415 for a
// wrong media type.
func (m *Manager) Share(ctx context.Context, caller string, loc dsfs.Location, body []byte) error {
	if loc.Mount != nil || loc.Tree == nil || loc.Tree.Owner != caller {
		return ErrNeedShare // a sharee instance never carries DAV:share (§2.2)
	}
	if loc.Path == "/" || reservedName(loc.Path) {
		return ErrNotShareable
	}
	fi, err := lstat(loc.Tree.Fs, loc.Path)
	if err != nil {
		return err
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		// Devices, FIFOs and sockets a shell left behind; and links: a
		// share's view is confined to the original, so a sharee would find
		// nothing behind one.
		return ErrNotShareable
	}
	reqs, err := ParseShareResource(body)
	if err != nil {
		return err
	}
	type item struct {
		req ShareeRequest
		r   resolved
	}
	// Later entries for the same sharee win (spec §9 #18); keep the
	// position of the last one.
	var items []item
	idx := map[string]int{}
	for _, q := range reqs {
		r := m.resolve(q.Href)
		if r.user == caller {
			return ErrSelf
		}
		if i, ok := idx[r.key()]; ok {
			items[i].req.Access = "" // superseded
		}
		idx[r.key()] = len(items)
		items = append(items, item{q, r})
	}

	var out outbox
	m.mu.Lock()
	defer func() {
		m.mu.Unlock()
		out.send(ctx, m)
	}()
	owner := caller
	var sh *share
	for _, s := range m.shares {
		if s.rec.Owner == owner && s.path == loc.Path {
			sh = s
		}
	}
	for _, s := range m.shares {
		if s != sh && s.rec.Owner == owner && (within(s.path, loc.Path) || within(loc.Path, s.path)) {
			return ErrNotShareable // nested shares are refused (spec §13)
		}
	}
	isNew := sh == nil
	if isNew {
		sh = &share{rec: Share{ID: newID(), Owner: owner, Created: m.opts.Now().Unix()}, path: loc.Path}
	}
	sh.dir = fi.IsDir()
	next := *sh
	next.rec.Sharees = append([]Sharee(nil), sh.rec.Sharees...)
	touched := map[string]bool{} // sharees whose mount table changes
	now := m.opts.Now().Unix()
	for _, it := range items {
		q, r := it.req, it.r
		if q.Access == "" {
			continue
		}
		i := -1
		for j := range next.rec.Sharees {
			if entryKey(&next.rec.Sharees[j]) == r.key() {
				i = j
			}
		}
		if q.Access == AccessNone {
			if i < 0 {
				continue // revoking a non-sharee is a no-op (spec §9 #17)
			}
			e := next.rec.Sharees[i]
			switch {
			case e.Status == StatusAccepted && e.User != "":
				touched[e.User] = true
				m.invite(&out, &next, &e, AccessNone)
			case e.Status == StatusNoResponse:
				m.withdraw(&out, &next, &e)
			}
			next.rec.Sharees = append(next.rec.Sharees[:i], next.rec.Sharees[i+1:]...)
			continue
		}
		if i < 0 {
			e := Sharee{Href: r.href, User: r.user, Email: r.email, Access: q.Access, Status: StatusInvalid,
				DisplayName: q.DisplayName, Comment: q.Comment, Updated: now}
			m.offer(&out, &next, &e, r, touched)
			next.rec.Sharees = append(next.rec.Sharees, e)
			continue
		}
		e := &next.rec.Sharees[i]
		changed := e.Access != q.Access
		e.Access = q.Access
		if q.DisplayName != "" {
			e.DisplayName = q.DisplayName
		}
		if q.HasComment {
			e.Comment = q.Comment
		}
		switch {
		case e.Status == StatusDeclined || e.Status == StatusInvalid:
			// Re-share after a decline: a fresh invitation (spec §9 #21).
			e.Status, e.Instance, e.Updated = StatusInvalid, "", now
			m.offer(&out, &next, e, r, touched)
		case !changed:
			// The same access again: nothing to tell (spec §9 #19).
		case e.Status == StatusAccepted:
			e.Updated = now
			m.invite(&out, &next, e, e.Access) // mount follows from the record
		case e.Status == StatusNoResponse:
			e.Updated = now
			m.invite(&out, &next, e, e.Access) // rewrites the invite in place
		}
	}
	// Commit: the share record first, then the registry and mount tables.
	if isNew && len(next.rec.Sharees) == 0 {
		out.cancel(m)
		return nil
	}
	if isNew {
		m.shares[next.rec.ID] = &next
		if err := m.saveRegistry(owner); err != nil {
			delete(m.shares, next.rec.ID)
			out.cancel(m)
			return err
		}
	}
	if err := m.saveShare(&next); err != nil {
		if isNew {
			delete(m.shares, next.rec.ID)
			m.saveRegistry(owner)
		}
		out.cancel(m)
		return err
	}
	*sh = next
	if isNew {
		m.shares[next.rec.ID] = sh
	}
	if len(sh.rec.Sharees) == 0 {
		delete(m.shares, sh.rec.ID)
		if err := m.saveRegistry(owner); err != nil {
			m.log.Error("sharing: write registry", "user", owner, "err", err)
		}
	}
	m.syncTables(touched)
	m.rebuild()
	return nil
}

// offer gives e (status invalid until decided here) its first or renewed
// invitation: pending with an invite in invite mode, mounted at once in
// instant mode, pending without a notification for an unknown mailto:, or
// invalid.
func (m *Manager) offer(o *outbox, sh *share, e *Sharee, r resolved, touched map[string]bool) {
	switch {
	case e.User == "" && r.user != "":
		e.User, e.Href = r.user, r.href
		fallthrough
	case e.User != "":
		if m.opts.Mode == ModeInstant {
			if p, err := m.instantPath(o, sh, e.User); err == nil {
				e.Status, e.Instance = StatusAccepted, p
				touched[e.User] = true
				return
			} else {
				m.log.Error("sharing: instant share", "user", e.User, "err", err)
			}
		}
		e.Status = StatusNoResponse
		m.invite(o, sh, e, e.Access)
	case r.pending:
		e.Status = StatusNoResponse // waits for an account (spec §7.2)
	default:
		e.Status = StatusInvalid
	}
}

// syncTables brings the named sharees' mount tables in line with the share
// records and persists them. Callers hold mu.
func (m *Manager) syncTables(users map[string]bool) {
	for u := range users {
		tab := m.tables[u]
		if tab == nil {
			tab = map[ShareID]MountEntry{}
		}
		want := map[ShareID]string{}
		for id, sh := range m.shares {
			for _, e := range sh.rec.Sharees {
				if e.User == u && e.Status == StatusAccepted && e.Instance != "" {
					want[id] = e.Instance
				}
			}
		}
		for id, e := range tab {
			if p, ok := want[id]; !ok {
				delete(tab, id)
			} else if p != e.Path {
				e.Path = p
				tab[id] = e
			}
		}
		for id, p := range want {
			if _, ok := tab[id]; !ok {
				tab[id] = MountEntry{Path: p, Owner: m.shares[id].rec.Owner}
			}
		}
		m.tables[u] = tab
		if err := m.saveTable(u); err != nil {
			m.log.Error("sharing: write mount table", "user", u, "err", err)
		}
	}
}

// instantPath creates the instant folder if needed (noting it in o, so
// that a refused change removes it) and picks a free name in it (spec
// §7.1).
func (m *Manager) instantPath(o *outbox, sh *share, user string) (string, error) {
	t, err := m.tree(user)
	if err != nil {
		return "", err
	}
	dir := "/" + m.opts.InstantFolder
	switch fi, err := t.Fs.Stat(dir); {
	case errors.Is(err, os.ErrNotExist):
		if err := t.Fs.Mkdir(dir, 0o750); err != nil {
			return "", err
		}
		o.made = append(o.made, madeFolder{t, dir})
	case err != nil:
		return "", err
	case !fi.IsDir():
		return "", &os.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
	}
	return m.freeName(user, t, dir, path.Base(sh.path)), nil
}

// freeName returns dir/name, or dir/name (2), (3)… when taken by a file of
// the home or by a mount (spec §13). Callers hold mu.
func (m *Manager) freeName(user string, t *dsfs.Tree, dir, name string) string {
	taken := func(p string) bool {
		if _, err := t.Fs.Stat(p); err == nil {
			return true
		}
		for _, sh := range m.shares {
			for _, e := range sh.rec.Sharees {
				if e.User == user && e.Status == StatusAccepted && e.Instance == p {
					return true
				}
			}
		}
		return false
	}
	base := name
	for n := 2; ; n++ {
		p := path.Join(dir, name)
		if !taken(p) || n > 10000 {
			return p
		}
		// The suffix must not push the name past what a path may hold
		// (requests with longer names are refused).
		suffix := fmt.Sprintf(" (%d)", n)
		name = fitName(base, dsfs.MaxNameBytes-len(suffix)) + suffix
	}
}

// fitName cuts s to at most max bytes, at a character boundary.
func fitName(s string, max int) string {
	for len(s) > max {
		_, size := lastRune(s)
		s = s[:len(s)-size]
	}
	return s
}

// sanitizeSlug makes a client's slug a safe single name (spec §5.2 step 5):
// no slashes or control characters, not "." or "..", not one of the
// server's reserved names, at most 200 bytes. "" means "use the default".
func sanitizeSlug(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return -1
		}
		return r
	}, s)
	s = fitName(strings.TrimSpace(s), 200)
	if s == "." || s == ".." || reservedName(s) {
		return ""
	}
	return s
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

// resolvePendingLocked turns pending mailto: entries whose address now has
// an account into invitations (or instant mounts). Callers hold mu.
func (m *Manager) resolvePendingLocked(o *outbox, added []auth.Account) {
	byEmail := map[string]string{}
	for _, a := range added {
		if a.Email != "" {
			byEmail[strings.ToLower(a.Email)] = string(a.Name)
		}
	}
	if len(byEmail) == 0 {
		return
	}
	touched := map[string]bool{}
	for _, sh := range m.shares {
		dirty := false
		for i := range sh.rec.Sharees {
			e := &sh.rec.Sharees[i]
			if e.User != "" || e.Email == "" || e.Status != StatusNoResponse {
				continue
			}
			u, ok := byEmail[e.Email]
			if !ok || u == sh.rec.Owner {
				continue
			}
			if dup := m.findUser(sh, u); dup >= 0 {
				continue // already a sharee under another href
			}
			e.Status = StatusInvalid
			m.offer(o, sh, e, resolved{href: PrincipalHref(u), user: u, email: e.Email}, touched)
			e.Updated = m.opts.Now().Unix()
			dirty = true
		}
		if dirty {
			if err := m.saveShare(sh); err != nil {
				m.log.Error("sharing: write share record", "share", sh.rec.ID, "err", err)
			}
		}
	}
	m.syncTables(touched)
}

func (m *Manager) findUser(sh *share, user string) int {
	for i := range sh.rec.Sharees {
		if sh.rec.Sharees[i].User == user {
			return i
		}
	}
	return -1
}

// AccountsChanged follows the account store (auth.Store.Subscribe): an
// account created with an address that has pending invitations receives
// them (spec §7.2). The work runs in the background; Close waits for it.
func (m *Manager) AccountsChanged(ev auth.Event) {
	added := append(append([]auth.Account(nil), ev.Added...), ev.Changed...)
	if len(added) == 0 {
		return
	}
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		var out outbox
		m.mu.Lock()
		m.resolvePendingLocked(&out, added)
		m.rebuild()
		m.mu.Unlock()
		out.send(context.Background(), m)
	}()
}

// lstat does not follow a final link where the file system can tell.
func lstat(fsys afero.Fs, name string) (os.FileInfo, error) {
	if l, ok := fsys.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(name)
		return fi, err
	}
	return fsys.Stat(name)
}
