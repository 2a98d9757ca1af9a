package notify

import (
	"encoding/xml"
	"fmt"
	"github.com/davshare/davshare/internal/davxml"
	"strings"

	"github.com/beevik/etree"
)

// InviteStatus is a sharee's invite status (RS-04 §4.5.1, spec §1.3) as it
// appears in notifications.
type InviteStatus string

// Invite statuses. An invite notification carries only NoResponse or
// Accepted; a reply notification only Accepted or Declined.
const (
	InviteNoResponse InviteStatus = "invite-noresponse"
	InviteAccepted   InviteStatus = "invite-accepted"
	InviteDeclined   InviteStatus = "invite-declined"
)

// Access is a share access level (RS-04 §4.4.1, spec §1.4).
type Access string

// Access levels allowed in DAV:share-access.
const (
	AccessRead      Access = "read"
	AccessReadWrite Access = "read-write"
	AccessNoAccess  Access = "no-access"
)

// Props is the part of a DAV:prop that notifications carry: about the shared
// resource in an invite, or about the sharer inside DAV:principal. Other
// properties are ignored when parsing (RFC 4918 §17).
type Props struct {
	DisplayName string
	// ResourceType lists the children of DAV:resourcetype. nil leaves the
	// property out; an empty, non-nil slice renders <D:resourcetype/>, which
	// is what a plain file has.
	ResourceType []xml.Name
	ContentType  string
}

// Principal is the sharer in an invite: an href and optional properties.
type Principal struct {
	Href string
	Prop *Props // nil: no DAV:prop element
}

// ShareInvite is DAV:share-invite-notification (RS-04 §4.6.1, §5.3; spec
// §5.1). Build it in the sharee's collection with a deterministic name so a
// later change replaces it.
type ShareInvite struct {
	Principal Principal
	// Status is InviteNoResponse for a new invitation, InviteAccepted for a
	// change to a share the sharee has already accepted.
	Status InviteStatus
	// SharerResourceURI is the shared resource's DAV:share-resource-uri.
	SharerResourceURI string
	Access            Access
	Prop              *Props // properties of the shared resource; nil: none
	// ReplyURL is where the sharee POSTs DAV:invite-reply; by project
	// decision the notification's own URL. Only with InviteNoResponse, and
	// never with AccessNoAccess.
	ReplyURL string
	Comment  string
}

// Type implements Payload.
func (*ShareInvite) Type() TypeElement { return TypeElement{Name: TypeShareInvite} }

func (s *ShareInvite) validate() error {
	switch {
	case s.Principal.Href == "":
		return errMissing("DAV:principal/DAV:href")
	case s.Status != InviteNoResponse && s.Status != InviteAccepted:
		return fmt.Errorf("%w: invite status must be invite-noresponse or invite-accepted", ErrMalformed)
	case s.SharerResourceURI == "":
		return errMissing("DAV:sharer-resource-uri")
	case !validAccess(s.Access):
		return fmt.Errorf("%w: bad DAV:share-access", ErrMalformed)
	case s.ReplyURL != "" && (s.Status != InviteNoResponse || s.Access == AccessNoAccess):
		return fmt.Errorf("%w: DAV:reply-url only belongs to a pending invitation", ErrMalformed)
	}
	return nil
}

func validAccess(a Access) bool {
	return a == AccessRead || a == AccessReadWrite || a == AccessNoAccess
}

func (s *ShareInvite) build(parent *etree.Element) error {
	if err := s.validate(); err != nil {
		return err
	}
	e := parent.CreateElement("D:share-invite-notification")
	p := e.CreateElement("D:principal")
	p.CreateElement("D:href").SetText(s.Principal.Href)
	if err := s.Principal.Prop.build(p); err != nil {
		return err
	}
	e.CreateElement("D:" + string(s.Status))
	e.CreateElement("D:sharer-resource-uri").CreateElement("D:href").SetText(s.SharerResourceURI)
	e.CreateElement("D:share-access").CreateElement("D:" + string(s.Access))
	if err := s.Prop.build(e); err != nil {
		return err
	}
	if s.ReplyURL != "" {
		e.CreateElement("D:reply-url").CreateElement("D:href").SetText(s.ReplyURL)
	}
	if s.Comment != "" {
		e.CreateElement("D:comment").SetText(s.Comment)
	}
	return nil
}

func parseInvite(e *etree.Element) (*ShareInvite, error) {
	s := &ShareInvite{}
	statuses := 0
	for _, c := range e.ChildElements() {
		if c.NamespaceURI() != nsDAV {
			continue
		}
		switch c.Tag {
		case "principal":
			s.Principal.Href = hrefOf(c)
			for _, pc := range c.ChildElements() {
				if isDAV(pc, "prop") {
					s.Principal.Prop = parseProps(pc)
				}
			}
		case string(InviteNoResponse), string(InviteAccepted), string(InviteDeclined), "invite-invalid":
			s.Status = InviteStatus(c.Tag)
			statuses++
		case "sharer-resource-uri":
			s.SharerResourceURI = hrefOf(c)
		case "share-access":
			a, err := parseAccess(c)
			if err != nil {
				return nil, err
			}
			s.Access = a
		case "prop":
			s.Prop = parseProps(c)
		case "reply-url":
			s.ReplyURL = hrefOf(c)
		case "comment":
			s.Comment = text(c)
		}
	}
	if statuses != 1 {
		return nil, fmt.Errorf("%w: an invite carries exactly one status", ErrMalformed)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// parseAccess reads DAV:share-access, which holds exactly one known value
// (spec §12 #2).
func parseAccess(e *etree.Element) (Access, error) {
	var a Access
	n := 0
	for _, c := range e.ChildElements() {
		n++
		if c.NamespaceURI() == nsDAV {
			a = Access(c.Tag)
		}
	}
	if n != 1 || !validAccess(a) {
		return "", fmt.Errorf("%w: DAV:share-access needs exactly one of read, read-write, no-access", ErrMalformed)
	}
	return a, nil
}

func (p *Props) build(parent *etree.Element) error {
	if p == nil {
		return nil
	}
	e := parent.CreateElement("D:prop")
	if p.DisplayName != "" {
		e.CreateElement("D:displayname").SetText(p.DisplayName)
	}
	if p.ResourceType != nil {
		rt := e.CreateElement("D:resourcetype")
		for i, n := range p.ResourceType {
			if !davxml.ValidNCName(n.Local) {
				return fmt.Errorf("%w: bad resource type name %q", ErrMalformed, n.Local)
			}
			switch n.Space {
			case nsDAV:
				rt.CreateElement("D:" + n.Local)
			case "":
				rt.CreateElement(n.Local)
			default:
				prefix := fmt.Sprintf("R%d", i)
				c := rt.CreateElement(prefix + ":" + n.Local)
				c.CreateAttr("xmlns:"+prefix, n.Space)
			}
		}
	}
	if p.ContentType != "" {
		e.CreateElement("D:getcontenttype").SetText(p.ContentType)
	}
	return nil
}

func parseProps(e *etree.Element) *Props {
	p := &Props{}
	for _, c := range e.ChildElements() {
		switch {
		case isDAV(c, "displayname"):
			p.DisplayName = text(c)
		case isDAV(c, "getcontenttype"):
			p.ContentType = strings.TrimSpace(text(c))
		case isDAV(c, "resourcetype"):
			p.ResourceType = []xml.Name{}
			for _, k := range c.ChildElements() {
				p.ResourceType = append(p.ResourceType, xml.Name{Space: k.NamespaceURI(), Local: k.Tag})
			}
		}
	}
	return p
}
