package davxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// NS is the DAV: namespace URI.
const NS = "DAV:"

// MaxDepth bounds element nesting in any request body we parse.
const MaxDepth = 64

// DefaultBodyLimit is the default cap on an XML request body.
const DefaultBodyLimit = 1 << 20

var (
	// ErrTooLarge means the body exceeded the configured limit (413).
	ErrTooLarge = errors.New("davxml: request body too large")
	// ErrExternalEntities means the body declared a DTD (RFC 4918 §16).
	ErrExternalEntities = errors.New("davxml: DTDs and external entities are not allowed")
	// ErrMalformed wraps every other parse failure (400).
	ErrMalformed = errors.New("davxml: malformed XML body")
)

// ReadBody reads at most limit bytes of the request body. A body that is
// longer fails with ErrTooLarge, whether or not Content-Length announced it.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	if r.ContentLength > limit {
		return nil, ErrTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// Decoder returns a strict decoder over body. Tokens must go through Next,
// which enforces MaxDepth and refuses DTDs.
func newDecoder(body []byte) *decoder {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	return &decoder{d: d}
}

type decoder struct {
	d     *xml.Decoder
	depth int
}

// next returns the next token, skipping comments, processing instructions
// and whitespace-only character data between elements is left to callers.
func (d *decoder) next() (xml.Token, error) {
	for {
		t, err := d.d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := t.(type) {
		case xml.Directive:
			return nil, ErrExternalEntities
		case xml.ProcInst, xml.Comment:
			continue
		case xml.StartElement:
			d.depth++
			if d.depth > MaxDepth {
				return nil, fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, MaxDepth)
			}
			// Namespaces in XML 1.0 §3: a name is a QName, so encoding/xml
			// leaves a colon in the local part only of "<:a>" or "<a:>",
			// which would be re-serialised as "<P::a>".
			if strings.Contains(t.Name.Local, ":") {
				return nil, fmt.Errorf("%w: %q is not a qualified name", ErrMalformed, t.Name.Local)
			}
			for _, a := range t.Attr {
				// Namespaces in XML 1.0 §3: a prefix may not be bound to "".
				if a.Name.Space == "xmlns" && a.Value == "" {
					return nil, fmt.Errorf("%w: prefix %q bound to the empty namespace", ErrMalformed, a.Name.Local)
				}
				if strings.Contains(a.Name.Local, ":") {
					return nil, fmt.Errorf("%w: %q is not a qualified name", ErrMalformed, a.Name.Local)
				}
			}
			return t.Copy(), nil
		case xml.EndElement:
			d.depth--
			return t, nil
		case xml.CharData:
			return t.Copy(), nil
		}
	}
}

// root returns the document's root element, or ErrMalformed.
func (d *decoder) root() (xml.StartElement, error) {
	for {
		t, err := d.next()
		if err != nil {
			if err == io.EOF {
				return xml.StartElement{}, fmt.Errorf("%w: no root element", ErrMalformed)
			}
			return xml.StartElement{}, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return xml.StartElement{}, fmt.Errorf("%w: text before the root element", ErrMalformed)
			}
		}
	}
}

// skip consumes the rest of the element whose start was just read.
func (d *decoder) skip() error {
	for depth := 1; depth > 0; {
		t, err := d.next()
		if err != nil {
			if err == io.EOF {
				return fmt.Errorf("%w: unexpected end", ErrMalformed)
			}
			return err
		}
		switch t.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// finish checks that nothing but whitespace follows the root element.
func (d *decoder) finish() error {
	for {
		t, err := d.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if cd, ok := t.(xml.CharData); !ok || len(bytes.TrimSpace(cd)) != 0 {
			return fmt.Errorf("%w: content after the root element", ErrMalformed)
		}
	}
}

// Status maps a davxml error to its HTTP status: 413, 403 or 400.
func Status(err error) int {
	switch {
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrExternalEntities):
		return http.StatusForbidden
	default:
		return http.StatusBadRequest
	}
}

// MediaTypeIs compares a Content-Type with the given lower-case types on
// type/subtype only, ignoring parameters such as charset (spec §0.3).
func MediaTypeIs(contentType string, types ...string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	for _, t := range types {
		if mt == t {
			return true
		}
	}
	return false
}

// ReadPropfind reads and parses a PROPFIND body in one step.
func ReadPropfind(r *http.Request, limit int64) (Propfind, error) {
	body, err := ReadBody(r, limit)
	if err != nil {
		return Propfind{}, err
	}
	return ParsePropfind(body)
}
