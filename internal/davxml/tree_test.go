package davxml

import (
	"errors"
	"testing"
)

func TestReadTree(t *testing.T) {
	for _, c := range []struct {
		name, body string
		limit      int
		want       error // nil: accepted
	}{
		{"ok", `<D:a xmlns:D="DAV:"><D:b/></D:a>`, 0, nil},
		{"empty", "  \n", 0, ErrMalformed},
		{"too large", `<a/>`, 3, ErrTooLarge},
		{"doctype", `<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>`, 0, ErrExternalEntities},
		{"two roots", `<a/><b/>`, 0, ErrMalformed},
		{"text outside", `x<a/>`, 0, ErrMalformed},
		{"undeclared prefix", `<p:a/>`, 0, ErrMalformed},
		{"prefix bound to empty", `<a xmlns:p=""/>`, 0, ErrMalformed},
		{"empty prefix name", `<:a/>`, 0, ErrMalformed},
		{"local part not a name", `<C:0 xmlns:C="urn:x"/>`, 0, ErrMalformed},
		{"too deep", deep(MaxDepth + 2), 0, ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			root, err := ReadTree([]byte(c.body), c.limit)
			if c.want == nil {
				if err != nil || root == nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}

func deep(n int) string {
	s := ""
	for range n {
		s += "<a>"
	}
	for range n {
		s += "</a>"
	}
	return s
}
