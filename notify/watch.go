package notify

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch follows out-of-band changes to the notification directories (the
// admin CLI, a restore, a second server process) until ctx is done. Events
// are only hints: they mark a user's collection for a rescan, which
// reconciles the whole directory, so coalesced or dropped events (inotify
// overflow) cost nothing but a rescan. A periodic full rescan
// (Options.RescanInterval) covers filesystems without events.
func (s *Store) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Add(s.dir); err != nil {
		return err
	}
	users, err := listUsers(s.root)
	if err != nil {
		return err
	}
	for _, u := range users {
		s.watchUser(w, u)
	}
	// Changes made between Open's scan and the watches being in place.
	s.RescanAll(ctx)

	pending := map[string]map[string]bool{} // user → names to re-read
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	armed := false
	mark := func(user, name string) {
		force := pending[user]
		if force == nil {
			force = map[string]bool{}
			pending[user] = force
		}
		if name != "" {
			force[name] = true
		}
		if !armed {
			debounce.Reset(s.opts.Debounce)
			armed = true
		}
	}
	var tick <-chan time.Time
	if s.opts.RescanInterval > 0 {
		t := time.NewTicker(s.opts.RescanInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			user, name, ok := s.splitEvent(ev.Name)
			switch {
			case !ok:
			case name == "" && ev.Has(fsnotify.Create):
				s.watchUser(w, user) // a new collection: watch it, then read it whole
				mark(user, "")
			case name == "" && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)):
				s.forget(user)
			case name != "" && !strings.HasPrefix(name, "."):
				mark(user, name)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				s.log.Warn("notify: file events overflowed; rescanning every collection")
				s.RescanAll(ctx)
				continue
			}
			s.log.Error("notify: watcher", "err", err)
		case <-debounce.C:
			armed = false
			for user, force := range pending {
				if err := s.rescan(ctx, user, force); err != nil && ctx.Err() == nil {
					if errors.Is(err, fs.ErrNotExist) {
						s.forget(user)
						continue
					}
					s.log.Error("notify: rescan", "user", user, "err", err)
				}
			}
			clear(pending)
		case <-tick:
			s.RescanAll(ctx)
		}
	}
}

// watchUser adds a watch on one collection directory.
func (s *Store) watchUser(w *fsnotify.Watcher, user string) {
	if fi, err := s.root.Lstat(user); err != nil || !fi.IsDir() {
		return
	}
	if err := w.Add(filepath.Join(s.dir, user)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("notify: cannot watch collection; relying on periodic rescans", "user", user, "err", err)
	}
}

// splitEvent maps an event path to a user and a file name ("" for the
// user's directory itself).
func (s *Store) splitEvent(p string) (user, name string, ok bool) {
	rel, err := filepath.Rel(s.dir, p)
	if err != nil || rel == "." {
		return "", "", false
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	switch {
	case len(parts) == 1 && validUser(parts[0]):
		return parts[0], "", true
	case len(parts) == 2 && validUser(parts[0]):
		return parts[0], parts[1], true
	}
	return "", "", false
}
