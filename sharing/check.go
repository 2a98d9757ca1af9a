package sharing

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	dsfs "github.com/davshare/davshare/fs"
)

// CheckOptions configures Check.
type CheckOptions struct {
	// Trees opens the users' homes. Check only reads, so the opener should
	// not create a missing home (dsfs.Homes does): a home it cannot open
	// is skipped.
	Trees dsfs.TreeOpener
	Users []string // the accounts
	Store Store    // nil: XattrStore
	// Settle: when a pass finds problems, Check waits this long, checks
	// again and reports only what both passes found. A running server
	// writes a share record before the registry and mount tables derived
	// from it, so a pass that falls between the two writes sees a
	// difference that is gone a moment later. 0: one pass.
	Settle time.Duration
}

// Problem is one inconsistency between the sharing records on disk.
type Problem struct {
	// Kind is a stable identifier: registry-corrupt, registry-stale,
	// original-missing, record-missing, record-corrupt, record-mismatch,
	// record-unregistered, mounts-corrupt, mount-missing, mount-path,
	// mount-orphan, unreadable.
	Kind   string
	User   string // whose home holds the record
	Path   string // the resource in that home that holds it ("/": the home)
	Detail string // what is wrong, in a sentence
	Fix    string // what repairs it
}

// CheckedShare is a share whose record is consistent with its owner's
// registry, at the path where the server will load it from.
type CheckedShare struct {
	ID      ShareID
	Owner   string
	Path    string
	Sharees []Sharee
}

// CheckReport is what Check found.
type CheckReport struct {
	Shares   []CheckedShare // by owner and path
	Mounts   int            // mount table entries read
	Problems []Problem      // by user, path and kind
}

// Check verifies, without writing anything, that the sharing records on
// disk agree with each other (doc.go "On disk"): every registry entry
// names an original that carries a valid record with that share id; no
// other resource carries a record; every accepted sharee's mount table has
// the share at the instance path, and every mount entry is such a
// sharee's. Each problem says what repairs it: mostly the server's
// reconciliation at its next start (Open). It is safe while a server runs
// on the same data directory (see Settle).
func Check(ctx context.Context, o CheckOptions) (CheckReport, error) {
	if o.Trees == nil {
		return CheckReport{}, errors.New("sharing: Check needs Trees")
	}
	if o.Store == nil {
		o.Store = XattrStore{}
	}
	first, err := checkOnce(ctx, o)
	if err != nil || len(first.Problems) == 0 || o.Settle <= 0 {
		return first, err
	}
	select {
	case <-ctx.Done():
		return first, ctx.Err()
	case <-time.After(o.Settle):
	}
	second, err := checkOnce(ctx, o)
	if err != nil {
		return second, err
	}
	seen := map[Problem]bool{}
	for _, p := range first.Problems {
		seen[p] = true
	}
	kept := second.Problems[:0]
	for _, p := range second.Problems {
		if seen[p] {
			kept = append(kept, p)
		}
	}
	second.Problems = kept
	return second, nil
}

const (
	fixAtStart = "the server repairs this at its next start"
	// A missing entry is also what a table too large for the home's
	// attributes looks like (sharing's doc.go, Limits): no restart writes
	// it then, so the fix says so rather than promise one.
	fixTableMissing = fixAtStart + ", unless the table has outgrown the file system's space for attributes " +
		"(about 170 mounts on ext4; the server then logs \"write mount table\" errors): " +
		"the mount works anyway, from the share record, but per-instance properties cannot be set on it"
	fixDropShare = "at its next start the server drops the share and the sharees' mount entries (a running server also restores a record that only lost its attribute)"
	fixRemoveRec = "the server ignores it; remove the attribute " + keyShare + " from the file (setfattr -x)"
)

type checker struct {
	ctx    context.Context
	o      CheckOptions
	users  map[string]bool
	trees  map[string]*dsfs.Tree
	shares map[ShareID]*CheckedShare
	r      CheckReport
}

