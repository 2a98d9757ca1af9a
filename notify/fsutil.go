package notify

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
)

// writeAtomic writes data to dir/name inside root so that readers see either
// the old file or the complete new one: a temporary dot file in the same
// directory, fsync, rename, fsync of the directory.
func writeAtomic(root *os.Root, dir, name string, data []byte) error {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(dir, ".davshare-tmp-"+hex.EncodeToString(rnd[:])) // the prefix fs.SweepStaleUploads removes after a crash
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, path.Join(dir, name))
	}
	if err != nil {
		root.Remove(tmp)
		return err
	}
	return syncDir(root, dir)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		// Some filesystems refuse fsync on directories; the rename itself
		// has happened, so that is not worth failing the write for.
		var pe *fs.PathError
		if !errors.As(err, &pe) {
			return err
		}
	}
	return nil
}

// readLimited reads p inside root, refusing files larger than limit.
// It returns the data and the file's info from the same open file.
func readLimited(root *os.Root, p string, limit int64) ([]byte, fs.FileInfo, error) {
	// Only regular files count: a symlink (even one that stays inside the
	// root) or a directory is not a notification.
	if fi, err := root.Lstat(p); err != nil {
		return nil, nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, nil, fs.ErrNotExist
	}
	f, err := root.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fs.ErrNotExist
	}
	if fi.Size() > limit {
		return nil, fi, ErrTooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > limit {
		return nil, fi, ErrTooLarge
	}
	return data, fi, nil
}
