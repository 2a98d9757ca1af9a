// Package datadir checks a davshare data directory without changing it, for
// "davshare check": user extended attributes, the accounts file, every
// account's home and notification collection, the sharing records (share
// records, registries and mount tables, sharing.Check), the notification
// documents, and temporary files left by crashes. Every problem says what
// repairs it; most are repaired by the server at its next start.
//
// Check only reads, with one exception: the extended attribute probe
// (fs.ProbeXattrs) creates and removes one reserved file (".davshare-probe-*",
// never visible to clients) at the top of the data directory. It is safe
// while a server runs on the directory; sharing records that a running
// server is changing are checked twice, a moment apart (Options.Settle).
package datadir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/davshare/davshare/auth"
	dsfs "github.com/davshare/davshare/fs"
	"github.com/davshare/davshare/notify"
	"github.com/davshare/davshare/sharing"
)

// Options configures Check.
type Options struct {
	Dir string // the data directory
	// StaleAge is limits.stale_upload_age: temporary files older than this
	// are reported; younger ones may belong to writes in progress.
	// Default 15 minutes.
	StaleAge time.Duration
	// Settle is sharing.CheckOptions.Settle; default 300ms, negative for
	// one pass.
	Settle time.Duration
	Now    func() time.Time // default time.Now
}

// Areas of a check, in report order.
const (
	AreaXattrs        = "extended attributes"
	AreaAccounts      = "accounts"
	AreaHomes         = "homes"
	AreaShares        = "shares"
	AreaNotifications = "notifications"
	AreaTempFiles     = "temporary files"
)

var areas = []string{AreaXattrs, AreaAccounts, AreaHomes, AreaShares, AreaNotifications, AreaTempFiles}

// Problem is one thing found wrong.
type Problem struct {
	Area   string
	Kind   string // stable identifier within the area, e.g. "mount-missing"
	Where  string // a path relative to the data directory, or USER:/path in a home
	Detail string
	Fix    string // what repairs it
}

// Report is the result of Check.
type Report struct {
	Dir      string
	Summary  map[string]string // area → what was checked, in a few words
	Problems []Problem
	Shares   sharing.CheckReport // the sharing records
}

// Clean reports whether no problem was found.
func (r *Report) Clean() bool { return len(r.Problems) == 0 }

func (r *Report) problem(area, kind, where, detail, fix string) {
	r.Problems = append(r.Problems, Problem{Area: area, Kind: kind, Where: where, Detail: detail, Fix: fix})
}