func checkOnce(ctx context.Context, o CheckOptions) (CheckReport, error) {
	c := &checker{ctx: ctx, o: o, users: map[string]bool{}, trees: map[string]*dsfs.Tree{}, shares: map[ShareID]*CheckedShare{}}
	users := append([]string(nil), o.Users...)
	sort.Strings(users)
	for _, u := range users {
		c.users[u] = true
		t, err := o.Trees.Tree(u)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.problem("unreadable", u, "/", fmt.Sprintf("the home cannot be opened: %v", err), "check the permissions of the home")
			}
			continue
		}
		c.trees[u] = t
	}
	for _, u := range users {
		if t := c.trees[u]; t != nil {
			c.owner(t)
		}
		if err := ctx.Err(); err != nil {
			return c.r, err
		}
	}
	for _, u := range users {
		if t := c.trees[u]; t != nil {
			c.mounts(t)
		}
	}
	for _, sh := range c.shares {
		c.r.Shares = append(c.r.Shares, *sh)
	}
	sort.Slice(c.r.Shares, func(i, j int) bool {
		a, b := c.r.Shares[i], c.r.Shares[j]
		return a.Owner < b.Owner || a.Owner == b.Owner && a.Path < b.Path
	})
	sort.SliceStable(c.r.Problems, func(i, j int) bool {
		a, b := c.r.Problems[i], c.r.Problems[j]
		if a.User != b.User {
			return a.User < b.User
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Kind < b.Kind
	})
	return c.r, ctx.Err()
}

func (c *checker) problem(kind, user, p, detail, fix string) {
	c.r.Problems = append(c.r.Problems, Problem{Kind: kind, User: user, Path: p, Detail: detail, Fix: fix})
}

// found is a share record met while walking a home.
type found struct {
	rec *Share
	err error
}

// owner checks one user's registry against the share records in the home.
func (c *checker) owner(t *dsfs.Tree) {
	owner := t.Owner
	b, ok := c.readRoot(t, keyRegistry, "the share registry")
	if !ok {
		return
	}
	var reg map[ShareID]string
	if b != nil {
		var err error
		if reg, err = decodeRegistry(b); err != nil {
			c.problem("registry-corrupt", owner, "/", fmt.Sprintf("the share registry (%s) does not parse; the server loads none of %s's shares", keyRegistry, owner),
				"restore the attribute from a backup; the shares' records are still on the originals")
		}
	}
	// Every record in the home, registered or not.
	records := map[string]found{}
	c.o.Store.Find(t, keyShare, func(name string, v []byte) bool {
		rec, err := decodeShare(v)
		records[name] = found{rec, err}
		return c.ctx.Err() == nil
	})
	used := map[string]bool{}
	ids := make([]ShareID, 0, len(reg))
	for id := range reg {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return reg[ids[i]] < reg[ids[j]] })
	for _, id := range ids {
		p := reg[id]
		f, ok := records[p]
		if ok && f.err == nil && f.rec.ID == id && f.rec.Owner == owner {
			used[p] = true
			c.add(f.rec, p)
			continue
		}
		// Not at its registered path: the server looks for it by id.
		var moved string
		for name, g := range records {
			if g.err == nil && g.rec.ID == id && g.rec.Owner == owner && !used[name] && (moved == "" || name < moved) {
				moved = name
			}
		}
		if moved != "" {
			used[moved] = true
			c.add(records[moved].rec, moved)
			c.problem("registry-stale", owner, p, fmt.Sprintf("the registry lists share %s here, but its original is now at %s (moved by another program?)", id, moved),
				"the server follows the original at its next start, or within seconds while it runs (the instances follow)")
			continue
		}
		switch _, err := t.Fs.Stat(p); {
		case errors.Is(err, fs.ErrNotExist):
			c.problem("original-missing", owner, p, fmt.Sprintf("the original of share %s is gone", id), fixDropShare)
		case !ok:
			c.problem("record-missing", owner, p, fmt.Sprintf("the original of share %s carries no share record (%s)", id, keyShare), fixDropShare)
		case f.err != nil:
			used[p] = true
			c.problem("record-corrupt", owner, p, fmt.Sprintf("the record of share %s does not parse", id), fixDropShare)
		default:
			used[p] = true
			c.problem("record-mismatch", owner, p, fmt.Sprintf("the registry lists share %s here, but the record is of share %s owned by %s", id, f.rec.ID, f.rec.Owner), fixDropShare)
		}
	}
	names := make([]string, 0, len(records))
	for name := range records {
		if !used[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		f := records[name]
		switch {
		case f.err != nil:
			c.problem("record-corrupt", owner, name, "a share record that does not parse, not in the registry", fixRemoveRec)
		case c.shares[f.rec.ID] != nil:
			sh := c.shares[f.rec.ID]
			c.problem("record-unregistered", owner, name, fmt.Sprintf("a copy of the record of share %s, whose original is %s:%s (copied with its attributes by another program?)", f.rec.ID, sh.Owner, sh.Path), fixRemoveRec)
		default:
			c.problem("record-unregistered", owner, name, fmt.Sprintf("the record of share %s (owner %s) is not in the registry", f.rec.ID, f.rec.Owner), fixRemoveRec)
		}
	}
}

