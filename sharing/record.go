package sharing

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/davshare/davshare/internal/davxml"
)

// ShareID is a share's stable identity: a UUID minted the first time a
// resource is shared. It never changes, whatever happens to the original's
// path, which is why records refer to shares by it (style.md pitfall E.28).
type ShareID string

// URI is the share's DAV:share-resource-uri (RS-04 §4.4.3, spec §3.3).
func (id ShareID) URI() string { return "urn:uuid:" + string(id) }

// Access is a sharee's access level (RS-04 §4.3, spec §1.4).
type Access string

// Access levels. AccessNone only appears in requests and notifications: a
// revoked sharee is removed from the record.
const (
	AccessRead      Access = "read"
	AccessReadWrite Access = "read-write"
	AccessNone      Access = "no-access"
)

// Status is a sharee's invite status (RS-04 §4.5.1, spec §1.3).
type Status string

// Invite statuses; the XML element is "invite-" + the status.
const (
	StatusNoResponse Status = "noresponse"
	StatusAccepted   Status = "accepted"
	StatusDeclined   Status = "declined"
	StatusInvalid    Status = "invalid"
)

// Element is the DAV: element naming the status in XML.
func (s Status) Element() string { return "invite-" + string(s) }

// Sharee is one entry of a share (spec §1.2 ShareeEntry). JSON keys are
// short because every record of a file shares one small xattr block on ext4.
type Sharee struct {
	// Href is the sharee as DAV:invite lists it: the principal URL for a
	// local account, else the normalised URI the sharer sent.
	Href string `json:"h"`
	// User is the local account, "" while a mailto: address has none.
	User string `json:"u,omitempty"`
	// Email is the mailto: address the sharer used, lower-cased.
	Email       string `json:"e,omitempty"`
	Access      Access `json:"a"`
	Status      Status `json:"s"`
	DisplayName string `json:"d,omitempty"`
	Comment     string `json:"c,omitempty"`
	// Instance is the instance path in the sharee's namespace once accepted.
	Instance string `json:"i,omitempty"`
	// Invite is the name of the pending or last invite notification.
	Invite  string `json:"n,omitempty"`
	Updated int64  `json:"t,omitempty"` // Unix seconds
	// Undelivered: the invitation of this pending entry is not known to
	// have been delivered. It is written with the record that asks for an
	// invitation and cleared once the notification is on disk; Open
	// delivers every invitation still marked (a kill came in between). It
	// is absent once delivered, and in records written before it existed,
	// so an invitation the sharee ignored (DELETE, RS-04 §4.7.2) never
	// comes back by itself.
	Undelivered bool `json:"w,omitempty"`
}

// Share is the share record kept on the original (xattr keyShare). It is
// the source of truth: registries and mount tables are derived from it.
type Share struct {
	V       int      `json:"v"`
	ID      ShareID  `json:"id"`
	Owner   string   `json:"o"`
	Created int64    `json:"c"` // Unix seconds
	Sharees []Sharee `json:"s"`
}

// Versioned xattr keys (architecture.md "On disk").
const (
	keyShare    = "user.davshare.share.v1"  // Share on the original
	keyRegistry = "user.davshare.shares.v1" // registry on the owner's home root
	keyMounts   = "user.davshare.mounts.v1" // mount table on the sharee's home root
)

const recordVersion = 1

// errCorrupt marks a record that other programs broke; it is logged and
// the record is treated as absent.
var errCorrupt = errors.New("sharing: corrupt record")

// Record JSON longer than sealAbove bytes is stored zlib-compressed, as
// ext4 fits all of a file's attributes in one 4 KiB block (plain JSON
// filled it at 37 sharees); shorter records stay plain, readable with
// getfattr.
const sealAbove = 512

// maxOpenedRecord caps what a compressed record may inflate to: any local
// user can write any attribute of their own files, and a small value that
// inflates to gigabytes must be refused, not read.
const maxOpenedRecord = 1 << 20

// zlibMagic is the first byte of every zlib stream we write (deflate,
// 32 KiB window). It is 'x', which cannot start a JSON text, so a record
// needs no marker of its own: a value starting with it is compressed,
// anything else is plain JSON, as records were before compression.
const zlibMagic = 0x78

// sealRecord marshals v as a record value: plain JSON up to sealAbove
// bytes, zlib-compressed JSON beyond.
func sealRecord(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil || len(js) <= sealAbove {
		return js, err
	}
	var z bytes.Buffer
	w, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(js); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if z.Len() >= len(js) {
		return js, nil // incompressible: plain is no larger
	}
	return z.Bytes(), nil
}