// Check checks the data directory o.Dir. It returns an error only when the
// check itself cannot proceed (ctx cancelled); everything wrong with the
// directory is a Problem.
func Check(ctx context.Context, o Options) (*Report, error) {
	if o.StaleAge <= 0 {
		o.StaleAge = 15 * time.Minute
	}
	if o.Settle == 0 {
		o.Settle = 300 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Report{Dir: o.Dir, Summary: map[string]string{}}
	if fi, err := os.Stat(o.Dir); err != nil || !fi.IsDir() {
		r.Summary[AreaAccounts] = "not checked"
		r.problem(AreaAccounts, "no-data-dir", ".", fmt.Sprintf("not a directory: %v", errOr(err, "a file")),
			"give the right --data, or let 'davshare serve' create it")
		return r, nil
	}
	if err := dsfs.ProbeXattrs(o.Dir); err != nil {
		r.Summary[AreaXattrs] = "not supported"
		r.problem(AreaXattrs, "no-xattrs", ".", err.Error(), "move the data directory to ext4, xfs, btrfs or zfs (the server refuses to start)")
	} else {
		r.Summary[AreaXattrs] = "supported"
	}
	users := checkAccounts(r, o.Dir)
	homes := checkHomes(r, o.Dir, users)
	defer homes.close()
	if users != nil {
		settle := max(o.Settle, 0)
		sr, err := sharing.Check(ctx, sharing.CheckOptions{Trees: homes, Users: users, Settle: settle})
		if err != nil {
			return r, err
		}
		r.Shares = sr
		for _, p := range sr.Problems {
			r.problem(AreaShares, p.Kind, p.User+":"+p.Path, p.Detail, p.Fix)
		}
		accepted := 0
		for _, s := range sr.Shares {
			for _, e := range s.Sharees {
				if e.Status == sharing.StatusAccepted {
					accepted++
				}
			}
		}
		r.Summary[AreaShares] = fmt.Sprintf("%d %s, %d accepted %s, %d mount %s", len(sr.Shares), plural(len(sr.Shares), "share"),
			accepted, plural(accepted, "sharee"), sr.Mounts, plural(sr.Mounts, "entry"))
		checkNotifications(r, o.Dir, users)
	}
	if err := checkTempFiles(ctx, r, o); err != nil {
		return r, err
	}
	sort.SliceStable(r.Problems, func(i, j int) bool { return areaIndex(r.Problems[i].Area) < areaIndex(r.Problems[j].Area) })
	return r, ctx.Err()
}

func errOr(err error, s string) any {
	if err != nil {
		return err
	}
	return s
}

func areaIndex(a string) int {
	for i, x := range areas {
		if x == a {
			return i
		}
	}
	return len(areas)
}

// checkAccounts reads the accounts file; nil means it could not be read.
func checkAccounts(r *Report, dir string) []string {
	const file = "accounts.json"
	if _, err := os.Stat(filepath.Join(dir, file)); errors.Is(err, fs.ErrNotExist) {
		r.Summary[AreaAccounts] = "no accounts file"
		r.problem(AreaAccounts, "accounts-missing", file, "there is no accounts file, so there are no users",
			"'davshare serve' creates the user admin at its first start; or 'davshare user add'")
		return []string{}
	}
	store, err := auth.Open(dir, nil) // reads only: the directory exists
	if err != nil {
		r.Summary[AreaAccounts] = "unreadable"
		r.problem(AreaAccounts, "accounts-unreadable", file, err.Error(),
			"the server refuses to start; restore the file from a backup (it is replaced atomically, so a crash does not cut it)")
		return nil
	}
	var users []string
	for _, a := range store.List() {
		users = append(users, string(a.Name))
	}
	r.Summary[AreaAccounts] = fmt.Sprintf("%d in %s", len(users), file)
	return users
}

// checkHomes checks that every account has its home and notification
// collection, and opens the homes for the sharing check.
func checkHomes(r *Report, dir string, users []string) *homes {
	h := &homes{dir: filepath.Join(dir, "files"), trees: map[string]*dsfs.Tree{}}
	complete := 0
	for _, u := range users {
		ok := true
		for _, sub := range []string{"files", "notifications"} {
			where := sub + "/" + u
			fi, err := os.Lstat(filepath.Join(dir, sub, u))
			switch {
			case errors.Is(err, fs.ErrNotExist):
				ok = false
				r.problem(AreaHomes, sub+"-missing", where, fmt.Sprintf("user %s has no %s directory", u, what(sub)),
					"the server creates it when the user first connects; or mkdir -m 0750 it as the service user")
			case err != nil:
				ok = false
				r.problem(AreaHomes, sub+"-unreadable", where, err.Error(), "check its permissions")
			case !fi.IsDir():
				ok = false
				r.problem(AreaHomes, sub+"-not-dir", where, fmt.Sprintf("the %s of user %s is not a directory (%v)", what(sub), u, fi.Mode().Type()),
					"move it away; the server cannot serve this user")
			}
		}
		if ok {
			complete++
		}
	}
	extra := 0
	if des, err := os.ReadDir(h.dir); err == nil {
		known := map[string]bool{}
		for _, u := range users {
			known[u] = true
		}
		for _, de := range des {
			if de.IsDir() && !known[de.Name()] {
				extra++
			}
		}
	}
	r.Summary[AreaHomes] = fmt.Sprintf("%d of %d accounts complete", complete, len(users))
	if extra > 0 {
		r.Summary[AreaHomes] += fmt.Sprintf("; %d homes of deleted accounts kept", extra)
	}
	return h
}

func what(sub string) string {
	if sub == "files" {
		return "home"
	}
	return "notification"
}

// homes opens existing homes read-only for sharing.Check; unlike
// fs.Homes it never creates one.
type homes struct {
	dir   string
	trees map[string]*dsfs.Tree
}

func (h *homes) Tree(user string) (*dsfs.Tree, error) {
	if t, ok := h.trees[user]; ok {
		return t, nil
	}
	if user == "" || filepath.Base(user) != user || strings.HasPrefix(user, ".") {
		return nil, fmt.Errorf("%w: user %q", dsfs.ErrInvalidPath, user)
	}
	dir := filepath.Join(h.dir, user)
	if fi, err := os.Lstat(dir); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: fs.ErrNotExist}
	}
	rfs, err := dsfs.OpenRootFs(dir)
	if err != nil {
		return nil, err
	}
	t := dsfs.NewTree(user, rfs, nil)
	h.trees[user] = t
	return t, nil
}

