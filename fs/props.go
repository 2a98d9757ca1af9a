package fs

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/davshare/davshare/internal/davxml"
	"github.com/pkg/xattr"
	"github.com/spf13/afero"
)

// PropStore keeps the dead properties of one tree's resources. Names are
// clean tree paths.
type PropStore interface {
	Load(name string) ([]davxml.Property, error)
	Save(name string, props []davxml.Property) error
}

// propsKey is the extended attribute holding a resource's dead properties;
// the version suffix lets a later encoding coexist with this one.
const propsKey = "user.davshare.props.v1"

// maxPropsSize bounds the encoded properties of one resource: the Linux
// limit for a single xattr value is 64 KiB (ext4 without ea_inode allows
// about 4 KiB for all of a file's attributes and reports ENOSPC beyond).
const maxPropsSize = 64 << 10

// EncodeProps is the versioned on-disk form of a resource's dead properties.
func EncodeProps(props []davxml.Property) ([]byte, error) {
	b, err := json.Marshal(props)
	if err != nil {
		return nil, err
	}
	if len(b) > maxPropsSize {
		return nil, ErrInsufficientStorage
	}
	return b, nil
}

// DecodeProps parses what EncodeProps wrote. Attributes are data from disk
// that other programs may have changed, so it validates every entry.
func DecodeProps(b []byte) ([]davxml.Property, error) {
	var props []davxml.Property
	if err := json.Unmarshal(b, &props); err != nil {
		return nil, fmt.Errorf("fs: corrupt property record: %w", err)
	}
	for _, p := range props {
		if !xmlName(p.Name.Local) || !xmlText(p.Name.Space) || !xmlText(p.Lang) {
			return nil, fmt.Errorf("fs: corrupt property record: name %q", p.Name.Local)
		}
		if err := embeddable(p.Inner); err != nil {
			return nil, fmt.Errorf("fs: corrupt property record: value of %s: %w", p.Name.Local, err)
		}
	}
	return props, nil
}

// xmlName reports whether local can stand as an element's local name: it
// has no colon and reads back as itself.
func xmlName(local string) bool {
	if local == "" || strings.Contains(local, ":") {
		return false
	}
	if asciiName(local) {
		return true
	}
	tok, err := xml.NewDecoder(strings.NewReader("<" + local + "/>")).Token()
	se, ok := tok.(xml.StartElement)
	return err == nil && ok && se.Name == xml.Name{Local: local}
}

// asciiName is the common case of xmlName, decided without a decoder.
func asciiName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// xmlText reports whether s holds only characters XML allows (XML 1.0
// §2.2), so that it can be written, escaped, into an attribute.
func xmlText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}

// embeddable checks that a value, placed inside any element, leaves the
// document well-formed: balanced elements to the end, and no DTD.
// xml.Unmarshal alone stops at the first end tag, so "</x><x>" would pass.
func embeddable(inner string) error {
	d := xml.NewDecoder(strings.NewReader("<x>" + inner + "</x>"))
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.Directive:
			return errors.New("a DTD inside a value")
		}
		if depth == 0 {
			if _, err := d.Token(); err != io.EOF {
				return errors.New("content after the value")
			}
			return nil
		}
	}
}

// XattrProps stores dead properties in an extended attribute of the file
// itself, reached through the confined root, so properties survive renames
// made by any program and never leak outside the tree.
type XattrProps struct {
	fs *RootFs
}

func (x XattrProps) Load(name string) ([]davxml.Property, error) {
	f, err := x.fs.openFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return loadFd(f)
}

func loadFd(f *os.File) ([]davxml.Property, error) {
	b, err := xattr.FGet(f, propsKey)
	if err != nil {
		if errors.Is(err, xattr.ENOATTR) {
			return nil, nil
		}
		return nil, err
	}
	return DecodeProps(b)
}

func (x XattrProps) Save(name string, props []davxml.Property) error {
	f, err := x.fs.openFile(name, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return saveFd(f, props)
}

func saveFd(f *os.File, props []davxml.Property) error {
	if len(props) == 0 {
		if err := xattr.FRemove(f, propsKey); err != nil && !errors.Is(err, xattr.ENOATTR) {
			return err
		}
		return nil
	}
	b, err := EncodeProps(props)
	if err != nil {
		return err
	}
	if err := xattr.FSet(f, propsKey, b); err != nil {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.E2BIG) {
			return ErrInsufficientStorage
		}
		return err
	}
	return nil
}

