package sharing

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/internal/davxml"
	"github.com/davshare/davshare/notify"
)

type baseKey struct{}

// WithBaseURL records the scheme and host of the request ("https://host")
// so that ReplyToInvite can answer with an absolute Location (RS-04
// §4.7.1 MUST). The server sets it before calling the notification handler.
func WithBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseKey{}, strings.TrimSuffix(base, "/"))
}

func baseURL(ctx context.Context) string {
	b, _ := ctx.Value(baseKey{}).(string)
	return b
}

// ReplyToInvite implements notify.InviteReplier: the sharee user accepts
// or declines the invitation in notification name (RS-04 §4.7.1, spec
// §5.2). Accepting creates the instance and answers 201 with its absolute
// URL; declining answers 204. Either way the sharer gets a
// share-reply-notification and the invite is deleted.
func (m *Manager) ReplyToInvite(ctx context.Context, user, name string, n *notify.Notification, body []byte) (int, string, error) {
	status, loc, err := m.replyToInvite(ctx, user, name, n, body)
	if err != nil {
		return 0, "", replyError(err)
	}
	return status, loc, nil
}

func (m *Manager) replyToInvite(ctx context.Context, user, name string, n *notify.Notification, body []byte) (int, string, error) {
	inv, ok := n.Payload.(*notify.ShareInvite)
	if !ok {
		return 0, "", ErrNotPending
	}
	rep, err := ParseInviteReply(body)
	if err != nil {
		return 0, "", err
	}
	id := ShareID(strings.TrimPrefix(inv.SharerResourceURI, "urn:uuid:"))
	var out outbox
	m.mu.Lock()
	defer func() {
		m.mu.Unlock()
		out.send(ctx, m)
	}()
	sh := m.shares[id]
	i := -1
	if sh != nil {
		i = m.findUser(sh, user)
	}
	if i < 0 {
		// A stale invitation: the share or the entry is gone.
		out.remove = append(out.remove, removal{user, name})
		return 0, "", ErrNotFound
	}
	e := sh.rec.Sharees[i]
	if e.Status == StatusAccepted && rep.Accept {
		// A repeated accept: the existing instance (spec §9 #29).
		return http.StatusOK, m.location(ctx, user, e.Instance, sh.dir), nil
	}
	if e.Status != StatusNoResponse {
		return 0, "", ErrNotPending
	}
	next := *sh
	next.rec.Sharees = append([]Sharee(nil), sh.rec.Sharees...)
	ne := &next.rec.Sharees[i]
	ne.Updated = m.opts.Now().Unix()
	status := http.StatusNoContent
	if rep.Accept {
		p, err := m.createIn(user, rep.CreateIn, &next)
		if err != nil {
			return 0, "", err
		}
		t, err := m.tree(user)
		if err != nil {
			return 0, "", err
		}
		nm := sanitizeSlug(rep.Slug)
		if nm == "" {
			nm = path.Base(sh.path)
		}
		ne.Status, ne.Instance = StatusAccepted, m.freeName(user, t, p, nm)
		status = http.StatusCreated
	} else {
		ne.Status = StatusDeclined
	}
	ne.Invite, ne.Undelivered = "", false
	if err := m.saveShare(&next); err != nil {
		return 0, "", err
	}
	*sh = next
	m.syncTables(map[string]bool{user: true})
	m.rebuild()
	st := notify.InviteDeclined
	if rep.Accept {
		st = notify.InviteAccepted
	}
	m.reply(&out, sh, ne, st, rep.Comment)
	out.remove = append(out.remove, removal{user, name})
	if rep.Accept {
		return status, m.location(ctx, user, ne.Instance, sh.dir), nil
	}
	return status, "", nil
}

// createIn checks DAV:create-in (spec §5.2 step 4): it must name a
// collection of the sharee's own home, outside every instance.
func (m *Manager) createIn(user, href string, sh *share) (string, error) {
	u, err := url.Parse(href)
	if err != nil {
		return "", ErrBadRequest
	}
	name, below, err := dsfs.NameBelow(u.Path, "/dav/files/"+user)
	if !below {
		return "", ErrNeedBind
	}
	if err != nil {
		return "", ErrConflict
	}
	for _, mt := range m.snap.Load().mounts[user] {
		if within(name, mt.Path) {
			return "", ErrInsideShare
		}
	}
	t, err := m.tree(user)
	if err != nil {
		return "", err
	}
	fi, err := t.Fs.Stat(name)
	if err != nil || !fi.IsDir() || reservedName(name) {
		return "", ErrConflict
	}
	return name, nil
}

