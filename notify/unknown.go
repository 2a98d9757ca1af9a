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

// newUnknown copies e so that it stands alone: the namespace declarations of
// its ancestors that it does not redeclare are added to the copy.
func newUnknown(e *etree.Element) *Unknown {
	c := e.Copy()
	declared := map[string]bool{}
	for _, a := range c.Attr {
		if a.Space == "xmlns" {
			declared["xmlns:"+a.Key] = true
		} else if a.Space == "" && a.Key == "xmlns" {
			declared["xmlns"] = true
		}
	}
	for p := e.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			key := ""
			switch {
			case a.Space == "xmlns":
				key = "xmlns:" + a.Key
			case a.Space == "" && a.Key == "xmlns":
				key = "xmlns"
			default:
				continue
			}
			if !declared[key] {
				declared[key] = true
				c.CreateAttr(key, a.Value)
			}
		}
	}
	return &Unknown{te: typeOf(e), el: c}
}

func xmlAttr(space, local, value string) xml.Attr {
	return xml.Attr{Name: xml.Name{Space: space, Local: local}, Value: value}
}
