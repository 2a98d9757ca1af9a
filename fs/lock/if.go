package lock

import (
	"fmt"
	"strings"
)

// IfHeader is a parsed If header (RFC 4918 §10.4). It is true when any of
// its lists is true.
type IfHeader struct {
	Lists []IfList
}

// IfList is one list of an If header: true when all its conditions are.
type IfList struct {
	// Resource is the resource tag of a tagged list, between its angle
	// brackets: an absolute URI or an absolute path. It is "" for an untagged
	// list, which applies to the request URL.
	Resource   string
	Conditions []Condition
}

// Condition is one condition of a list. Exactly one of Token and ETag is
// set.
type Condition struct {
	// Not negates the condition.
	Not bool
	// Token is a state token (an absolute URI such as a lock token or
	// "DAV:no-lock"), without its angle brackets.
	Token string
	// ETag is an entity tag as it appears in an ETag header, quotes and any
	// "W/" included, without the square brackets.
	ETag string
}

// ParseIf parses the value of an If header under the complete grammar of
// RFC 4918 §10.4.2: either untagged lists "(…) (…)" or tagged lists
// "<uri> (…) (…) <uri2> (…)", never both; each list holds one or more
// conditions, a state token "<uri>" or an entity tag "[etag]" or `[W/"etag"]`,
// optionally preceded by "Not" (matched case-insensitively, as RFC 2616's
// notation makes literals). Linear white space may appear between any two
// elements, but not inside a resource tag, a state token or an entity tag.
// State tokens must be absolute URIs and resource tags absolute URIs or
// absolute paths. Anything else, including an empty value, fails with
// ErrMalformed, which the server answers with 400.
func ParseIf(header string) (IfHeader, error) {
	p := ifParser{s: header}
	p.space()
	if p.eof() {
		return IfHeader{}, p.fail("empty header")
	}
	var h IfHeader
	tagged := p.peek() == '<'
	resource, lists := "", 0 // the current tag, and how many lists follow it
	for p.space(); !p.eof(); p.space() {
		switch p.peek() {
		case '<':
			if !tagged {
				return IfHeader{}, p.fail("resource tag after untagged lists")
			}
			if resource != "" && lists == 0 {
				return IfHeader{}, p.fail("resource tag without a list")
			}
			tag, err := p.codedURL(true)
			if err != nil {
				return IfHeader{}, err
			}
			resource, lists = tag, 0
		case '(':
			l, err := p.list()
			if err != nil {
				return IfHeader{}, err
			}
			l.Resource = resource
			h.Lists = append(h.Lists, l)
			lists++
		default:
			return IfHeader{}, p.fail("expected '(' or '<'")
		}
	}
	if lists == 0 {
		return IfHeader{}, p.fail("resource tag without a list")
	}
	return h, nil
}