// location is the absolute URL of an instance for Location headers.
func (m *Manager) location(ctx context.Context, user, inst string, dir bool) string {
	return baseURL(ctx) + (&url.URL{Path: FilesHref(user, inst, dir)}).EscapedPath()
}

// replyError turns an error into the notification handler's answer. It is
// sharing's half of the error mapping, for the one path (the invite reply)
// that the server's fail() does not serve.
func replyError(err error) error {
	re := &notify.ReplyError{Err: err}
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, davxml.ErrMalformed):
		re.Status = http.StatusBadRequest
	case errors.Is(err, davxml.ErrExternalEntities):
		re.Status = http.StatusForbidden
		re.Conditions = []string{davxml.Empty(davxml.NS, "no-external-entities")}
	case errors.Is(err, ErrNeedBind):
		re.Status = http.StatusForbidden
		re.Conditions = []string{NeedPrivileges("", "bind")}
	case errors.Is(err, ErrInsideShare), errors.Is(err, ErrNotPending):
		re.Status = http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		re.Status = http.StatusNotFound
	case errors.Is(err, ErrConflict):
		re.Status = http.StatusConflict
	default:
		return err
	}
	return re
}

// NeedPrivileges renders RFC 3744 §7.1.1's precondition for one privilege;
// href may be empty.
func NeedPrivileges(href, privilege string) string {
	inner := ""
	if href != "" {
		inner = davxml.HrefElement(href)
	}
	return davxml.Element(davxml.NS, "need-privileges",
		davxml.Element(davxml.NS, "resource",
			inner+davxml.Element(davxml.NS, "privilege", davxml.Empty(davxml.NS, privilege))))
}

// Unmount implements fs.MountSource: the sharee deleted the instance root
// (RS-04 §3, §4.7.4). Only the link goes; the entry becomes declined and
// the sharer is told (spec §5.5).
func (m *Manager) Unmount(ctx context.Context, user string, mt dsfs.Mount) error {
	var out outbox
	m.mu.Lock()
	defer func() {
		m.mu.Unlock()
		out.send(ctx, m)
	}()
	sh := m.shares[ShareID(mt.ID)]
	if sh == nil {
		return &fs.PathError{Op: "unmount", Path: mt.Path, Err: fs.ErrNotExist}
	}
	i := m.findUser(sh, user)
	if i < 0 || sh.rec.Sharees[i].Instance != mt.Path {
		return &fs.PathError{Op: "unmount", Path: mt.Path, Err: fs.ErrNotExist}
	}
	next := *sh
	next.rec.Sharees = append([]Sharee(nil), sh.rec.Sharees...)
	e := &next.rec.Sharees[i]
	e.Status, e.Instance, e.Updated = StatusDeclined, "", m.opts.Now().Unix()
	if err := m.saveShare(&next); err != nil {
		return err
	}
	*sh = next
	m.syncTables(map[string]bool{user: true})
	m.rebuild()
	m.reply(&out, sh, e, notify.InviteDeclined, "")
	return nil
}

// MoveMount implements fs.MountSource: the sharee renames or moves the
// instance root inside its own home (spec §6.5). Per-instance properties
// travel with it.
func (m *Manager) MoveMount(ctx context.Context, user string, mt dsfs.Mount, newPath string) error {
	if !cleanAbs(newPath) || newPath == "/" || reservedName(newPath) {
		return &fs.PathError{Op: "move", Path: newPath, Err: fs.ErrPermission}
	}
	t, err := m.tree(user)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if fi, err := t.Fs.Stat(path.Dir(newPath)); err != nil || !fi.IsDir() {
		return &fs.PathError{Op: "move", Path: newPath, Err: fs.ErrNotExist}
	}
	if _, err := t.Fs.Stat(newPath); err == nil {
		return &fs.PathError{Op: "move", Path: newPath, Err: fs.ErrExist}
	}
	for _, o := range m.snap.Load().mounts[user] {
		if o.Path != mt.Path && (within(newPath, o.Path) || o.Path == newPath) {
			return &fs.PathError{Op: "move", Path: newPath, Err: dsfs.ErrCrossTree}
		}
	}
	sh := m.shares[ShareID(mt.ID)]
	if sh == nil {
		return &fs.PathError{Op: "move", Path: mt.Path, Err: fs.ErrNotExist}
	}
	i := m.findUser(sh, user)
	if i < 0 || sh.rec.Sharees[i].Instance != mt.Path {
		return &fs.PathError{Op: "move", Path: mt.Path, Err: fs.ErrNotExist}
	}
	next := *sh
	next.rec.Sharees = append([]Sharee(nil), sh.rec.Sharees...)
	next.rec.Sharees[i].Instance = newPath
	if err := m.saveShare(&next); err != nil {
		return err
	}
	*sh = next
	m.syncTables(map[string]bool{user: true})
	m.rebuild()
	return nil
}

