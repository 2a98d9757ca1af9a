package notify

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

const (
	nsDAV = "DAV:"
	nsXML = "http://www.w3.org/XML/1998/namespace"

	// maxXMLDepth bounds element nesting in any document we parse, as
	// davxml.MaxDepth does for request bodies.
	maxXMLDepth = 64
)

// readXML parses data into an etree document with the same safety rules as
// davxml: a size cap, no DTD (so no entity expansion, RFC 4918 §20.6),
// bounded nesting, exactly one root element, and no prefix bound to the
// empty namespace. tooLarge and malformed are the errors to wrap, so the
// notification parser and the REPORT body parser can each report in their
// own vocabulary.
func readXML(data []byte, limit int, tooLarge, malformed, dtd error) (*etree.Element, error) {
	if len(data) > limit {
		return nil, tooLarge
	}
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = maxXMLDepth
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("%w: %v", malformed, err)
	}
	var root *etree.Element
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.Directive:
			return nil, dtd
		case *etree.Element:
			if root != nil {
				return nil, fmt.Errorf("%w: more than one root element", malformed)
			}
			root = t
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, fmt.Errorf("%w: text outside the root element", malformed)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", malformed)
	}
	if err := checkTree(root, malformed, dtd); err != nil {
		return nil, err
	}
	return root, nil
}

// checkTree refuses directives anywhere and prefixes bound to "" (Namespaces
// in XML 1.0 §3), and resolves nothing else: etree keeps prefixes literal, so
// every match below goes through NamespaceURI.
func checkTree(e *etree.Element, malformed, dtd error) error {
	if badName(e.Space, e.Tag) {
		return fmt.Errorf("%w: bad element name %q", malformed, e.FullTag())
	}
	for _, a := range e.Attr {
		if a.Space == "xmlns" && a.Value == "" {
			return fmt.Errorf("%w: prefix %q bound to the empty namespace", malformed, a.Key)
		}
		if badName(a.Space, a.Key) {
			return fmt.Errorf("%w: bad attribute name %q", malformed, a.FullKey())
		}
	}
	if e.Space != "" && e.Space != "xml" && e.NamespaceURI() == "" {
		return fmt.Errorf("%w: undeclared prefix %q", malformed, e.Space)
	}
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.Directive:
			return dtd
		case *etree.Element:
			if err := checkTree(t, malformed, dtd); err != nil {
				return err
			}
		}
	}
	return nil
}

// badName catches the names encoding/xml lets through in raw mode but
// Namespaces in XML forbids: empty parts and extra colons ("<:/>", "a:").
// The local part must itself be a name: "C:0" passes as a raw name, "0"
// is no element name.
func badName(space, local string) bool {
	return strings.Contains(space, ":") || !validNCName(local)
}

// validNCName reports whether s is a name without a colon, by the rules of
// encoding/xml (the parser we use), with a fast path for the usual ASCII
// names.
func validNCName(s string) bool {
	if s == "" || strings.ContainsAny(s, ": \t\r\n<>&/=\"'") {
		return false
	}
	if c := s[0]; c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
		ascii := true
		for i := 1; i < len(s) && ascii; i++ {
			c := s[i]
			ascii = c == '_' || c == '-' || c == '.' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
		}
		if ascii {
			return true
		}
	}
	_, err := xml.NewDecoder(strings.NewReader("<" + s + "/>")).Token()
	return err == nil
}

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
