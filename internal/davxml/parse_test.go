package davxml

import (
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func dav(local string) xml.Name { return xml.Name{Space: NS, Local: local} }

// parseCase is one table row: a body and either the result or the error
// it must give.
type parseCase[T any] struct {
	name string
	body string
	want T
	err  error
}

func runParseCases[T any](t *testing.T, parse func([]byte) (T, error), cases []parseCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse([]byte(tc.body))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got\n  %+v\nwant\n  %+v", got, tc.want)
			}
		})
	}
}

func TestParsePropfind(t *testing.T) {
	runParseCases(t, ParsePropfind, []parseCase[Propfind]{
		{"empty body is allprop", "", Propfind{AllProp: true}, nil},
		{"whitespace body is allprop", " \r\n\t", Propfind{AllProp: true}, nil},
		{"allprop", `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, Propfind{AllProp: true}, nil},
		{"allprop with include", `<propfind xmlns="DAV:"><allprop/><include><quota-used-bytes/><X:a xmlns:X="urn:x"/></include></propfind>`,
			Propfind{AllProp: true, Props: []xml.Name{dav("quota-used-bytes"), {Space: "urn:x", Local: "a"}}}, nil},
		{"propname", `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`, Propfind{PropName: true}, nil},
		{"prop", `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><Z:Win32FileAttributes xmlns:Z="urn:schemas-microsoft-com:"/></D:prop></D:propfind>`,
			Propfind{Props: []xml.Name{dav("getetag"), {Space: "urn:schemas-microsoft-com:", Local: "Win32FileAttributes"}}}, nil},
		{"prop children with content are names only", `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag>x<y/></D:getetag></D:prop></D:propfind>`,
			Propfind{Props: []xml.Name{dav("getetag")}}, nil},
		{"unknown DAV: and foreign elements are ignored", `<D:propfind xmlns:D="DAV:"><D:future/><X:y xmlns:X="urn:x"><z/></X:y><D:prop><D:displayname/></D:prop></D:propfind>`,
			Propfind{Props: []xml.Name{dav("displayname")}}, nil},
		{"comments and processing instructions", `<?xml version="1.0"?><!-- c --><D:propfind xmlns:D="DAV:"><?pi x?><D:propname/><!-- c --></D:propfind>`, Propfind{PropName: true}, nil},
		{"two kinds", `<D:propfind xmlns:D="DAV:"><D:allprop/><D:propname/></D:propfind>`, Propfind{}, ErrMalformed},
		{"no kind", `<D:propfind xmlns:D="DAV:"/>`, Propfind{}, ErrMalformed},
		{"include with propname", `<D:propfind xmlns:D="DAV:"><D:propname/><D:include><D:getetag/></D:include></D:propfind>`, Propfind{}, ErrMalformed},
		{"wrong root", `<D:propertyupdate xmlns:D="DAV:"><D:allprop/></D:propertyupdate>`, Propfind{}, ErrMalformed},
		{"root without namespace", `<propfind><allprop/></propfind>`, Propfind{}, ErrMalformed},
		{"text in propfind", `<D:propfind xmlns:D="DAV:">text<D:allprop/></D:propfind>`, Propfind{}, ErrMalformed},
		{"unclosed", `<D:propfind xmlns:D="DAV:"><D:allprop/>`, Propfind{}, ErrMalformed},
		{"trailing element", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind><D:x/>`, Propfind{}, ErrMalformed},
		{"trailing text", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>junk`, Propfind{}, ErrMalformed},
		{"prefix bound to empty", `<D:propfind xmlns:D="DAV:"><D:prop><X:a xmlns:X=""/></D:prop></D:propfind>`, Propfind{}, ErrMalformed},
		{"DTD", `<!DOCTYPE D:propfind [<!ENTITY e SYSTEM "file:///etc/passwd">]><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, Propfind{}, ErrExternalEntities},
		{"too deep", `<D:propfind xmlns:D="DAV:"><D:prop><D:a>` + strings.Repeat("<b>", MaxDepth) + strings.Repeat("</b>", MaxDepth) + `</D:a></D:prop></D:propfind>`, Propfind{}, ErrMalformed},
		{"colon-led name", `<D:propfind xmlns:D="DAV:" xmlns="urn:x"><D:prop><:a/></D:prop></D:propfind>`, Propfind{}, ErrMalformed},
		{"colon-ended name", `<D:propfind xmlns:D="DAV:"><D:prop><a:/></D:prop></D:propfind>`, Propfind{}, ErrMalformed},
		{"invalid UTF-8", "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:a\xff/></D:prop></D:propfind>", Propfind{}, ErrMalformed},
	})
}

