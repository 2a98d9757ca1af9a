//go:build unix

package notify

import (
	"io/fs"
	"syscall"
)

// fileID returns the inode number, so a file replaced by rename is noticed
// even when its size and modification time happen to match.
func fileID(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
