package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// NamePattern is what a notification resource name looks like. Names that
// start with "." (temporary and state files) never match, so they are never
// listed or served.
const NamePattern = `^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.xml$`

var nameRE = regexp.MustCompile(NamePattern)

// ValidName reports whether name can be a notification resource.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// NameFor returns a deterministic resource name for a notification about the
// given key, so that delivering again with the same key replaces the earlier
// notification (RS-04 §6.2, spec §5.1 "coalescing"). kind must be a short
// token such as "share" or "reply"; the key parts are hashed, so any strings
// (share IDs, user names, URLs) are safe and distinct keys give distinct
// names. Example: NameFor("share", shareID, "bob").
func NameFor(kind string, key ...string) string {
	h := sha256.New()
	for _, k := range key {
		fmt.Fprintf(h, "%d:%s;", len(k), k)
	}
	name := kind + "-" + hex.EncodeToString(h.Sum(nil)[:12]) + ".xml"
	if !ValidName(name) {
		// A kind that cannot start a name still gets a usable one.
		name = "n-" + strings.Trim(name, ".-_")
		if !ValidName(name) {
			name = "n-" + hex.EncodeToString(h.Sum(nil)[:12]) + ".xml"
		}
	}
	return name
}

// validUser reports whether user can name a directory under
// DIR/notifications: one path segment, no dot files, no control characters.
// Which users exist is the account store's business, not ours.
func validUser(user string) bool {
	if user == "" || len(user) > 255 || user[0] == '.' || !utf8.ValidString(user) {
		return false
	}
	for _, r := range user {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return false
		}
	}
	return true
}

func checkUser(user string) error {
	if !validUser(user) {
		return ErrInvalidUser
	}
	return nil
}

func checkName(name string) error {
	if !ValidName(name) {
		return ErrInvalidName
	}
	return nil
}
