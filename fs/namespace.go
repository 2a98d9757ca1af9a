package fs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/afero"
	"golang.org/x/net/webdav"
)

// Mount is a share instance inside a user's namespace (RS-04 §4.7.3).
type Mount struct {
	// Path is where the instance appears in the sharee's namespace.
	Path string
	// Owner and Target locate the original: a path in the owner's home.
	Owner  string
	Target string
	// ReadOnly is true for "read" access.
	ReadOnly bool
	// ID identifies the share; sharing resolves it to the current Target.
	ID string
}

// MountSource supplies and maintains a user's mounts. The sharing package
// implements it; a nil MountSource means no shares.
type MountSource interface {
	Mounts(ctx context.Context, user string) ([]Mount, error)
	// Unmount removes the instance (DELETE of its root, RS-04 §4.7.4).
	Unmount(ctx context.Context, user string, m Mount) error
	// MoveMount renames the instance within the user's own home (§6.5).
	MoveMount(ctx context.Context, user string, m Mount, newPath string) error
}

// Observer hears about changes that sharing must follow: an original that
// is moved or deleted through WebDAV. A nil Observer hears nothing.
type Observer interface {
	Moved(ctx context.Context, owner, from, to string)
	Removed(ctx context.Context, owner, name string)
}

// TreeOpener returns a user's home tree; *Homes implements it.
type TreeOpener interface {
	Tree(user string) (*Tree, error)
}

// Namespace is one user's view: their home plus their mounts. It implements
// webdav.FileSystem. Build one per request: it snapshots the mount table;
// Close it at the end of the request.
type Namespace struct {
	user     string
	trees    TreeOpener
	home     *Tree
	mounts   []Mount // sorted by Path
	source   MountSource
	observer Observer

	viewMu sync.Mutex
	views  []*Tree // views[i]: the owner's tree seen from mounts[i].Target
}

var _ webdav.FileSystem = (*Namespace)(nil)

// NewNamespace builds user's namespace. source and observer may be nil.
func NewNamespace(ctx context.Context, user string, trees TreeOpener, source MountSource, observer Observer) (*Namespace, error) {
	home, err := trees.Tree(user)
	if err != nil {
		return nil, err
	}
	ns := &Namespace{user: user, trees: trees, home: home, source: source, observer: observer}
	if source != nil {
		ms, err := source.Mounts(ctx, user)
		if err != nil {
			return nil, err
		}
		ns.mounts = append([]Mount(nil), ms...)
		sort.Slice(ns.mounts, func(i, j int) bool { return ns.mounts[i].Path < ns.mounts[j].Path })
		ns.views = make([]*Tree, len(ns.mounts))
	}
	return ns, nil
}

// Close releases what the namespace opened for its mounts.
func (ns *Namespace) Close() error {
	ns.viewMu.Lock()
	defer ns.viewMu.Unlock()
	for i, v := range ns.views {
		if v != nil {
			v.Close()
			ns.views[i] = nil
		}
	}
	return nil
}

// mountTree is the tree behind mounts[i]: the owner's home confined to the
// shared original (Tree.View), so that nothing through the mount reaches
// the owner's files outside it, links included. One per mount and
// namespace, so locations in one mount share their Tree.
func (ns *Namespace) mountTree(i int) (*Tree, error) {
	ns.viewMu.Lock()
	defer ns.viewMu.Unlock()
	if v := ns.views[i]; v != nil {
		return v, nil
	}
	t, err := ns.trees.Tree(ns.mounts[i].Owner)
	if err != nil {
		return nil, err
	}
	ns.views[i] = t.View(ns.mounts[i].Target)
	return ns.views[i], nil
}

// User is the namespace's owner.
func (ns *Namespace) User() string { return ns.user }

// Home is the user's own tree.
func (ns *Namespace) Home() *Tree { return ns.home }

// Location is where a namespace name lives on disk.
type Location struct {
	Name  string // the clean name in the namespace
	Tree  *Tree
	Path  string // the clean path inside Tree
	Mount *Mount // nil inside the user's own home
}

// ReadOnly reports whether writes at this location are refused.
func (l Location) ReadOnly() bool { return l.Mount != nil && l.Mount.ReadOnly }

// MountRoot reports whether the name is exactly a mount point.
func (l Location) MountRoot() bool { return l.Mount != nil && l.Name == l.Mount.Path }

