package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davshare/davshare/datadir"
	"github.com/davshare/davshare/sharing"
)

// Sharees of the shares workload (crashUser is the sharer).
var sharePasswords = map[string]string{"bob": "bob-crash-pw", "carol": "carol-crash-pw"}

// shares changes shares while the server is killed: the sharer adds,
// changes and revokes sharees with share-resource POSTs; the sharees
// accept and decline their invitations with invite-reply POSTs. After the
// kill it reads the records as the crash left them: every record must
// parse (each is one atomic setxattr), though the records may disagree,
// since a share record is written before the mount tables derived from it.
// After the restart the data directory must be clean by davshare check's
// logic (datadir.Check: records and mount tables agree, every notification
// parses), every accepted sharee must reach the share through its
// instance, and every pending sharee must have its invitation: a kill
// between the share record and the notification is repaired at the
// restart (sharing's Undelivered mark). The sharees never ignore an
// invitation, so a missing one is lost.
type shares struct {
	data    string
	folders []string

	mu          sync.Mutex
	posts       int             // share-resource POSTs answered
	replies     int             // invite replies answered 201/204
	raw         int             // kills after which the records on disk disagreed
	rawKinds    map[string]int  // what they disagreed about
	checked     int             // clean checks after a restart
	instances   int             // instances reached by their sharee
	noInvite    map[string]bool // pending sharees without their invitation after a restart (each fails its trial)
	redelivered int             // invitations a kill had interrupted, delivered at the restart
	maxAccepted int
}

func newShares(data string) *shares {
	return &shares{data: data, folders: []string{"/shared-0", "/shared-1", "/shared-2"}, rawKinds: map[string]int{}, noInvite: map[string]bool{}}
}

func (s *shares) name() string { return "shares" }

// seed makes the folders to share, each with a file.
func (s *shares) seed(t *testing.T, p *proc) {
	for _, f := range s.folders {
		p.must(t, http.StatusCreated, "MKCOL", "/dav/files/"+crashUser+f+"/", crashUser, crashPass, nil)
		p.must(t, http.StatusCreated, "PUT", "/dav/files/"+crashUser+f+"/readme.txt", crashUser, crashPass, strings.NewReader("shared "+f))
	}
}

const davsharing = "application/davsharing+xml; charset=utf-8"

var accesses = []string{"read", "read-write", "read", "read-write", "no-access"}

func (s *shares) run(ctx context.Context, p *proc, rnd *rand.Rand) {
	var wg sync.WaitGroup
	seeds := [2]uint64{rnd.Uint64(), rnd.Uint64()}
	wg.Go(func() { // the sharer
		r := rand.New(rand.NewPCG(seeds[0], 1))
		for ctx.Err() == nil {
			var b strings.Builder
			b.WriteString(`<?xml version="1.0" encoding="utf-8"?><D:share-resource xmlns:D="DAV:">`)
			for _, u := range []string{"bob", "carol"} {
				if r.IntN(3) > 0 {
					fmt.Fprintf(&b, `<D:sharee><D:href>/dav/principals/%s/</D:href><D:share-access><D:%s/></D:share-access></D:sharee>`, u, accesses[r.IntN(len(accesses))])
				}
			}
			b.WriteString(`</D:share-resource>`)
			f := s.folders[r.IntN(len(s.folders))]
			code, _, err := p.do("POST", "/dav/files/"+crashUser+f+"/", crashUser, crashPass, strings.NewReader(b.String()), "Content-Type", davsharing)
			if err != nil {
				return // killed
			}
			if code < 300 {
				s.mu.Lock()
				s.posts++
				s.mu.Unlock()
			}
		}
	})
	wg.Go(func() { // the sharees
		r := rand.New(rand.NewPCG(seeds[1], 2))
		for ctx.Err() == nil {
			u := []string{"bob", "carol"}[r.IntN(2)]
			code, body, err := p.do("PROPFIND", "/dav/notifications/"+u+"/", u, sharePasswords[u], nil, "Depth", "1")
			if err != nil {
				return
			}
			var invites []string
			for _, h := range hrefs(body) {
				if strings.Contains(h, "/share-") {
					invites = append(invites, h)
				}
			}
			if code != http.StatusMultiStatus || len(invites) == 0 {
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Millisecond):
				}
				continue
			}
			reply := `<D:invite-reply xmlns:D="DAV:"><D:invite-declined/></D:invite-reply>`
			if r.IntN(4) > 0 {
				reply = `<D:invite-reply xmlns:D="DAV:"><D:invite-accepted/><D:create-in><D:href>/dav/files/` + u + `/</D:href></D:create-in></D:invite-reply>`
			}
			code, _, err = p.do("POST", invites[r.IntN(len(invites))], u, sharePasswords[u], strings.NewReader(reply), "Content-Type", davsharing)
			if err != nil {
				return
			}
			if code == http.StatusCreated || code == http.StatusNoContent {
				s.mu.Lock()
				s.replies++
				s.mu.Unlock()
			}
		}
	})
	wg.Wait()
}