// readRoot reads a record of the home root: nil, true when there is none;
// false (reported) when it cannot be read.
func (c *checker) readRoot(t *dsfs.Tree, key, what string) ([]byte, bool) {
	b, err := c.o.Store.Get(t, "/", key)
	switch {
	case errors.Is(err, ErrNoRecord):
		return nil, true
	case err != nil:
		c.problem("unreadable", t.Owner, "/", fmt.Sprintf("%s (%s) cannot be read: %v", what, key, err), "check the permissions of the home")
		return nil, false
	}
	return b, true
}

// add records a share that the server will load, as Open does: one
// without sharees is not a share.
func (c *checker) add(rec *Share, p string) {
	if len(rec.Sharees) == 0 {
		return
	}
	c.shares[rec.ID] = &CheckedShare{ID: rec.ID, Owner: rec.Owner, Path: p, Sharees: append([]Sharee(nil), rec.Sharees...)}
}

// mounts checks one user's mount table against the share records.
func (c *checker) mounts(t *dsfs.Tree) {
	user := t.Owner
	b, ok := c.readRoot(t, keyMounts, "the mount table")
	if !ok {
		return
	}
	var tab map[ShareID]MountEntry
	if b != nil {
		var err error
		if tab, err = decodeMounts(b); err != nil {
			c.problem("mounts-corrupt", user, "/", fmt.Sprintf("the mount table (%s) does not parse", keyMounts),
				"the server rebuilds it from the share records at its next start (per-instance properties are lost)")
			return
		}
	}
	c.r.Mounts += len(tab)
	want := map[ShareID]string{}
	for id, sh := range c.shares {
		for _, e := range sh.Sharees {
			if e.User == user && e.Status == StatusAccepted && e.Instance != "" {
				want[id] = e.Instance
			}
		}
	}
	for id, inst := range want {
		sh := c.shares[id]
		switch e, ok := tab[id]; {
		case !ok:
			c.problem("mount-missing", user, inst, fmt.Sprintf("share %s of %s:%s is accepted by %s at this path, but %s's mount table has no entry for it", id, sh.Owner, sh.Path, user, user), fixTableMissing)
		case e.Path != inst:
			c.problem("mount-path", user, e.Path, fmt.Sprintf("%s's mount table has share %s of %s:%s here, but its record says %s", user, id, sh.Owner, sh.Path, inst), fixAtStart)
		}
	}
	for id, e := range tab {
		if _, ok := want[id]; ok {
			continue
		}
		why := "no share with this id is loaded"
		if sh := c.shares[id]; sh != nil {
			why = fmt.Sprintf("the record of %s:%s does not list %s as accepted", sh.Owner, sh.Path, user)
		}
		c.problem("mount-orphan", user, e.Path, fmt.Sprintf("%s's mount table has share %s here, but %s", user, id, why), "the server drops the entry at its next start")
	}
}
