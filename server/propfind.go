package server

import (
	"context"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/internal/davxml"
)

// propfindDepth reads the Depth header of a PROPFIND. A missing header means
// infinity (RFC 4918 §9.1), which we refuse with propfind-finite-depth
// (pitfall B.7): clients then walk the tree themselves.
func (s *Server) propfindDepth(w http.ResponseWriter, r *http.Request) (int, bool) {
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Depth"))) {
	case "0":
		return 0, true
	case "1":
		return 1, true
	case "", "infinity":
		davxml.WriteError(w, http.StatusForbidden, davxml.Empty(davxml.NS, "propfind-finite-depth"))
	default:
		davxml.WriteError(w, http.StatusBadRequest)
	}
	return 0, false
}

// readPropfind reads and parses a PROPFIND body, answering errors itself.
func (s *Server) readPropfind(w http.ResponseWriter, r *http.Request) (davxml.Propfind, bool) {
	body, err := davxml.ReadBody(r, s.BodyLimit)
	if err == nil {
		var pf davxml.Propfind
		if pf, err = davxml.ParsePropfind(body); err == nil {
			return pf, true
		}
	}
	s.fail(w, r, err)
	return davxml.Propfind{}, false
}

// Live properties of the files space. Those marked allprop are returned for
// allprop (RFC 4918 §14.2: the RFC 4918 properties, not RFC 4331 quota,
// RFC 3744 owner, RFC 5397 current-user-principal).
var liveProps = map[string]bool{ // name → in allprop
	"resourcetype":           true,
	"displayname":            true,
	"getcontentlength":       true,
	"getcontenttype":         true,
	"getetag":                true,
	"getlastmodified":        true,
	"supportedlock":          true,
	"lockdiscovery":          true,
	"quota-available-bytes":  false,
	"quota-used-bytes":       false,
	"current-user-principal": false,
	"owner":                  false,
	// RS-04 §4.4 and RFC 3744 §5.3–§5.4 (server/sharing.go); never in
	// allprop (spec §9 #42).
	"share-access":               false,
	"invite":                     false,
	"share-resource-uri":         false,
	"sharer-resource-uri":        false,
	"supported-privilege-set":    false,
	"current-user-privilege-set": false,
}

func isLive(n xml.Name) bool {
	if n.Space != davxml.NS {
		return false
	}
	_, ok := liveProps[n.Local]
	return ok
}

// propfinder computes properties for one PROPFIND request.
type propfinder struct {
	q       *request
	pf      davxml.Propfind
	now     time.Time
	dead    bool // dead properties are needed
	quotas  map[*dsfs.Tree]dsfs.Quota
	anyLock bool
	missing []xml.Name // scratch of appendResponse
	etag    []byte     // scratch of appendLive
}

func (q *request) propfind() {
	depth, ok := q.s.propfindDepth(q.w, q.r)
	if !ok {
		return
	}
	pf, ok := q.s.readPropfind(q.w, q.r)
	if !ok {
		return
	}
	loc, fi, ok := q.existing()
	if !ok {
		return
	}
	p := &propfinder{q: q, pf: pf, now: time.Now()}
	p.dead = pf.AllProp || pf.PropName
	for _, n := range pf.Props {
		// A client's DAV:displayname is stored with the dead properties
		// (per instance at a mount root) and overrides the computed one.
		if !isLive(n) || n == dav("displayname") {
			p.dead = true
		}
	}
	self := dsfs.Entry{Info: fi, Loc: loc}
	if p.dead {
		self.Props, _ = q.ns.Props(loc)
	}
	ms := davxml.NewMultistatus(q.w)
	buf := p.appendResponse(make([]byte, 0, 1024), self)
	ms.WriteRaw(buf)
	if depth == 1 && fi.IsDir() {
		err := q.ns.List(q.r.Context(), loc, p.dead, func(e dsfs.Entry) error {
			buf = p.appendResponse(buf[:0], e)
			return ms.WriteRaw(buf)
		})
		if err != nil {
			// The 207 is already on its way (pitfall B.9); all we can do
			// is end the document well-formed and log.
			q.s.log.WarnContext(q.r.Context(), "listing ended early", "path", q.r.URL.Path, "err", err)
		}
	}
	ms.Close("")
}

