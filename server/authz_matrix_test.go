package server_test

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davshare/davshare/sharing"
)

// Issue #7: the authorization matrix. Every method on every kind of target
// by every kind of caller has one expected status (authzMatrix below), and
// for every cell the test checks that the answer leaks nothing the caller
// may not see (secret markers planted in names and contents, searched for
// in the body and headers) and that a refused request, or any read,
// changes nothing on disk (every file, directory, link and user.* xattr of
// the homes and notification collections, compared before and after).
//
// Setup (matrixEnv): alice owns Apollo/ (shared read with bob, read-write
// with carol, both accepted: /dav/files/bob/Apollo/, /dav/files/carol/Apollo/),
// Other-zq7o/ (shared read-write with carol, accepted), Pending-zq7p/
// (shared with bob, not answered: bob holds a pending invitation) and a
// private folder; every user has mine.txt in their home. dave is a user
// nobody shares with. anon sends no credentials; wrongpw is alice with a
// wrong password.
//
// Targets are URLs; where a target depends on the caller, "me" is the
// caller (alice for anon and wrongpw) and "victim" is alice, or dave when
// the caller is alice:
//
//	own-home            /dav/files/me/mine.txt
//	other-home          /dav/files/victim/...: alice's Private-zq7ap/secret-zq7ap.txt, dave's mine.txt
//	original            /dav/files/alice/Apollo/plan.txt (the shared original, at its owner's URL)
//	mount-root:read     /dav/files/bob/Apollo/ (bob's read instance; another user's space for everyone else)
//	in-mount:read       /dav/files/bob/Apollo/plan.txt
//	mount-root:rw       /dav/files/carol/Apollo/ (carol's read-write instance)
//	in-mount:rw         /dav/files/carol/Apollo/plan.txt
//	notification        /dav/notifications/bob/share-….xml (bob's pending invitation)
//	notifications       /dav/notifications/bob/ (a notification collection)
//	principal           /dav/principals/bob/
//	outside             /data/files/alice/Private-zq7ap/secret-zq7ap.txt (not under /dav/: the on-disk layout)
//
// COPY and MOVE go to /dav/files/me/dest-zq7d (a new name in the caller's
// own home, Overwrite: F) unless the target says otherwise; the rows named
// a→b are COPY and MOVE only, from a to the destination b, and those
// marked (T) overwrite an existing destination with Overwrite: T:
//
//	own→other-home      /dav/files/me/mine.txt → /dav/files/victim/dest-zq7d
//	own→read-mount      /dav/files/me/mine.txt → /dav/files/bob/Apollo/dest-zq7d
//	own→rw-mount        /dav/files/me/mine.txt → /dav/files/carol/Apollo/dest-zq7d
//	rw-mount→own-home   /dav/files/carol/Apollo/plan.txt → /dav/files/me/dest-zq7d (a member out of a share, §6.5)
//	mount-root→mount    /dav/files/carol/Apollo/ → /dav/files/carol/Other-zq7o/Apollo/ (into another instance, §6.5)
//	mount-root→itself   /dav/files/bob/Apollo/ → /dav/files/bob/Apollo/sub/Apollo/
//	rw-mount→own-file   /dav/files/carol/Apollo/plan.txt → /dav/files/me/mine.txt (T)
//	own→rw-mount-file   /dav/files/me/mine.txt → /dav/files/carol/Apollo/plan.txt (T)
//	own→mount-root      /dav/files/me/mine.txt → /dav/files/me/Apollo/ (T: bob's and carol's instance root, alice's original, dave's nothing)
//	mount-root→member   /dav/files/carol/Apollo/ → /dav/files/carol/Other-zq7o/o.txt (T)
//
// The COPY and MOVE of in-mount:read are "from a read-only mount to one's
// own home" (§6.5: COPY 201, MOVE 403).
//
// Request bodies: PROPFIND allprop at Depth 1; PROPPATCH sets a dead
// property, and its cell reads "207:NNN", NNN the status of that property
// in the multistatus; LOCK an exclusive write lock; UNLOCK sends the token
// of a lock that the resource's owner took before the row (the caller's
// own for own-home, alice's on the original for the mounts); POST is a
// share-resource body (an invite-reply decline on the notification);
// REPORT is a sync-collection (Depth 0, RFC 6578 §3.2).
//
// Decisions (where neither the spec nor RFC 4918 fixes the code; see
// docs/security.md, "Authorization matrix"):
//   - Another user's space is 404 for every method, so nothing reveals
//     whether it exists; OPTIONS is 200 everywhere, unauthenticated, and
//     answers from the URL's shape alone; everything else without valid
//     credentials is 401, outside /dav/ too.
//   - A Destination in another user's space is 403, whatever is there:
//     it is refused from its URL alone.
//   - A read instance refuses every write with 403 need-privileges, except
//     DELETE, MOVE, COPY and PROPPATCH of the instance root itself, which
//     act on the sharee's own instance (spec §5.5, §5.7, §6.5); MKCOL there
//     is 403 too, before "exists" (405).
//   - MOVE never crosses trees (home ↔ instance, instance ↔ instance):
//     403, also for read-write; COPY does. COPY or MOVE over an instance
//     root is 403: a client deletes an instance explicitly.
//   - A PROPPATCH of a dead property on a notification is 207 with 403
//     for the property (spec §8.5 "403", in RFC 4918 §9.2's form, as
//     spec §9 #39 has it for protected properties).
//   - GET of a collection is 405 (no HTML listings); REPORT is 403
//     supported-report on files and 405 on a notification and a
//     principal; every other method on a principal is 405.
//
// AUTHZ_MATRIX_PRINT=1 logs the observed statuses in the table's format.
const authzMatrix = `
# target           method     alice    bob      carol    dave     anon     wrongpw
own-home           OPTIONS    200      200      200      200      200      200
own-home           GET        200      200      200      200      401      401
own-home           HEAD       200      200      200      200      401      401
own-home           PUT        204      204      204      204      401      401
own-home           DELETE     204      204      204      204      401      401
own-home           MKCOL      405      405      405      405      401      401
own-home           COPY       201      201      201      201      401      401
own-home           MOVE       201      201      201      201      401      401
own-home           PROPFIND   207      207      207      207      401      401
own-home           PROPPATCH  207:200  207:200  207:200  207:200  401      401
own-home           LOCK       200      200      200      200      401      401
own-home           UNLOCK     204      204      204      204      401      401
own-home           POST       204      204      204      204      401      401
own-home           REPORT     403      403      403      403      401      401

other-home         OPTIONS    200      200      200      200      200      200
other-home         GET        404      404      404      404      401      401
other-home         HEAD       404      404      404      404      401      401
other-home         PUT        404      404      404      404      401      401
other-home         DELETE     404      404      404      404      401      401
other-home         MKCOL      404      404      404      404      401      401
other-home         COPY       404      404      404      404      401      401
other-home         MOVE       404      404      404      404      401      401
other-home         PROPFIND   404      404      404      404      401      401
other-home         PROPPATCH  404      404      404      404      401      401
other-home         LOCK       404      404      404      404      401      401
other-home         UNLOCK     404      404      404      404      401      401
other-home         POST       404      404      404      404      401      401
other-home         REPORT     404      404      404      404      401      401

original           OPTIONS    200      200      200      200      200      200
original           GET        200      404      404      404      401      401
original           HEAD       200      404      404      404      401      401
original           PUT        204      404      404      404      401      401
original           DELETE     204      404      404      404      401      401
original           MKCOL      405      404      404      404      401      401
original           COPY       201      404      404      404      401      401
original           MOVE       201      404      404      404      401      401
original           PROPFIND   207      404      404      404      401      401
original           PROPPATCH  207:200  404      404      404      401      401
original           LOCK       200      404      404      404      401      401
original           UNLOCK     204      404      404      404      401      401
original           POST       403      404      404      404      401      401
original           REPORT     403      404      404      404      401      401

mount-root:read    OPTIONS    200      200      200      200      200      200
mount-root:read    GET        404      405      404      404      401      401
mount-root:read    HEAD       404      405      404      404      401      401
mount-root:read    PUT        404      403      404      404      401      401
mount-root:read    DELETE     404      204      404      404      401      401
mount-root:read    MKCOL      404      403      404      404      401      401
mount-root:read    COPY       404      201      404      404      401      401
mount-root:read    MOVE       404      201      404      404      401      401
mount-root:read    PROPFIND   404      207      404      404      401      401
mount-root:read    PROPPATCH  404      207:200  404      404      401      401
mount-root:read    LOCK       404      403      404      404      401      401
mount-root:read    UNLOCK     404      403      404      404      401      401
mount-root:read    POST       404      403      404      404      401      401
mount-root:read    REPORT     404      403      404      404      401      401

in-mount:read      OPTIONS    200      200      200      200      200      200
in-mount:read      GET        404      200      404      404      401      401
in-mount:read      HEAD       404      200      404      404      401      401
in-mount:read      PUT        404      403      404      404      401      401
in-mount:read      DELETE     404      403      404      404      401      401
in-mount:read      MKCOL      404      403      404      404      401      401
in-mount:read      COPY       404      201      404      404      401      401
in-mount:read      MOVE       404      403      404      404      401      401
in-mount:read      PROPFIND   404      207      404      404      401      401
in-mount:read      PROPPATCH  404      403      404      404      401      401
in-mount:read      LOCK       404      403      404      404      401      401
in-mount:read      UNLOCK     404      403      404      404      401      401
in-mount:read      POST       404      403      404      404      401      401
in-mount:read      REPORT     404      403      404      404      401      401

mount-root:rw      OPTIONS    200      200      200      200      200      200
mount-root:rw      GET        404      404      405      404      401      401
mount-root:rw      HEAD       404      404      405      404      401      401
mount-root:rw      PUT        404      404      405      404      401      401
mount-root:rw      DELETE     404      404      204      404      401      401
mount-root:rw      MKCOL      404      404      405      404      401      401
mount-root:rw      COPY       404      404      201      404      401      401
mount-root:rw      MOVE       404      404      201      404      401      401
mount-root:rw      PROPFIND   404      404      207      404      401      401
mount-root:rw      PROPPATCH  404      404      207:200  404      401      401
mount-root:rw      LOCK       404      404      200      404      401      401
mount-root:rw      UNLOCK     404      404      403      404      401      401
mount-root:rw      POST       404      404      403      404      401      401
mount-root:rw      REPORT     404      404      403      404      401      401

in-mount:rw        OPTIONS    200      200      200      200      200      200
in-mount:rw        GET        404      404      200      404      401      401
in-mount:rw        HEAD       404      404      200      404      401      401
in-mount:rw        PUT        404      404      204      404      401      401
in-mount:rw        DELETE     404      404      204      404      401      401
in-mount:rw        MKCOL      404      404      405      404      401      401
in-mount:rw        COPY       404      404      201      404      401      401
in-mount:rw        MOVE       404      404      403      404      401      401
in-mount:rw        PROPFIND   404      404      207      404      401      401
in-mount:rw        PROPPATCH  404      404      207:200  404      401      401
in-mount:rw        LOCK       404      404      200      404      401      401
in-mount:rw        UNLOCK     404      404      403      404      401      401
in-mount:rw        POST       404      404      403      404      401      401
in-mount:rw        REPORT     404      404      403      404      401      401

notification       OPTIONS    200      200      200      200      200      200
notification       GET        404      200      404      404      401      401
notification       HEAD       404      200      404      404      401      401
notification       PUT        404      403      404      404      401      401
notification       DELETE     404      204      404      404      401      401
notification       MKCOL      404      403      404      404      401      401
notification       COPY       404      403      404      404      401      401
notification       MOVE       404      403      404      404      401      401
notification       PROPFIND   404      207      404      404      401      401
notification       PROPPATCH  404      207:403  404      404      401      401
notification       LOCK       404      403      404      404      401      401
notification       UNLOCK     404      403      404      404      401      401
notification       POST       404      204      404      404      401      401
notification       REPORT     404      405      404      404      401      401

notifications      OPTIONS    200      200      200      200      200      200
notifications      GET        404      405      404      404      401      401
notifications      HEAD       404      405      404      404      401      401
notifications      PUT        404      403      404      404      401      401
notifications      DELETE     404      403      404      404      401      401
notifications      MKCOL      404      403      404      404      401      401
notifications      COPY       404      403      404      404      401      401
notifications      MOVE       404      403      404      404      401      401
notifications      PROPFIND   404      207      404      404      401      401
notifications      PROPPATCH  404      403      404      404      401      401
notifications      LOCK       404      403      404      404      401      401
notifications      UNLOCK     404      403      404      404      401      401
notifications      POST       404      403      404      404      401      401
notifications      REPORT     404      207      404      404      401      401

principal          OPTIONS    200      200      200      200      200      200
principal          GET        404      405      404      404      401      401
principal          HEAD       404      405      404      404      401      401
principal          PUT        404      405      404      404      401      401
principal          DELETE     404      405      404      404      401      401
principal          MKCOL      404      405      404      404      401      401
principal          COPY       404      405      404      404      401      401
principal          MOVE       404      405      404      404      401      401
principal          PROPFIND   404      207      404      404      401      401
principal          PROPPATCH  404      405      404      404      401      401
principal          LOCK       404      405      404      404      401      401
principal          UNLOCK     404      405      404      404      401      401
principal          POST       404      403      404      404      401      401
principal          REPORT     404      405      404      404      401      401

outside            OPTIONS    200      200      200      200      200      200
outside            GET        404      404      404      404      401      401
outside            HEAD       404      404      404      404      401      401
outside            PUT        404      404      404      404      401      401
outside            DELETE     404      404      404      404      401      401
outside            MKCOL      404      404      404      404      401      401
outside            COPY       404      404      404      404      401      401
outside            MOVE       404      404      404      404      401      401
outside            PROPFIND   404      404      404      404      401      401
outside            PROPPATCH  404      404      404      404      401      401
outside            LOCK       404      404      404      404      401      401
outside            UNLOCK     404      404      404      404      401      401
outside            POST       404      404      404      404      401      401
outside            REPORT     404      404      404      404      401      401

own→other-home     COPY       403      403      403      403      401      401
own→other-home     MOVE       403      403      403      403      401      401

own→read-mount     COPY       403      403      403      403      401      401
own→read-mount     MOVE       403      403      403      403      401      401

own→rw-mount       COPY       403      403      201      403      401      401
own→rw-mount       MOVE       403      403      403      403      401      401

rw-mount→own-home  COPY       404      404      201      404      401      401
rw-mount→own-home  MOVE       404      404      403      404      401      401

mount-root→mount   COPY       404      404      201      404      401      401
mount-root→mount   MOVE       404      404      403      404      401      401

mount-root→itself  COPY       404      403      404      404      401      401
mount-root→itself  MOVE       404      403      404      404      401      401

rw-mount→own-file  COPY       404      404      204      404      401      401
rw-mount→own-file  MOVE       404      404      403      404      401      401

own→rw-mount-file  COPY       403      403      204      403      401      401
own→rw-mount-file  MOVE       403      403      403      403      401      401

own→mount-root     COPY       204      403      403      201      401      401
own→mount-root     MOVE       204      403      403      201      401      401

mount-root→member  COPY       404      404      204      404      401      401
mount-root→member  MOVE       404      404      403      404      401      401
`