// String renders h in the syntax ParseIf reads, with single spaces and each
// resource tag written once before its run of lists.
func (h IfHeader) String() string {
	var b strings.Builder
	for i, l := range h.Lists {
		if i > 0 {
			b.WriteByte(' ')
		}
		if l.Resource != "" && (i == 0 || h.Lists[i-1].Resource != l.Resource) {
			b.WriteString("<" + l.Resource + "> ")
		}
		b.WriteByte('(')
		for j, c := range l.Conditions {
			if j > 0 {
				b.WriteByte(' ')
			}
			if c.Not {
				b.WriteString("Not ")
			}
			if c.Token != "" {
				b.WriteString("<" + c.Token + ">")
			} else {
				b.WriteString("[" + c.ETag + "]")
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Tokens returns the state tokens h submits, without repeats, in order of
// appearance: those not negated by Not. A LOCK refresh finds the lock to
// refresh among them (RFC 4918 §9.10.2); see the package documentation.
func (h IfHeader) Tokens() []string {
	var tokens []string
	for _, l := range h.Lists {
		for _, c := range l.Conditions {
			if c.Token != "" && !c.Not && !contains(tokens, c.Token) {
				tokens = append(tokens, c.Token)
			}
		}
	}
	return tokens
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type ifParser struct {
	s string
	i int
}

func (p *ifParser) eof() bool  { return p.i >= len(p.s) }
func (p *ifParser) peek() byte { return p.s[p.i] }

// space skips linear white space. net/textproto has already unfolded
// continuation lines, but a raw CR or LF is treated as space all the same.
func (p *ifParser) space() {
	for !p.eof() && isSpace(p.peek()) {
		p.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (p *ifParser) fail(what string) error {
	return fmt.Errorf("%w: If header: %s at offset %d", ErrMalformed, what, p.i)
}

// list parses "(" 1*Condition ")", white space allowed around conditions.
func (p *ifParser) list() (IfList, error) {
	p.i++ // '('
	var l IfList
	for {
		p.space()
		if p.eof() {
			return IfList{}, p.fail("unterminated list")
		}
		if p.peek() == ')' {
			p.i++
			if len(l.Conditions) == 0 {
				return IfList{}, p.fail("empty list")
			}
			return l, nil
		}
		c, err := p.condition()
		if err != nil {
			return IfList{}, err
		}
		l.Conditions = append(l.Conditions, c)
	}
}

// condition parses ["Not"] (State-token | "[" entity-tag "]").
func (p *ifParser) condition() (Condition, error) {
	var c Condition
	if len(p.s)-p.i >= 3 && strings.EqualFold(p.s[p.i:p.i+3], "not") {
		c.Not = true
		p.i += 3
		p.space()
		if p.eof() {
			return Condition{}, p.fail("Not without a condition")
		}
	}
	var err error
	switch p.peek() {
	case '<':
		c.Token, err = p.codedURL(false)
	case '[':
		c.ETag, err = p.entityTag()
	default:
		err = p.fail("expected a state token or an entity tag")
	}
	return c, err
}

// codedURL parses "<" URI ">" with no white space inside. A state token must
// be an absolute URI; a resource tag (RFC 4918 §8.3 Simple-ref) may also be
// an absolute path.
func (p *ifParser) codedURL(tag bool) (string, error) {
	start := p.i + 1
	end := strings.IndexByte(p.s[start:], '>')
	if end < 0 {
		return "", p.fail("unterminated '<'")
	}
	uri := p.s[start : start+end]
	for i := 0; i < len(uri); i++ {
		if c := uri[i]; c <= ' ' || c == 0x7f || c == '<' {
			p.i = start + i
			return "", p.fail("invalid character in a URI")
		}
	}
	if !hasScheme(uri) && !(tag && strings.HasPrefix(uri, "/")) {
		if tag {
			return "", p.fail("resource tag is neither an absolute URI nor an absolute path")
		}
		return "", p.fail("state token is not an absolute URI")
	}
	p.i = start + end + 1
	return uri, nil
}

// hasScheme reports whether uri starts with an RFC 3986 scheme and a colon.
func hasScheme(uri string) bool {
	for i := 0; i < len(uri); i++ {
		c := uri[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

// entityTag parses "[" entity-tag "]" with entity-tag = ["W/"] quoted-string
// as RFC 4918 cites it from RFC 2616 §3.11: the quoted string may hold spaces
// (RFC 4918's own examples do) and backslash-escaped characters. Unlike
// x/net/webdav it does not stop at the first ']', which the string may hold.
func (p *ifParser) entityTag() (string, error) {
	p.i++ // '['
	start := p.i
	if strings.HasPrefix(p.s[p.i:], "W/") || strings.HasPrefix(p.s[p.i:], "w/") {
		p.i += 2
	}
	if p.eof() || p.peek() != '"' {
		return "", p.fail("entity tag is not a quoted string")
	}
	for p.i++; ; p.i++ {
		if p.eof() {
			return "", p.fail("unterminated entity tag")
		}
		c := p.peek()
		if c == '"' {
			break
		}
		if c == '\\' && p.i+1 < len(p.s) && p.s[p.i+1] < 0x80 {
			p.i++ // quoted-pair: the next CHAR is literal
			continue
		}
		if c < ' ' && c != '\t' || c == 0x7f {
			return "", p.fail("control character in an entity tag")
		}
	}
	p.i++ // closing '"'
	etag := p.s[start:p.i]
	if p.eof() || p.peek() != ']' {
		return "", p.fail("expected ']' after the entity tag")
	}
	p.i++
	return etag, nil
}

// strongMatch is RFC 7232 §2.3.2's strong comparison: both tags strong and
// identical.
func strongMatch(a, b string) bool {
	return a == b && !isWeak(a)
}

func isWeak(etag string) bool {
	return strings.HasPrefix(etag, "W/") || strings.HasPrefix(etag, "w/")
}
