package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// openTest opens a Store on dir with the cheapest bcrypt cost.
func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	s.cost = bcrypt.MinCost
	return s
}

func mustAdd(t testing.TB, s *Store, name Username, email, password string) Account {
	t.Helper()
	a, err := s.Add(name, email, "", password)
	if err != nil {
		t.Fatalf("Add(%q): %v", name, err)
	}
	return a
}

func names(accts []Account) []Username {
	out := make([]Username, len(accts))
	for i, a := range accts {
		out[i] = a.Name
	}
	return out
}

func TestAddValidation(t *testing.T) {
	s := openTest(t, t.TempDir())
	mustAdd(t, s, "alice", "alice@example.org", "secret")

	tests := []struct {
		name     string
		user     Username
		email    string
		display  string
		password string
		want     error  // nil: success
		wantMsg  string // substring of the message
	}{
		{"plain", "bob", "bob@example.org", "Bob B.", "pw", nil, ""},
		{"digits dots dashes", "0_b.c-d", "x@example.org", "", "pw", nil, ""},
		{"64 characters", Username(strings.Repeat("a", 64)), "long@example.org", "", "pw", nil, ""},
		{"72-byte password", "carol", "carol@example.org", "", strings.Repeat("p", 72), nil, ""},
		{"upper case", "Dave", "dave@example.org", "", "pw", ErrInvalid, "username"},
		{"empty name", "", "e@example.org", "", "pw", ErrInvalid, "username"},
		{"dot", ".", "e@example.org", "", "pw", ErrInvalid, "username"},
		{"dot dot", "..", "e@example.org", "", "pw", ErrInvalid, "username"},
		{"leading dash", "-e", "e@example.org", "", "pw", ErrInvalid, "username"},
		{"leading dot", ".e", "e@example.org", "", "pw", ErrInvalid, "username"},
		{"slash", "e/f", "e@example.org", "", "pw", ErrInvalid, "username"},
		{"65 characters", Username(strings.Repeat("a", 65)), "e@example.org", "", "pw", ErrInvalid, "username"},
		{"no email", "erin", "", "", "pw", ErrInvalid, "email address is required"},
		{"not an email", "erin", "erin", "", "pw", ErrInvalid, "bare address"},
		{"email with name", "erin", "Erin <erin@example.org>", "", "pw", ErrInvalid, "bare address"},
		{"email in brackets", "erin", "<erin@example.org>", "", "pw", ErrInvalid, "bare address"},
		{"empty password", "erin", "erin@example.org", "", "", ErrInvalid, "must not be empty"},
		{"73-byte password", "erin", "erin@example.org", "", strings.Repeat("p", 73), ErrInvalid, "at most 72 bytes"},
		{"trailing newline of display name trimmed", "erin", "erin@example.org", "Erin\n", "pw", nil, ""},
		{"control character inside display name", "frank", "frank@example.org", "Fr\x00ank", "pw", ErrInvalid, "display name"},
		{"name taken", "alice", "other@example.org", "", "pw", ErrExists, `"alice" is taken`},
		{"email taken in another case", "alice2", "ALICE@Example.org", "", "pw", ErrExists, `already used by "alice"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Add(tt.user, tt.email, tt.display, tt.password)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Add: got %v, want an error wrapping %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Add: message %q does not mention %q", err, tt.wantMsg)
			}
			if _, ok := s.Lookup(tt.user); ok && tt.user != "alice" {
				t.Errorf("refused account %q was stored", tt.user)
			}
		})
	}
}

func TestAddStoresAccountAndHome(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	bob, err := s.Add("bob", " Bob@Example.org ", "", "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, "alice", "alice@example.org", "pw")

	if bob.DisplayName != "bob" {
		t.Errorf("display name defaults to %q, want the user name", bob.DisplayName)
	}
	if bob.Email != "Bob@Example.org" {
		t.Errorf("email stored as %q, want it trimmed and otherwise as given", bob.Email)
	}
	if bcrypt.CompareHashAndPassword([]byte(bob.PasswordHash), []byte("hunter2")) != nil {
		t.Error("PasswordHash is not a bcrypt hash of the password")
	}
	if bob.Created.IsZero() {
		t.Error("Created is not set")
	}
	if got := names(s.List()); !slices.Equal(got, []Username{"alice", "bob"}) {
		t.Errorf("List = %v, want sorted [alice bob]", got)
	}
	if s.Len() != 2 {
		t.Errorf("Len = %d, want 2", s.Len())
	}
	if a, ok := s.Lookup("bob"); !ok || !sameAccount(a, bob) {
		t.Errorf("Lookup(bob) = %+v, %v", a, ok)
	}
	if a, ok := s.LookupEmail("bob@EXAMPLE.org"); !ok || a.Name != "bob" {
		t.Errorf("LookupEmail is not case-insensitive: %+v, %v", a, ok)
	}
	if _, ok := s.LookupEmail("nobody@example.org"); ok {
		t.Error("LookupEmail found an unknown address")
	}

	for _, sub := range []string{"files/bob", "notifications/bob", "files/alice", "notifications/alice"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || !fi.IsDir() {
			t.Errorf("%s: not created: %v", sub, err)
			continue
		}
		if perm := fi.Mode().Perm(); perm&^0o750 != 0 {
			t.Errorf("%s: mode %v, want at most 0750", sub, perm)
		}
	}

	fi, err := os.Stat(filepath.Join(dir, "accounts.json"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("accounts.json mode %v, want 0600", perm)
	}
	var doc struct {
		Version  int       `json:"version"`
		Accounts []Account `json:"accounts"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "accounts.json"))
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || len(doc.Accounts) != 2 {
		t.Errorf("accounts.json = version %d with %d accounts, want version 1 with 2", doc.Version, len(doc.Accounts))
	}
	if strings.Contains(string(b), "hunter2") {
		t.Error("accounts.json contains the plaintext password")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".accounts-*.tmp")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	// A second Store on the same directory loads what the first wrote.
	again := openTest(t, dir)
	if got := names(again.List()); !slices.Equal(got, []Username{"alice", "bob"}) {
		t.Errorf("reopened List = %v", got)
	}
}