// loadIn reads the properties of child in the open directory dir without
// opening the child: the kernel resolves /proc/self/fd/N/child against the
// already confined directory, and lgetxattr does not follow a final link.
func (x XattrProps) loadIn(dir afero.File, child string) ([]davxml.Property, error) {
	d, ok := dir.(*os.File)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	b, err := xattr.LGet("/proc/self/fd/"+strconv.Itoa(int(d.Fd()))+"/"+child, propsKey)
	if err != nil {
		if errors.Is(err, xattr.ENOATTR) || errors.Is(err, syscall.ENOENT) {
			return nil, nil
		}
		return nil, err
	}
	return DecodeProps(b)
}

// MemProps keeps dead properties in memory, for trees on afero.MemMapFs.
type MemProps struct {
	mu sync.Mutex
	m  map[string][]davxml.Property
}

func NewMemProps() *MemProps { return &MemProps{m: map[string][]davxml.Property{}} }

func (m *MemProps) Load(name string) ([]davxml.Property, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]davxml.Property(nil), m.m[name]...), nil
}

func (m *MemProps) Save(name string, props []davxml.Property) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(props) == 0 {
		delete(m.m, name)
	} else {
		m.m[name] = append([]davxml.Property(nil), props...)
	}
	return nil
}

// moved follows a rename, as an xattr would.
func (m *MemProps) moved(from, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.m {
		if within(k, from) {
			delete(m.m, k)
			m.m[join(to, from, k)] = v
		}
	}
}

// removed forgets a deleted subtree, as an xattr would vanish with its file.
func (m *MemProps) removed(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.m {
		if within(k, name) {
			delete(m.m, k)
		}
	}
}

// PatchResult is the outcome of one property in a PROPPATCH.
type PatchResult struct {
	Name   xml.Name
	Status int // 200, 403, 424
}

// Patch applies a PROPPATCH atomically (RFC 4918 §9.2): either every
// instruction is applied or none is. protected names fail with 403 and make
// every other instruction fail with 424.
func (t *Tree) Patch(name string, patches []davxml.Patch, protected func(xml.Name) bool) ([]PatchResult, error) {
	results, ok := CheckPatch(patches, protected)
	if !ok {
		return results, nil
	}
	mu := &t.home().patchMu // one lock for the home and every view of it
	mu.Lock()
	defer mu.Unlock()
	cur, err := t.Props.Load(name)
	if err != nil {
		return nil, err
	}
	if err := t.Props.Save(name, ApplyPatch(cur, patches)); err != nil {
		return nil, err
	}
	return results, nil
}

// CheckPatch gives each instruction of a PROPPATCH its status: 200, or 403
// for a protected name, which makes all the others 424. ok is false when
// anything failed, and then nothing may be applied.
func CheckPatch(patches []davxml.Patch, protected func(xml.Name) bool) (results []PatchResult, ok bool) {
	failed := false
	for _, p := range patches {
		for _, prop := range p.Props {
			st := 200
			if protected(prop.Name) {
				st, failed = 403, true
			}
			results = append(results, PatchResult{Name: prop.Name, Status: st})
		}
	}
	if failed {
		for i := range results {
			if results[i].Status == 200 {
				results[i].Status = 424
			}
		}
	}
	return results, !failed
}

// ApplyPatch applies set and remove instructions in order to props.
func ApplyPatch(props []davxml.Property, patches []davxml.Patch) []davxml.Property {
	for _, p := range patches {
		for _, prop := range p.Props {
			props = setProp(props, prop, p.Remove)
		}
	}
	return props
}

func setProp(props []davxml.Property, p davxml.Property, remove bool) []davxml.Property {
	for i := range props {
		if props[i].Name == p.Name {
			if remove {
				return append(props[:i], props[i+1:]...)
			}
			props[i] = p
			return props
		}
	}
	if remove {
		return props
	}
	return append(props, p)
}
