// Package fs is davshare's file layer: the only place where a request path
// becomes a file on disk.
//
// It gives each user a Namespace, a golang.org/x/net/webdav FileSystem made of
// the user's home directory plus the shares mounted in it (RS-04 §4.7.3: a
// sharee instance maps <instance>/<rest> to <original>/<rest>). Every backing
// tree is an afero.Fs; in production it is RootFs, which confines all access
// to one directory with os.Root, so neither ".." (encoded or not) nor a
// symbolic link can leave a home. Links that point outside are hidden from
// listings and unreadable; they never break a listing.
//
// It also owns what x/net/webdav gets wrong or slow for us:
//   - ETag and content type come from the directory read and the file name,
//     never from opening the file (style.md pitfall B.8);
//   - writes that replace content go to a temporary file beside the target
//     and are renamed into place after fsync, so a failed upload leaves the
//     old content (pitfall F.29); a big upload is handed to the disk 8 MiB
//     at a time as it arrives (sync_file_range, atomic.go), so that fsync
//     finds little left to write;
//   - dead properties (RFC 4918 §4) live in one versioned extended attribute
//     per resource, so a PROPPATCH is atomic and properties follow the file
//     through renames, also by other programs;
//   - lock names are canonical on-disk paths ("owner/path"), so a share
//     mounted at several URLs is locked as one resource (pitfall D.18);
//   - listings are cached behind inotify(7) watches and names resolve with
//     one openat2(2) RESOLVE_BENEATH call where no link is on the way
//     (listcache.go, beneath.go): a repeated PROPFIND Depth 1 costs no
//     system call per member, a GET of a small file four (open, fstat,
//     pread, close: ReadAt);
//   - FIFOs, sockets and devices are listed but never read (ErrNotRegular):
//     opening one for reading would wait for a writer or never end.
//
// Security boundaries: a Namespace only reaches its owner's home and the
// mounts that the MountSource grants; a mount reaches only the shared
// original and what lies below it, through an os.Root of its own opened at
// the original (Tree.View), so a link inside a shared folder that points
// elsewhere in the owner's home is hidden from the sharee as a link out of
// the home is, and an original that has become a link is not found;
// read-only mounts refuse every write with ErrReadOnly whatever the
// caller; names that start with ".davshare-" are reserved for our
// temporary files and are neither listed nor reachable.
package fs
