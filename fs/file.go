package fs

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/davshare/davshare/internal/davxml"
	"github.com/spf13/afero"
	"golang.org/x/net/webdav"
	"golang.org/x/sys/unix"
)

// FileInfo is what the namespace returns for every resource. It answers
// ETag and content type from the stat result alone, so x/net/webdav and our
// PROPFIND never open or sniff a file (pitfall B.8).
type FileInfo struct {
	os.FileInfo
	name string
}

var (
	_ webdav.ETager       = (*FileInfo)(nil)
	_ webdav.ContentTyper = (*FileInfo)(nil)
)

func newFileInfo(fi os.FileInfo, name string) *FileInfo {
	return &FileInfo{FileInfo: fi, name: name}
}

// Name is the name in the namespace: a mount root reports its mount name.
func (fi *FileInfo) Name() string { return fi.name }

// StrongETag identifies this version of the resource. The inode is part of
// it because an atomic replace creates a new inode even when size and time
// happen to match.
func (fi *FileInfo) StrongETag() string {
	return string(fi.AppendStrongETag(make([]byte, 0, 48)))
}

// AppendStrongETag appends StrongETag without allocating.
func (fi *FileInfo) AppendStrongETag(b []byte) []byte {
	b = append(b, '"')
	if ino, ok := inode(fi.FileInfo); ok {
		b = strconv.AppendUint(b, ino, 16)
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, fi.ModTime().UnixNano(), 16)
	b = append(b, '-')
	b = strconv.AppendInt(b, fi.Size(), 16)
	return append(b, '"')
}

// inode finds the inode number behind either kind of stat result we make.
func inode(fi os.FileInfo) (uint64, bool) {
	switch st := fi.Sys().(type) {
	case *syscall.Stat_t:
		return st.Ino, true
	case *unix.Stat_t:
		return st.Ino, true
	case *member:
		return st.ino, true
	}
	return 0, false
}

// ETag implements webdav.ETager.
func (fi *FileInfo) ETag(context.Context) (string, error) { return fi.StrongETag(), nil }

// MimeType guesses the content type from the extension alone.
func (fi *FileInfo) MimeType() string {
	if fi.IsDir() {
		return "httpd/unix-directory"
	}
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(fi.name))); t != "" {
		return t
	}
	return "application/octet-stream"
}

// ContentType implements webdav.ContentTyper.
func (fi *FileInfo) ContentType(context.Context) (string, error) { return fi.MimeType(), nil }

// Entry is one member of a collection listing.
type Entry struct {
	Info *FileInfo
	Loc  Location
	// Props holds the dead properties when the listing asked for them.
	Props []davxml.Property
}

const listBatch = 1024

