package server

import (
	"encoding/xml"
	"net/http"

	"github.com/davshare/davshare/auth"
	"github.com/davshare/davshare/internal/davxml"
)

// CalDAV is the namespace of calendar-user-address-set (RFC 6638 §2.4.1),
// which we use to publish a principal's mailto: address (spec §3.8).
const nsCalDAV = "urn:ietf:params:xml:ns:caldav"

func principalHref(user string) string     { return principalsPrefix + user + "/" }
func homeHref(user string) string          { return filesPrefix + user + "/" }
func notificationsHref(user string) string { return notificationsPrefix + user + "/" }

// servePrincipal answers PROPFIND on the caller's principal (RFC 3744 §4,
// RFC 5397, NT-03 §4.2.1).
func (s *Server) servePrincipal(w http.ResponseWriter, r *http.Request, acct auth.Account) {
	if r.Method == http.MethodPost {
		// A principal cannot be shared (spec §9 #15).
		davxml.WriteError(w, http.StatusForbidden)
		return
	}
	if r.Method != "PROPFIND" {
		w.Header().Set("Allow", allowPrincipal)
		davxml.WriteError(w, http.StatusMethodNotAllowed)
		return
	}
	pf, ok := s.readPropfind(w, r)
	if !ok {
		return
	}
	user := string(acct.Name)
	props := []davxml.Prop{
		{Name: dav("resourcetype"), Inner: davxml.Empty(davxml.NS, "principal")},
		{Name: dav("displayname"), Inner: davxml.Escape(acct.DisplayName)},
		{Name: dav("principal-URL"), Inner: davxml.HrefElement(principalHref(user))},
		{Name: dav("current-user-principal"), Inner: davxml.HrefElement(principalHref(user))},
		{Name: dav("principal-collection-set"), Inner: davxml.HrefElement(principalsPrefix)},
		{Name: xml.Name{Space: nsCalDAV, Local: "calendar-user-address-set"}, Inner: davxml.HrefElement("mailto:" + acct.Email)},
		{Name: dav("alternate-URI-set"), Inner: davxml.HrefElement("mailto:" + acct.Email)},
		{Name: dav("owner"), Inner: davxml.HrefElement(principalHref(user))},
	}
	if s.Notifications != nil {
		props = append(props, davxml.Prop{Name: dav("notification-URL"), Inner: davxml.HrefElement(notificationsHref(user))})
	}
	allprop := map[string]bool{"resourcetype": true, "displayname": true}
	ms := davxml.NewMultistatus(w)
	ms.Response(davxml.Href(principalHref(user)), selectProps(pf, props, func(n xml.Name) bool {
		return n.Space == davxml.NS && allprop[n.Local]
	})...)
	ms.Close("")
}

// serveDiscovery answers the collections above the user spaces. PROPFIND
// lists only what belongs to the caller, so probes by GNOME, Office and
// Explorer succeed without revealing other accounts.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request, acct auth.Account) {
	if r.Method != "PROPFIND" {
		w.Header().Set("Allow", allowDiscovery)
		davxml.WriteError(w, http.StatusMethodNotAllowed)
		return
	}
	depth, ok := s.propfindDepth(w, r)
	if !ok {
		return
	}
	pf, ok := s.readPropfind(w, r)
	if !ok {
		return
	}
	user := string(acct.Name)
	self := r.URL.Path
	if self[len(self)-1] != '/' {
		self += "/"
	}
	var children []string
	switch self {
	case "/", "/dav/":
		children = []string{"/dav/"}
		if self == "/dav/" {
			children = []string{filesPrefix, principalsPrefix, notificationsPrefix}
		}
	case filesPrefix:
		children = []string{homeHref(user)}
	case principalsPrefix:
		children = []string{principalHref(user)}
	case notificationsPrefix:
		children = []string{notificationsHref(user)}
	}
	ms := davxml.NewMultistatus(w)
	entry := func(href string) {
		props := []davxml.Prop{
			{Name: dav("resourcetype"), Inner: davxml.Empty(davxml.NS, "collection")},
			{Name: dav("current-user-principal"), Inner: davxml.HrefElement(principalHref(user))},
		}
		ms.Response(davxml.Href(href), selectProps(pf, props, func(n xml.Name) bool { return n == dav("resourcetype") })...)
	}
	entry(self)
	if depth == 1 {
		for _, c := range children {
			entry(c)
		}
	}
	ms.Close("")
}

func dav(local string) xml.Name { return xml.Name{Space: davxml.NS, Local: local} }

// selectProps answers a PROPFIND from a fixed set of computed properties:
// the requested ones found (200), the requested ones missing (404), names
// only for propname, and the inAllprop ones for allprop.
func selectProps(pf davxml.Propfind, have []davxml.Prop, inAllprop func(xml.Name) bool) []davxml.Propstat {
	ok := davxml.Propstat{Status: http.StatusOK}
	switch {
	case pf.PropName:
		for _, p := range have {
			ok.Props = append(ok.Props, davxml.Prop{Name: p.Name})
		}
		return []davxml.Propstat{ok}
	case pf.AllProp:
		for _, p := range have {
			if inAllprop(p.Name) {
				ok.Props = append(ok.Props, p)
			}
		}
	}
	missing := davxml.Propstat{Status: http.StatusNotFound}
	for _, n := range pf.Props {
		found := false
		for _, p := range have {
			if p.Name == n {
				found = true
				if !pf.AllProp || !inAllprop(n) {
					ok.Props = append(ok.Props, p)
				}
				break
			}
		}
		if !found {
			missing.Props = append(missing.Props, davxml.Prop{Name: n})
		}
	}
	var out []davxml.Propstat
	if len(ok.Props) > 0 {
		out = append(out, ok)
	}
	if len(missing.Props) > 0 {
		out = append(out, missing)
	}
	if len(out) == 0 {
		out = append(out, ok)
	}
	return out
}
