package fs_test

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http/httptest"
	"path"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/internal/davxml"
)

// Native fuzz targets for the fs parsers of client and disk input. Seeds
// live in testdata/fuzz/FuzzXxx; run one with
//
//	go test -run='^$' -fuzz=FuzzCleanName -fuzztime=20s ./fs

func FuzzCleanName(f *testing.F) {
	f.Add("/a/b")
	f.Fuzz(func(t *testing.T, name string) {
		got, err := dsfs.CleanName(name)
		if err != nil {
			if !errors.Is(err, dsfs.ErrInvalidPath) {
				t.Fatalf("CleanName(%q): error %v is not ErrInvalidPath", name, err)
			}
			return
		}
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("CleanName(%q) = %q is not rooted", name, got)
		}
		if path.Clean(got) != got {
			t.Fatalf("CleanName(%q) = %q is not clean", name, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("CleanName(%q) = %q has a %q segment", name, got, seg)
			}
		}
		if strings.IndexByte(got, 0) >= 0 || !utf8.ValidString(got) {
			t.Fatalf("CleanName(%q) = %q has NUL or invalid UTF-8", name, got)
		}
		// A name with ".." segments is refused, never resolved upwards.
		for _, seg := range strings.Split(name, "/") {
			if seg == ".." {
				t.Fatalf("CleanName(%q) accepted a .. segment", name)
			}
		}
		if want := path.Clean("/" + name); got != want {
			t.Fatalf("CleanName(%q) = %q, want path.Clean's %q", name, got, want)
		}
		again, err := dsfs.CleanName(got)
		if err != nil || again != got {
			t.Fatalf("CleanName is not idempotent: %q -> %q -> %q, %v", name, got, again, err)
		}
	})
}

func FuzzDecodeProps(f *testing.F) {
	f.Add([]byte(`[{"n":{"Space":"urn:a","Local":"color"},"v":"red"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		props, err := dsfs.DecodeProps(b)
		if err != nil {
			return
		}
		enc, err := dsfs.EncodeProps(props)
		if errors.Is(err, dsfs.ErrInsufficientStorage) {
			return // re-encoding may escape past the size cap
		}
		if err != nil {
			t.Fatalf("EncodeProps of decoded %q: %v", b, err)
		}
		again, err := dsfs.DecodeProps(enc)
		if err != nil {
			t.Fatalf("DecodeProps(EncodeProps(DecodeProps(%q))): %v", b, err)
		}
		if len(props) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(props, again) {
			t.Fatalf("round trip changed\n  %+v\nto\n  %+v", props, again)
		}
		// Whatever DecodeProps accepts is served by PROPFIND: the response
		// must stay well-formed and carry the same names.
		checkServable(t, props)
	})
}

// checkServable renders props in a multistatus, as PROPFIND does, and
// parses the result back.
func checkServable(t *testing.T, props []davxml.Property) {
	t.Helper()
	rec := httptest.NewRecorder()
	ms := davxml.NewMultistatus(rec)
	ps := davxml.Propstat{Status: 200}
	for _, p := range props {
		ps.Props = append(ps.Props, davxml.Prop(p))
	}
	ms.Response(davxml.Href("/dav/files/alice/x"), ps)
	ms.Close("")
	body := rec.Body.String()
	if err := strictParse(body); err != nil {
		t.Fatalf("multistatus of %+v is not well-formed (%v):\n%s", props, err, body)
	}
	var got struct {
		Responses []struct {
			Propstats []struct {
				Prop struct {
					Props []struct {
						XMLName xml.Name
						Lang    string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
					} `xml:",any"`
				} `xml:"DAV: prop"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("multistatus of %+v: %v\n%s", props, err, body)
	}
	if len(got.Responses) != 1 || len(got.Responses[0].Propstats) != 1 {
		t.Fatalf("multistatus of %+v has the wrong shape:\n%s", props, body)
	}
	served := got.Responses[0].Propstats[0].Prop.Props
	if len(served) != len(props) {
		t.Fatalf("served %d properties of %d:\n%s", len(served), len(props), body)
	}
	for i, p := range props {
		if served[i].XMLName != p.Name || served[i].Lang != p.Lang {
			t.Fatalf("property %v (lang %q) served as %v (lang %q):\n%s", p.Name, p.Lang, served[i].XMLName, served[i].Lang, body)
		}
	}
}

// strictParse reads a whole document with the strict decoder and refuses
// anything after the root element.
func strictParse(s string) error {
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
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.Directive:
			return errors.New("directive in the document")
		}
	}
	if depth != 0 || roots != 1 {
		return errors.New("not exactly one balanced root element")
	}
	return nil
}