// openRecord unmarshals a record value written by sealRecord, or by any
// earlier version (plain JSON). A compressed value that is truncated, has
// bytes after its stream, fails its checksum or inflates past
// maxOpenedRecord is errCorrupt.
func openRecord(b []byte, v any) error {
	if len(b) > 0 && b[0] == zlibMagic {
		r := bytes.NewReader(b)
		zr, err := zlib.NewReader(r)
		if err != nil {
			return fmt.Errorf("%w: %v", errCorrupt, err)
		}
		// zlib checks the checksum at the end of the stream; ReadAll
		// reaches it unless the limit stops it first.
		js, err := io.ReadAll(io.LimitReader(zr, maxOpenedRecord+1))
		switch {
		case err != nil:
			return fmt.Errorf("%w: %v", errCorrupt, err)
		case len(js) > maxOpenedRecord:
			return fmt.Errorf("%w: inflates past %d bytes", errCorrupt, maxOpenedRecord)
		case r.Len() != 0:
			return fmt.Errorf("%w: %d bytes after the compressed stream", errCorrupt, r.Len())
		}
		b = js
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return nil
}

func encodeShare(s *Share) ([]byte, error) {
	s.V = recordVersion
	return sealRecord(s)
}

// decodeShare parses and validates a share record read from disk.
func decodeShare(b []byte) (*Share, error) {
	var s Share
	if err := openRecord(b, &s); err != nil {
		return nil, err
	}
	if s.V != recordVersion || s.ID == "" || s.Owner == "" {
		return nil, fmt.Errorf("%w: share record without version, id or owner", errCorrupt)
	}
	for _, e := range s.Sharees {
		if e.Href == "" || (e.Access != AccessRead && e.Access != AccessReadWrite) {
			return nil, fmt.Errorf("%w: bad sharee entry", errCorrupt)
		}
		switch e.Status {
		case StatusNoResponse, StatusAccepted, StatusDeclined, StatusInvalid:
		default:
			return nil, fmt.Errorf("%w: bad sharee status", errCorrupt)
		}
		if e.Instance != "" && !cleanAbs(e.Instance) {
			return nil, fmt.Errorf("%w: bad instance path", errCorrupt)
		}
	}
	return &s, nil
}

// registry is the owner's index of their shares: id → last known path.
type registry struct {
	V      int                `json:"v"`
	Shares map[ShareID]string `json:"s"`
}

func decodeRegistry(b []byte) (map[ShareID]string, error) {
	var r registry
	if err := openRecord(b, &r); err != nil || r.V != recordVersion {
		return nil, fmt.Errorf("%w: registry", errCorrupt)
	}
	for id, p := range r.Shares {
		if id == "" || !cleanAbs(p) {
			delete(r.Shares, id)
		}
	}
	return r.Shares, nil
}

func encodeRegistry(m map[ShareID]string) ([]byte, error) {
	return sealRecord(registry{V: recordVersion, Shares: m})
}

// MountEntry is one instance in a sharee's mount table.
type MountEntry struct {
	Path  string `json:"p"`
	Owner string `json:"o"`
	// Props are the per-instance properties set at the instance root
	// (RS-04 §4.8.1, spec §5.7), DAV:displayname included.
	Props []davxml.Property `json:"props,omitempty"`
}

type mountTable struct {
	V      int                    `json:"v"`
	Mounts map[ShareID]MountEntry `json:"m"`
}

func decodeMounts(b []byte) (map[ShareID]MountEntry, error) {
	var t mountTable
	if err := openRecord(b, &t); err != nil || t.V != recordVersion {
		return nil, fmt.Errorf("%w: mount table", errCorrupt)
	}
	for id, e := range t.Mounts {
		switch {
		case id == "" || !cleanAbs(e.Path) || e.Path == "/":
			delete(t.Mounts, id)
		case e.Props != nil && len(e.Props) == 0:
			// "props":[] as written by hand means none; encodeMounts
			// omits it, so keep the one form that reads back the same.
			e.Props = nil
			t.Mounts[id] = e
		}
	}
	return t.Mounts, nil
}

func encodeMounts(m map[ShareID]MountEntry) ([]byte, error) {
	return sealRecord(mountTable{V: recordVersion, Mounts: m})
}

// cleanAbs reports whether p is a clean, rooted slash path.
func cleanAbs(p string) bool {
	return strings.HasPrefix(p, "/") && path.Clean(p) == p && !strings.Contains(p, "\x00")
}

// within reports whether name is base or lies below it (both clean).
func within(name, base string) bool {
	if base == "/" {
		return true
	}
	return name == base || strings.HasPrefix(name, base+"/")
}

// rebase moves name from below old to below new (name within old).
func rebase(name, old, new string) string {
	if name == old {
		return new
	}
	return path.Join(new, strings.TrimPrefix(name, old))
}