// Kinds of problems that no crash may cause: each record is replaced by
// one setxattr and each notification by a rename.
var neverTorn = regexp.MustCompile(`corrupt`)

// afterKill checks the data directory as the kill left it, before the
// restart repairs anything.
func (s *shares) afterKill(t *testing.T) {
	t.Helper()
	r, text := checkData(t, s.data, -1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !r.Clean() {
		s.raw++
	}
	for _, pr := range r.Problems {
		s.rawKinds[pr.Kind]++
		if neverTorn.MatchString(pr.Kind) || pr.Area != datadir.AreaShares && pr.Area != datadir.AreaNotifications {
			t.Errorf("after a SIGKILL: %s %s: %s\n%s", pr.Kind, pr.Where, pr.Detail, text)
		}
	}
}

func (s *shares) check(t *testing.T, p *proc) {
	t.Helper()
	r, text := checkData(t, s.data, 0)
	if !r.Clean() {
		t.Errorf("after the restart, davshare check finds problems:\n%s", text)
	}
	// Each sharee's notification collection answers (and the login is
	// cached for the next trial, so the sharees act within its short life).
	var wg sync.WaitGroup
	for u, pw := range sharePasswords { // in parallel: each first login costs a bcrypt
		wg.Go(func() {
			if code, _, err := p.do("PROPFIND", "/dav/notifications/"+u+"/", u, pw, nil, "Depth", "1"); err != nil || code != http.StatusMultiStatus {
				t.Errorf("PROPFIND of %s's notifications: %d %v", u, code, err)
			}
		})
	}
	wg.Wait()
	accepted := 0
	for _, sh := range r.Shares.Shares {
		for _, e := range sh.Sharees {
			switch {
			case e.User == "":
			case e.Status == sharing.StatusAccepted:
				accepted++
				// The sharee reaches the share through the instance.
				p.must(t, http.StatusMultiStatus, "PROPFIND", sharing.FilesHref(e.User, e.Instance, true), e.User, sharePasswords[e.User], nil, "Depth", "0")
				got := p.must(t, http.StatusOK, "GET", sharing.FilesHref(e.User, e.Instance, true)+"readme.txt", e.User, sharePasswords[e.User], nil)
				if !bytes.Equal(got, []byte("shared "+sh.Path)) {
					t.Errorf("%s reads %q through %s, the share of %s", e.User, got, e.Instance, sh.Path)
				}
			case e.Status == sharing.StatusNoResponse:
				if _, err := os.Stat(filepath.Join(s.data, "notifications", e.User, "share-"+string(sh.ID)+"-"+e.User+".xml")); err != nil {
					s.mu.Lock()
					s.noInvite[string(sh.ID)+" "+e.User] = true
					s.mu.Unlock()
					t.Errorf("after the restart, %s is invited to %s (share %s) but has no invitation: %v", e.User, sh.Path, sh.ID, err)
				}
			}
		}
	}
	s.mu.Lock()
	s.checked++
	s.redelivered += strings.Count(p.process.Stderr.String(), redeliveredLog)
	s.instances += accepted
	s.maxAccepted = max(s.maxAccepted, accepted)
	s.mu.Unlock()
}

// redeliveredLog is what sharing.Open logs for each invitation a kill had
// interrupted.
const redeliveredLog = "sharing: delivering an invitation left undelivered before this start"

// checkData runs davshare check's logic; settle < 0 checks once.
func checkData(t *testing.T, data string, settle time.Duration) (*datadir.Report, string) {
	t.Helper()
	r, err := datadir.Check(context.Background(), datadir.Options{Dir: data, StaleAge: time.Hour, Settle: settle})
	if err != nil {
		t.Fatalf("davshare check: %v", err)
	}
	var b strings.Builder
	r.WriteText(&b)
	return r, b.String()
}

func (s *shares) stats() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var kinds []string
	for k, n := range s.rawKinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("%d share POSTs and %d invite replies answered; %d kills left records that disagree (%s), all repaired at restart; %d clean checks; %d instances reached by their sharees (at most %d at once); %d invitations a kill interrupted delivered at the restart; %d pending sharees without their invitation",
		s.posts, s.replies, s.raw, strings.Join(kinds, ", "), s.checked, s.instances, s.maxAccepted, s.redelivered, len(s.noInvite))
}
