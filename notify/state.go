package notify

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// stateFile holds a collection's sync state. It starts with "." so it is
// never listed or served, and it is written atomically after every change.
const stateFile = ".davshare-sync.json"

// stateVersion is bumped when the state format changes incompatibly; a
// state of another version is discarded, which starts a new epoch.
const stateVersion = 1

// tokenPrefix starts every sync token (RFC 6578 §3.2: a URI).
const tokenPrefix = "urn:davshare:sync:"

// member is what the sync state remembers of one notification. Size,
// modification time and inode tell a rescan whether the file must be read
// again; ETag is a hash of the content, so it is stable across restarts.
type member struct {
	ETag  string   `json:"e"`
	Seq   uint64   `json:"s"`
	Size  int64    `json:"z"`
	MTime int64    `json:"m"`
	Ino   uint64   `json:"i,omitempty"`
	Type  typeJSON `json:"t"`
}

func (m *member) sameFile(fi fs.FileInfo) bool {
	return m.Size == fi.Size() && m.MTime == fi.ModTime().UnixNano() && m.Ino == fileID(fi)
}

func (m *member) info(name string) Info {
	return Info{
		Name:    name,
		ETag:    m.ETag,
		Size:    m.Size,
		ModTime: time.Unix(0, m.MTime).UTC(),
		Type:    TypeElement(m.Type),
	}
}

// typeJSON stores a TypeElement compactly: [space, local, (space, local,
// value)...].
type typeJSON TypeElement

func (t typeJSON) MarshalJSON() ([]byte, error) {
	v := []string{t.Name.Space, t.Name.Local}
	for _, a := range t.Attrs {
		v = append(v, a.Name.Space, a.Name.Local, a.Value)
	}
	return json.Marshal(v)
}

func (t *typeJSON) UnmarshalJSON(b []byte) error {
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if len(v) < 2 || (len(v)-2)%3 != 0 {
		return fmt.Errorf("notify: bad stored type")
	}
	*t = typeJSON{Name: xml.Name{Space: v[0], Local: v[1]}}
	for i := 2; i < len(v); i += 3 {
		t.Attrs = append(t.Attrs, xmlAttr(v[i], v[i+1], v[i+2]))
	}
	return nil
}

// syncState is one collection's modification sequence (the model of RFC
// 6578 §3.2): every change takes the next Seq; members remember the Seq of
// their last change; deletions leave tombstones with theirs. A token is
// Epoch plus a Seq. Floor is the highest Seq of a tombstone that was
// forgotten: a token older than that could miss a deletion, so it is
// refused. A new Epoch (lost or unreadable state) invalidates every token.
type syncState struct {
	Version    int                `json:"v"`
	Epoch      string             `json:"epoch"`
	Seq        uint64             `json:"seq"`
	Floor      uint64             `json:"floor"`
	Members    map[string]*member `json:"members"`
	Tombstones map[string]uint64  `json:"tombstones"`
}

func newSyncState() *syncState {
	var b [8]byte
	rand.Read(b[:])
	return &syncState{
		Version:    stateVersion,
		Epoch:      hex.EncodeToString(b[:]),
		Members:    map[string]*member{},
		Tombstones: map[string]uint64{},
	}
}

// decodeSyncState reads a stored state, or reports why it cannot be used.
func decodeSyncState(data []byte) (*syncState, error) {
	st := &syncState{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, err
	}
	if st.Version != stateVersion || len(st.Epoch) != 16 {
		return nil, fmt.Errorf("notify: sync state version %d", st.Version)
	}
	if st.Members == nil {
		st.Members = map[string]*member{}
	}
	if st.Tombstones == nil {
		st.Tombstones = map[string]uint64{}
	}
	for name, m := range st.Members {
		if m == nil || m.Seq > st.Seq || !ValidName(name) {
			return nil, fmt.Errorf("notify: inconsistent sync state")
		}
	}
	return st, nil
}

func (st *syncState) token() string {
	return tokenPrefix + st.Epoch + ":" + strconv.FormatUint(st.Seq, 10)
}

// etag is the collection's ETag: it changes exactly when the token does.
func (st *syncState) etag() string {
	return `"` + st.Epoch + "-" + strconv.FormatUint(st.Seq, 10) + `"`
}

// since parses a client's token and returns its Seq; ErrInvalidSyncToken
// when it belongs to another epoch, is from the future, or is older than
// the kept tombstones.
func (st *syncState) since(token string) (uint64, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(token), tokenPrefix)
	if !ok {
		return 0, ErrInvalidSyncToken
	}
	epoch, seqText, ok := strings.Cut(rest, ":")
	if !ok || epoch != st.Epoch {
		return 0, ErrInvalidSyncToken
	}
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if err != nil || seq > st.Seq || seq < st.Floor || seqText != strconv.FormatUint(seq, 10) {
		return 0, ErrInvalidSyncToken
	}
	return seq, nil
}

// put records that name now has content etag and returns whether the
// sync state moved.
func (st *syncState) put(name string, m member) bool {
	old := st.Members[name]
	if old != nil && old.ETag == m.ETag {
		// Same content (a touch, a rewrite with equal bytes): refresh what
		// the rescan compares, keep the sequence.
		m.Seq = old.Seq
		*old = m
		return false
	}
	st.Seq++
	m.Seq = st.Seq
	st.Members[name] = &m
	delete(st.Tombstones, name)
	return true
}

// remove records that name is gone; it reports whether it was a member.
func (st *syncState) remove(name string, maxTombstones int) bool {
	if _, ok := st.Members[name]; !ok {
		return false
	}
	delete(st.Members, name)
	st.Seq++
	st.Tombstones[name] = st.Seq
	st.prune(maxTombstones)
	return true
}

// prune forgets the oldest tombstones beyond max, raising Floor.
func (st *syncState) prune(max int) {
	if len(st.Tombstones) <= max {
		return
	}
	type tomb struct {
		name string
		seq  uint64
	}
	all := make([]tomb, 0, len(st.Tombstones))
	for n, s := range st.Tombstones {
		all = append(all, tomb{n, s})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	for _, t := range all[:len(all)-max] {
		delete(st.Tombstones, t.name)
		if t.seq > st.Floor {
			st.Floor = t.seq
		}
	}
}

// Change is one entry of a sync-collection answer: a member added or
// changed since the token (Removed false, Info set), or one removed.
type Change struct {
	Name    string
	Removed bool
	Info    Info // zero when Removed
	seq     uint64
}

// changes lists what happened after seq, oldest first. From seq 0 in an
// initial sync (initial true), only the current members are listed.
func (st *syncState) changes(seq uint64, initial bool) []Change {
	var out []Change
	for name, m := range st.Members {
		if initial || m.Seq > seq {
			out = append(out, Change{Name: name, Info: m.info(name), seq: m.Seq})
		}
	}
	if !initial {
		for name, s := range st.Tombstones {
			if s > seq {
				out = append(out, Change{Name: name, Removed: true, seq: s})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}
