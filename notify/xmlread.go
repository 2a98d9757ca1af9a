package notify

import (
	"strings"

	"github.com/beevik/etree"
)

const (
	nsDAV = "DAV:"
	nsXML = "http://www.w3.org/XML/1998/namespace"
)

// is reports whether e is the element {ns}local, matched by namespace URI,
// never by prefix.
func is(e *etree.Element, ns, local string) bool {
	return e.Tag == local && e.NamespaceURI() == ns
}

// isDAV reports whether e is DAV:local.
func isDAV(e *etree.Element, local string) bool { return is(e, nsDAV, local) }

// text returns the concatenated character data directly inside e, ignoring
// comments and child elements.
func text(e *etree.Element) string {
	var b strings.Builder
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return b.String()
}

// hrefOf returns the trimmed text of the first DAV:href child of e.
func hrefOf(e *etree.Element) string {
	for _, c := range e.ChildElements() {
		if isDAV(c, "href") {
			return strings.TrimSpace(text(c))
		}
	}
	return ""
}

// attrNamespace resolves an attribute's namespace URI; etree leaves the
// predeclared xml: prefix unresolved.
func attrNamespace(a *etree.Attr) string {
	if a.Space == "xml" {
		return nsXML
	}
	return a.NamespaceURI()
}

// xmlLang returns the xml:lang attribute of e, if any.
func xmlLang(e *etree.Element) string {
	for i := range e.Attr {
		if e.Attr[i].Space == "xml" && e.Attr[i].Key == "lang" {
			return e.Attr[i].Value
		}
	}
	return ""
}
