package auth

import (
	"context"
	"sync"
	"time"
)

// Event describes how the account list changed. Each list is sorted by name.
type Event struct {
	Added   []Account // new accounts
	Removed []Account // deleted accounts, as they were
	Changed []Account // accounts whose password, email or display name changed, as they are now
}

func (ev Event) empty() bool {
	return len(ev.Added) == 0 && len(ev.Removed) == 0 && len(ev.Changed) == 0
}

func diff(prev, next snapshot) Event {
	var ev Event
	for _, a := range next.sorted {
		old, ok := prev.byName[a.Name]
		switch {
		case !ok:
			ev.Added = append(ev.Added, a)
		case !sameAccount(old, a):
			ev.Changed = append(ev.Changed, a)
		}
	}
	for _, a := range prev.sorted {
		if _, ok := next.byName[a.Name]; !ok {
			ev.Removed = append(ev.Removed, a)
		}
	}
	return ev
}

// Subscribe registers fn to be called with every change this Store sees:
// its own writes and the changes of other processes that [Store.Watch]
// loads. Events arrive one at a time and in file order. fn runs on a
// goroutine that made or noticed a change, after the Store's locks are
// released, so it may call the Store; the event of a write it makes follows
// once fn has returned. fn should return quickly, as it holds up that
// goroutine.
func (s *Store) Subscribe(fn func(Event)) {
	s.events.mu.Lock()
	defer s.events.mu.Unlock()
	s.events.subs = append(s.events.subs, fn)
}

// Watch re-reads accounts.json whenever it changes, until ctx is done. It
// checks the file's inode, size, mtime and ctime every interval (1s when
// interval <= 0). A file that cannot be read or parsed is logged once and
// otherwise ignored: the accounts loaded last stay in force.
func (s *Store) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing, bad := false, fileStamp{} // so one broken file is logged once
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		stamp, err := s.reloadIfChanged()
		if err != nil {
			if !failing || stamp != bad {
				s.logger.Error("auth: cannot reload accounts; keeping the previous ones", "err", err)
			}
			failing, bad = true, stamp
			continue
		}
		failing = false
	}
}

// eventQueue delivers events in the order they were pushed, from whichever
// goroutine calls deliver, without holding any lock while a subscriber runs.
type eventQueue struct {
	mu         sync.Mutex
	subs       []func(Event)
	pending    []Event
	delivering bool
}

func (q *eventQueue) push(ev Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = append(q.pending, ev)
}

// deliver hands every pending event to the subscribers, unless another
// goroutine is already doing so: that one then delivers ours too.
func (q *eventQueue) deliver() {
	q.mu.Lock()
	if q.delivering {
		q.mu.Unlock()
		return
	}
	q.delivering = true
	q.mu.Unlock()
	done := false
	defer func() {
		if !done { // a subscriber panicked
			q.mu.Lock()
			q.delivering = false
			q.mu.Unlock()
		}
	}()
	for {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.delivering, done = false, true
			q.mu.Unlock()
			return
		}
		ev := q.pending[0]
		q.pending = q.pending[1:]
		subs := q.subs
		q.mu.Unlock()
		for _, fn := range subs {
			fn(ev)
		}
	}
}
