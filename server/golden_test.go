package server_test

import (
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Golden XML responses live in testdata/golden/server at the repository
// root. They are compared after normalisation: volatile values (ETags, dates,
// lock tokens, free space) are replaced by placeholders, multistatus
// responses are sorted by href and properties by name, and prefixes are
// renamed, so only what a client could rely on is compared. Regenerate with
//
//	go test ./server -run Golden -update

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden/server")

const goldenDir = "../testdata/golden/server"

// golden compares an XML response body with testdata/golden/server/name.xml.
func golden(t *testing.T, name, body string) {
	t.Helper()
	got, err := normaliseXML(body)
	if err != nil {
		t.Fatalf("%s: response is not well-formed XML: %v\n%s", name, err, body)
	}
	file := filepath.Join(goldenDir, name+".xml")
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, file, got, want)
	}
}

type xnode struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*xnode
	text     string
}

// volatile maps DAV: element names to the placeholder for their text.
var volatile = map[string]string{
	"getetag":               `"ETAG"`,
	"getlastmodified":       "DATE",
	"creationdate":          "DATE",
	"quota-available-bytes": "BYTES",
}

var tokenRE = regexp.MustCompile(`urn:uuid:[0-9a-f-]{36}`)

func normaliseXML(body string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(body))
	root := &xnode{}
	stack := []*xnode{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: tok.Name}
			for _, a := range tok.Attr {
				if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
					n.attrs = append(n.attrs, a)
				}
			}
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if s := strings.TrimSpace(string(tok)); s != "" {
				top.text += s
			}
		}
	}
	if len(root.children) != 1 {
		return "", fmt.Errorf("%d root elements", len(root.children))
	}
	doc := root.children[0]
	normaliseNode(doc)
	prefixes := map[string]string{"DAV:": "D"}
	var order []string
	var collect func(n *xnode)
	collect = func(n *xnode) {
		for _, s := range append([]string{n.name.Space}, attrSpaces(n)...) {
			if _, ok := prefixes[s]; !ok && s != "" {
				prefixes[s] = fmt.Sprintf("ns%d", len(order)+1)
				order = append(order, s)
			}
		}
		for _, c := range n.children {
			collect(c)
		}
	}
	collect(doc)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	writeNode(&b, doc, prefixes, order, 0)
	return b.String(), nil
}

func attrSpaces(n *xnode) []string {
	var out []string
	for _, a := range n.attrs {
		if a.Name.Space != "" && a.Name.Space != "http://www.w3.org/XML/1998/namespace" {
			out = append(out, a.Name.Space)
		}
	}
	return out
}

func normaliseNode(n *xnode) {
	if n.name.Space == davNS {
		if v, ok := volatile[n.name.Local]; ok && n.text != "" {
			n.text = v
		}
	}
	n.text = tokenRE.ReplaceAllString(n.text, "urn:uuid:TOKEN")
	for _, c := range n.children {
		normaliseNode(c)
	}
	switch {
	case n.name == xml.Name{Space: davNS, Local: "multistatus"}:
		sort.SliceStable(n.children, func(i, j int) bool { return hrefOf(n.children[i]) < hrefOf(n.children[j]) })
	case n.name == xml.Name{Space: davNS, Local: "prop"}:
		sort.SliceStable(n.children, func(i, j int) bool {
			a, b := n.children[i].name, n.children[j].name
			if a.Space != b.Space {
				return a.Space < b.Space
			}
			return a.Local < b.Local
		})
	case n.name == xml.Name{Space: davNS, Local: "response"}:
		// Propstats in status order.
		sort.SliceStable(n.children, func(i, j int) bool { return statusOf(n.children[i]) < statusOf(n.children[j]) })
	}
}

func hrefOf(n *xnode) string {
	for _, c := range n.children {
		if c.name == (xml.Name{Space: davNS, Local: "href"}) {
			return c.text
		}
	}
	return ""
}

func statusOf(n *xnode) string {
	for _, c := range n.children {
		if c.name == (xml.Name{Space: davNS, Local: "status"}) {
			return c.text
		}
	}
	return ""
}

func qualified(n xml.Name, prefixes map[string]string) string {
	switch n.Space {
	case "":
		return n.Local
	case "http://www.w3.org/XML/1998/namespace":
		return "xml:" + n.Local
	}
	return prefixes[n.Space] + ":" + n.Local
}

func writeNode(b *strings.Builder, n *xnode, prefixes map[string]string, order []string, depth int) {
	b.WriteString(strings.Repeat(" ", depth))
	b.WriteString("<" + qualified(n.name, prefixes))
	if depth == 0 {
		b.WriteString(` xmlns:D="DAV:"`)
		for _, s := range order {
			fmt.Fprintf(b, ` xmlns:%s="%s"`, prefixes[s], escapeText(s))
		}
	}
	attrs := append([]xml.Attr(nil), n.attrs...)
	sort.Slice(attrs, func(i, j int) bool { return qualified(attrs[i].Name, prefixes) < qualified(attrs[j].Name, prefixes) })
	for _, a := range attrs {
		fmt.Fprintf(b, ` %s="%s"`, qualified(a.Name, prefixes), escapeText(a.Value))
	}
	switch {
	case len(n.children) == 0 && n.text == "":
		b.WriteString("/>\n")
	case len(n.children) == 0:
		b.WriteString(">" + escapeText(n.text) + "</" + qualified(n.name, prefixes) + ">\n")
	default:
		b.WriteString(">\n")
		if n.text != "" {
			b.WriteString(strings.Repeat(" ", depth+1) + escapeText(n.text) + "\n")
		}
		for _, c := range n.children {
			writeNode(b, c, prefixes, order, depth+1)
		}
		b.WriteString(strings.Repeat(" ", depth) + "</" + qualified(n.name, prefixes) + ">\n")
	}
}

func escapeText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
