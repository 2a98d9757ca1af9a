package notify

import (
	"encoding/xml"

	"github.com/beevik/etree"
)

// Unknown is a notification type this package does not interpret. The
// server still lists and serves it (clients must ignore types they do not
// know, NT-03 §4); its content is kept verbatim.
type Unknown struct {
	te TypeElement
	el *etree.Element // a detached copy that declares every namespace in scope
}

// Type implements Payload.
func (u *Unknown) Type() TypeElement { return u.te }

// XML returns the type element, serialised on its own.
func (u *Unknown) XML() string {
	doc := etree.NewDocument()
	doc.SetRoot(u.el.Copy())
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	s, _ := doc.WriteToString()
	return s
}

func (u *Unknown) build(parent *etree.Element) error {
	parent.AddChild(u.el.Copy())
	return nil
}

// newUnknown copies e so that it stands alone: the namespace declarations
// of its ancestors for prefixes that the subtree uses and does not declare
// itself are added to the copy.
func newUnknown(e *etree.Element) *Unknown {
	c := e.Copy()
	used := map[string]bool{}
	usedPrefixes(c, used)
	for _, a := range c.Attr {
		if a.Space == "xmlns" {
			delete(used, a.Key)
		} else if a.Space == "" && a.Key == "xmlns" {
			delete(used, "")
		}
	}
	for p := e.Parent(); p != nil && len(used) > 0; p = p.Parent() {
		for _, a := range p.Attr {
			switch {
			case a.Space == "xmlns" && used[a.Key]:
				c.CreateAttr("xmlns:"+a.Key, a.Value)
				delete(used, a.Key)
			case a.Space == "" && a.Key == "xmlns" && used[""]:
				c.CreateAttr("xmlns", a.Value)
				delete(used, "")
			}
		}
	}
	return &Unknown{te: typeOf(e), el: c}
}

// usedPrefixes collects the prefixes of e's subtree ("" for unprefixed
// elements), leaving out xml and xmlns, which are predeclared.
func usedPrefixes(e *etree.Element, used map[string]bool) {
	if e.Space != "xml" {
		used[e.Space] = true
	}
	for _, a := range e.Attr {
		if a.Space != "" && a.Space != "xml" && a.Space != "xmlns" {
			used[a.Space] = true
		}
	}
	for _, c := range e.ChildElements() {
		usedPrefixes(c, used)
	}
}

func xmlAttr(space, local, value string) xml.Attr {
	return xml.Attr{Name: xml.Name{Space: space, Local: local}, Value: value}
}
