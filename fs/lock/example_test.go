package lock_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/davshare/davshare/fs/lock"
)

// A PUT through bob's mount of a folder alice shares with him meets the lock
// alice took through her own URL: both URLs map to the same canonical name.
func ExampleManager_Check() {
	m := lock.NewManager(time.Hour)
	now := time.Now()
	l, _ := m.Create(now, lock.Lock{Root: "alice/Projects/notes.txt", ZeroDepth: true, Principal: "alice"})

	// The server's URL mapping: alice's URL and bob's mount both land on
	// alice's file.
	resolve := func(uri string) (lock.Resource, bool) {
		for _, prefix := range []string{"/files/alice/Projects/", "/files/bob/Shared/Projects/"} {
			if rest, ok := strings.CutPrefix(uri, prefix); ok {
				return lock.Resource{Name: "alice/Projects/" + rest, ETag: `"v1"`}, true
			}
		}
		return lock.Resource{}, false
	}
	self, _ := resolve("/files/bob/Shared/Projects/notes.txt")
	put := lock.Write{Name: self.Name}

	err := m.Check(now, "bob", nil, self, resolve, put)
	var le *lock.LockedError
	fmt.Println(errors.As(err, &le), le.Root)

	ih, _ := lock.ParseIf("</files/alice/Projects/notes.txt> (<" + l.Token + `> ["v1"])`)
	fmt.Println(m.Check(now, "alice", &ih, self, resolve, put))
	fmt.Println(errors.Is(m.Check(now, "bob", &ih, self, resolve, put), lock.ErrLocked))
	// Output:
	// true alice/Projects/notes.txt
	// <nil>
	// true
}
