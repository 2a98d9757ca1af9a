package fs

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// ErrInvalidPath is returned for names that no client may use: NUL bytes,
// invalid UTF-8, or "." and ".." segments (which clean paths never contain,
// so their presence means someone is probing).
var ErrInvalidPath = errors.New("fs: invalid path")

// reservedPrefix marks our temporary files; such names are never listed and
// never reachable through a Namespace.
const reservedPrefix = ".davshare-"

// MaxNameBytes is the longest name of one path segment: NAME_MAX of every
// file system davshare runs on (ext4, xfs, btrfs, zfs). A longer name can
// never exist, so it is refused before it reaches the disk, for every
// method alike (the kernel's ENAMETOOLONG surfaced as 500 from some).
const MaxNameBytes = 255

// CleanName validates a slash-separated name from a request and returns it
// in canonical form: rooted, without a trailing slash, "/" for the root.
// It is the single entry point from URL paths into the file layer.
// Segments longer than MaxNameBytes are refused.
func CleanName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 || !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: %q", ErrInvalidPath, name)
	}
	// Names usually arrive canonical ("/a/b"); those come back as they are,
	// without the copies of a split and path.Clean (a MOVE cleans six).
	canonical := name == "/" || strings.HasPrefix(name, "/") && !strings.HasSuffix(name, "/")
	for i, rest := 0, name; ; i++ {
		seg, after, more := strings.Cut(rest, "/")
		switch {
		case seg == "." || seg == "..":
			return "", fmt.Errorf("%w: %q", ErrInvalidPath, name)
		case len(seg) > MaxNameBytes:
			return "", fmt.Errorf("%w: a name of %d bytes", ErrInvalidPath, len(seg))
		case seg == "" && i > 0 && more:
			canonical = false // "a//b"
		}
		if !more {
			break
		}
		rest = after
	}
	if canonical {
		return name, nil
	}
	return path.Clean("/" + name), nil
}

// reserved reports whether any segment of a clean name is one of ours.
func reserved(name string) bool {
	return strings.Contains(name, "/"+reservedPrefix)
}

// within reports whether name is base or lies below it (both clean).
func within(name, base string) bool {
	if base == "/" {
		return true
	}
	return name == base || strings.HasPrefix(name, base+"/")
}

// join appends the part of name below base to target (all clean).
func join(target, base, name string) string {
	if base == "/" {
		return path.Clean(target + name)
	}
	return path.Clean(target + strings.TrimPrefix(name, base))
}

// NameBelow turns a decoded URL path under base (e.g. "/dav/files/alice")
// into a clean namespace name. ok is false when p is not base or below it
// (on a segment boundary, so "/dav/files/alice2" is not below
// "/dav/files/alice"); err is CleanName's verdict on the rest.
func NameBelow(p, base string) (name string, ok bool, err error) {
	if p != base && !strings.HasPrefix(p, base+"/") {
		return "", false, nil
	}
	name, err = CleanName(strings.TrimPrefix(p, base))
	return name, true, err
}