// LockName is the canonical, URL-independent name for locks: the owner
// followed by the path in the owner's tree.
func (l Location) LockName() string {
	if l.Path == "/" {
		return l.Tree.Owner
	}
	return l.Tree.Owner + l.Path
}

// NameOf maps a canonical lock name ("owner/path", see Location.LockName)
// back to what this user can see: a name in their own home or inside one of
// their mounts. A name above a mount (a lock on the owner's parent folder)
// maps to the mount root, the part of it the user sees; anything else is
// not visible (ok false), so the owner's other paths never leak to a sharee.
func (ns *Namespace) NameOf(canonical string) (name string, ok bool) {
	owner, rest, _ := strings.Cut(canonical, "/")
	p := path.Clean("/" + rest)
	for i := len(ns.mounts) - 1; i >= 0; i-- {
		m := &ns.mounts[i]
		if m.Owner != owner {
			continue
		}
		if within(p, m.Target) {
			return join(m.Path, m.Target, p), true
		}
		if within(m.Target, p) {
			return m.Path, true
		}
	}
	if owner == ns.user {
		return p, true
	}
	return "", false
}

// Resolve maps a name to its location. It is the one place where mounts are
// applied; the name must already be clean (see CleanName).
func (ns *Namespace) Resolve(name string) (Location, error) {
	name, err := CleanName(name)
	if err != nil {
		return Location{}, err
	}
	if reserved(name) {
		return Location{}, notExist("resolve", name)
	}
	for i := len(ns.mounts) - 1; i >= 0; i-- {
		m := &ns.mounts[i]
		if within(name, m.Path) {
			t, err := ns.mountTree(i)
			if err != nil {
				return Location{}, err
			}
			return Location{Name: name, Tree: t, Path: join(m.Target, m.Path, name), Mount: m}, nil
		}
	}
	return Location{Name: name, Tree: ns.home, Path: name}, nil
}

// writable resolves name for a write and refuses read-only mounts.
func (ns *Namespace) writable(op, name string) (Location, error) {
	loc, err := ns.Resolve(name)
	if err != nil {
		return loc, err
	}
	if loc.ReadOnly() {
		return loc, permission(op, name, ErrReadOnly)
	}
	return loc, nil
}

// Stat implements webdav.FileSystem; the result carries ETag and content
// type without opening the file.
func (ns *Namespace) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	loc, err := ns.Resolve(name)
	if err != nil {
		return nil, err
	}
	return ns.StatAt(loc)
}

// StatAt stats a resolved location.
func (ns *Namespace) StatAt(loc Location) (*FileInfo, error) {
	fi, err := loc.Tree.Fs.Stat(loc.Path)
	if err != nil {
		return nil, err
	}
	return newFileInfo(fi, path.Base(loc.Name)), nil
}

// Mkdir implements webdav.FileSystem.
func (ns *Namespace) Mkdir(ctx context.Context, name string, perm os.FileMode) error {
	loc, err := ns.writable("mkdir", name)
	if err != nil {
		return err
	}
	if loc.MountRoot() {
		return &fs.PathError{Op: "mkdir", Path: name, Err: fs.ErrExist}
	}
	return loc.Tree.Fs.Mkdir(loc.Path, perm)
}

// OpenFile implements webdav.FileSystem. Opening with O_TRUNC returns a file
// that is written beside the target and replaces it atomically on Close.
func (ns *Namespace) OpenFile(ctx context.Context, name string, flag int, perm os.FileMode) (webdav.File, error) {
	writing := flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0
	var loc Location
	var err error
	if writing {
		loc, err = ns.writable("open", name)
	} else {
		loc, err = ns.Resolve(name)
	}
	if err != nil {
		return nil, err
	}
	if flag&os.O_TRUNC != 0 {
		up, err := loc.Tree.create(loc.Path, false)
		if err != nil {
			return nil, err
		}
		return &writeFile{upload: up, name: path.Base(loc.Name)}, nil
	}
	f, err := loc.Tree.Fs.OpenFile(loc.Path, flag, perm)
	if err != nil {
		return nil, err
	}
	return &file{File: f, ns: ns, loc: loc}, nil
}

