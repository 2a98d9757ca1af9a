package fs

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// statAt lstat()s child relative to the open directory dir. Unlike
// os.DirEntry.Info, which re-walks the directory's full path for every
// entry, this stays inside the directory we already resolved through the
// root (no symlink race) and costs the kernel one lookup.
func statAt(dir *os.File, child string) (os.FileInfo, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(int(dir.Fd()), child, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &fs.PathError{Op: "fstatat", Path: child, Err: err}
	}
	return &statInfo{name: child, st: st}, nil
}

// statInfo is an os.FileInfo over a raw stat result.
type statInfo struct {
	name string
	st   unix.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.st.Size }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s *statInfo) IsDir() bool        { return s.st.Mode&unix.S_IFMT == unix.S_IFDIR }
func (s *statInfo) Sys() any           { return &s.st }

func (s *statInfo) Mode() fs.FileMode { return fileMode(s.st.Mode) }

// memberInfo is an os.FileInfo over a cached listing member (listcache.go).
type memberInfo struct{ m *member }

func (i memberInfo) Name() string       { return i.m.name }
func (i memberInfo) Size() int64        { return i.m.size }
func (i memberInfo) ModTime() time.Time { return time.Unix(0, i.m.mtime) }
func (i memberInfo) IsDir() bool        { return i.m.mode&unix.S_IFMT == unix.S_IFDIR }
func (i memberInfo) Mode() fs.FileMode  { return fileMode(i.m.mode) }
func (i memberInfo) Sys() any           { return i.m }

// fileMode converts st_mode.
func fileMode(mode uint32) fs.FileMode {
	m := fs.FileMode(mode & 0o777)
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	}
	return m
}
