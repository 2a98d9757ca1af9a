package auth

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// eventLog collects events for a test.
type eventLog struct {
	ch chan Event
}

func subscribe(s *Store) *eventLog {
	l := &eventLog{ch: make(chan Event, 16)}
	s.Subscribe(func(ev Event) { l.ch <- ev })
	return l
}

// next waits up to d for an event.
func (l *eventLog) next(t *testing.T, d time.Duration) Event {
	t.Helper()
	select {
	case ev := <-l.ch:
		return ev
	case <-time.After(d):
		t.Fatalf("no event within %v", d)
		return Event{}
	}
}

func (l *eventLog) none(t *testing.T) {
	t.Helper()
	select {
	case ev := <-l.ch:
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

func TestWatchSeesOtherStore(t *testing.T) {
	dir := t.TempDir()
	server, cli := openTest(t, dir), openTest(t, dir)
	events := subscribe(server)

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { server.Watch(ctx, 100*time.Millisecond) })
	defer func() { cancel(); wg.Wait() }()

	steps := []struct {
		name  string
		op    func() error
		check func(t *testing.T, ev Event)
	}{
		{"add", func() error { _, err := cli.Add("bob", "bob@example.org", "Bob", "pw"); return err },
			func(t *testing.T, ev Event) {
				if !slices.Equal(names(ev.Added), []Username{"bob"}) || ev.Removed != nil || ev.Changed != nil {
					t.Errorf("event %+v, want bob added", ev)
				}
				if a, ok := server.Lookup("bob"); !ok || a.DisplayName != "Bob" {
					t.Errorf("server Lookup(bob) = %+v, %v", a, ok)
				}
			}},
		{"password", func() error { return cli.SetPassword("bob", "pw2") },
			func(t *testing.T, ev Event) {
				if !slices.Equal(names(ev.Changed), []Username{"bob"}) || ev.Added != nil || ev.Removed != nil {
					t.Errorf("event %+v, want bob changed", ev)
				}
			}},
		{"delete", func() error { return cli.Delete("bob") },
			func(t *testing.T, ev Event) {
				if !slices.Equal(names(ev.Removed), []Username{"bob"}) || ev.Added != nil || ev.Changed != nil {
					t.Errorf("event %+v, want bob removed", ev)
				}
				if server.Len() != 0 {
					t.Errorf("server still has %v", names(server.List()))
				}
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.op(); err != nil {
				t.Fatal(err)
			}
			st.check(t, events.next(t, 2*time.Second))
		})
	}
	time.Sleep(300 * time.Millisecond) // a few more ticks: nothing new
	events.none(t)
}

func TestSubscribeOwnWrites(t *testing.T) {
	s := openTest(t, t.TempDir())
	var got [][]Username
	s.Subscribe(func(ev Event) {
		got = append(got, names(ev.Added))
		// A subscriber may write to the Store; its event follows this one.
		if len(ev.Added) == 1 && ev.Added[0].Name == "alice" {
			mustAdd(t, s, "welcome", "welcome@example.org", "pw")
		}
	})
	mustAdd(t, s, "alice", "alice@example.org", "pw")
	want := [][]Username{{"alice"}, {"welcome"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("events %v, want %v", got, want)
	}
	// A failed write tells nobody anything.
	got = nil
	if _, err := s.Add("alice", "other@example.org", "", "pw"); err == nil {
		t.Fatal("duplicate Add succeeded")
	}
	if got != nil {
		t.Errorf("failed Add sent %v", got)
	}
}

func TestWatchKeepsAccountsWhenFileBreaks(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	mustAdd(t, s, "alice", "alice@example.org", "pw")
	events := subscribe(s)
	path := filepath.Join(dir, "accounts.json")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(path, []byte("{ half a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.reloadIfChanged(); err == nil {
		t.Fatal("a broken file reloaded without error")
	}
	if _, ok := s.Lookup("alice"); !ok {
		t.Fatal("a broken file dropped the accounts")
	}
	events.none(t)

	// Fixed by hand, with a new user: picked up.
	var doc fileData
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	doc.Accounts = append(doc.Accounts, Account{Name: "bob", Email: "bob@example.org", DisplayName: "Bob", PasswordHash: "x"})
	fixed, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fixed, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.reloadIfChanged(); err != nil {
		t.Fatalf("reload of the fixed file: %v\n%s", err, fixed)
	}
	if ev := events.next(t, time.Second); !slices.Equal(names(ev.Added), []Username{"bob"}) {
		t.Errorf("event %+v, want bob added", ev)
	}
}

// TestFailedWriteRefreshes: a write that fails because of another process's
// change still brings this Store up to date with the file it read.
func TestFailedWriteRefreshes(t *testing.T) {
	dir := t.TempDir()
	server, cli := openTest(t, dir), openTest(t, dir)
	events := subscribe(server)
	mustAdd(t, cli, "bob", "bob@example.org", "pw")
	if _, err := server.Add("bob", "robert@example.org", "", "pw"); !errors.Is(err, ErrExists) {
		t.Fatalf("Add of a name taken elsewhere: %v", err)
	}
	if _, ok := server.Lookup("bob"); !ok {
		t.Error("the Store did not learn of bob")
	}
	if ev := events.next(t, time.Second); !slices.Equal(names(ev.Added), []Username{"bob"}) {
		t.Errorf("event %+v, want bob added", ev)
	}
}
