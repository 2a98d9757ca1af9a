package davxml

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// Native fuzz targets for every parser of client XML. Seeds live in
// testdata/fuzz/FuzzXxx; run one with
//
//	go test -run='^$' -fuzz=FuzzParsePropertyUpdate -fuzztime=20s ./internal/davxml

// checkError asserts that a parse error is one the server maps to 400 or
// 403, never an unclassified error that would become a 500.
func checkError(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrExternalEntities) {
		t.Fatalf("error %v wraps neither ErrMalformed nor ErrExternalEntities", err)
	}
}

// wellFormed reports whether s is one well-formed element with nothing
// after it, under the same strict decoder clients of our responses face.
func wellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			// Namespace well-formedness, which encoding/xml does not check.
			if strings.Contains(tok.Name.Local, ":") {
				return errors.New("element name is not a QName")
			}
			for _, a := range tok.Attr {
				if strings.Contains(a.Name.Local, ":") {
					return errors.New("attribute name is not a QName")
				}
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return errors.New("directive inside a value")
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(tok)) > 0 {
				return errors.New("text outside the element")
			}
		}
	}
	if depth != 0 || roots != 1 {
		return errors.New("not exactly one balanced element")
	}
	return nil
}

// nameElement renders an empty element for n that declares its namespace.
func nameElement(n xml.Name) string {
	if n.Space == "" {
		return "<" + n.Local + "/>"
	}
	return "<P:" + n.Local + ` xmlns:P="` + Escape(n.Space) + `"/>`
}

func checkNames(t *testing.T, names []xml.Name) {
	t.Helper()
	for _, n := range names {
		if n.Local == "" {
			t.Fatalf("empty local name in %v", names)
		}
	}
}

func FuzzParsePropfind(f *testing.F) {
	f.Add([]byte(`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		pf, err := ParsePropfind(body)
		if err != nil {
			checkError(t, err)
			return
		}
		if pf.AllProp && pf.PropName {
			t.Fatalf("both allprop and propname: %+v", pf)
		}
		if pf.PropName && len(pf.Props) > 0 {
			t.Fatalf("propname with names: %+v", pf)
		}
		checkNames(t, pf.Props)
		// What we understood, written back, means the same.
		var b strings.Builder
		b.WriteString(`<D:propfind xmlns:D="DAV:">`)
		names := ""
		for _, n := range pf.Props {
			names += nameElement(n)
		}
		switch {
		case pf.PropName:
			b.WriteString("<D:propname/>")
		case pf.AllProp:
			b.WriteString("<D:allprop/>")
			if len(pf.Props) > 0 {
				b.WriteString("<D:include>" + names + "</D:include>")
			}
		default:
			b.WriteString("<D:prop>" + names + "</D:prop>")
		}
		b.WriteString("</D:propfind>")
		again, err := ParsePropfind([]byte(b.String()))
		if err != nil {
			t.Fatalf("re-serialised %q does not parse: %v", b.String(), err)
		}
		if !reflect.DeepEqual(pf, again) {
			t.Fatalf("round trip changed\n  %+v\nto\n  %+v\nvia %s", pf, again, b.String())
		}
	})
}

func FuzzParsePropertyUpdate(f *testing.F) {
	f.Add([]byte(`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><X:a xmlns:X="urn:x">v</X:a></D:prop></D:set></D:propertyupdate>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		patches, err := ParsePropertyUpdate(body)
		if err != nil {
			checkError(t, err)
			return
		}
		if len(patches) == 0 {
			t.Fatal("accepted an update without instructions")
		}
		var doc bytes.Buffer
		bw := bufio.NewWriter(&doc)
		bw.WriteString(`<D:propertyupdate xmlns:D="DAV:">`)
		for _, p := range patches {
			if len(p.Props) == 0 {
				t.Fatalf("instruction without properties: %+v", patches)
			}
			op := "set"
			if p.Remove {
				op = "remove"
			}
			bw.WriteString("<D:" + op + "><D:prop>")
			for _, prop := range p.Props {
				checkNames(t, []xml.Name{prop.Name})
				if p.Remove && prop.Inner != "" {
					t.Fatalf("remove carries a value: %+v", prop)
				}
				// Each value must embed anywhere, as PROPFIND does.
				if err := wellFormed("<x>" + prop.Inner + "</x>"); err != nil {
					t.Fatalf("value of %v is not embeddable (%v): %q", prop.Name, err, prop.Inner)
				}
				bw.Write(AppendProp(nil, Prop(prop)))
			}
			bw.WriteString("</D:prop></D:" + op + ">")
		}
		bw.WriteString("</D:propertyupdate>")
		bw.Flush()
		if err := wellFormed(doc.String()); err != nil {
			t.Fatalf("re-serialised update is not well-formed (%v): %s", err, doc.String())
		}
		again, err := ParsePropertyUpdate(doc.Bytes())
		if err != nil {
			t.Fatalf("re-serialised %s does not parse: %v", doc.String(), err)
		}
		if len(again) != len(patches) {
			t.Fatalf("round trip: %d instructions, want %d", len(again), len(patches))
		}
		for i := range patches {
			if again[i].Remove != patches[i].Remove || len(again[i].Props) != len(patches[i].Props) {
				t.Fatalf("round trip changed instruction %d: %+v to %+v", i, patches[i], again[i])
			}
			for j, p := range patches[i].Props {
				q := again[i].Props[j]
				if p.Name != q.Name || p.Lang != q.Lang {
					t.Fatalf("round trip changed %+v to %+v", p, q)
				}
				if p.Inner != q.Inner {
					t.Fatalf("value of %v is not stable:\n  %q\n  %q", p.Name, p.Inner, q.Inner)
				}
			}
		}
	})
}

func FuzzParseLockInfo(f *testing.F) {
	f.Add([]byte(`<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		li, err := ParseLockInfo(body)
		if err != nil {
			checkError(t, err)
			return
		}
		// The owner is echoed in every lockdiscovery.
		if err := wellFormed("<x>" + li.Owner + "</x>"); err != nil {
			t.Fatalf("owner is not embeddable (%v): %q", err, li.Owner)
		}
		scope := "<D:exclusive/>"
		if li.Shared {
			scope = "<D:shared/>"
		}
		owner := ""
		if li.Owner != "" {
			owner = "<D:owner>" + li.Owner + "</D:owner>"
		}
		doc := `<D:lockinfo xmlns:D="DAV:"><D:lockscope>` + scope + `</D:lockscope><D:locktype><D:write/></D:locktype>` + owner + `</D:lockinfo>`
		again, err := ParseLockInfo([]byte(doc))
		if err != nil {
			t.Fatalf("re-serialised %s does not parse: %v", doc, err)
		}
		if again != li {
			t.Fatalf("round trip changed %+v to %+v", li, again)
		}
	})
}