// Moved implements fs.Observer: a WebDAV MOVE in user's tree. Shares whose
// original lies at or below from follow it (RS-04 §4.4: MOVE preserves the
// share, spec §6.4); instances of user that lay below a moved folder of
// its home follow too.
func (m *Manager) Moved(ctx context.Context, owner, from, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.store.(following); ok {
		f.moved(owner, from, to)
	}
	m.movedLocked(owner, from, to)
}

func (m *Manager) movedLocked(owner, from, to string) {
	regDirty := false
	touched := map[string]bool{}
	for _, sh := range m.shares {
		if sh.rec.Owner == owner && within(sh.path, from) {
			sh.path = rebase(sh.path, from, to)
			regDirty = true
		}
		for i := range sh.rec.Sharees {
			e := &sh.rec.Sharees[i]
			if e.User == owner && e.Instance != "" && within(e.Instance, from) {
				e.Instance = rebase(e.Instance, from, to)
				touched[owner] = true
				if err := m.saveShare(sh); err != nil {
					m.log.Error("sharing: write share record", "share", sh.rec.ID, "err", err)
				}
			}
		}
	}
	if regDirty {
		if err := m.saveRegistry(owner); err != nil {
			m.log.Error("sharing: write registry", "user", owner, "err", err)
		}
	}
	if regDirty || len(touched) > 0 {
		// A move that touches no share (nearly all of them) leaves the
		// snapshot as it is: rebuilding it is O(shares) under mu.
		m.syncTables(touched)
		m.rebuild()
	}
}

// Removed implements fs.Observer: a WebDAV DELETE in user's tree. Shares
// whose original was at or below name end (spec §6.3): accepted sharees
// lose the instance and get a no-access notice, pending invitations are
// withdrawn. Instances of user below a deleted folder of its home are
// removed as if the sharee had deleted them.
func (m *Manager) Removed(ctx context.Context, owner, name string) {
	var out outbox
	m.mu.Lock()
	defer func() {
		m.mu.Unlock()
		out.send(ctx, m)
	}()
	if f, ok := m.store.(following); ok {
		f.removed(owner, name)
	}
	var gone []*share
	for _, sh := range m.shares {
		if sh.rec.Owner == owner && within(sh.path, name) {
			gone = append(gone, sh)
		}
	}
	m.endShares(&out, owner, gone)
	touched := map[string]bool{}
	for _, sh := range m.shares {
		for i := range sh.rec.Sharees {
			e := &sh.rec.Sharees[i]
			if e.User == owner && e.Instance != "" && within(e.Instance, name) {
				e.Status, e.Instance, e.Updated = StatusDeclined, "", m.opts.Now().Unix()
				touched[owner] = true
				if err := m.saveShare(sh); err != nil {
					m.log.Error("sharing: write share record", "share", sh.rec.ID, "err", err)
				}
				m.reply(&out, sh, e, notify.InviteDeclined, "")
			}
		}
	}
	if len(gone) > 0 || len(touched) > 0 {
		m.syncTables(touched)
		m.rebuild()
	}
}

// endShares removes shares whose original is gone. Callers hold mu.
func (m *Manager) endShares(o *outbox, owner string, gone []*share) {
	if len(gone) == 0 {
		return
	}
	touched := map[string]bool{}
	for _, sh := range gone {
		for i := range sh.rec.Sharees {
			e := &sh.rec.Sharees[i]
			switch {
			case e.Status == StatusAccepted && e.User != "":
				touched[e.User] = true
				m.invite(o, sh, e, AccessNone)
			case e.Status == StatusNoResponse:
				m.withdraw(o, sh, e)
			}
		}
		delete(m.shares, sh.rec.ID)
	}
	if err := m.saveRegistry(owner); err != nil {
		m.log.Error("sharing: write registry", "user", owner, "err", err)
	}
	m.syncTables(touched)
}