var matrixMethods = []string{"OPTIONS", "GET", "HEAD", "PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "POST", "REPORT"}

type mActor struct{ name, user, pass string }

var matrixActors = []mActor{
	{"alice", "alice", "alice-pw"},
	{"bob", "bob", "bob-pw"},
	{"carol", "carol", "carol-pw"},
	{"dave", "dave", "dave-pw"},
	{"anon", "", ""},
	{"wrongpw", "alice", "not-alice-pw"},
}

// me is whose own space the caller addresses: anon and wrongpw try alice's.
func (a mActor) me() string {
	if a.user == "" {
		return "alice"
	}
	return a.user
}

// victim is another user, the one whose files the caller must not reach.
func (a mActor) victim() string {
	if a.me() == "alice" && a.name == "alice" {
		return "dave"
	}
	return "alice"
}

// Markers planted in names and contents, with the callers who may see them.
var matrixMarkers = map[string][]string{
	"zq7h-alice": {"alice"}, "zq7h-bob": {"bob"}, "zq7h-carol": {"carol"}, "zq7h-dave": {"dave"},
	"zq7ap": {"alice"},                 // alice's private folder
	"zq7sh": {"alice", "bob", "carol"}, // Apollo's content, shared with bob and carol
	"zq7o":  {"alice", "carol"},        // Other-zq7o, shared with carol
	"zq7p":  {"alice", "bob"},          // Pending-zq7p, offered to bob
	"zq7n":  {"alice", "bob"},          // the comment of bob's invitation
}

const alicePrivate = "/dav/files/alice/Private-zq7ap/secret-zq7ap.txt"

// mTarget is a row group: a kind of target and how to address it.
type mTarget struct {
	name string
	path func(e *mEnv, a mActor) string
	// dest is the Destination of COPY and MOVE (default: a new name in the
	// caller's home).
	dest func(e *mEnv, a mActor) string
	// locker and lockPath: who holds a lock on which URL before an UNLOCK
	// row, and whose token every caller sends ("" lockPath: a token
	// nobody holds).
	locker   func(a mActor) mActor
	lockPath func(e *mEnv, a mActor) string
	methods  []string // nil: every method
	notify   bool     // POST is an invite-reply
	// overwrite sends Overwrite: T (default F): the destination exists.
	overwrite bool
}

func fixed(p string) func(*mEnv, mActor) string { return func(*mEnv, mActor) string { return p } }

func ownHome(_ *mEnv, a mActor) string { return "/dav/files/" + a.me() + "/mine.txt" }

func otherHome(_ *mEnv, a mActor) string {
	if a.victim() == "alice" {
		return alicePrivate
	}
	return "/dav/files/dave/mine.txt"
}

func actorNamed(name string) mActor {
	for _, a := range matrixActors {
		if a.name == name {
			return a
		}
	}
	panic(name)
}

func asAlice(mActor) mActor { return actorNamed("alice") }

// selfLocker: the caller locks its own file (alice for anon and wrongpw).
func selfLocker(a mActor) mActor {
	if a.user == "" || a.name == "wrongpw" {
		return actorNamed("alice")
	}
	return a
}

func victimLocker(a mActor) mActor { return actorNamed(a.victim()) }

func destIn(dir string) func(*mEnv, mActor) string {
	return func(_ *mEnv, a mActor) string {
		return strings.ReplaceAll(dir, "{me}", a.me()) + "dest-zq7d"
	}
}

var matrixTargets = []mTarget{
	{name: "own-home", path: ownHome, locker: selfLocker, lockPath: ownHome},
	{name: "other-home", path: otherHome, locker: victimLocker, lockPath: otherHome},
	{name: "original", path: fixed("/dav/files/alice/Apollo/plan.txt"), locker: asAlice, lockPath: fixed("/dav/files/alice/Apollo/plan.txt")},
	{name: "mount-root:read", path: fixed("/dav/files/bob/Apollo/"), locker: asAlice, lockPath: fixed("/dav/files/alice/Apollo/")},
	{name: "in-mount:read", path: fixed("/dav/files/bob/Apollo/plan.txt"), locker: asAlice, lockPath: fixed("/dav/files/alice/Apollo/plan.txt")},
	{name: "mount-root:rw", path: fixed("/dav/files/carol/Apollo/"), locker: asAlice, lockPath: fixed("/dav/files/alice/Apollo/")},
	{name: "in-mount:rw", path: fixed("/dav/files/carol/Apollo/plan.txt"), locker: asAlice, lockPath: fixed("/dav/files/alice/Apollo/plan.txt")},
	{name: "notification", path: func(e *mEnv, _ mActor) string { return e.invite }, notify: true},
	{name: "notifications", path: fixed("/dav/notifications/bob/")},
	{name: "principal", path: fixed("/dav/principals/bob/")},
	{name: "outside", path: fixed("/data/files/alice/Private-zq7ap/secret-zq7ap.txt")},
	{name: "own→other-home", path: ownHome, methods: []string{"COPY", "MOVE"},
		dest: func(_ *mEnv, a mActor) string { return "/dav/files/" + a.victim() + "/dest-zq7d" }},
	{name: "own→read-mount", path: ownHome, methods: []string{"COPY", "MOVE"}, dest: destIn("/dav/files/bob/Apollo/")},
	{name: "own→rw-mount", path: ownHome, methods: []string{"COPY", "MOVE"}, dest: destIn("/dav/files/carol/Apollo/")},
	{name: "rw-mount→own-home", path: fixed("/dav/files/carol/Apollo/plan.txt"), methods: []string{"COPY", "MOVE"}, dest: destIn("/dav/files/{me}/")},
	{name: "mount-root→mount", path: fixed("/dav/files/carol/Apollo/"), methods: []string{"COPY", "MOVE"}, dest: fixed("/dav/files/carol/Other-zq7o/Apollo/")},
	{name: "mount-root→itself", path: fixed("/dav/files/bob/Apollo/"), methods: []string{"COPY", "MOVE"}, dest: fixed("/dav/files/bob/Apollo/sub/Apollo/")},
	{name: "rw-mount→own-file", path: fixed("/dav/files/carol/Apollo/plan.txt"), methods: []string{"COPY", "MOVE"}, overwrite: true, dest: ownHome},
	{name: "own→rw-mount-file", path: ownHome, methods: []string{"COPY", "MOVE"}, overwrite: true, dest: fixed("/dav/files/carol/Apollo/plan.txt")},
	{name: "own→mount-root", path: ownHome, methods: []string{"COPY", "MOVE"}, overwrite: true,
		dest: func(_ *mEnv, a mActor) string { return "/dav/files/" + a.me() + "/Apollo/" }},
	{name: "mount-root→member", path: fixed("/dav/files/carol/Apollo/"), methods: []string{"COPY", "MOVE"}, overwrite: true, dest: fixed("/dav/files/carol/Other-zq7o/o.txt")},
}

// mEnv is a shareEnv with the matrix's setup.
type mEnv struct {
	*shareEnv
	invite string // bob's pending invitation
	locks  map[string]string
}

func matrixEnv(t *testing.T) *mEnv {
	e := newShareEnv(t, sharing.ModeInvite)
	e.addUser("dave")
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		e.expect(201, "PUT", "/dav/files/"+u+"/mine.txt", u, "zq7h-"+u+" own file")
		e.expect(201, "MKCOL", "/dav/files/"+u+"/zq7h-"+u+"-dir/", u, "")
	}
	e.expect(201, "MKCOL", "/dav/files/alice/Private-zq7ap/", "alice", "")
	e.expect(201, "PUT", alicePrivate, "alice", "zq7ap alice's secret")
	e.expect(201, "MKCOL", "/dav/files/alice/Apollo/", "alice", "")
	e.expect(201, "MKCOL", "/dav/files/alice/Apollo/sub/", "alice", "")
	e.expect(201, "PUT", "/dav/files/alice/Apollo/plan.txt", "alice", "zq7sh the plan")
	e.expect(201, "PUT", "/dav/files/alice/Apollo/zq7sh-notes.txt", "alice", "notes")
	e.expect(207, "PROPPATCH", "/dav/files/alice/Apollo/plan.txt", "alice", `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><z:mark xmlns:z="urn:zq7">zq7sh</z:mark></d:prop></d:set></d:propertyupdate>`)
	e.expect(201, "MKCOL", "/dav/files/alice/Other-zq7o/", "alice", "")
	e.expect(201, "PUT", "/dav/files/alice/Other-zq7o/o.txt", "alice", "zq7o other")
	e.expect(201, "MKCOL", "/dav/files/alice/Pending-zq7p/", "alice", "")
	e.share(204, "/dav/files/alice/Apollo/", "alice", sharee("/dav/principals/bob/", "read"), sharee("/dav/principals/carol/", "read-write"))
	e.accept("bob", "", "Apollo")
	e.accept("carol", "", "Apollo")
	e.share(204, "/dav/files/alice/Other-zq7o/", "alice", sharee("/dav/principals/carol/", "read-write"))
	e.accept("carol", "", "Other-zq7o")
	e.share(204, "/dav/files/alice/Pending-zq7p/", "alice", sharee("/dav/principals/bob/", "read", "<d:comment>zq7n for bob</d:comment>"))
	return &mEnv{shareEnv: e, invite: e.invite("bob")}
}

