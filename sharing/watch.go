package sharing

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"time"

	dsfs "github.com/davshare/davshare/fs"
	"github.com/fsnotify/fsnotify"
)

// Watch follows changes that other programs (SMB, shells, sync tools) make
// to shared originals, until ctx is done. fsnotify watches the parent
// directory of every original and its events only trigger a verification
// pass soon; a pass also runs every VerifyInterval, for whatever the
// watches miss (event overflow, network file systems, renames between
// unwatched directories). A pass costs one attribute read per share; a
// walk of the owner's home happens only when an original is not where the
// records say.
func (m *Manager) Watch(ctx context.Context) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		m.log.Warn("sharing: no fsnotify; out-of-band changes are found by polling only", "err", err)
		w = nil
	} else {
		defer w.Close()
	}
	var events chan fsnotify.Event
	var errs chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	watched := map[string]bool{}
	tick := time.NewTicker(m.opts.VerifyInterval)
	defer tick.Stop()
	soon := time.NewTimer(time.Hour)
	soon.Stop()
	pending := false
	schedule := func() {
		if !pending {
			pending = true
			soon.Reset(100 * time.Millisecond)
		}
	}
	m.updateWatches(w, watched)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			m.Verify(ctx)
		case <-soon.C:
			pending = false
			m.Verify(ctx)
		case <-events:
			schedule()
		case err := <-errs:
			m.log.Debug("sharing: fsnotify", "err", err)
			schedule()
		case <-m.kick:
			m.updateWatches(w, watched)
		}
	}
}

// updateWatches watches the on-disk parent directory of every original.
func (m *Manager) updateWatches(w *fsnotify.Watcher, watched map[string]bool) {
	if w == nil {
		return
	}
	want := map[string]bool{}
	for _, v := range m.snap.Load().byID {
		t, err := m.tree(v.owner)
		if err != nil {
			continue
		}
		r, ok := t.Fs.(*dsfs.RootFs)
		if !ok {
			continue
		}
		want[filepath.Join(r.Dir(), filepath.FromSlash(path.Dir(v.path)))] = true
	}
	for d := range watched {
		if !want[d] {
			w.Remove(d)
			delete(watched, d)
		}
	}
	for d := range want {
		if !watched[d] {
			if err := w.Add(d); err == nil {
				watched[d] = true
			}
		}
	}
}

type check struct {
	id          ShareID
	owner, path string
	state       error // nil: in place; fs.ErrNotExist; ErrNoRecord; errCorrupt (another record)
}

// Verify checks that every original still carries its share id where the
// records say, and follows what changed: an original found elsewhere in
// its owner's home is re-pointed (instances follow); one that is gone ends
// its share (instances removed, sharees notified); one whose record alone
// was lost (a program that replaces files by renaming) gets it back.
func (m *Manager) Verify(ctx context.Context) {
	var checks []check
	for _, v := range m.snap.Load().byID {
		checks = append(checks, check{id: v.id, owner: v.owner, path: v.path})
	}
	bad := map[string][]int{} // owner → indexes into checks
	for i := range checks {
		c := &checks[i]
		c.state = m.probe(c.owner, c.path, c.id)
		if c.state != nil {
			bad[c.owner] = append(bad[c.owner], i)
		}
	}
	if len(bad) == 0 || ctx.Err() != nil {
		return
	}
	for owner, idx := range bad {
		t, err := m.tree(owner)
		if err != nil {
			continue
		}
		lost := map[ShareID]bool{}
		for _, i := range idx {
			lost[checks[i].id] = true
		}
		found := map[ShareID]string{}
		m.store.Find(t, keyShare, func(name string, v []byte) bool {
			if rec, err := decodeShare(v); err == nil && lost[rec.ID] && rec.Owner == owner {
				found[rec.ID] = name
			}
			return len(found) < len(lost)
		})
		var out outbox
		m.mu.Lock()
		var gone []*share
		moved := false
		for _, i := range idx {
			c := checks[i]
			sh := m.shares[c.id]
			if sh == nil || sh.path != c.path {
				continue // changed through WebDAV meanwhile
			}
			if p, ok := found[c.id]; ok {
				m.log.Info("sharing: original moved by another program; instances follow", "owner", owner, "from", sh.path, "to", p)
				sh.path = p
				moved = true
				continue
			}
			// Look once more under the lock: a WebDAV PUT replaces files
			// by renaming, and the record travels with the new file.
			switch st := m.probe(owner, c.path, c.id); {
			case st == nil:
			case errors.Is(st, ErrNoRecord):
				m.log.Info("sharing: share record lost by another program; restoring it", "owner", owner, "path", c.path)
				if err := m.saveShare(sh); err != nil {
					m.log.Error("sharing: restore share record", "owner", owner, "path", c.path, "err", err)
				}
			default:
				m.log.Info("sharing: original deleted by another program; ending its share", "owner", owner, "path", c.path)
				gone = append(gone, sh)
			}
		}
		if moved {
			if err := m.saveRegistry(owner); err != nil {
				m.log.Error("sharing: write registry", "user", owner, "err", err)
			}
		}
		m.endShares(&out, owner, gone)
		if moved || len(gone) > 0 {
			m.rebuild()
		}
		m.mu.Unlock()
		out.send(ctx, m)
	}
}

// probe reports whether the original at p carries share id: nil when it
// does, fs.ErrNotExist when nothing is there, ErrNoRecord when the
// resource has no share record, errCorrupt when it has another one.
func (m *Manager) probe(owner, p string, id ShareID) error {
	t, err := m.tree(owner)
	if err != nil {
		return err
	}
	b, err := m.store.Get(t, p, keyShare)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fs.ErrNotExist
	case errors.Is(err, ErrNoRecord):
		return ErrNoRecord
	case err != nil:
		return err
	}
	rec, err := decodeShare(b)
	if err != nil || rec.ID != id {
		return errCorrupt
	}
	return nil
}
