package notify

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Broadcast is what `davshare notify send` asks for.
type Broadcast struct {
	// To lists the recipients; ignored when All is set.
	To []string
	// All sends to every user that has a notification collection.
	All bool
	// Status is the message: Level, Description (the CLI's TEXT), optional
	// Lang and Href.
	Status SystemStatus
	// Now stamps the notification; zero means time.Now.
	Now time.Time
}

// Sent reports what SendSystemStatus wrote.
type Sent struct {
	Name  string   // the resource name, the same in every collection
	Users []string // the collections it was written to
}

// SendSystemStatus writes b.Status as a new DAV:systemstatus notification
// straight into DIR/notifications/{user}/ for each recipient, atomically
// (temporary dot file, then rename). It needs no running server and no
// server state: a running server's watcher picks the file up within
// seconds, and a stopped server finds it in its startup rescan.
//
// Everything is validated before anything is written. A recipient without
// a collection directory fails with ErrNoCollection (the account store
// creates the directory with the account, so this usually means a typo);
// the other recipients still get the notification, and the error names the
// users that failed.
func SendSystemStatus(dataDir string, b Broadcast) (Sent, error) {
	now := b.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	st := b.Status
	data, err := Build(&Notification{DTStamp: now, Payload: &st})
	if err != nil {
		return Sent{}, err
	}
	root, err := os.OpenRoot(Dir(dataDir))
	if err != nil {
		// err names the folder already.
		return Sent{}, fmt.Errorf("notify: no notification store in %s: %w", dataDir, err)
	}
	defer root.Close()
	users := b.To
	if b.All {
		if users, err = listUsers(root); err != nil {
			return Sent{}, err
		}
	}
	if len(users) == 0 {
		return Sent{}, fmt.Errorf("notify: no recipients")
	}
	for _, u := range users {
		if err := checkUser(u); err != nil {
			return Sent{}, fmt.Errorf("%w: %q", err, u)
		}
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	sent := Sent{Name: "status-" + now.Format(compactLayout) + "-" + hex.EncodeToString(rnd[:]) + ".xml"}
	var errs []error
	for _, u := range users {
		if fi, err := root.Stat(u); err != nil || !fi.IsDir() {
			if err == nil || errors.Is(err, fs.ErrNotExist) {
				err = ErrNoCollection
			}
			errs = append(errs, fmt.Errorf("user %q: %w", u, err))
			continue
		}
		if err := writeAtomic(root, u, sent.Name, data); err != nil {
			errs = append(errs, fmt.Errorf("user %q: %w", u, err))
			continue
		}
		sent.Users = append(sent.Users, u)
	}
	return sent, errors.Join(errs...)
}

// Users lists the users that have a notification collection under dataDir.
func Users(dataDir string) ([]string, error) {
	root, err := os.OpenRoot(Dir(dataDir))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return listUsers(root)
}