func TestSetPasswordAndDelete(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	old := mustAdd(t, s, "bob", "bob@example.org", "old")
	home := filepath.Join(dir, "files", "bob", "report.txt")
	if err := os.WriteFile(home, []byte("keep me"), 0o640); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"password of unknown user", func() error { return s.SetPassword("nobody", "pw") }, ErrNotFound},
		{"empty password", func() error { return s.SetPassword("bob", "") }, ErrInvalid},
		{"too long password", func() error { return s.SetPassword("bob", strings.Repeat("x", 73)) }, ErrInvalid},
		{"new password", func() error { return s.SetPassword("bob", "new") }, nil},
		{"delete unknown user", func() error { return s.Delete("nobody") }, ErrNotFound},
		{"delete", func() error { return s.Delete("bob") }, nil},
		{"delete twice", func() error { return s.Delete("bob") }, ErrNotFound},
		{"password of deleted user", func() error { return s.SetPassword("bob", "pw") }, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if (tt.want == nil) != (err == nil) || !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.name == "new password" {
				a, _ := s.Lookup("bob")
				if a.PasswordHash == old.PasswordHash || bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte("new")) != nil {
					t.Error("the stored hash is not that of the new password")
				}
			}
		})
	}

	if b, err := os.ReadFile(home); err != nil || string(b) != "keep me" {
		t.Errorf("Delete touched the user's files: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notifications", "bob")); err != nil {
		t.Errorf("Delete removed the notification collection: %v", err)
	}
	if _, ok := s.LookupEmail("bob@example.org"); ok {
		t.Error("the deleted account is still found by email")
	}
	// The address is free again.
	mustAdd(t, s, "robert", "BOB@example.org", "pw")
}

