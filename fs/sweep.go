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
	err = walkTemps(ctx, root, func(p string, fi iofs.FileInfo) {
		if changedBefore(fi, cutoff) && root.Remove(p) == nil {
			removed++
		}
	})
	return removed, err
}

// TempFile is a temporary file found by TempFiles.
type TempFile struct {
	Name    string    // slash-separated, relative to the directory walked
	Size    int64     //
	Changed time.Time // the inode's change time
}

// TempFiles calls fn for every temporary file below dir (".davshare-tmp-*",
// the files SweepStaleUploads removes once they are old enough), without
// changing anything: for "davshare check". Same walk as the sweep: inside
// dir, links not followed.
func TempFiles(ctx context.Context, dir string, fn func(TempFile)) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return walkTemps(ctx, root, func(p string, fi iofs.FileInfo) {
		fn(TempFile{Name: p, Size: fi.Size(), Changed: changeTime(fi)})
	})
}

// walkTemps calls fn for every regular file named ".davshare-tmp-*" below
// root, with its Lstat.
func walkTemps(ctx context.Context, root *os.Root, fn func(p string, fi iofs.FileInfo)) error {
	return iofs.WalkDir(root.FS(), ".", func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable directories are someone else's business
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		if fi, err := root.Lstat(p); err == nil && fi.Mode().IsRegular() {
			fn(p, fi)
		}
		return nil
	})
}

// changedBefore reports whether fi's inode change time (or, where the
// system does not say, its modification time) is before t.
func changedBefore(fi iofs.FileInfo, t time.Time) bool { return changeTime(fi).Before(t) }

// changeTime is fi's inode change time, or its modification time where the
// system does not say.
func changeTime(fi iofs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Unix())
	}
	return fi.ModTime()
}
