package lock

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const tok = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"

func TestParseIf(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   IfHeader
	}{
		{"litmus cond_put", `(<` + tok + `> ["abc"])`, IfHeader{Lists: []IfList{
			{Conditions: []Condition{{Token: tok}, {ETag: `"abc"`}}},
		}}},
		{"litmus fail_cond_put", `(<DAV:no-lock> ["abc"])`, IfHeader{Lists: []IfList{
			{Conditions: []Condition{{Token: "DAV:no-lock"}, {ETag: `"abc"`}}},
		}}},
		{"litmus cond_put_with_not", `(<` + tok + `>) (Not <DAV:no-lock>)`, IfHeader{Lists: []IfList{
			{Conditions: []Condition{{Token: tok}}},
			{Conditions: []Condition{{Not: true, Token: "DAV:no-lock"}}},
		}}},
		{"litmus complex_cond_put", `(<` + tok + `> ["abc"]) (Not <DAV:no-lock> ["abc"])`, IfHeader{Lists: []IfList{
			{Conditions: []Condition{{Token: tok}, {ETag: `"abc"`}}},
			{Conditions: []Condition{{Not: true, Token: "DAV:no-lock"}, {ETag: `"abc"`}}},
		}}},
		{"neon lock store (tagged with the lock URI)", `<http://localhost:8080/litmus/lockcoll/> (<` + tok + `>)`, IfHeader{Lists: []IfList{
			{Resource: "http://localhost:8080/litmus/lockcoll/", Conditions: []Condition{{Token: tok}}},
		}}},
		{"neon, two locks", ` <http://h/a> (<urn:uuid:1>) <http://h/b> (<urn:uuid:2>)`, IfHeader{Lists: []IfList{
			{Resource: "http://h/a", Conditions: []Condition{{Token: "urn:uuid:1"}}},
			{Resource: "http://h/b", Conditions: []Condition{{Token: "urn:uuid:2"}}},
		}}},
		{"RFC 4918 §10.4.6 example", `(<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> ["I am an ETag"]) (["I am another ETag"])`, IfHeader{Lists: []IfList{
			{Conditions: []Condition{{Token: "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2"}, {ETag: `"I am an ETag"`}}},
			{Conditions: []Condition{{ETag: `"I am another ETag"`}}},
		}}},
		{"RFC 4918 §10.4.7 example", `(Not <urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2> <urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092>)`, IfHeader{Lists: []IfList{
			{Conditions: []Condition{{Not: true, Token: "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2"}, {Token: "urn:uuid:58f202ac-22cf-11d1-b12d-002035b29092"}}},
		}}},
		{"tag applies to every following list", `</resource1> (<urn:uuid:a> [W/"A weak ETag"]) (["strong ETag"]) <http://h/r2> (Not [""])`, IfHeader{Lists: []IfList{
			{Resource: "/resource1", Conditions: []Condition{{Token: "urn:uuid:a"}, {ETag: `W/"A weak ETag"`}}},
			{Resource: "/resource1", Conditions: []Condition{{ETag: `"strong ETag"`}}},
			{Resource: "http://h/r2", Conditions: []Condition{{Not: true, ETag: `""`}}},
		}}},
		{"arbitrary white space, no space, any case of Not", "\t( \tnOT<opaquelocktoken:x>[\"a]b\"]\r\n )(NOT [w/\"x\"])  ", IfHeader{Lists: []IfList{
			{Conditions: []Condition{{Not: true, Token: "opaquelocktoken:x"}, {ETag: `"a]b"`}}},
			{Conditions: []Condition{{Not: true, ETag: `w/"x"`}}},
		}}},
		{"quoted-pair in an entity tag", `(["a\"]b"] [W/"\\"])`, IfHeader{Lists: []IfList{
			{Conditions: []Condition{{ETag: `"a\"]b"`}, {ETag: `W/"\\"`}}},
		}}},
		{"obs-text in an entity tag", "([\"caf\xc3\xa9\"])", IfHeader{Lists: []IfList{
			{Conditions: []Condition{{ETag: "\"caf\xc3\xa9\""}}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIf(tt.header)
			if err != nil {
				t.Fatalf("ParseIf(%q): %v", tt.header, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseIf(%q)\n got %#v\nwant %#v", tt.header, got, tt.want)
			}
			again, err := ParseIf(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip through %q: %#v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseIfMalformed(t *testing.T) {
	for _, h := range []string{
		"",
		"   ",
		"()",
		"( )",
		"(<urn:a>",
		"(<urn:a> ",
		"<http://h/a>",
		"<http://h/a> (<urn:a>) <http://h/b>",
		"<http://h/a> <http://h/b> (<urn:a>)",
		"(<urn:a>) <http://h/b> (<urn:a>)", // untagged, then tagged
		"(<urn:a>) x",
		"x (<urn:a>)",
		"(Not)",
		"(Not Not <urn:a>)",
		"(Nothing <urn:a>)",
		"(<urn:a)",
		"(<>)",
		"(<urn: a>)",     // no white space inside a Coded-URL
		"(<relative>)",   // state tokens are absolute URIs
		"(</path/only>)", // likewise
		"(<1234>)",       // x/net memLS-style tokens are not URIs
		"(<:x>)",
		"(<a<b:c>)",
		"<relative> (<urn:a>)", // resource tags are absolute URIs or paths
		"< /a> (<urn:a>)",
		"([abc])", // unquoted entity tag
		"([\"abc\"",
		"([\"abc])",
		"([\"abc\" ])",
		"([ \"abc\"])",
		"([W/ \"abc\"])",
		"([\"a\"b\"])",
		"([\"a\nb\"])",
		"([\"a\\\"])", // the quote is escaped, so the string never ends
		"([\"a\x7f\"])",
		"([])",
		"(<urn:a>) , (<urn:b>)",
		"[\"abc\"]",
		"(<urn:a>))",
		"((<urn:a>))",
	} {
		t.Run(h, func(t *testing.T) {
			got, err := ParseIf(h)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseIf(%q) = %#v, %v; want ErrMalformed", h, got, err)
			}
		})
	}
}

func TestIfHeaderString(t *testing.T) {
	h := IfHeader{Lists: []IfList{
		{Resource: "http://h/a", Conditions: []Condition{{Token: "urn:x"}, {Not: true, ETag: `"e"`}}},
		{Resource: "http://h/a", Conditions: []Condition{{ETag: `W/"w"`}}},
		{Resource: "/b", Conditions: []Condition{{Not: true, Token: "DAV:no-lock"}}},
	}}
	const want = `<http://h/a> (<urn:x> Not ["e"]) ([W/"w"]) </b> (Not <DAV:no-lock>)`
	if got := h.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestIfHeaderTokens(t *testing.T) {
	h, err := ParseIf(`<http://h/a> (<urn:a> ["e"]) (Not <urn:b>) </b> (<urn:c>) (<urn:a>)`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Tokens(), []string{"urn:a", "urn:c"}; !slices.Equal(got, want) {
		t.Fatalf("Tokens() = %q, want %q", got, want)
	}
	if got := (IfHeader{}).Tokens(); got != nil {
		t.Fatalf("empty header: Tokens() = %q", got)
	}
}

// TestFuzzSeedsParse makes sure the well-formed seeds, litmus' headers among
// them, parse: the fuzz target itself skips headers that fail.
func TestFuzzSeedsParse(t *testing.T) {
	files, err := filepath.Glob("testdata/fuzz/FuzzParseIf/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s is not a go test fuzz v1 file", file)
		}
		header, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		_, err = ParseIf(header)
		if malformed := strings.HasPrefix(filepath.Base(file), "malformed_"); malformed != (err != nil) {
			t.Errorf("%s: ParseIf(%q): %v", file, header, err)
		}
	}
}
