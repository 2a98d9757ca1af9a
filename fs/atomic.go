package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"strings"
	"time"

	"github.com/davshare/davshare/internal/davxml"
	"github.com/pkg/xattr"
	"github.com/spf13/afero"
	"golang.org/x/net/webdav"
	"golang.org/x/sys/unix"
)

// upload is new content on its way to replace path: it is written to an
// unnamed file in the same directory (unnamed.go), or where that cannot be
// to a reserved temporary name there, and it takes path's place only when
// it is complete and on disk.
type upload struct {
	tree *Tree
	path string
	// unnamed is the file system that made tmp without a name; nil when
	// tmp has the name tmpPath. An unnamed upload has a tmpPath only for
	// the moment between its link and the rename over old content.
	unnamed *RootFs
	tmpPath string
	tmp     afero.File
	// keepProps carries the replaced file's dead properties and mode over,
	// as an overwriting PUT must (the resource stays the same resource).
	keepProps bool
	written   int64
	behind    int64 // bytes handed to the disk early (writeBehind)
	err       error
	done      bool
}

func tempName(dir string) string {
	var b [8]byte
	rand.Read(b[:])
	return path.Join(dir, reservedPrefix+"tmp-"+hex.EncodeToString(b[:]))
}

func (t *Tree) create(p string, keepProps bool) (*upload, error) {
	dir := path.Dir(p)
	if r, ok := t.Fs.(*RootFs); ok && !memProps(t) {
		// The folder is checked by the open: a missing one, or a file, is
		// not found.
		f, handled, err := r.createUnnamed(dir)
		if handled {
			if err != nil {
				return nil, err
			}
			return &upload{tree: t, path: p, unnamed: r, tmp: f, keepProps: keepProps}, nil
		}
	}
	if fi, err := t.Fs.Stat(dir); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, &fs.PathError{Op: "create", Path: p, Err: fs.ErrNotExist}
	}
	// Whether p is a collection is asked by commit (a rename over one
	// fails) and, before the body is read, by PUT itself.
	tmpPath := tempName(dir)
	f, err := t.Fs.OpenFile(tmpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, err
	}
	return &upload{tree: t, path: p, tmpPath: tmpPath, tmp: f, keepProps: keepProps}, nil
}

// memProps reports whether t keeps dead properties by name in memory
// (tests), where an upload needs a name to carry them.
func memProps(t *Tree) bool {
	_, ok := t.Props.(*MemProps)
	return ok
}

// ErrIsDir is returned when new content targets a collection.
var errIsDir = errors.New("fs: is a collection")

// ErrIsCollection reports a PUT aimed at a collection (405).
var ErrIsCollection = errIsDir

func (u *upload) Write(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	n, err := u.tmp.Write(p)
	u.written += int64(n)
	if err != nil {
		u.err = err
		return n, err
	}
	return n, u.writeBehind()
}

// ReadFrom lets io.Copy hand us the source, so a failure to read it (a client
// that disconnects) marks the upload failed rather than short.
func (u *upload) ReadFrom(r io.Reader) (int64, error) {
	if u.err != nil {
		return 0, u.err
	}
	var n int64
	var err error
	if rf, ok := u.tmp.(io.ReaderFrom); ok && isFile(r) {
		n, err = rf.ReadFrom(r) // copy_file_range where the kernel can
	} else {
		n, err = io.CopyBuffer(uploadWriter{u}, r, make([]byte, copyBufferSize(r)))
	}
	if err != nil && u.err == nil {
		u.err = err
	}
	return n, err
}

func isFile(r io.Reader) bool {
	_, ok := r.(*os.File)
	return ok
}

// uploadWriter hides upload's ReadFrom from io.CopyBuffer, which would
// otherwise call it back.
type uploadWriter struct{ u *upload }

func (w uploadWriter) Write(p []byte) (int, error) { return w.u.Write(p) }

// copyBufferSize is 256 KiB, or less for a body known to be shorter (a
// small PUT reads into a buffer its own size, as io.Copy would).
func copyBufferSize(r io.Reader) int {
	size := int64(256 << 10)
	if l, ok := r.(*io.LimitedReader); ok && l.N < size {
		size = max(l.N, 512)
	}
	return int(size)
}

// writeBehindChunk is how much of a big upload is written before the
// kernel is asked to start putting it on disk.
const writeBehindChunk = 8 << 20

