package sharing

import (
	"context"
	"encoding/xml"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/internal/davxml"
)

// Lookups for PROPFIND. Each is a few map reads on the snapshot: no I/O.

// view returns the share a location is an instance of, and whether it is
// the original (false: a sharee instance root).
func (m *Manager) view(loc dsfs.Location) (*shareView, bool) {
	s := m.snap.Load()
	if loc.Mount != nil {
		if loc.MountRoot() {
			return s.byID[ShareID(loc.Mount.ID)], false
		}
		return nil, false
	}
	if loc.Tree == nil {
		return nil, false
	}
	return s.byLoc[locKey(loc.Tree.Owner, loc.Path)], true
}

// ShareAccess is the value of DAV:share-access at loc (RS-04 §4.4.1, spec
// §3.2): shared-owner on a shared original, read or read-write at an
// instance root, not-shared everywhere else.
func (m *Manager) ShareAccess(loc dsfs.Location) string {
	v, orig := m.view(loc)
	switch {
	case v == nil:
		return "not-shared"
	case orig:
		return "shared-owner"
	case loc.Mount.ReadOnly:
		return string(AccessRead)
	}
	return string(AccessReadWrite)
}

// ResourceURI is DAV:share-resource-uri at loc (RS-04 §4.4.3), if shared.
func (m *Manager) ResourceURI(loc dsfs.Location) (string, bool) {
	if v, _ := m.view(loc); v != nil {
		return v.id.URI(), true
	}
	return "", false
}

// InviteXML is the value of DAV:invite at loc for user (RS-04 §4.4.2, spec
// §3.4): the owner first, then the sharees; at an instance a leading
// DAV:principal names the owner, and with HideSharees only the caller's own
// entry is listed. ok is false where the resource is not shared.
func (m *Manager) InviteXML(user string, loc dsfs.Location) (string, bool) {
	v, orig := m.view(loc)
	if v == nil {
		return "", false
	}
	d := davxml.NS
	s := ""
	if !orig {
		s += davxml.Element(d, "principal", davxml.HrefElement(PrincipalHref(v.owner)))
	}
	ownerName := v.owner
	if a, ok := m.opts.Accounts.Lookup(auth.Username(v.owner)); ok && a.DisplayName != "" {
		ownerName = a.DisplayName
	}
	s += sharee(PrincipalHref(v.owner), StatusAccepted, "shared-owner", ownerName)
	for _, e := range v.sharees {
		if !orig && m.opts.HideSharees && e.User != user {
			continue
		}
		s += sharee(e.Href, e.Status, string(e.Access), e.DisplayName)
	}
	return s, true
}

func sharee(href string, st Status, access, displayName string) string {
	d := davxml.NS
	prop := ""
	if displayName != "" {
		prop = davxml.Element(d, "displayname", davxml.Escape(displayName))
	}
	return davxml.Element(d, "sharee",
		davxml.Element(d, "href", davxml.Escape(href))+
			davxml.Empty(d, st.Element())+
			davxml.Element(d, "share-access", davxml.Empty(d, access))+
			davxml.Element(d, "prop", prop))
}

// CanShare reports whether user holds DAV:share at loc (RS-04 §4.2, spec
// §2.2, §13): a resource of the user's own home, not the home root, not
// inside an instance, and neither inside nor around another share.
func (m *Manager) CanShare(user string, loc dsfs.Location) bool {
	if loc.Mount != nil || loc.Tree == nil || loc.Tree.Owner != user || loc.Path == "/" || reservedName(loc.Path) {
		return false
	}
	for _, p := range m.snap.Load().roots[user] {
		if p != loc.Path && (within(p, loc.Path) || within(loc.Path, p)) {
			return false
		}
	}
	return true
}

// Privileges is DAV:current-user-privilege-set at loc for user (RFC 3744
// §5.4; spec §5.8): everything in one's own home (plus share where
// CanShare), read + write-properties + read-current-user-privilege-set in a
// read instance, and the write privileges too in a read-write one.
func (m *Manager) Privileges(user string, loc dsfs.Location) []string {
	base := []string{"read", "write-properties", "read-current-user-privilege-set"}
	rw := []string{"write", "write-content", "bind", "unbind"}
	switch {
	case loc.Mount != nil && loc.Mount.ReadOnly:
		return base
	case loc.Mount != nil:
		return append(base, rw...)
	case m.CanShare(user, loc):
		return append(append(base, rw...), "share")
	}
	return append(base, rw...)
}

// InstanceProps are the per-instance properties of user's instance mt
// (RS-04 §4.8.1, spec §5.7). The fs package asks for them at mount roots.
func (m *Manager) InstanceProps(user string, mt dsfs.Mount) ([]davxml.Property, error) {
	return m.snap.Load().props[user][ShareID(mt.ID)], nil
}

// PatchInstance applies a PROPPATCH at user's instance root to its
// per-instance properties, atomically (RFC 4918 §9.2): dead properties and
// DAV:displayname; protected names fail with 403 and the rest with 424.
// It is allowed whatever the access level (spec §9 #38).
func (m *Manager) PatchInstance(ctx context.Context, user string, mt dsfs.Mount, patches []davxml.Patch, protected func(xml.Name) bool) ([]dsfs.PatchResult, error) {
	results, ok := dsfs.CheckPatch(patches, protected)
	if !ok {
		return results, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := ShareID(mt.ID)
	tab := m.tables[user]
	e, ok := tab[id]
	if !ok {
		return nil, ErrNotFound
	}
	old := e.Props
	e.Props = dsfs.ApplyPatch(append([]davxml.Property(nil), e.Props...), patches)
	tab[id] = e
	if err := m.saveTable(user); err != nil {
		e.Props = old
		tab[id] = e
		m.tables[user] = tab
		return nil, err
	}
	m.rebuild()
	return results, nil
}

// ShareCount is the number of shared originals (the davshare_shares gauge).
func (m *Manager) ShareCount() int { return len(m.snap.Load().byID) }
