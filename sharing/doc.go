// Package sharing implements WebDAV Resource Sharing for davshare
// (draft-pot-webdav-resource-sharing-04, "RS-04"; the project reference is
// spec/sharing-and-notifications.md, cited as "spec §N").
//
// # What it implements
//
//   - The share-resource POST (RS-04 §4.3, §5.1; spec §4): Manager.Share
//     parses the body with etree (children in any order, matched by
//     namespace URI, DTDs refused), validates everything before changing
//     anything (spec §4.2), resolves sharee hrefs (principal URLs in their
//     /dav/principals/u/, http(s):// and /principals/users/u/ forms,
//     mailto: addresses of accounts), and applies the entries in document
//     order, the later entry for one sharee winning.
//   - Invitations (RS-04 §4.5.1, §4.6; spec §5): a share-invite-notification
//     named share-<id>-<user>.xml whose reply-url is its own URL; the
//     invite-reply POST (Manager.ReplyToInvite, the notify.InviteReplier)
//     accepts with create-in and slug (201, absolute Location) or declines
//     (204); the sharer gets reply-<id>-<user>.xml; DELETE of the invite is
//     "ignore" and the sharer is not told (the entry stays noresponse).
//     Invitations survive a kill: the record that asks for one marks the
//     entry undelivered until the notification is on disk, and Open
//     delivers every invitation still marked; an ignored invitation is not
//     marked, so it never comes back.
//   - Instant mode (RS-04 §4.5.2, spec §7.1): the instance appears at once
//     in the sharee's instant folder, status accepted, no notification.
//   - Pending mailto: sharees (spec §7.2): an address without an account is
//     listed invite-noresponse and gets nothing; when an account with that
//     address appears (AccountsChanged, subscribed to auth.Store), the
//     invitation is delivered, or in instant mode the share mounted.
//   - Instances as mounts (RS-04 §4.7.3, spec §5.6): Manager is the
//     fs.MountSource; each accepted sharee sees the original at its
//     instance path, read-only for "read". Mounts answers from an immutable
//     in-memory snapshot: no I/O and no lock on the request path.
//   - Lifecycle (spec §1.5, §6): access changes keep the status and notify;
//     no-access removes the entry and the instance and notifies (or
//     withdraws a pending invitation); DELETE of an instance root declines
//     and tells the sharer; MOVE of an instance root renames the mount
//     (per-instance properties travel); WebDAV MOVE of an original (or an
//     ancestor) re-points every instance and keeps DAV:share-resource-uri
//     (urn:uuid:, spec §3.3); DELETE of an original ends the share and
//     sends no-access notices; COPY makes no share, because nothing of
//     sharing is a dead property.
//   - PROPFIND support (RS-04 §4.4, §4.2; spec §3): ShareAccess,
//     ResourceURI, InviteXML, Privileges and CanShare are map lookups on
//     the snapshot. Per-instance properties (RS-04 §4.8.1, spec §5.7) live
//     in the sharee's mount table (InstanceProps, PatchInstance).
//   - Out-of-band changes (Watch, Verify): fsnotify on the parent directory
//     of every original, plus a verification pass every VerifyInterval
//     (2 s) that reads one attribute per share. An original not carrying
//     its share id where expected is looked for in its owner's home by id
//     (moved: instances follow), restored when only its record was lost
//     (an editor that replaces files by renaming), or else declared gone
//     (instances removed, sharees notified).
//
// # On disk
//
// Records are JSON in extended attributes (pkg/xattr, only in xattr.go,
// behind the Store interface; MemStore is the in-memory fake), always read
// and written on a descriptor opened through the owner's os.Root-confined
// tree. JSON longer than 512 bytes is stored zlib-compressed (sealRecord:
// ext4 fits all of a file's attributes in one 4 KiB block):
//
//	user.davshare.share.v1   on the original: the share record (id,
//	                         owner, created, sharees with href, user,
//	                         email, access, status, displayname, comment,
//	                         instance path, invite name, updated, and
//	                         "w" while the invitation is undelivered) —
//	                         the source of truth
//	user.davshare.shares.v1  on the owner's home root: share id → path, the
//	                         index used at startup
//	user.davshare.mounts.v1  on the sharee's home root: share id → instance
//	                         path, owner, per-instance properties
//
// One setxattr replaces one value atomically, so every update is
// crash-safe. The share record is written before the derived records,
// except that a new share's registry entry is written first (a dangling
// entry is dropped at startup, a missing one would hide the share). Open
// reads every registry, looks for records not found at their path by
// walking the owner's home, then reconciles every mount table with the
// share records (entries not listed as accepted at that path are dropped,
// missing ones added), delivers the invitations that records still mark
// undelivered, and delivers invitations to pending addresses that gained
// an account while the server was down.
//
// An invitation is sent in three steps: the record marked undelivered,
// the notification (its name is deterministic, so sending it again
// replaces it), the record unmarked. A kill between any two leaves the
// mark, and Open sends the invitation again. Only Open does: while the
// server runs, a marked invitation may be on its way, and once delivered
// the sharee may ignore it (DELETE), which sharing is not told about. A
// failed delivery therefore waits for the next start.
//
// Limits: ext4 without ea_inode keeps all of a file's attributes in about
// 4 KiB. With long records compressed, that bounds a share to about 700
// sharees (450 with invitations pending), an owner's registry to about 170
// shares and a user's mount table to about 170 instances (measured). A
// share or registry write beyond that fails with fs.ErrInsufficientStorage
// (507) and the share stays as it was; a mount table that no longer fits is
// logged and its instances still work, rebuilt from the share records at
// every start, but per-instance properties cannot be set (507). xfs, btrfs
// and zfs allow 64 KiB per value.
//
// # Security boundaries
//
//   - Only the owner of a resource in their own home may share it
//     (DAV:share, RS-04 §4.2); never the home root, never a resource inside
//     or around another share, never anything inside an instance
//     (no resharing, spec §13). Sharing with oneself is refused.
//   - No access is granted before acceptance, in invitation mode.
//   - create-in must be an existing collection of the sharee's own home,
//     outside every instance; slugs are sanitised (no slashes, control
//     characters, dot names or reserved names).
//   - Records from disk are validated; a corrupt one is logged and treated
//     as absent. Error responses never carry error text.
package sharing