// List calls fn for each visible member of the collection at loc, reading
// the directory in batches so memory stays flat for huge folders. Members
// are: real entries that are not ours, not mounted over and not links out of
// the tree, then the mounts whose parent is loc. With withProps, each entry
// carries its dead properties, read without opening the member.
func (ns *Namespace) List(ctx context.Context, loc Location, withProps bool, fn func(Entry) error) error {
	dir, err := loc.Tree.Fs.Open(loc.Path)
	if err != nil {
		return err
	}
	defer dir.Close()
	var mounts []*Mount
	if loc.Mount == nil {
		mounts = ns.mountsIn(loc.Name)
	}
	xp, fastProps := loc.Tree.Props.(XattrProps)
	emit := func(fi os.FileInfo) error {
		child := fi.Name()
		if hidden(child) || mountedOver(mounts, child) {
			return nil
		}
		e := Entry{Loc: Location{
			Name:  path.Join(loc.Name, child),
			Tree:  loc.Tree,
			Path:  path.Join(loc.Path, child),
			Mount: loc.Mount,
		}}
		link := fi.Mode()&fs.ModeSymlink != 0
		if link {
			// Follow links that stay inside the tree; hide the others.
			target, err := loc.Tree.Fs.Stat(e.Loc.Path)
			if err != nil {
				return nil
			}
			fi = target
		}
		e.Info = newFileInfo(fi, child)
		if withProps {
			var err error
			if fastProps && !link {
				e.Props, err = loc.Tree.loadIn(xp, dir, child, fi)
			} else {
				e.Props, err = loc.Tree.Props.Load(e.Loc.Path)
			}
			if err != nil {
				e.Props = nil // a corrupt record must not break the listing
			}
		}
		return fn(e)
	}
	osDir, ok := dir.(*os.File)
	if !ok { // an in-memory tree (tests)
		fis, err := dir.Readdir(-1)
		if err != nil {
			return err
		}
		for _, fi := range fis {
			if err := emit(fi); err != nil {
				return err
			}
		}
	} else if err := loc.Tree.listDir(ctx, osDir, emit); err != nil {
		return err
	}
	for _, m := range mounts {
		mloc, err := ns.Resolve(m.Path)
		if err != nil {
			continue
		}
		fi, err := ns.StatAt(mloc)
		if err != nil {
			continue // a broken share must not break its parent's listing
		}
		e := Entry{Info: fi, Loc: mloc}
		if withProps {
			e.Props, _ = ns.Props(mloc)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Props returns the dead properties at a location.
// At a mount root they are the instance's own (RS-04 §4.8.1), when the
// MountSource keeps them.
func (ns *Namespace) Props(loc Location) ([]davxml.Property, error) {
	if loc.MountRoot() {
		if ip, ok := ns.source.(InstanceProper); ok {
			return ip.InstanceProps(ns.user, *loc.Mount)
		}
	}
	return loc.Tree.Props.Load(loc.Path)
}

// InstanceProper is implemented by a MountSource that keeps per-instance
// properties for mount roots; PROPFIND and listings read them there
// instead of the original's dead properties.
type InstanceProper interface {
	InstanceProps(user string, m Mount) ([]davxml.Property, error)
}

// file is an open resource for x/net/webdav's GET and COPY.
type file struct {
	afero.File
	ns  *Namespace
	loc Location
	// listed is set once Readdir has returned everything.
	listed bool
}

var (
	_ webdav.DeadPropsHolder = (*file)(nil)
	_ syscall.Conn           = (*file)(nil) // GET bodies go out with sendfile(2)
)

func (f *file) Stat() (os.FileInfo, error) {
	fi, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return newFileInfo(fi, path.Base(f.loc.Name)), nil
}

// SyscallConn exposes the descriptor of an open regular file so that
// net/http can send it with sendfile(2) (it looks for syscall.Conn behind
// the io.LimitedReader that http.ServeContent hands it).
func (f *file) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := f.File.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// Readdir returns the visible members, mounts included, all at once.
func (f *file) Readdir(count int) ([]os.FileInfo, error) {
	if f.listed {
		if count > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	f.listed = true
	var out []os.FileInfo
	err := f.ns.List(context.Background(), f.loc, false, func(e Entry) error {
		out = append(out, e.Info)
		return nil
	})
	return out, err
}

// DeadProps lets x/net/webdav's COPY carry dead properties to the copy.
func (f *file) DeadProps() (map[xml.Name]webdav.Property, error) {
	props, err := f.ns.Props(f.loc)
	if err != nil {
		return nil, err
	}
	return toWebdav(props), nil
}

// Patch is not used through open files: PROPPATCH is ours.
func (f *file) Patch([]webdav.Proppatch) ([]webdav.Propstat, error) {
	return nil, permission("proppatch", f.loc.Name, fs.ErrPermission)
}

func toWebdav(props []davxml.Property) map[xml.Name]webdav.Property {
	m := make(map[xml.Name]webdav.Property, len(props))
	for _, p := range props {
		m[p.Name] = webdav.Property{XMLName: p.Name, Lang: p.Lang, InnerXML: []byte(p.Inner)}
	}
	return m
}