// appendResponse appends the DAV:response for e. A listing answers the
// same few properties for thousands of members, so the ones clients name in
// every listing are appended straight from the stat result (fastLive);
// everything else goes through propstats and value.
func (p *propfinder) appendResponse(b []byte, e dsfs.Entry) []byte {
	b = append(b, "<D:response><D:href>"...)
	if e.Loc.Name == "/" {
		b = davxml.AppendHref(b, homeHref(p.q.user))
	} else {
		b = davxml.AppendHref(b, filesPrefix+p.q.user)
		b = davxml.AppendHref(b, e.Loc.Name)
		if e.Info.IsDir() {
			b = append(b, '/')
		}
	}
	b = append(b, "</D:href>"...)
	if p.pf.AllProp || p.pf.PropName {
		return davxml.AppendResponseEnd(davxml.AppendPropstats(b, p.propstats(e)...))
	}
	open := len(b)
	b = davxml.AppendPropstatStart(b)
	found := false
	p.missing = p.missing[:0]
	for _, n := range p.pf.Props {
		var ok bool
		switch {
		case isLive(n):
			b, ok = p.appendLive(b, e, n)
		default:
			var d davxml.Property
			if d, ok = findDead(e.Props, n); ok {
				b = davxml.AppendProp(b, davxml.Prop(d))
			}
		}
		if ok {
			found = true
		} else {
			p.missing = append(p.missing, n)
		}
	}
	if found {
		b = davxml.AppendPropstatEnd(b, http.StatusOK)
	} else {
		b = b[:open] // no empty 200 propstat
	}
	if len(p.missing) > 0 {
		b = davxml.AppendPropstatStart(b)
		for _, n := range p.missing {
			b = davxml.AppendProp(b, davxml.Prop{Name: n})
		}
		b = davxml.AppendPropstatEnd(b, http.StatusNotFound)
	}
	return davxml.AppendResponseEnd(b)
}

// appendLive appends the live property n of e, if it applies to e.
func (p *propfinder) appendLive(b []byte, e dsfs.Entry, n xml.Name) ([]byte, bool) {
	fi := e.Info
	switch n.Local {
	case "resourcetype":
		if fi.IsDir() {
			return append(b, "<D:resourcetype><D:collection/></D:resourcetype>"...), true
		}
		return append(b, "<D:resourcetype/>"...), true
	case "getcontentlength":
		if fi.IsDir() {
			return b, false
		}
		b = davxml.AppendStart(b, n)
		b = strconv.AppendInt(b, fi.Size(), 10)
		return davxml.AppendEnd(b, n), true
	case "getetag":
		b = davxml.AppendStart(b, n)
		p.etag = fi.AppendStrongETag(p.etag[:0])
		b = davxml.AppendEscapedBytes(b, p.etag)
		return davxml.AppendEnd(b, n), true
	case "getlastmodified":
		b = davxml.AppendStart(b, n)
		b = fi.ModTime().UTC().AppendFormat(b, http.TimeFormat)
		return davxml.AppendEnd(b, n), true
	}
	v, has := p.value(e, n.Local)
	if !has {
		return b, false
	}
	return davxml.AppendProp(b, davxml.Prop{Name: n, Inner: v}), true
}

