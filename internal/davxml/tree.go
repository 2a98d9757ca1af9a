package davxml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// ReadTree parses a document with github.com/beevik/etree under the same
// rules as the token parsers here: at most limit bytes (ErrTooLarge; limit
// <= 0 means no limit), no DTD anywhere (ErrExternalEntities, so no entity
// expansion, RFC 4918 §20.6), nesting bounded by MaxDepth, exactly one root
// element, only declared prefixes, no prefix bound to the empty namespace,
// and only names that Namespaces in XML allows. Everything else fails with
// ErrMalformed. etree keeps prefixes literal, so callers match elements by
// NamespaceURI, never by prefix.
func ReadTree(body []byte, limit int) (*etree.Element, error) {
	if limit > 0 && len(body) > limit {
		return nil, ErrTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if declaresDTD(body) {
		return nil, ErrExternalEntities
	}
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = MaxDepth
	if err := doc.ReadFromBytes(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var root *etree.Element
	for _, t := range doc.Child {
		switch t := t.(type) {
		case *etree.Directive:
			return nil, ErrExternalEntities
		case *etree.Element:
			if root != nil {
				return nil, fmt.Errorf("%w: more than one root element", ErrMalformed)
			}
			root = t
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, fmt.Errorf("%w: text outside the root element", ErrMalformed)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrMalformed)
	}
	if err := checkTree(root); err != nil {
		return nil, err
	}
	return root, nil
}

// declaresDTD reports a document type declaration before the root element,
// which etree would otherwise report as an undefined entity.
func declaresDTD(body []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		switch tok.(type) {
		case xml.Directive:
			return true
		case xml.StartElement:
			return false
		}
	}
}

// checkTree refuses directives anywhere, undeclared prefixes, prefixes
// bound to "" (Namespaces in XML 1.0 §3) and names that are not QNames.
func checkTree(e *etree.Element) error {
	if badName(e.Space, e.Tag) {
		return fmt.Errorf("%w: bad element name %q", ErrMalformed, e.FullTag())
	}
	for _, a := range e.Attr {
		if a.Space == "xmlns" && a.Value == "" {
			return fmt.Errorf("%w: prefix %q bound to the empty namespace", ErrMalformed, a.Key)
		}
		if badName(a.Space, a.Key) {
			return fmt.Errorf("%w: bad attribute name %q", ErrMalformed, a.FullKey())
		}
	}
	if e.Space != "" && e.Space != "xml" && e.NamespaceURI() == "" {
		return fmt.Errorf("%w: undeclared prefix %q", ErrMalformed, e.Space)
	}
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.Directive:
			return ErrExternalEntities
		case *etree.Element:
			if err := checkTree(t); err != nil {
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
	return strings.Contains(space, ":") || !ValidNCName(local)
}

// ValidNCName reports whether s is a name without a colon, by the rules of
// encoding/xml, with a fast path for the usual ASCII names.
func ValidNCName(s string) bool {
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
