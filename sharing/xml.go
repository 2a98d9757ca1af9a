package sharing

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/beevik/etree"
	"github.com/davshare/davshare/internal/davxml"
)

const nsDAV = davxml.NS

// ShareeRequest is one DAV:sharee of a share-resource body (RS-04 §4.3,
// §5.1; spec §4.1).
type ShareeRequest struct {
	Href        string
	Access      Access // read, read-write or no-access
	DisplayName string // from DAV:prop; other properties are ignored
	Comment     string
	HasComment  bool
}

// ParseShareResource parses a DAV:share-resource body. Children may come in
// any order and unknown elements are ignored (spec §0.4); every violation
// of spec §4.2 step 5–6 is ErrBadRequest, and a DTD is
// davxml.ErrExternalEntities.
func ParseShareResource(body []byte) ([]ShareeRequest, error) {
	root, err := readXML(body)
	if err != nil {
		return nil, err
	}
	if !isDAV(root, "share-resource") {
		return nil, fmt.Errorf("%w: root is not DAV:share-resource", ErrBadRequest)
	}
	var out []ShareeRequest
	for _, c := range root.ChildElements() {
		if !isDAV(c, "sharee") {
			continue
		}
		var s ShareeRequest
		hrefs, accesses := 0, 0
		for _, f := range c.ChildElements() {
			if f.NamespaceURI() != nsDAV {
				continue
			}
			switch f.Tag {
			case "href":
				hrefs++
				s.Href = strings.TrimSpace(f.Text())
			case "share-access":
				accesses++
				a, err := parseAccess(f)
				if err != nil {
					return nil, err
				}
				s.Access = a
			case "prop":
				for _, p := range f.ChildElements() {
					if isDAV(p, "displayname") {
						s.DisplayName = strings.TrimSpace(p.Text())
					}
				}
			case "comment":
				s.Comment, s.HasComment = f.Text(), true
			}
		}
		switch {
		case hrefs != 1 || s.Href == "":
			return nil, fmt.Errorf("%w: DAV:sharee needs one non-empty DAV:href", ErrBadRequest)
		case accesses != 1:
			return nil, fmt.Errorf("%w: DAV:sharee needs one DAV:share-access", ErrBadRequest)
		case !validURI(s.Href):
			return nil, fmt.Errorf("%w: DAV:href is not a URI", ErrBadRequest)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: DAV:share-resource needs at least one DAV:sharee", ErrBadRequest)
	}
	return out, nil
}

// parseAccess reads DAV:share-access of a request: exactly one of read,
// read-write, no-access (spec §12 #2, §9 #9).
func parseAccess(e *etree.Element) (Access, error) {
	kids := e.ChildElements()
	if len(kids) != 1 || kids[0].NamespaceURI() != nsDAV {
		return "", fmt.Errorf("%w: DAV:share-access needs exactly one value", ErrBadRequest)
	}
	switch a := Access(kids[0].Tag); a {
	case AccessRead, AccessReadWrite, AccessNone:
		return a, nil
	}
	return "", fmt.Errorf("%w: unknown DAV:share-access value", ErrBadRequest)
}

// validURI accepts an absolute URI (with a scheme) or an absolute path,
// which is how principal URLs are usually sent (spec §9 #11).
func validURI(s string) bool {
	if strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if u.Scheme != "" {
		return u.Opaque != "" || u.Host != "" || u.Path != ""
	}
	return strings.HasPrefix(s, "/")
}

// InviteReply is a parsed DAV:invite-reply (RS-04 §4.7.1, §5.7).
type InviteReply struct {
	Accept   bool
	CreateIn string // href of create-in; required when accepting
	Slug     string
	Comment  string
}

// ParseInviteReply parses a DAV:invite-reply body (spec §5.2, §9 #5, #23,
// #24).
func ParseInviteReply(body []byte) (InviteReply, error) {
	var r InviteReply
	root, err := readXML(body)
	if err != nil {
		return r, err
	}
	if !isDAV(root, "invite-reply") {
		return r, fmt.Errorf("%w: root is not DAV:invite-reply", ErrBadRequest)
	}
	accepted, declined, createIn := 0, 0, false
	for _, c := range root.ChildElements() {
		if c.NamespaceURI() != nsDAV {
			continue
		}
		switch c.Tag {
		case "invite-accepted":
			accepted++
		case "invite-declined":
			declined++
		case "create-in":
			createIn = true
			for _, h := range c.ChildElements() {
				if isDAV(h, "href") {
					r.CreateIn = strings.TrimSpace(h.Text())
				}
			}
		case "slug":
			r.Slug = c.Text()
		case "comment":
			r.Comment = c.Text()
		}
	}
	if accepted+declined != 1 {
		return r, fmt.Errorf("%w: exactly one of invite-accepted, invite-declined", ErrBadRequest)
	}
	r.Accept = accepted == 1
	if r.Accept && (!createIn || r.CreateIn == "") {
		return r, fmt.Errorf("%w: accepting needs DAV:create-in with a DAV:href", ErrBadRequest)
	}
	return r, nil
}

// readXML parses a request body with davxml.ReadTree; a DTD stays
// davxml.ErrExternalEntities (403), anything else malformed is ErrBadRequest.
func readXML(body []byte) (*etree.Element, error) {
	root, err := davxml.ReadTree(body, 0)
	if err != nil && !errors.Is(err, davxml.ErrExternalEntities) {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	return root, err
}

func isDAV(e *etree.Element, local string) bool {
	return e.Tag == local && e.NamespaceURI() == nsDAV
}

// Privilege XML (RFC 3744 §5.3, §5.4; RS-04 §4.2, §5.2).

// SupportedPrivilegeSetXML is the value of DAV:supported-privilege-set on
// every resource of a files space: DAV:share is non-abstract (spec §2.2).
var SupportedPrivilegeSetXML = supported("all", "Any operation",
	supported("read", "Read any object")+
		supported("write", "Write any object",
			supported("write-properties", "Write properties")+
				supported("write-content", "Write resource content")+
				supported("bind", "Add new members to a collection")+
				supported("unbind", "Remove members from a collection"))+
		supported("read-current-user-privilege-set", "Read the current user privilege set")+
		supported("share", "Share the resource"))

func supported(name, desc string, inner ...string) string {
	return davxml.Element(nsDAV, "supported-privilege",
		davxml.Element(nsDAV, "privilege", davxml.Empty(nsDAV, name))+
			davxml.Element(nsDAV, "description", davxml.Escape(desc))+strings.Join(inner, ""))
}

// PrivilegeSetXML renders DAV:current-user-privilege-set from names.
func PrivilegeSetXML(privs []string) string {
	var b strings.Builder
	for _, p := range privs {
		b.WriteString(davxml.Element(nsDAV, "privilege", davxml.Empty(nsDAV, p)))
	}
	return b.String()
}
