package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// File names inside the data directory.
const (
	accountsFile = "accounts.json"
	lockFile     = ".accounts.lock"
)

// fileVersion is the only format this code reads and writes.
const fileVersion = 1

// fileData is the JSON document in accounts.json.
type fileData struct {
	Version  int       `json:"version"`
	Accounts []Account `json:"accounts"`
}

// fileStamp identifies one version of accounts.json cheaply. Every write
// renames a new file into place, so the inode changes; size, mtime and ctime
// guard against inode reuse and against editors that rewrite in place.
// The zero value means "no file".
type fileStamp struct {
	exists     bool
	dev, ino   uint64
	size       int64
	mtimeNanos int64
	ctimeNanos int64
}

func stampOf(st *unix.Stat_t) fileStamp {
	return fileStamp{
		exists:     true,
		dev:        uint64(st.Dev), // Dev is not uint64 on every platform.
		ino:        st.Ino,
		size:       st.Size,
		mtimeNanos: unix.TimespecToNsec(st.Mtim),
		ctimeNanos: unix.TimespecToNsec(st.Ctim),
	}
}

// statFile returns the stamp of the file at path; a missing file gives the
// zero stamp.
func statFile(path string) (fileStamp, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fileStamp{}, nil
		}
		return fileStamp{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return stampOf(&st), nil
}

// readAccounts reads and checks accounts.json. A missing or empty file is an
// empty account list. The stamp is that of the file actually read, and is set
// even when its content is refused.
func readAccounts(path string) ([]Account, fileStamp, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fileStamp{}, nil
	}
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("auth: reading accounts: %w", err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fileStamp{}, fmt.Errorf("auth: reading accounts: stat %s: %w", path, err)
	}
	stamp := stampOf(&st)
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, stamp, fmt.Errorf("auth: reading accounts: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, stamp, nil
	}
	var doc fileData
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, stamp, fmt.Errorf("auth: %s is not valid JSON: %w", path, err)
	}
	if doc.Version != fileVersion {
		return nil, stamp, fmt.Errorf("auth: %s has format version %d; this davshare reads only version %d",
			path, doc.Version, fileVersion)
	}
	if err := checkLoaded(doc.Accounts); err != nil {
		return nil, stamp, fmt.Errorf("auth: %s: %w", path, err)
	}
	return doc.Accounts, stamp, nil
}

// checkLoaded refuses a file that breaks the Store's invariants, typically
// after a hand edit: bad or duplicate names, duplicate email addresses.
func checkLoaded(accts []Account) error {
	names := make(map[Username]bool, len(accts))
	emails := make(map[string]Username, len(accts))
	for _, a := range accts {
		if err := ValidateUsername(a.Name); err != nil {
			return err
		}
		if names[a.Name] {
			return fmt.Errorf("%w: username %q appears twice", ErrInvalid, a.Name)
		}
		names[a.Name] = true
		if a.Email == "" {
			continue
		}
		if other, dup := emails[emailKey(a.Email)]; dup {
			return fmt.Errorf("%w: email %q is used by both %q and %q", ErrInvalid, a.Email, other, a.Name)
		}
		emails[emailKey(a.Email)] = a.Name
	}
	return nil
}

// writeAccounts atomically replaces accounts.json in dir with accts, sorted
// by name: a temporary file in dir is written, synced and renamed over the
// old one, then dir itself is synced so the rename survives a crash.
func writeAccounts(dir string, accts []Account) (fileStamp, error) {
	accts = slices.Clone(accts)
	sortAccounts(accts)
	b, err := json.MarshalIndent(fileData{Version: fileVersion, Accounts: accts}, "", "  ")
	if err != nil {
		return fileStamp{}, fmt.Errorf("auth: encoding accounts: %w", err)
	}
	b = append(b, '\n')

	tmp, err := os.CreateTemp(dir, ".accounts-*.tmp") // mode 0600
	if err != nil {
		return fileStamp{}, fmt.Errorf("auth: writing accounts: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fileStamp{}, fmt.Errorf("auth: writing accounts: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fileStamp{}, fmt.Errorf("auth: writing accounts: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fileStamp{}, fmt.Errorf("auth: writing accounts: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(tmp.Fd()), &st); err != nil {
		return fileStamp{}, fmt.Errorf("auth: writing accounts: stat %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fileStamp{}, fmt.Errorf("auth: writing accounts: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, accountsFile)); err != nil {
		return fileStamp{}, fmt.Errorf("auth: writing accounts: %w", err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return fileStamp{}, fmt.Errorf("auth: writing accounts: %w", err)
	}
	// A rename changes the ctime on some filesystems; take the stamp the
	// watcher will see.
	stamp, err := statFile(filepath.Join(dir, accountsFile))
	if err != nil || stamp.ino != st.Ino {
		// Someone replaced the file already; let the watcher reload it.
		return stampOf(&st), nil
	}
	return stamp, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lockDir takes the exclusive flock on dir/.accounts.lock that every
// read-modify-write of accounts.json holds, waiting for other processes.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("auth: locking accounts: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("auth: locking accounts: flock %s: %w", f.Name(), err)
	}
	return func() {
		// Closing the descriptor releases the lock.
		f.Close()
	}, nil
}

func sortAccounts(accts []Account) {
	slices.SortFunc(accts, func(a, b Account) int { return strings.Compare(string(a.Name), string(b.Name)) })
}