// RemoveAll implements webdav.FileSystem. Deleting a mount root removes the
// instance only, never the owner's data (RS-04 §4.7.4).
func (ns *Namespace) RemoveAll(ctx context.Context, name string) error {
	loc, err := ns.Resolve(name)
	if err != nil {
		return err
	}
	switch {
	case loc.MountRoot():
		return ns.source.Unmount(ctx, ns.user, *loc.Mount)
	case loc.ReadOnly():
		return permission("remove", name, ErrReadOnly)
	case loc.Path == "/":
		return permission("remove", name, fs.ErrPermission)
	}
	if err := loc.Tree.Fs.RemoveAll(loc.Path); err != nil {
		return err
	}
	if mp, ok := loc.Tree.Props.(*MemProps); ok {
		mp.removed(loc.Path)
	}
	loc.Tree.invalidateUsage()
	if ns.observer != nil {
		ns.observer.Removed(ctx, loc.Tree.Owner, loc.Path)
	}
	return nil
}

// Rename implements webdav.FileSystem. A mount root moves as a mount inside
// the user's own home; data never moves between two trees or out of a
// share by rename.
func (ns *Namespace) Rename(ctx context.Context, oldName, newName string) error {
	from, err := ns.Resolve(oldName)
	if err != nil {
		return err
	}
	to, err := ns.Resolve(newName)
	if err != nil {
		return err
	}
	return ns.RenameAt(ctx, from, to, true)
}

// RenameAt is Rename of two resolved locations. With replace false, an
// existing destination is fs.ErrExist and nothing changes: a MOVE learns
// from the rename itself, atomically, whether its destination existed,
// instead of stat'ing it first.
func (ns *Namespace) RenameAt(ctx context.Context, from, to Location, replace bool) error {
	if err := CheckRename(from, to); err != nil {
		return err
	}
	if from.MountRoot() {
		if !replace {
			if _, err := ns.StatAt(to); err == nil {
				return &fs.PathError{Op: "rename", Path: to.Name, Err: fs.ErrExist}
			}
		}
		return ns.source.MoveMount(ctx, ns.user, *from.Mount, to.Name)
	}
	rename := from.Tree.Fs.Rename
	if !replace {
		rename = func(oldname, newname string) error { return renameNew(from.Tree.Fs, oldname, newname) }
	}
	if err := rename(from.Path, to.Path); err != nil {
		return err
	}
	if mp, ok := from.Tree.Props.(*MemProps); ok {
		mp.moved(from.Path, to.Path)
	}
	if ns.observer != nil {
		ns.observer.Moved(ctx, from.Tree.Owner, from.Path, to.Path)
	}
	return nil
}

// renameNew renames to a name that must not exist. A RootFs does it in one
// step; another afero.Fs (MemMapFs, in tests) checks first.
func renameNew(fsys afero.Fs, oldname, newname string) error {
	if r, ok := fsys.(*RootFs); ok {
		return r.RenameNew(oldname, newname)
	}
	if _, err := fsys.Stat(newname); err == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrExist}
	}
	return fsys.Rename(oldname, newname)
}

// CheckRename reports whether Rename may move from to to: a mount root
// moves as a mount within the user's own home, anything else only inside
// one tree, outside read-only mounts. A MOVE must ask before it deletes
// what it would overwrite, so that a refused MOVE changes nothing.
func CheckRename(from, to Location) error {
	if from.MountRoot() {
		if to.Mount != nil {
			return permission("rename", to.Name, ErrCrossTree)
		}
		return nil
	}
	if from.ReadOnly() || to.ReadOnly() {
		return permission("rename", from.Name, ErrReadOnly)
	}
	if from.Tree != to.Tree || from.Mount != to.Mount || to.MountRoot() {
		return permission("rename", from.Name, ErrCrossTree)
	}
	if from.Path == "/" || to.Path == "/" {
		return permission("rename", from.Name, fs.ErrPermission)
	}
	return nil
}

// mountsIn lists the mounts whose parent is the namespace directory name.
func (ns *Namespace) mountsIn(name string) []*Mount {
	var out []*Mount
	for i := range ns.mounts {
		if path.Dir(ns.mounts[i].Path) == name {
			out = append(out, &ns.mounts[i])
		}
	}
	return out
}

// isMountedOver reports whether a real entry in the home is hidden by a
// mount of the same name.
func mountedOver(mounts []*Mount, child string) bool {
	for _, m := range mounts {
		if path.Base(m.Path) == child {
			return true
		}
	}
	return false
}

// hidden reports whether a directory entry must never be shown.
func hidden(name string) bool { return strings.HasPrefix(name, reservedPrefix) }

// errStop ends a listing early without an error.
var errStop = errors.New("fs: stop")