// writeBehind starts the disk write of each full chunk as soon as it is
// written (sync_file_range), and waits for the chunk before it. Why: the
// fsync in commit otherwise finds the whole upload still in memory and
// writes it all while the client waits; this way the disk works while the
// network does, commit's fsync finds little left, and no more than two
// chunks of an upload are dirty at once. The fsync stays: only it makes
// the file's size and metadata durable. A failure here fails the upload.
func (u *upload) writeBehind() error {
	f, ok := u.tmp.(*os.File)
	if !ok {
		return nil
	}
	for u.written-u.behind >= writeBehindChunk {
		fd := int(f.Fd())
		if err := unix.SyncFileRange(fd, u.behind, writeBehindChunk, unix.SYNC_FILE_RANGE_WRITE); err != nil {
			return u.writeBehindFailed(err)
		}
		if prev := u.behind - writeBehindChunk; prev >= 0 {
			const wait = unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER
			if err := unix.SyncFileRange(fd, prev, writeBehindChunk, wait); err != nil {
				return u.writeBehindFailed(err)
			}
		}
		u.behind += writeBehindChunk
	}
	return nil
}

// writeBehindFailed fails the upload, except where the file system has no
// sync_file_range (ENOSYS, some FUSE and network file systems: EINVAL,
// ESPIPE, EOPNOTSUPP), where write-behind is simply given up on.
func (u *upload) writeBehindFailed(err error) error {
	switch err {
	case unix.ENOSYS, unix.EINVAL, unix.ESPIPE, unix.EOPNOTSUPP:
		u.behind = math.MaxInt64
		return nil
	}
	u.err = &fs.PathError{Op: "sync_file_range", Path: u.path, Err: err}
	return u.err
}

// abort discards the temporary file.
func (u *upload) abort() {
	if u.done {
		return
	}
	u.done = true
	u.tmp.Close()
	if u.tmpPath != "" {
		u.tree.Fs.Remove(u.tmpPath)
	}
}

// commit makes the upload durable and visible. The returned FileInfo is the
// new file's, so its ETag is the one GET and PROPFIND will report.
func (u *upload) commit(mtime time.Time) (*FileInfo, bool, error) {
	if u.err != nil {
		u.abort()
		return nil, false, u.err
	}
	old, statErr := u.tree.Fs.Stat(u.path)
	created := statErr != nil
	if u.keepProps && !created {
		if err := u.carryOver(old); err != nil {
			u.abort()
			return nil, false, err
		}
	}
	if err := u.tmp.Sync(); err != nil {
		u.abort()
		return nil, false, err
	}
	if !mtime.IsZero() {
		if err := u.setMtime(mtime); err != nil {
			u.abort()
			return nil, false, err
		}
	}
	fi, err := u.tmp.Stat() // the descriptor: no walk of the name
	if err != nil {
		u.abort()
		return nil, false, err
	}
	if u.unnamed != nil {
		err = u.place(created)
	} else if err = u.tmp.Close(); err == nil {
		err = u.tree.Fs.Rename(u.tmpPath, u.path)
	}
	if err != nil {
		u.abort()
		return nil, false, err
	}
	if u.unnamed != nil {
		// Named, and already on disk (Sync above): a failure to close
		// can no longer lose anything.
		u.tmp.Close()
	}
	u.done = true
	if mp, ok := u.tree.Props.(*MemProps); ok {
		mp.removed(u.path)
		mp.moved(u.tmpPath, u.path)
	}
	delta := fi.Size()
	if !created {
		delta -= old.Size()
	}
	u.tree.addUsage(delta)
	return newFileInfo(fi, path.Base(u.path)), created, nil
}

// place names an unnamed upload: path itself when it is free (created),
// else a temporary name that is then renamed over the old content, since
// a link never replaces. A name that appeared since commit looked is
// replaced the same way.
func (u *upload) place(created bool) error {
	f := u.tmp.(*os.File)
	if created {
		err := u.unnamed.linkUnnamed(f, u.path)
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	tmpPath := tempName(path.Dir(u.path))
	if err := u.unnamed.linkUnnamed(f, tmpPath); err != nil {
		return err
	}
	u.tmpPath = tmpPath // for abort, if the rename fails
	return u.tree.Fs.Rename(tmpPath, u.path)
}

// setMtime gives the upload its modification time before it appears.
func (u *upload) setMtime(mtime time.Time) error {
	if u.unnamed == nil {
		return u.tree.Fs.Chtimes(u.tmpPath, mtime, mtime)
	}
	ts := unix.NsecToTimespec(mtime.UnixNano())
	return setTimes(u.tmp.(*os.File), ts, ts)
}

// carryOver copies the mode and dead properties of the file being replaced.
func (u *upload) carryOver(old os.FileInfo) error {
	if f, ok := u.tmp.(*os.File); ok {
		f.Chmod(old.Mode().Perm())
		u.carryRecords(f)
		props, err := u.tree.Props.Load(u.path)
		if err != nil || len(props) == 0 {
			return nil // unreadable old properties must not block new content
		}
		return saveFd(f, props)
	}
	props, _ := u.tree.Props.Load(u.path)
	return u.tree.Props.Save(u.tmpPath, props)
}

// carryRecords copies the other user.davshare.* attributes of the file
// being replaced (a share record on a shared file) to the new content, so
// replacing a file's content never unshares it. Best effort: the sharing
// package restores a record it finds missing.
func (u *upload) carryRecords(f *os.File) {
	r, ok := u.tree.Fs.(*RootFs)
	if !ok {
		return
	}
	old, err := r.openFile(u.path, os.O_RDONLY, 0) // openFile never waits on a FIFO
	if err != nil {
		return
	}
	defer old.Close()
	names, err := xattr.FList(old)
	if err != nil {
		return
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "user.davshare.") || n == propsKey {
			continue
		}
		if v, err := xattr.FGet(old, n); err == nil {
			xattr.FSet(f, n, v)
		}
	}
}