func (h *homes) close() {
	for _, t := range h.trees {
		t.Fs.(*dsfs.RootFs).Close()
	}
}

// checkNotifications parses every notification document and sync state.
func checkNotifications(r *Report, dir string, users []string) {
	docs, other := 0, 0
	for _, u := range users {
		coll := filepath.Join(dir, "notifications", u)
		des, err := os.ReadDir(coll)
		if err != nil {
			continue // reported by checkHomes
		}
		for _, de := range des {
			name, where := de.Name(), "notifications/"+u+"/"+de.Name()
			if name == ".davshare-sync.json" {
				if b, err := os.ReadFile(filepath.Join(coll, name)); err != nil || !json.Valid(b) {
					r.problem(AreaNotifications, "sync-state-corrupt", where, fmt.Sprintf("the sync state does not parse (%v)", errOr(err, "invalid JSON")),
						"the server starts a new sync epoch: clients resync the collection once")
				}
				continue
			}
			if !de.Type().IsRegular() || !notify.ValidName(name) {
				if !strings.HasPrefix(name, ".") {
					other++ // never listed or served
				}
				continue
			}
			b, err := os.ReadFile(filepath.Join(coll, name))
			if err == nil {
				_, err = notify.Parse(b)
			}
			if err != nil {
				r.problem(AreaNotifications, "notification-corrupt", where, fmt.Sprintf("does not parse as a notification: %v", err),
					"the server ignores it (it is not listed); delete it")
				continue
			}
			docs++
		}
	}
	verb := "parse"
	if docs == 1 {
		verb = "parses"
	}
	r.Summary[AreaNotifications] = fmt.Sprintf("%d %s %s", docs, plural(docs, "document"), verb)
	if other > 0 {
		r.Summary[AreaNotifications] += fmt.Sprintf("; %d other files ignored", other)
	}
}

// checkTempFiles reports temporary files older than the stale age.
func checkTempFiles(ctx context.Context, r *Report, o Options) error {
	cutoff := o.Now().Add(-o.StaleAge)
	fresh := 0
	for _, sub := range []string{"files", "notifications"} {
		err := dsfs.TempFiles(ctx, filepath.Join(o.Dir, sub), func(f dsfs.TempFile) {
			if !f.Changed.Before(cutoff) {
				fresh++
				return
			}
			r.problem(AreaTempFiles, "temp-stale", sub+"/"+f.Name,
				fmt.Sprintf("a temporary file of a write a crash cut short (%d bytes, unchanged for %v)", f.Size, o.Now().Sub(f.Changed).Round(time.Second)),
				"the server removes it at its next start (limits.stale_upload_age); or delete it")
		})
		if err != nil && ctx.Err() != nil {
			return err
		}
	}
	r.Summary[AreaTempFiles] = fmt.Sprintf("none older than %v", o.StaleAge)
	if fresh > 0 {
		r.Summary[AreaTempFiles] += fmt.Sprintf("; %d younger (writes in progress?)", fresh)
	}
	return nil
}

// WriteText writes the report for people: one line per area, then the
// problems with what repairs each, then a count.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "davshare check %s\n", r.Dir)
	count := map[string]int{}
	for _, p := range r.Problems {
		count[p.Area]++
	}
	for _, a := range areas {
		s, ok := r.Summary[a]
		if !ok {
			continue
		}
		mark := "ok  "
		if count[a] > 0 {
			mark = "FAIL"
			s += fmt.Sprintf(" — %d %s", count[a], plural(count[a], "problem"))
		}
		fmt.Fprintf(&b, "  %s %-20s %s\n", mark, a+":", s)
	}
	if len(r.Problems) == 0 {
		b.WriteString("no problems found\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("\n")
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "%s [%s] %s\n    %s\n    fix: %s\n", p.Where, p.Area, p.Kind, p.Detail, p.Fix)
	}
	fmt.Fprintf(&b, "\n%d %s found\n", len(r.Problems), plural(len(r.Problems), "problem"))
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, s string) string {
	switch {
	case n == 1:
		return s
	case strings.HasSuffix(s, "y"):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}
