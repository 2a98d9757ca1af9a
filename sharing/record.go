package sharing

import (
	"encoding/json"
	"errors"
	"fmt"
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

func encodeShare(s *Share) ([]byte, error) {
	s.V = recordVersion
	return json.Marshal(s)
}

// decodeShare parses and validates a share record read from disk.
func decodeShare(b []byte) (*Share, error) {
	var s Share
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
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
	if err := json.Unmarshal(b, &r); err != nil || r.V != recordVersion {
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
	return json.Marshal(registry{V: recordVersion, Shares: m})
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
	if err := json.Unmarshal(b, &t); err != nil || t.V != recordVersion {
		return nil, fmt.Errorf("%w: mount table", errCorrupt)
	}
	for id, e := range t.Mounts {
		if id == "" || !cleanAbs(e.Path) || e.Path == "/" {
			delete(t.Mounts, id)
		}
	}
	return t.Mounts, nil
}

func encodeMounts(m map[ShareID]MountEntry) ([]byte, error) {
	return json.Marshal(mountTable{V: recordVersion, Mounts: m})
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