// send makes one request as a and returns the status, the body and the
// headers.
func (e *mEnv) send(t *testing.T, a mActor, method, p, body string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	st, b, h, err := roundTrip(e.srv.URL, method, p, a.user, a.pass, body, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	return st, b, h
}

const (
	matrixPropfind = `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>`
	matrixReport   = `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
)

// request is the request of one cell.
func (e *mEnv) request(tg mTarget, method string, a mActor) (p, body string, hdr []string) {
	p = tg.path(e, a)
	switch method {
	case "GET", "HEAD":
		hdr = []string{"Accept", "*/*"}
	case "PUT":
		body = "overwritten"
	case "COPY", "MOVE":
		dest := destIn("/dav/files/{me}/")(e, a)
		if strings.HasSuffix(p, "/") {
			dest += "/"
		}
		if tg.dest != nil {
			dest = tg.dest(e, a)
		}
		overwrite := "F"
		if tg.overwrite {
			overwrite = "T"
		}
		hdr = []string{"Destination", e.srv.URL + dest, "Overwrite", overwrite}
	case "PROPFIND":
		body, hdr = matrixPropfind, []string{"Depth", "1", "Content-Type", "application/xml"}
	case "PROPPATCH":
		body, hdr = deadPropPatch, []string{"Content-Type", "application/xml"}
	case "LOCK":
		body, hdr = lockBody(false), []string{"Content-Type", "application/xml", "Timeout", "Second-600"}
	case "UNLOCK":
		tok := noSuchLock
		if t, ok := e.locks[a.name]; ok {
			tok = t
		}
		hdr = []string{"Lock-Token", "<" + tok + ">"}
	case "POST":
		body = shareBody(sharee("mailto:nobody@example.net", "read"))
		if tg.notify {
			body = declineBody
		}
		hdr = []string{"Content-Type", davsharing}
	case "REPORT":
		body, hdr = matrixReport, []string{"Depth", "0", "Content-Type", "application/xml"} // RFC 6578 §3.2
	}
	return p, body, hdr
}

// takeLocks gives every caller of an UNLOCK row the token of the lock its
// target's owner holds.
func (e *mEnv) takeLocks(t *testing.T, tg mTarget) {
	e.locks = map[string]string{}
	if tg.locker == nil {
		return
	}
	held := map[string]string{} // locker+path → token
	for _, a := range matrixActors {
		l := tg.locker(a)
		p := tg.lockPath(e, a)
		if l.name == "wrongpw" {
			l = actorNamed("alice")
		}
		k := l.name + " " + p
		if _, ok := held[k]; !ok {
			st, b, h := e.send(t, l, "LOCK", p, lockBody(false), "Timeout", "Second-600")
			if st != 200 {
				t.Fatalf("%s LOCK %s: %d %s", l.name, p, st, b)
			}
			held[k] = strings.Trim(h.Get("Lock-Token"), "<>")
		}
		e.locks[a.name] = held[k]
	}
}

// leaks lists the markers in s that a may not see.
func leaks(a mActor, s string) []string {
	var out []string
	for m, who := range matrixMarkers {
		allowed := false
		for _, w := range who {
			allowed = allowed || (w == a.name)
		}
		if !allowed && strings.Contains(s, m) {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// A cell is a status, or "207:NNN" for a PROPPATCH multistatus whose
// propstat for the property is NNN; parseCell encodes that as 207000+NNN.
func parseCell(c string) (int, error) {
	if ms, ps, ok := strings.Cut(c, ":"); ok && ms == "207" {
		n, err := strconv.Atoi(ps)
		return 207000 + n, err
	}
	return strconv.Atoi(c)
}

func formatCell(st int) string {
	if st > 1000 {
		return fmt.Sprintf("207:%d", st-207000)
	}
	return strconv.Itoa(st)
}

// httpStatus is the status line's part of a cell.
func httpStatus(st int) int {
	if st > 1000 {
		return 207
	}
	return st
}

// parseMatrix reads authzMatrix: target → method → actor → status.
func parseMatrix(t *testing.T) map[string]map[string]map[string]int {
	out := map[string]map[string]map[string]int{}
	for i, line := range strings.Split(authzMatrix, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 2+len(matrixActors) {
			t.Fatalf("authzMatrix line %d: %d fields: %q", i, len(f), line)
		}
		if out[f[0]] == nil {
			out[f[0]] = map[string]map[string]int{}
		}
		if _, dup := out[f[0]][f[1]]; dup {
			t.Fatalf("authzMatrix line %d: %s %s twice", i, f[0], f[1])
		}
		row := map[string]int{}
		for j, a := range matrixActors {
			st, err := parseCell(f[2+j])
			if err != nil {
				t.Fatalf("authzMatrix line %d: %v", i, err)
			}
			row[a.name] = st
		}
		out[f[0]][f[1]] = row
	}
	return out
}

// mutating reports whether a row changes state for some caller: it needs
// an environment of its own, and its refusals run before its successes.
func mutating(method string, row map[string]int) bool {
	if method == "UNLOCK" {
		return true // its locks are taken for the row
	}
	for _, st := range row {
		if httpStatus(st) < 300 && st%1000 < 300 && !safeMethod(method) {
			return true
		}
	}
	return false
}

func TestAuthzMatrix(t *testing.T) {
	start := time.Now()
	want := parseMatrix(t)
	print := os.Getenv("AUTHZ_MATRIX_PRINT") != ""
	type mRow struct {
		tg     mTarget
		method string
		want   map[string]int
	}
	var quiet, changing []mRow
	for _, tg := range matrixTargets {
		methods := tg.methods
		if methods == nil {
			methods = matrixMethods
		}
		for _, method := range methods {
			row, ok := want[tg.name][method]
			if !ok && !print {
				t.Errorf("authzMatrix has no line for %s %s", tg.name, method)
				continue
			}
			if print || mutating(method, row) {
				changing = append(changing, mRow{tg, method, row})
			} else {
				quiet = append(quiet, mRow{tg, method, row})
			}
		}
	}
	cells := (len(quiet) + len(changing)) * len(matrixActors)
	n := 0
	for _, ms := range want {
		n += len(ms)
	}
	if !print && n != len(quiet)+len(changing) {
		t.Errorf("authzMatrix has %d lines for %d rows: a line names a target or method the test does not run", n, len(quiet)+len(changing))
	}
	var mu sync.Mutex
	observed := map[string]string{}
	run := func(t *testing.T, e *mEnv, r mRow) {
		if r.method == "UNLOCK" {
			e.takeLocks(t, r.tg)
		}
		got := map[string]int{}
		actors := append([]mActor(nil), matrixActors...)
		refused := func(a mActor) bool { return httpStatus(r.want[a.name]) >= 300 || r.want[a.name]%1000 >= 300 }
		sort.SliceStable(actors, func(i, j int) bool { return refused(actors[i]) && !refused(actors[j]) })
		for _, a := range actors {
			t.Run(a.name, func(t *testing.T) {
				got[a.name] = e.cell(t, r.tg, r.method, a, r.want[a.name], print)
			})
		}
		line := fmt.Sprintf("%-19s %-10s", r.tg.name, r.method)
		for _, a := range matrixActors {
			line += fmt.Sprintf(" %-5s", formatCell(got[a.name]))
		}
		mu.Lock()
		observed[r.tg.name+" "+r.method] = strings.TrimRight(line, " ")
		mu.Unlock()
	}
	if len(quiet) > 0 {
		e := matrixEnv(t)
		for _, r := range quiet {
			t.Run(r.tg.name+"/"+r.method, func(t *testing.T) { run(t, e, r) })
		}
	}
	t.Run("changing", func(t *testing.T) {
		for _, r := range changing {
			t.Run(r.tg.name+"/"+r.method, func(t *testing.T) {
				t.Parallel()
				run(t, matrixEnv(t), r)
			})
		}
	})
	t.Logf("authorization matrix: %d cells (%d rows of target × method, %d callers; %d rows in a fresh server each) in %v",
		cells, len(quiet)+len(changing), len(matrixActors), len(changing), time.Since(start).Round(time.Millisecond))
	if print {
		var b strings.Builder
		for _, tg := range matrixTargets {
			for _, m := range matrixMethods {
				if l, ok := observed[tg.name+" "+m]; ok {
					b.WriteString(l + "\n")
				}
			}
		}
		t.Logf("observed:\n%s", b.String())
	}
}

// cell runs one request and checks its status, that it leaks no marker
// the caller may not see, and that a refusal or a read changed nothing on
// disk. It returns the status.
func (e *mEnv) cell(t *testing.T, tg mTarget, method string, a mActor, want int, print bool) int {
	p, body, hdr := e.request(tg, method, a)
	before := diskState(t, e.data)
	st, rb, rh := e.send(t, a, method, p, body, hdr...)
	got := st
	if method == "PROPPATCH" && st == http.StatusMultiStatus {
		got = 207000 + propstatOf(t, rb, "{urn:zq7x}p")
	}
	if !print && got != want {
		t.Errorf("%s %s as %s: status %s, want %s; body: %.300s", method, p, a.name, formatCell(got), formatCell(want), rb)
	}
	var hv []string
	for k, vs := range rh {
		hv = append(hv, k+": "+strings.Join(vs, ", "))
	}
	if l := leaks(a, rb+"\n"+strings.Join(hv, "\n")); len(l) > 0 {
		t.Errorf("%s %s as %s (%d) leaks %v: headers %v body %.600s", method, p, a.name, st, l, hv, rb)
	}
	refused := st >= 300 || got%1000 >= 300
	if refused || safeMethod(method) {
		if after := diskState(t, e.data); after != before {
			t.Errorf("%s %s as %s (%d) changed the disk:\nbefore:\n%s\nafter:\n%s", method, p, a.name, st, before, after)
		}
	}
	if refused && method == "LOCK" && tg.locker != nil {
		// No lock was taken either: the resource's owner can lock it.
		l, lp := tg.locker(a), tg.lockPath(e, a)
		st, b, h := e.send(t, l, "LOCK", lp, lockBody(false), "Depth", "0", "Timeout", "Second-60")
		if st != http.StatusOK {
			t.Errorf("after a refused LOCK by %s, %s cannot lock %s: %d %s", a.name, l.name, lp, st, b)
		} else if st, _, _ := e.send(t, l, "UNLOCK", lp, "", "Lock-Token", h.Get("Lock-Token")); st != http.StatusNoContent {
			t.Errorf("UNLOCK %s: %d", lp, st)
		}
	}
	return got
}

// propstatOf is the status of the propstat that carries name in a
// multistatus of one response.
func propstatOf(t *testing.T, body, name string) int {
	t.Helper()
	ms := parseMultistatus(t, body)
	for _, r := range ms.Responses {
		if st, _, ok := r.find(name); ok {
			return st
		}
	}
	t.Errorf("no propstat for %s in %s", name, body)
	return 0
}
