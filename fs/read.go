package fs

import (
	"path"

	"github.com/spf13/afero"
)

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
