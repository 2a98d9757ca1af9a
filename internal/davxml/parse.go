package davxml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Propfind is a parsed PROPFIND body (RFC 4918 §14.20).
type Propfind struct {
	AllProp  bool
	PropName bool
	// Props are the names asked for with DAV:prop, or the DAV:include
	// names that accompany DAV:allprop.
	Props []xml.Name
}

// ParsePropfind parses a PROPFIND body. An empty body means allprop
// (RFC 4918 §9.1).
func ParsePropfind(body []byte) (Propfind, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return Propfind{AllProp: true}, nil
	}
	d := newDecoder(body)
	root, err := d.root()
	if err != nil {
		return Propfind{}, err
	}
	if root.Name != (xml.Name{Space: NS, Local: "propfind"}) {
		return Propfind{}, fmt.Errorf("%w: root is not DAV:propfind", ErrMalformed)
	}
	var pf Propfind
	kinds := 0
	err = d.children(func(se xml.StartElement) error {
		if se.Name.Space != NS {
			return d.skip() // RFC 4918 §17: ignore what we do not know
		}
		switch se.Name.Local {
		case "allprop":
			pf.AllProp = true
			kinds++
			return d.skip()
		case "propname":
			pf.PropName = true
			kinds++
			return d.skip()
		case "prop":
			kinds++
			return d.names(&pf.Props)
		case "include":
			return d.names(&pf.Props)
		}
		return d.skip()
	})
	if err != nil {
		return Propfind{}, err
	}
	if kinds != 1 {
		return Propfind{}, fmt.Errorf("%w: propfind needs exactly one of allprop, propname, prop", ErrMalformed)
	}
	if pf.PropName && len(pf.Props) > 0 {
		return Propfind{}, fmt.Errorf("%w: include is only allowed with allprop", ErrMalformed)
	}
	return pf, d.finish()
}

// children calls fn for each child element of the element just opened; fn
// must consume the child entirely. Non-whitespace text is malformed.
func (d *decoder) children(fn func(xml.StartElement) error) error {
	for {
		t, err := d.next()
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("%w: unexpected end", ErrMalformed)
			}
			return err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return fmt.Errorf("%w: unexpected text", ErrMalformed)
			}
		}
	}
}

// names collects the names of the empty children of a DAV:prop.
func (d *decoder) names(dst *[]xml.Name) error {
	return d.children(func(se xml.StartElement) error {
		*dst = append(*dst, se.Name)
		return d.skip()
	})
}

// Property is one property value of a PROPPATCH set or a stored dead
// property. Inner is its XML content, in which every element declares the
// namespaces it uses, so it can be embedded anywhere verbatim.
type Property struct {
	Name  xml.Name `json:"n"`
	Lang  string   `json:"l,omitempty"`
	Inner string   `json:"v,omitempty"`
}

// Patch is one DAV:set or DAV:remove instruction, in document order.
type Patch struct {
	Remove bool
	Props  []Property
}

