package fs

import (
	"context"
	iofs "io/fs"
	"os"
	"strings"
	"syscall"
	"time"
)

// tempPrefix starts the name of every upload's temporary file (tempName).
const tempPrefix = reservedPrefix + "tmp-"

// SweepStaleUploads removes, below filesDir (DIR/files), the temporary files
// of uploads that a crash or a kill interrupted: regular files named
// ".davshare-tmp-*" whose inode last changed more than age ago. It returns
// how many it removed.
//
// Such files are never visible over WebDAV (the namespace hides reserved
// names) and an interrupted upload never touched the file it was replacing,
// so sweeping is only about disk space; the server runs it in the background
// at start. The age keeps it from touching an upload in progress in another
// process serving the same directory: a live upload writes (and so changes
// the inode's ctime, which no client can set back) at least every
// limits.body_idle_timeout. The walk stays inside filesDir (os.Root) and
// does not follow symbolic links.
func SweepStaleUploads(ctx context.Context, filesDir string, age time.Duration) (int, error) {
	root, err := os.OpenRoot(filesDir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	cutoff := time.Now().Add(-age)
	removed := 0
	err = iofs.WalkDir(root.FS(), ".", func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable directories are someone else's business
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		fi, err := root.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() || !changedBefore(fi, cutoff) {
			return nil
		}
		if root.Remove(p) == nil {
			removed++
		}
		return nil
	})
	return removed, err
}

// changedBefore reports whether fi's inode change time (or, where the
// system does not say, its modification time) is before t.
func changedBefore(fi iofs.FileInfo, t time.Time) bool {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Unix()).Before(t)
	}
	return fi.ModTime().Before(t)
}
