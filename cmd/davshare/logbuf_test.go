package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/davshare/davshare/config"
)

// TestLogBuffer: Info lines wait for the timer, a Warn line goes out at
// once and takes the lines before it along, in order.
func TestLogBuffer(t *testing.T) {
	for _, format := range []config.LogFormat{config.LogText, config.LogJSON} {
		t.Run(string(format), func(t *testing.T) {
			// A file, for a writer that may be read while it is written.
			f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			out := fileText(f.Name())
			buf := newLogBuffer(f)
			log := newLogger(config.Log{Format: format, Level: "info"}, buf).With("k", "v")
			log.Info("first")
			if got := out(); got != "" {
				t.Fatalf("an Info line was written at once: %q", got)
			}
			log.Warn("second")
			got := out()
			if i, j := strings.Index(got, "first"), strings.Index(got, "second"); i < 0 || j < i {
				t.Fatalf("after a Warn line, standard error holds %q; want first, then second", got)
			}
			log.Info("third")
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { buf.flushEvery(ctx, 10*time.Millisecond); close(done) }()
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(out(), "third") {
				if time.Now().After(deadline) {
					t.Fatal("the timer never wrote the Info line out")
				}
				time.Sleep(5 * time.Millisecond)
			}
			log.Info("fourth")
			cancel()
			<-done
			if !strings.Contains(out(), "fourth") {
				t.Fatal("the last flush at the end lost a line")
			}
		})
	}
}

// fileText reads a file's current content.
func fileText(name string) func() string {
	return func() string {
		b, _ := os.ReadFile(name)
		return string(b)
	}
}