func TestParsePropertyUpdate(t *testing.T) {
	x := "urn:x"
	runParseCases(t, ParsePropertyUpdate, []parseCase[[]Patch]{
		{"set and remove in order",
			`<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x"><D:set><D:prop><X:a>1</X:a><X:b/></D:prop></D:set><D:remove><D:prop><X:a/></D:prop></D:remove></D:propertyupdate>`,
			[]Patch{{Props: []Property{{Name: xml.Name{Space: x, Local: "a"}, Inner: "1"}, {Name: xml.Name{Space: x, Local: "b"}}}},
				{Remove: true, Props: []Property{{Name: xml.Name{Space: x, Local: "a"}}}}}, nil},
		{"lang and nested namespaces",
			`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><X:a xmlns:X="urn:x" xml:lang="de"><Y:b xmlns:Y="urn:y" Y:at="1&amp;2">t&lt;</Y:b><X:c/></X:a></D:prop></D:set></D:propertyupdate>`,
			[]Patch{{Props: []Property{{Name: xml.Name{Space: x, Local: "a"}, Lang: "de",
				Inner: `<x0:b xmlns:x0="urn:y" x0:at="1&amp;2">t&lt;</x0:b><x1:c xmlns:x1="urn:x"></x1:c>`}}}}, nil},
		{"remove ignores content",
			`<D:propertyupdate xmlns:D="DAV:"><D:remove><D:prop><X:a xmlns:X="urn:x">ignored<y/></X:a></D:prop></D:remove></D:propertyupdate>`,
			[]Patch{{Remove: true, Props: []Property{{Name: xml.Name{Space: x, Local: "a"}}}}}, nil},
		{"Win32 properties",
			`<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>`,
			[]Patch{{Props: []Property{{Name: xml.Name{Space: "urn:schemas-microsoft-com:", Local: "Win32FileAttributes"}, Inner: "00000020"}}}}, nil},
		{"no instruction", `<D:propertyupdate xmlns:D="DAV:"/>`, nil, ErrMalformed},
		{"colon-led property name", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><:a xmlns="urn:x">v</:a></D:prop></D:set></D:propertyupdate>`, nil, ErrMalformed},
		{"colon-led attribute in a value", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><a><b :c="1"/></a></D:prop></D:set></D:propertyupdate>`, nil, ErrMalformed},
		{"set without properties", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop/></D:set></D:propertyupdate>`, nil, ErrMalformed},
		{"wrong root", `<D:propfind xmlns:D="DAV:"><D:set><D:prop><a/></D:prop></D:set></D:propfind>`, nil, ErrMalformed},
		{"empty", ``, nil, ErrMalformed},
		{"unclosed value", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><a>`, nil, ErrMalformed},
		{"undeclared entity", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><a>&e;</a></D:prop></D:set></D:propertyupdate>`, nil, ErrMalformed},
		{"DTD", `<!DOCTYPE x [<!ENTITY e "v">]><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><a>&e;</a></D:prop></D:set></D:propertyupdate>`, nil, ErrExternalEntities},
	})
}

func TestParseLockInfo(t *testing.T) {
	runParseCases(t, ParseLockInfo, []parseCase[LockInfo]{
		{"exclusive with href owner",
			`<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>http://example.org/~ejw/contact.html</D:href></D:owner></D:lockinfo>`,
			LockInfo{Owner: `<x0:href xmlns:x0="DAV:">http://example.org/~ejw/contact.html</x0:href>`}, nil},
		{"shared, text owner", `<lockinfo xmlns="DAV:"><locktype><write/></locktype><lockscope><shared/></lockscope><owner>Finder &amp; co</owner></lockinfo>`,
			LockInfo{Shared: true, Owner: "Finder &amp; co"}, nil},
		{"no owner", `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`, LockInfo{}, nil},
		{"read lock", `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:read/></D:locktype></D:lockinfo>`, LockInfo{}, ErrMalformed},
		{"no scope", `<D:lockinfo xmlns:D="DAV:"><D:locktype><D:write/></D:locktype></D:lockinfo>`, LockInfo{}, ErrMalformed},
		{"two scopes", `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`, LockInfo{}, ErrMalformed},
		{"wrong root", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, LockInfo{}, ErrMalformed},
		{"DTD", `<!DOCTYPE D:lockinfo SYSTEM "http://127.0.0.1:1/x.dtd"><D:lockinfo xmlns:D="DAV:"/>`, LockInfo{}, ErrExternalEntities},
	})
}