// ParsePropertyUpdate parses a PROPPATCH body (RFC 4918 §14.19).
func ParsePropertyUpdate(body []byte) ([]Patch, error) {
	d := newDecoder(body)
	root, err := d.root()
	if err != nil {
		return nil, err
	}
	if root.Name != (xml.Name{Space: NS, Local: "propertyupdate"}) {
		return nil, fmt.Errorf("%w: root is not DAV:propertyupdate", ErrMalformed)
	}
	var patches []Patch
	err = d.children(func(se xml.StartElement) error {
		if se.Name.Space != NS || (se.Name.Local != "set" && se.Name.Local != "remove") {
			return d.skip()
		}
		p := Patch{Remove: se.Name.Local == "remove"}
		err := d.children(func(prop xml.StartElement) error {
			if prop.Name != (xml.Name{Space: NS, Local: "prop"}) {
				return d.skip()
			}
			return d.children(func(pe xml.StartElement) error {
				v := Property{Name: pe.Name, Lang: xmlLang(pe)}
				if !p.Remove {
					inner, err := d.inner()
					if err != nil {
						return err
					}
					v.Inner = inner
				} else if err := d.skip(); err != nil {
					return err
				}
				p.Props = append(p.Props, v)
				return nil
			})
		})
		if err != nil {
			return err
		}
		if len(p.Props) == 0 {
			return fmt.Errorf("%w: %s without properties", ErrMalformed, se.Name.Local)
		}
		patches = append(patches, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(patches) == 0 {
		return nil, fmt.Errorf("%w: propertyupdate without set or remove", ErrMalformed)
	}
	return patches, d.finish()
}

const xmlNS = "http://www.w3.org/XML/1998/namespace"

func xmlLang(se xml.StartElement) string {
	for _, a := range se.Attr {
		if a.Name.Space == xmlNS && a.Name.Local == "lang" {
			return a.Value
		}
	}
	return ""
}

// inner re-serialises the content of the element just opened, up to its end
// tag, declaring namespaces on each element that needs them. This keeps a
// property value meaningful when it is later embedded in another document
// (pitfall H.37).
func (d *decoder) inner() (string, error) {
	var b strings.Builder
	type scope struct{ prefixes map[string]string }
	var stack []scope
	lookup := func(uri string) (string, bool) {
		for i := len(stack) - 1; i >= 0; i-- {
			if p, ok := stack[i].prefixes[uri]; ok {
				return p, true
			}
		}
		return "", false
	}
	next := 0
	for {
		t, err := d.next()
		if err != nil {
			if err == io.EOF {
				return "", fmt.Errorf("%w: unexpected end", ErrMalformed)
			}
			return "", err
		}
		switch t := t.(type) {
		case xml.CharData:
			b.WriteString(Escape(string(t)))
		case xml.EndElement:
			if len(stack) == 0 {
				return b.String(), nil
			}
			b.WriteString("</")
			b.WriteString(qname(t.Name, lookup))
			b.WriteString(">")
			stack = stack[:len(stack)-1]
		case xml.StartElement:
			sc := scope{prefixes: map[string]string{}}
			var decls strings.Builder
			declare := func(uri string) {
				if uri == "" || uri == xmlNS {
					return
				}
				if _, ok := lookup(uri); ok {
					return
				}
				if _, ok := sc.prefixes[uri]; ok {
					return
				}
				p := fmt.Sprintf("x%d", next)
				next++
				sc.prefixes[uri] = p
				fmt.Fprintf(&decls, ` xmlns:%s="%s"`, p, Escape(uri))
			}
			stack = append(stack, sc)
			declare(t.Name.Space)
			for _, a := range t.Attr {
				if !isNSDecl(a.Name) {
					declare(a.Name.Space)
				}
			}
			b.WriteString("<")
			b.WriteString(qname(t.Name, lookup))
			b.WriteString(decls.String())
			for _, a := range t.Attr {
				if isNSDecl(a.Name) {
					continue
				}
				b.WriteString(" ")
				if a.Name.Space == xmlNS {
					b.WriteString("xml:" + a.Name.Local)
				} else {
					b.WriteString(qname(a.Name, lookup))
				}
				b.WriteString(`="`)
				b.WriteString(Escape(a.Value))
				b.WriteString(`"`)
			}
			b.WriteString(">")
		}
	}
}

func isNSDecl(n xml.Name) bool {
	return n.Space == "xmlns" || (n.Space == "" && n.Local == "xmlns")
}

func qname(n xml.Name, lookup func(string) (string, bool)) string {
	if n.Space == "" {
		return n.Local
	}
	if p, ok := lookup(n.Space); ok {
		return p + ":" + n.Local
	}
	return n.Local
}

// LockInfo is a parsed LOCK body (RFC 4918 §14.11).
type LockInfo struct {
	Shared bool
	// Owner is the content of DAV:owner as the client sent it, re-serialised
	// with its namespaces; it is echoed back verbatim.
	Owner string
}

// ParseLockInfo parses a LOCK request body; only write locks exist.
func ParseLockInfo(body []byte) (LockInfo, error) {
	d := newDecoder(body)
	root, err := d.root()
	if err != nil {
		return LockInfo{}, err
	}
	if root.Name != (xml.Name{Space: NS, Local: "lockinfo"}) {
		return LockInfo{}, fmt.Errorf("%w: root is not DAV:lockinfo", ErrMalformed)
	}
	var li LockInfo
	scopes, types := 0, 0
	err = d.children(func(se xml.StartElement) error {
		if se.Name.Space != NS {
			return d.skip()
		}
		switch se.Name.Local {
		case "lockscope":
			return d.children(func(sc xml.StartElement) error {
				switch sc.Name {
				case xml.Name{Space: NS, Local: "exclusive"}:
					scopes++
				case xml.Name{Space: NS, Local: "shared"}:
					scopes++
					li.Shared = true
				}
				return d.skip()
			})
		case "locktype":
			return d.children(func(lt xml.StartElement) error {
				if lt.Name != (xml.Name{Space: NS, Local: "write"}) {
					return fmt.Errorf("%w: only write locks exist", ErrMalformed)
				}
				types++
				return d.skip()
			})
		case "owner":
			inner, err := d.inner()
			if err != nil {
				return err
			}
			li.Owner = inner
			return nil
		}
		return d.skip()
	})
	if err != nil {
		return LockInfo{}, err
	}
	if scopes != 1 || types != 1 {
		return LockInfo{}, fmt.Errorf("%w: lockinfo needs one lockscope and one locktype", ErrMalformed)
	}
	return li, d.finish()
}
