package server

import (
	"encoding/xml"
	"html"
	"net/http"
	"strings"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/fs/lock"
	"github.com/davshare/davshare/internal/davxml"
	"io/fs"
)

// protected reports properties no client may set: every live property we
// compute, and the sharing ones (RS-04 §4.4).
func protected(n xml.Name) bool {
	if n.Space != davxml.NS {
		return false
	}
	if n.Local == "displayname" {
		return false
	}
	if isLive(n) {
		return true
	}
	switch n.Local {
	case "creationdate", "share-access", "invite", "share-resource-uri", "sharer-resource-uri",
		"supported-privilege-set", "current-user-privilege-set", "sync-token", "notificationtype",
		"notification-URL", "principal-URL":
		return true
	}
	return false
}

// proppatch applies a PROPPATCH atomically and answers 207 (RFC 4918 §9.2).
func (q *request) proppatch() {
	loc, fi, ok := q.existing()
	if !ok {
		return
	}
	if loc.ReadOnly() && !q.instanceRoot(loc) {
		q.fail(&fs.PathError{Op: "proppatch", Path: q.name, Err: dsfs.ErrReadOnly})
		return
	}
	if err := checkPreconditions(q.r, fi); err != nil {
		q.fail(err)
		return
	}
	if err := q.checkWrite(loc, writeAt(loc, lock.Zero)); err != nil {
		q.fail(err)
		return
	}
	body, err := davxml.ReadBody(q.r, q.s.BodyLimit)
	if err != nil {
		q.fail(err)
		return
	}
	patches, err := davxml.ParsePropertyUpdate(body)
	if err != nil {
		q.fail(err)
		return
	}
	results, err := q.patchAt(loc, patches)
	if err != nil {
		q.fail(err)
		return
	}
	if applied(results) && !q.instanceRoot(loc) {
		q.applyWin32Times(loc, patches)
	}
	byStatus := map[int]*davxml.Propstat{}
	var order []int
	for _, res := range results {
		ps, ok := byStatus[res.Status]
		if !ok {
			ps = &davxml.Propstat{Status: res.Status}
			if res.Status == http.StatusForbidden {
				ps.Error = []string{davxml.Empty(davxml.NS, "cannot-modify-protected-property")}
			}
			byStatus[res.Status] = ps
			order = append(order, res.Status)
		}
		ps.Props = append(ps.Props, davxml.Prop{Name: res.Name})
	}
	ms := davxml.NewMultistatus(q.w)
	var pss []davxml.Propstat
	for _, st := range order {
		pss = append(pss, *byStatus[st])
	}
	ms.Response(davxml.Href(q.href(loc.Name, fi.IsDir())), pss...)
	ms.Close("")
}

// nsMicrosoft is the namespace of the Win32* properties Windows Explorer
// PROPPATCHes after every upload (clients.md, Windows).
const nsMicrosoft = "urn:schemas-microsoft-com:"

func applied(results []dsfs.PatchResult) bool {
	for _, r := range results {
		if r.Status != http.StatusOK {
			return false
		}
	}
	return true
}

// applyWin32Times makes Win32LastModifiedTime the file's real mtime, so the
// time Explorer preserves is the one every other client and the shell see.
// The property itself stays stored as a dead property.
func (q *request) applyWin32Times(loc dsfs.Location, patches []davxml.Patch) {
	for _, p := range patches {
		for _, prop := range p.Props {
			if p.Remove || prop.Name != (xml.Name{Space: nsMicrosoft, Local: "Win32LastModifiedTime"}) {
				continue
			}
			t, err := http.ParseTime(strings.TrimSpace(html.UnescapeString(prop.Inner)))
			if err != nil {
				continue
			}
			if err := loc.Tree.Fs.Chtimes(loc.Path, t, t); err != nil {
				q.s.log.WarnContext(q.r.Context(), "setting Win32LastModifiedTime", "path", q.r.URL.Path, "err", err)
			}
		}
	}
}
