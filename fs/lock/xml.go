package lock

import (
	"strings"

	"github.com/davshare/davshare/internal/davxml"
)

// SupportedLockXML is the content of the DAV:supportedlock property
// (RFC 4918 §15.10): exclusive and shared write locks. It goes in
// davxml.Prop.Inner; the document declares xmlns:D="DAV:".
const SupportedLockXML = `<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>` +
	`<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>`

// ActiveLockXML renders l as a DAV:activelock element (RFC 4918 §14.1), for
// DAV:lockdiscovery in a LOCK response or a PROPFIND, with the D: prefix for
// DAV: that the caller's document declares. lockRootHref is the lock root's
// URL as the requester sees it, already escaped (davxml.Href). The owner is
// written verbatim, everything else is escaped.
//
// The timeout shown is l.Timeout, the one granted at the last LOCK or
// refresh; for the time remaining (RFC 4918 §14.29) set l.Timeout to
// l.Expires.Sub(now) first.
func (l Lock) ActiveLockXML(lockRootHref string) string {
	var b strings.Builder
	b.WriteString("<D:activelock><D:lockscope>")
	if l.Shared {
		b.WriteString("<D:shared/>")
	} else {
		b.WriteString("<D:exclusive/>")
	}
	b.WriteString("</D:lockscope><D:locktype><D:write/></D:locktype><D:depth>")
	if l.ZeroDepth {
		b.WriteString("0")
	} else {
		b.WriteString("infinity")
	}
	b.WriteString("</D:depth>")
	if l.OwnerXML != "" {
		b.WriteString("<D:owner>" + l.OwnerXML + "</D:owner>")
	}
	b.WriteString("<D:timeout>" + FormatTimeout(l.Timeout) + "</D:timeout>")
	b.WriteString("<D:locktoken><D:href>" + davxml.Escape(l.Token) + "</D:href></D:locktoken>")
	b.WriteString("<D:lockroot><D:href>" + lockRootHref + "</D:href></D:lockroot>")
	b.WriteString("</D:activelock>")
	return b.String()
}
