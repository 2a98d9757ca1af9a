package fs

import (
	"path"

	"github.com/spf13/afero"
)

// Content is a file opened for reading by ReadAt: either read already
// (Data) or open (File), never both.
type Content struct {
	Info *FileInfo
	// Data is the whole file, read into the caller's buffer.
	Data []byte
	// File is the open file when it was not read: larger than the buffer,
	// a folder, or a name that os.Root resolves (links); the caller closes
	// it.
	File afero.File
}

// ReadAt is OpenAt for a GET: a regular file that fits in buf is read whole
// into buf and closed at once. Why: such a file never becomes an *os.File
// (no poller registration, no finalizer, a plain close) and is read in one
// pread(2), where net/http's ReadFrom reads the first 512 bytes apart. On
// a 4 KiB GET that is about a tenth of the server's CPU. Anything else,
// and everything when buf is empty, is opened as by OpenAt.
func (ns *Namespace) ReadAt(loc Location, buf []byte) (Content, error) {
	if r, ok := loc.Tree.Fs.(*RootFs); ok && len(buf) > 0 {
		data, f, fi, handled, err := r.readWhole(loc.Path, buf)
		if err != nil {
			return Content{}, err
		}
		if handled {
			c := Content{Info: newFileInfo(fi, path.Base(loc.Name)), Data: data}
			if f != nil {
				c.File = f
			}
			return c, nil
		}
	}
	f, fi, err := ns.OpenAt(loc)
	return Content{Info: fi, File: f}, err
}

// OpenAt opens the resource at loc for reading and stats the open
// descriptor. GET needs both, and this way the path is walked once and the
// ETag and length describe the very file that is sent, even if it is
// replaced in between. On a RootFs the file is an *os.File, so that
// net/http can send it with sendfile(2). A FIFO, socket or device is
// refused (ErrNotRegular).
func (ns *Namespace) OpenAt(loc Location) (afero.File, *FileInfo, error) {
	f, err := loc.Tree.Fs.Open(loc.Path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && Special(fi) {
		err = NotRegular("open", loc.Name)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, newFileInfo(fi, path.Base(loc.Name)), nil
}