// PutResult describes a completed upload.
type PutResult struct {
	Info    *FileInfo
	Created bool
}

// Put replaces the content at name with body, atomically. With length >= 0
// the body must be exactly that long; a short or long body leaves the old
// content untouched. A non-zero mtime is applied before the file appears.
func (ns *Namespace) Put(ctx context.Context, name string, body io.Reader, length int64, mtime time.Time) (PutResult, error) {
	loc, err := ns.writable("put", name)
	if err != nil {
		return PutResult{}, err
	}
	up, err := loc.Tree.create(loc.Path, true)
	if err != nil {
		return PutResult{}, err
	}
	defer up.abort()
	src := &sourceReader{r: body}
	var rd io.Reader = src
	if length >= 0 {
		rd = io.LimitReader(src, length+1)
	}
	if _, err := up.ReadFrom(rd); err != nil {
		if src.err != nil {
			// The client stopped sending (disconnect, timeout, shutdown):
			// the upload is incomplete, not our failure.
			return PutResult{}, fmt.Errorf("%w: %w", ErrIncomplete, src.err)
		}
		return PutResult{}, err
	}
	if ctx.Err() != nil {
		return PutResult{}, ctx.Err()
	}
	if length >= 0 && up.written < length {
		return PutResult{}, ErrIncomplete
	}
	if length >= 0 && up.written > length {
		return PutResult{}, ErrTooLong
	}
	fi, created, err := up.commit(mtime)
	if err != nil {
		return PutResult{}, err
	}
	return PutResult{Info: fi, Created: created}, nil
}

// writeFile adapts an upload to webdav.File for x/net/webdav's COPY.
type writeFile struct {
	*upload
	name  string
	props []davxml.Property
}

var (
	_ webdav.File            = (*writeFile)(nil)
	_ webdav.DeadPropsHolder = (*writeFile)(nil)
	_ io.ReaderFrom          = (*writeFile)(nil)
)

func (w *writeFile) Close() error {
	if w.err == nil && len(w.props) > 0 {
		var err error
		if w.unnamed != nil {
			err = saveFd(w.tmp.(*os.File), w.props)
		} else {
			err = w.tree.Props.Save(w.tmpPath, w.props)
		}
		if err != nil {
			w.err = err
		}
	}
	_, _, err := w.commit(time.Time{})
	return err
}

func (w *writeFile) Read([]byte) (int, error) { return 0, errWriteOnly }
func (w *writeFile) Seek(int64, int) (int64, error) {
	return 0, errWriteOnly
}
func (w *writeFile) Readdir(int) ([]fs.FileInfo, error) { return nil, errWriteOnly }
func (w *writeFile) Stat() (fs.FileInfo, error) {
	fi, err := w.tmp.Stat()
	if err != nil {
		return nil, err
	}
	return newFileInfo(fi, w.name), nil
}

func (w *writeFile) DeadProps() (map[xml.Name]webdav.Property, error) {
	return toWebdav(w.props), nil
}

// Patch records the properties COPY carries over; they are written to the
// temporary file before it is renamed into place.
func (w *writeFile) Patch(patches []webdav.Proppatch) ([]webdav.Propstat, error) {
	ps := webdav.Propstat{Status: 200}
	for _, p := range patches {
		for _, prop := range p.Props {
			w.props = setProp(w.props, davxml.Property{Name: prop.XMLName, Lang: prop.Lang, Inner: string(prop.InnerXML)}, p.Remove)
			ps.Props = append(ps.Props, webdav.Property{XMLName: prop.XMLName})
		}
	}
	return []webdav.Propstat{ps}, nil
}

var errWriteOnly = errors.New("fs: file is open for writing only")

// sourceReader remembers a failure to read the request body, so that Put
// can tell a client that went away from a disk that failed.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}
