// Package notify implements the WebDAV notification collections of davshare:
// one collection per user at /dav/notifications/{user}/, whose members are
// XML notification documents (draft-pot-webdav-notifications-03, "NT-03").
//
// # What it implements
//
//   - NT-03 §4 and §4.4: documents with root DAV:notification, a DAV:dtstamp
//     (RFC 3339, UTC, second precision) and exactly one type element, built
//     and parsed with github.com/beevik/etree (Build, Parse). Known types:
//     DAV:share-invite-notification and DAV:share-reply-notification
//     (draft-pot-webdav-resource-sharing-04, "RS-04", §4.6.1, §4.6.2, §5.3,
//     §5.4) and DAV:systemstatus (NT-03 §5.1). Other types are listed and
//     served unchanged (Unknown).
//   - NT-03 §4.1: GET and HEAD as application/davnotification+xml with
//     content negotiation (406 when Accept excludes it; a missing Accept is
//     406 unless HandlerOptions.StrictAccept is off).
//   - NT-03 §4.3.1: the protected DAV:notificationtype property; RFC 4918
//     PROPFIND (Depth 0 or 1; infinity is refused with
//     DAV:propfind-finite-depth) and PROPPATCH (every property refused:
//     protected ones with DAV:cannot-modify-protected-property, dead ones
//     with a plain 403, as [ccs] does).
//   - RFC 6578: DAV:sync-token and REPORT DAV:sync-collection on the
//     collection (spec §8.6). Our choices where the RFC leaves room: a
//     missing DAV:sync-token means an initial sync, a missing DAV:sync-level
//     means "1" and "infinite" is answered like "1" (no child collections),
//     a missing DAV:prop means DAV:getetag. DAV:limit is honoured by refusal
//     (RFC 6578 §3.7): when more changes than DAV:nresults are due, the
//     answer is 507 with DAV:number-of-matches-within-limits, never a
//     truncated list, because a truncated initial sync could hand out a
//     token older than the kept tombstones.
//   - Spec §8.7, the method table; spec §9 rows 28–35 and 39–41; spec §5.1
//     coalescing (Store.Deliver with a name from NameFor replaces the
//     earlier notification); the invite-reply POST is delegated to an
//     InviteReplier (the sharing package).
//
// Other decisions: OPTIONS, if it reaches the Handler, is answered 200 with
// an Allow header (the router normally answers it); PROPFIND on a member
// accepts any Depth, which has no effect on a resource without members
// (RFC 4918 §9.1); a missing collection directory is created on first use
// (the router has established that the user exists); GET sets Vary: Accept
// and supports If-None-Match through http.ServeContent.
//
// # Producers
//
// The sharing package writes with Store.Deliver (name from NameFor, so an
// update replaces the earlier notification with a new ETag and dtstamp),
// reads with Store.Get and Store.List, and removes with Store.Delete. Invite
// replies POSTed to a notification reach its InviteReplier. The admin CLI
// calls SendSystemStatus, which needs only the data directory.
//
// # On disk
//
//	DIR/notifications/{user}/{name}.xml      one notification each; name
//	                                         matches NamePattern
//	DIR/notifications/{user}/.davshare-sync.json  the sync state
//	DIR/notifications/{user}/.davshare-tmp-* files being written (swept at start if a crash left them)
//
// Every write is a temporary dot file, fsync, rename, fsync of the
// directory, so readers (including other processes) never see half a file.
// Dot files are never listed or served.
//
// The sync state is a per-user modification sequence: each member records
// the sequence number of its last change and a strong ETag (a SHA-256 of the
// bytes, so it is the same after a restart and in every process); deletions
// leave tombstones. A token is urn:davshare:sync:<epoch>:<seq>. The epoch is
// random and changes when the state is lost or unreadable, which
// invalidates old tokens (403 DAV:valid-sync-token, the client resyncs).
// Tombstones are bounded (Options.MaxTombstones); a token older than the
// oldest forgotten one is refused the same way. Only the server process
// writes the state.
//
// Files written by other programs (SendSystemStatus for `davshare notify
// send`, a restore, another server) are discovered by rescanning: at Open,
// when Watch's fsnotify events say a directory changed (events are only
// hints; the whole directory is compared with the state, by size, mtime and
// inode, and re-hashed where they differ), on event-queue overflow, and
// every Options.RescanInterval. A file that does not parse as a
// notification is ignored with a warning.
//
// # Security boundaries
//
//   - The router authenticates and checks that the caller owns {user}
//     before calling Handler.Serve; this package trusts that, and answers
//     404 (never 403) for anything that is not a member, so nothing about
//     other names is revealed.
//   - Every file operation goes through an os.Root on DIR/notifications, so
//     a symlink cannot lead outside it; only regular files whose names match
//     NamePattern are members, so state and temporary files cannot be read
//     over HTTP.
//   - Documents are parsed with a size cap (MaxDocumentSize), bounded
//     nesting, and no DTDs; request bodies go through davxml.ReadBody with
//     HandlerOptions.BodyLimit.
//   - Clients cannot create, replace, copy, move or lock anything in a
//     collection (NT-03 §4); the only write they have is DELETE.
//   - Error responses never carry internal error text.
package notify