// propstats answers the request for one resource.
func (p *propfinder) propstats(e dsfs.Entry) []davxml.Propstat {
	ok := davxml.Propstat{Status: http.StatusOK}
	switch {
	case p.pf.PropName:
		for name := range liveProps {
			if v, has := p.value(e, name); has || v != "" {
				ok.Props = append(ok.Props, davxml.Prop{Name: dav(name)})
			}
		}
		for _, d := range e.Props {
			ok.Props = append(ok.Props, davxml.Prop{Name: d.Name})
		}
		return []davxml.Propstat{ok}
	case p.pf.AllProp:
		for _, name := range allpropOrder {
			if v, has := p.value(e, name); has {
				ok.Props = append(ok.Props, davxml.Prop{Name: dav(name), Inner: v})
			}
		}
		for _, d := range e.Props {
			if !isLive(d.Name) {
				ok.Props = append(ok.Props, davxml.Prop(d))
			}
		}
	}
	var missing davxml.Propstat
	for _, n := range p.pf.Props {
		if p.pf.AllProp && n.Space == davxml.NS && liveProps[n.Local] {
			continue // already there
		}
		if isLive(n) {
			if v, has := p.value(e, n.Local); has {
				ok.Props = append(ok.Props, davxml.Prop{Name: n, Inner: v})
				continue
			}
		} else if d, has := findDead(e.Props, n); has {
			if !p.pf.AllProp {
				ok.Props = append(ok.Props, davxml.Prop(d))
			}
			continue
		}
		missing.Status = http.StatusNotFound
		missing.Props = append(missing.Props, davxml.Prop{Name: n})
	}
	out := []davxml.Propstat{ok}
	if len(missing.Props) > 0 {
		if len(ok.Props) == 0 {
			return []davxml.Propstat{missing}
		}
		out = append(out, missing)
	}
	return out
}

var allpropOrder = []string{"resourcetype", "displayname", "getcontentlength", "getcontenttype", "getetag", "getlastmodified", "supportedlock", "lockdiscovery"}

func findDead(props []davxml.Property, n xml.Name) (davxml.Property, bool) {
	for _, d := range props {
		if d.Name == n {
			return d, true
		}
	}
	return davxml.Property{}, false
}

// value computes one live property; has is false where it does not apply
// (content length of a collection, for instance).
func (p *propfinder) value(e dsfs.Entry, name string) (inner string, has bool) {
	fi := e.Info
	dir := fi.IsDir()
	switch name {
	case "resourcetype":
		if dir {
			return davxml.Empty(davxml.NS, "collection"), true
		}
		return "", true
	case "displayname":
		if d, ok := findDead(e.Props, dav("displayname")); ok {
			return d.Inner, true
		}
		n := fi.Name()
		if e.Loc.Name == "/" {
			n = p.q.user
		}
		return davxml.Escape(n), true
	case "getcontentlength":
		if dir {
			return "", false
		}
		return strconv.FormatInt(fi.Size(), 10), true
	case "getcontenttype":
		if dir {
			return "", false
		}
		return davxml.Escape(fi.MimeType()), true
	case "getetag":
		return davxml.Escape(fi.StrongETag()), true
	case "getlastmodified":
		return fi.ModTime().UTC().Format(http.TimeFormat), true
	case "supportedlock":
		return lock.SupportedLockXML, true
	case "lockdiscovery":
		var b strings.Builder
		for _, l := range p.q.s.Locks.Discover(p.now, e.Loc.LockName()) {
			b.WriteString(l.ActiveLockXML(davxml.Href(p.q.lockHref(l.Root))))
		}
		return b.String(), true
	case "quota-available-bytes", "quota-used-bytes":
		if !dir {
			return "", false
		}
		q := p.treeQuota(e.Loc.Tree)
		if name == "quota-used-bytes" {
			return strconv.FormatInt(q.Used, 10), true
		}
		if q.Available < 0 {
			return "", false
		}
		return strconv.FormatInt(q.Available, 10), true
	case "current-user-principal":
		return davxml.HrefElement(principalHref(p.q.user)), true
	case "owner":
		if e.Loc.MountRoot() {
			// A sharee's instance belongs to the sharee (spec §13).
			return davxml.HrefElement(principalHref(p.q.user)), true
		}
		return davxml.HrefElement(principalHref(e.Loc.Tree.Owner)), true
	}
	return p.sharingValue(e, name)
}

// treeQuota computes each tree's quota once per request; every collection of a
// tree reports its tree's figures (data written through a share counts
// against the owner, spec §13).
func (p *propfinder) treeQuota(t *dsfs.Tree) dsfs.Quota {
	if q, ok := p.quotas[t]; ok {
		return q
	}
	q, err := t.Quota(context.WithoutCancel(p.q.r.Context()))
	if err != nil {
		q = dsfs.Quota{Used: 0, Available: -1}
	}
	if p.quotas == nil {
		p.quotas = map[*dsfs.Tree]dsfs.Quota{}
	}
	p.quotas[t] = q
	return q
}
