package notify

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/davshare/davshare/internal/davxml"
)

// errUnsupportedReport is a well-formed REPORT other than sync-collection
// (RFC 3253 §3.6: 403 with DAV:supported-report).
var errUnsupportedReport = errors.New("notify: unsupported report")

// syncRequest is a parsed DAV:sync-collection body (RFC 6578 §6.1).
type syncRequest struct {
	token string
	limit int // 0: none
	props []xml.Name
}

// parseSyncCollection parses a REPORT body. Errors wrap davxml's sentinels
// so davxml.Status and our error mapping treat them like every other body.
//
// Leniency (documented in doc.go): a missing DAV:sync-token means an
// initial sync, a missing DAV:sync-level means "1", and a missing DAV:prop
// means DAV:getetag. "infinite" is accepted and answered like "1": a
// notification collection has no child collections.
func parseSyncCollection(body []byte, limit int) (syncRequest, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return syncRequest{}, fmt.Errorf("%w: empty REPORT body", davxml.ErrMalformed)
	}
	root, err := davxml.ReadTree(body, limit)
	if err != nil {
		return syncRequest{}, err
	}
	if !isDAV(root, "sync-collection") {
		return syncRequest{}, errUnsupportedReport
	}
	req := syncRequest{}
	haveProp := false
	for _, c := range root.ChildElements() {
		if c.NamespaceURI() != nsDAV {
			continue
		}
		switch c.Tag {
		case "sync-token":
			req.token = strings.TrimSpace(text(c))
		case "sync-level":
			if l := strings.TrimSpace(text(c)); l != "1" && l != "infinite" {
				return syncRequest{}, fmt.Errorf("%w: DAV:sync-level must be 1 or infinite", davxml.ErrMalformed)
			}
		case "limit":
			n := 0
			for _, k := range c.ChildElements() {
				if isDAV(k, "nresults") {
					n, err = strconv.Atoi(strings.TrimSpace(text(k)))
					if err != nil || n < 1 {
						return syncRequest{}, fmt.Errorf("%w: DAV:nresults must be a positive integer", davxml.ErrMalformed)
					}
				}
			}
			if n == 0 {
				return syncRequest{}, fmt.Errorf("%w: DAV:limit without DAV:nresults", davxml.ErrMalformed)
			}
			req.limit = n
		case "prop":
			haveProp = true
			for _, p := range c.ChildElements() {
				req.props = append(req.props, xml.Name{Space: p.NamespaceURI(), Local: p.Tag})
			}
		}
	}
	if !haveProp {
		req.props = []xml.Name{{Space: nsDAV, Local: "getetag"}}
	}
	return req, nil
}
