package notify

import (
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/davshare/davshare/internal/davxml"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// MediaType is the representation of a notification resource (NT-03 §4.1,
// spec §0.3).
const MediaType = "application/davnotification+xml"

// MaxDocumentSize caps a notification document, whether we read it from disk
// or are asked to build it.
const MaxDocumentSize = 256 << 10

// dtstampLayout is RFC 3339 in UTC with second precision (spec §8.3).
const dtstampLayout = "2006-01-02T15:04:05Z"

// compactLayout is the CS-NOTIF §4.3.3 "compact" form, accepted on input.
const compactLayout = "20060102T150405Z"

// Notification is one notification document (NT-03 §4.4.2): a DAV:dtstamp
// and exactly one element naming the notification type, here its Payload.
type Notification struct {
	// DTStamp is when the notification was created or last updated; it is
	// kept in UTC with second precision.
	DTStamp time.Time
	// Payload is *ShareInvite, *ShareReply, *SystemStatus or, for a type
	// this package does not know, *Unknown.
	Payload Payload
}

// Payload is the type element of a notification. The set of payloads is
// closed: parsers of other packages type-switch on the concrete types.
type Payload interface {
	// Type is the empty copy of the type element that DAV:notificationtype
	// carries (NT-03 §4.3.1).
	Type() TypeElement
	// build appends the type element to parent.
	build(parent *etree.Element) error
}

// TypeElement is the value of DAV:notificationtype: the qualified name of the
// type element and its attributes (NT-03 §4.3.1, spec §3.6).
type TypeElement struct {
	Name  xml.Name
	Attrs []xml.Attr // namespace URIs resolved; no xmlns declarations
}

// Is reports whether t has the given namespace and local name.
func (t TypeElement) Is(space, local string) bool {
	return t.Name.Space == space && t.Name.Local == local
}

// Type names used by this project (spec §8.3).
var (
	TypeShareInvite  = xml.Name{Space: nsDAV, Local: "share-invite-notification"}
	TypeShareReply   = xml.Name{Space: nsDAV, Local: "share-reply-notification"}
	TypeSystemStatus = xml.Name{Space: nsDAV, Local: "systemstatus"}
)

// Build serialises n as a DAV:notification document. The DAV: namespace uses
// the "D:" prefix, children come in the DTD order of spec §5 and §8.3, and
// the output is indented for people who read the files on disk.
func Build(n *Notification) ([]byte, error) {
	if n == nil || n.Payload == nil {
		return nil, fmt.Errorf("%w: no payload", ErrMalformed)
	}
	if y := n.DTStamp.UTC().Year(); n.DTStamp.IsZero() || y < 1 || y > 9999 {
		return nil, fmt.Errorf("%w: no valid dtstamp", ErrMalformed)
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	root := doc.CreateElement("D:notification")
	root.CreateAttr("xmlns:D", nsDAV)
	root.CreateElement("D:dtstamp").SetText(FormatDTStamp(n.DTStamp))
	if err := n.Payload.build(root); err != nil {
		return nil, err
	}
	if _, ok := n.Payload.(*Unknown); ok {
		// Foreign content is kept verbatim: indent only the envelope.
		for i := len(root.Child) - 1; i >= 0; i-- {
			root.InsertChildAt(i, etree.NewText("\n  "))
		}
		root.CreateText("\n")
	} else {
		doc.IndentWithSettings(&etree.IndentSettings{Spaces: 2, PreserveLeafWhitespace: true})
	}
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(string(b), "\n") {
		b = append(b, '\n')
	}
	if len(b) > MaxDocumentSize {
		return nil, ErrTooLarge
	}
	return b, nil
}

// Parse parses a notification document. It accepts the children of every
// element in any order and ignores unknown elements (RFC 4918 §17, spec
// §0.4), but a known type must satisfy its grammar: what Parse accepts, Build
// reproduces.
func Parse(data []byte) (*Notification, error) {
	n, _, err := parse(data)
	return n, err
}

// errDTD is the notification parser's answer to a DTD.
var errDTD = fmt.Errorf("%w: DTDs are not allowed", ErrMalformed)

// parse also returns the type element exactly as the document has it, for
// DAV:notificationtype.
func parse(data []byte) (*Notification, TypeElement, error) {
	root, err := davxml.ReadTree(data, MaxDocumentSize)
	switch {
	case errors.Is(err, davxml.ErrTooLarge):
		return nil, TypeElement{}, ErrTooLarge
	case errors.Is(err, davxml.ErrExternalEntities):
		return nil, TypeElement{}, errDTD
	case err != nil:
		return nil, TypeElement{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !isDAV(root, "notification") {
		return nil, TypeElement{}, fmt.Errorf("%w: root is not DAV:notification", ErrMalformed)
	}
	var stamp, typ *etree.Element
	for _, t := range root.Child {
		switch t := t.(type) {
		case *etree.CharData:
			if !t.IsWhitespace() {
				return nil, TypeElement{}, fmt.Errorf("%w: text in DAV:notification", ErrMalformed)
			}
		case *etree.Element:
			switch {
			case isDAV(t, "dtstamp"):
				if stamp != nil {
					return nil, TypeElement{}, fmt.Errorf("%w: two DAV:dtstamp elements", ErrMalformed)
				}
				stamp = t
			case typ != nil:
				return nil, TypeElement{}, fmt.Errorf("%w: more than one type element", ErrMalformed)
			default:
				typ = t
			}
		}
	}
	if stamp == nil || typ == nil {
		return nil, TypeElement{}, fmt.Errorf("%w: need DAV:dtstamp and one type element", ErrMalformed)
	}
	ts, err := ParseDTStamp(text(stamp))
	if err != nil {
		return nil, TypeElement{}, err
	}
	te := typeOf(typ)
	var p Payload
	switch te.Name {
	case TypeShareInvite:
		p, err = parseInvite(typ)
	case TypeShareReply:
		p, err = parseReply(typ)
	case TypeSystemStatus:
		p, err = parseSystemStatus(typ)
	default:
		p = newUnknown(typ)
	}
	if err != nil {
		return nil, TypeElement{}, err
	}
	return &Notification{DTStamp: ts, Payload: p}, te, nil
}

// typeOf describes e as DAV:notificationtype wants it.
func typeOf(e *etree.Element) TypeElement {
	te := TypeElement{Name: xml.Name{Space: e.NamespaceURI(), Local: e.Tag}}
	for i := range e.Attr {
		a := &e.Attr[i]
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		te.Attrs = append(te.Attrs, xml.Attr{Name: xml.Name{Space: attrNamespace(a), Local: a.Key}, Value: a.Value})
	}
	return te
}

// FormatDTStamp renders t as a DAV:dtstamp value: RFC 3339, UTC, "Z".
func FormatDTStamp(t time.Time) string {
	return t.UTC().Format(dtstampLayout)
}

// ParseDTStamp reads a DAV:dtstamp: RFC 3339 (any offset, fractions
// dropped) or the CS-NOTIF compact form. The result is UTC, whole seconds.
func ParseDTStamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, err = time.Parse(compactLayout, s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: bad DAV:dtstamp", ErrMalformed)
	}
	t = t.UTC().Truncate(time.Second)
	if t.IsZero() || t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%w: DAV:dtstamp out of range", ErrMalformed)
	}
	return t, nil
}

// errMissing reports a required element that is absent or empty.
func errMissing(what string) error {
	return fmt.Errorf("%w: missing %s", ErrMalformed, what)
}

// isMalformed reports whether err is a document problem rather than I/O.
func isMalformed(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge)
}
