package notify

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/davshare/davshare/internal/davxml"
)

// resource is what property values are computed from: the collection (name
// "") with its snapshot, or one member with its Info.
type resource struct {
	user string
	name string
	info Info     // members
	snap Snapshot // the collection
}

func (r *resource) collection() bool { return r.name == "" }

func (r *resource) href() string {
	if r.collection() {
		return davxml.Href(collectionPath(r.user))
	}
	return davxml.Href(memberPath(r.user, r.name))
}

// propDef is one live property. coll and member return its value as XML
// content; a nil function means the property is not defined there.
type propDef struct {
	local   string
	allprop bool
	coll    func(*resource) string
	member  func(*resource) string
}

func (d *propDef) value(r *resource) (string, bool) {
	f := d.member
	if r.collection() {
		f = d.coll
	}
	if f == nil {
		return "", false
	}
	return f(r), true
}

func principalHref(r *resource) string { return davxml.HrefElement(principalPath(r.user)) }

// liveProps in the order PROPFIND allprop and propname list them.
// DAV:notificationtype (NT-03 §4.3.1), DAV:sync-token (RFC 6578 §4) and the
// RFC 3253/3744/5397 properties are not part of allprop.
var liveProps = []propDef{
	{local: "resourcetype", allprop: true,
		coll: func(*resource) string {
			return davxml.Empty(davxml.NS, "collection") + davxml.Empty(davxml.NS, "notifications")
		},
		member: func(*resource) string { return "" }},
	{local: "displayname", allprop: true,
		coll:   func(*resource) string { return "Notifications" },
		member: func(r *resource) string { return davxml.Escape(strings.TrimSuffix(r.name, ".xml")) }},
	{local: "getetag", allprop: true,
		coll:   func(r *resource) string { return davxml.Escape(r.snap.ETag) },
		member: func(r *resource) string { return davxml.Escape(r.info.ETag) }},
	{local: "getcontenttype", allprop: true,
		member: func(*resource) string { return MediaType }},
	{local: "getcontentlength", allprop: true,
		member: func(r *resource) string { return strconv.FormatInt(r.info.Size, 10) }},
	{local: "getlastmodified", allprop: true,
		member: func(r *resource) string { return r.info.ModTime.UTC().Format(http.TimeFormat) }},
	{local: "notificationtype",
		member: func(r *resource) string { return renderType(r.info.Type) }},
	{local: "sync-token",
		coll: func(r *resource) string { return davxml.Escape(r.snap.Token) }},
	{local: "supported-report-set",
		coll: func(*resource) string {
			return davxml.Element(davxml.NS, "supported-report",
				davxml.Element(davxml.NS, "report", davxml.Empty(davxml.NS, "sync-collection")))
		}},
	{local: "current-user-principal", coll: principalHref, member: principalHref},
	{local: "owner", coll: principalHref, member: principalHref},
}

var livePropIndex = func() map[string]*propDef {
	m := make(map[string]*propDef, len(liveProps))
	for i := range liveProps {
		m[liveProps[i].local] = &liveProps[i]
	}
	return m
}()

// lookupProp returns the live property called name, if there is one.
func lookupProp(name xml.Name) *propDef {
	if name.Space != davxml.NS {
		return nil
	}
	return livePropIndex[name.Local]
}

// propstats answers a PROPFIND for one resource: found properties with 200,
// unknown ones with 404 (RFC 4918 §9.1).
func propstats(r *resource, pf davxml.Propfind) []davxml.Propstat {
	var ok, missing []davxml.Prop
	switch {
	case pf.PropName:
		for i := range liveProps {
			if _, defined := liveProps[i].value(r); defined {
				ok = append(ok, davxml.Prop{Name: xml.Name{Space: davxml.NS, Local: liveProps[i].local}})
			}
		}
	default:
		seen := map[xml.Name]bool{}
		add := func(n xml.Name) {
			if seen[n] {
				return
			}
			seen[n] = true
			if d := lookupProp(n); d != nil {
				if v, defined := d.value(r); defined {
					ok = append(ok, davxml.Prop{Name: n, Inner: v})
					return
				}
			}
			missing = append(missing, davxml.Prop{Name: n})
		}
		if pf.AllProp {
			for i := range liveProps {
				if _, defined := liveProps[i].value(r); defined && liveProps[i].allprop {
					add(xml.Name{Space: davxml.NS, Local: liveProps[i].local})
				}
			}
		}
		for _, n := range pf.Props {
			add(n)
		}
	}
	var out []davxml.Propstat
	if len(ok) > 0 || len(missing) == 0 {
		out = append(out, davxml.Propstat{Status: http.StatusOK, Props: ok})
	}
	if len(missing) > 0 {
		out = append(out, davxml.Propstat{Status: http.StatusNotFound, Props: missing})
	}
	return out
}

// renderType renders a TypeElement as the empty element that
// DAV:notificationtype holds, attributes kept (NT-03 §4.3.1). DAV: uses the
// response's "D:" prefix; other namespaces are declared on the element.
func renderType(t TypeElement) string {
	var b strings.Builder
	b.WriteString("<")
	var tag string
	switch t.Name.Space {
	case davxml.NS:
		tag = "D:" + t.Name.Local
		b.WriteString(tag)
	case "":
		tag = t.Name.Local
		b.WriteString(tag + ` xmlns=""`)
	default:
		tag = "N:" + t.Name.Local
		b.WriteString(tag + ` xmlns:N="` + davxml.Escape(t.Name.Space) + `"`)
	}
	prefixes := map[string]string{davxml.NS: "D", nsXML: "xml"}
	if t.Name.Space != davxml.NS && t.Name.Space != "" {
		prefixes[t.Name.Space] = "N"
	}
	for _, a := range t.Attrs {
		name := a.Name.Local
		if a.Name.Space != "" {
			p, ok := prefixes[a.Name.Space]
			if !ok {
				p = "A" + strconv.Itoa(len(prefixes))
				prefixes[a.Name.Space] = p
				b.WriteString(` xmlns:` + p + `="` + davxml.Escape(a.Name.Space) + `"`)
			}
			name = p + ":" + name
		}
		b.WriteString(" " + name + `="` + davxml.Escape(a.Value) + `"`)
	}
	b.WriteString("/>")
	return b.String()
}