func TestOpenFiles(t *testing.T) {
	valid := `{"version":1,"accounts":[{"name":"alice","email":"a@example.org","display_name":"Alice","password_hash":"x"}]}`
	tests := []struct {
		name    string
		content *string // nil: no file
		want    int     // accounts, when wantErr is empty
		wantErr string
	}{
		{"missing file", nil, 0, ""},
		{"empty file", ptr(""), 0, ""},
		{"valid", ptr(valid), 1, ""},
		{"hand-edited, no email", ptr(`{"version":1,"accounts":[{"name":"alice"},{"name":"bob"}]}`), 2, ""},
		{"not JSON", ptr("{"), 0, "not valid JSON"},
		{"newer version", ptr(`{"version":2,"accounts":[]}`), 0, "version 2"},
		{"no version", ptr(`{"accounts":[]}`), 0, "version 0"},
		{"bad name", ptr(`{"version":1,"accounts":[{"name":"A"}]}`), 0, "username"},
		{"duplicate name", ptr(`{"version":1,"accounts":[{"name":"a","email":"1@x.org"},{"name":"a","email":"2@x.org"}]}`), 0, "appears twice"},
		{"duplicate email", ptr(`{"version":1,"accounts":[{"name":"a","email":"x@x.org"},{"name":"b","email":"X@x.org"}]}`), 0, "used by both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content != nil {
				if err := os.WriteFile(filepath.Join(dir, "accounts.json"), []byte(*tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(dir, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open: got %v, want an error mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if s.Len() != tt.want {
				t.Errorf("Len = %d, want %d", s.Len(), tt.want)
			}
			if a, ok := s.LookupEmail(""); ok {
				t.Errorf("LookupEmail(\"\") found %q", a.Name)
			}
		})
	}

	t.Run("creates the data directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new", "data")
		if _, err := Open(dir, nil); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Fatalf("data directory not created: %v", err)
		}
	})
	t.Run("no data directory", func(t *testing.T) {
		if _, err := Open("", nil); err == nil {
			t.Fatal("Open(\"\") succeeded")
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestTwoStoresLoseNothing plays the server and the CLI: two Stores on one
// directory write concurrently, and every change survives.
func TestTwoStoresLoseNothing(t *testing.T) {
	dir := t.TempDir()
	stores := []*Store{openTest(t, dir), openTest(t, dir)}
	const perStore = 15

	// Accounts that get deleted and re-passworded while others are added.
	for i := range 4 {
		mustAdd(t, stores[0], Username(fmt.Sprintf("old%d", i)), fmt.Sprintf("old%d@example.org", i), "pw")
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2*perStore+4)
	for si, s := range stores {
		for i := range perStore {
			wg.Go(func() {
				name := Username(fmt.Sprintf("u%d-%02d", si, i))
				if _, err := s.Add(name, string(name)+"@example.org", "", "pw"); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Go(func() { errs <- stores[1].Delete("old0") })
	wg.Go(func() { errs <- stores[0].Delete("old1") })
	wg.Go(func() { errs <- stores[1].SetPassword("old2", "changed") })
	wg.Go(func() { errs <- stores[0].SetPassword("old3", "changed") })
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}

	for _, s := range append(stores, openTest(t, dir)) {
		if _, err := s.reloadIfChanged(); err != nil {
			t.Fatal(err)
		}
		if got, want := s.Len(), 2*perStore+2; got != want {
			t.Errorf("Len = %d, want %d: %v", got, want, names(s.List()))
		}
		for _, gone := range []Username{"old0", "old1"} {
			if _, ok := s.Lookup(gone); ok {
				t.Errorf("deleted %s is back", gone)
			}
		}
		for _, changed := range []Username{"old2", "old3"} {
			a, _ := s.Lookup(changed)
			if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte("changed")) != nil {
				t.Errorf("the password change of %s was lost", changed)
			}
		}
	}
}
