package lock

import (
	"fmt"
	"testing"
)

func BenchmarkCheckNoLocks(b *testing.B) {
	m := NewManager(maxTimeout)
	resolve := resolver(nil)
	self := Resource{Name: "alice/Projects/Apollo/notes.txt", ETag: `"x"`}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Check(t0, "alice", nil, self, resolve, Write{Name: self.Name}, Write{Name: "alice/Projects/Apollo"}); err != nil {
			b.Fatal(err)
		}
	}
}

var benchStore Store

// BenchmarkCheckNoLocksViaStore is the same call through the Store
// interface, as the server makes it: the compiler can no longer keep the
// variadic writes on the caller's stack. A package variable keeps it from
// devirtualizing the call, as it cannot for the server's Options.Locks.
func BenchmarkCheckNoLocksViaStore(b *testing.B) {
	benchStore = NewManager(maxTimeout)
	s := benchStore
	resolve := resolver(nil)
	self := Resource{Name: "alice/Projects/Apollo/notes.txt", ETag: `"x"`}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Check(t0, "alice", nil, self, resolve, Write{Name: self.Name}, Write{Name: "alice/Projects/Apollo"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckWithLocks holds 1,000 locks across 10 homes, then checks a
// PUT that submits the token of the lock on its file through neon's tagged
// If header, plus the parent collection.
func BenchmarkCheckWithLocks(b *testing.B) {
	m := NewManager(maxTimeout)
	var target Lock
	for i := range 1000 {
		l := mustCreate(b, m, t0, Lock{
			Root:      fmt.Sprintf("user%d/Projects/p%d/file%d.txt", i%10, i%50, i),
			ZeroDepth: true,
			Principal: fmt.Sprintf("user%d", i%10),
		})
		if i == 500 {
			target = l
		}
	}
	if n := m.Len(t0); n != 1000 {
		b.Fatalf("holding %d locks", n)
	}
	ih, err := ParseIf("<" + url(target.Root) + "> (<" + target.Token + ">)")
	if err != nil {
		b.Fatal(err)
	}
	resolve := resolver(map[string]string{target.Root: `"e"`})
	self := Resource{Name: target.Root, ETag: `"e"`}
	parent := target.Root[:len(target.Root)-len("/file500.txt")]

	b.Run("submitted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Check(t0, target.Principal, &ih, self, resolve, Write{Name: self.Name}, Write{Name: parent}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("no If header, unlocked file", func(b *testing.B) {
		fresh := parent + "/new.txt"
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Check(t0, target.Principal, nil, Resource{Name: fresh}, resolve, Write{Name: fresh}, Write{Name: parent}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DELETE of a home with locks below", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := m.Check(t0, "user0", nil, Resource{Name: "user0"}, resolve, Write{Name: "user0", Depth: Infinite}); err == nil {
				b.Fatal("DELETE passed the locks below")
			}
		}
	})
}

func BenchmarkParseIf(b *testing.B) {
	const h = `<http://localhost:8080/litmus/lockcoll/> (<urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e> ["5e-6147c9f1a2b3c"]) (Not <DAV:no-lock> ["5e-6147c9f1a2b3c"])`
	b.ReportAllocs()
	b.SetBytes(int64(len(h)))
	for b.Loop() {
		if _, err := ParseIf(h); err != nil {
			b.Fatal(err)
		}
	}
}
