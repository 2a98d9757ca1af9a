package auth

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Username names an account. It is also the directory name of the user's
// home (DIR/files/NAME) and notification collection, and a URL segment, so it
// is restricted to lower-case ASCII letters, digits, "_", "." and "-".
type Username string

// Account is one user as stored in accounts.json.
type Account struct {
	Name         Username  `json:"name"`
	Email        string    `json:"email"`
	DisplayName  string    `json:"display_name"`
	PasswordHash string    `json:"password_hash"`
	Created      time.Time `json:"created"`
}

// Errors returned by the Store. They are wrapped with a sentence that says
// what was wrong; test for them with errors.Is.
var (
	ErrExists   = errors.New("auth: account exists")
	ErrNotFound = errors.New("auth: no such account")
	ErrInvalid  = errors.New("auth: invalid account data")
)

// MaxPasswordBytes is bcrypt's limit: it ignores every byte after the 72nd.
const MaxPasswordBytes = 72

// maxDisplayName bounds a display name, in bytes.
const maxDisplayName = 256

var usernameRE = regexp.MustCompile(`^[a-z0-9_][a-z0-9_.-]{0,63}$`)

// ValidateUsername reports whether name can be used for an account. The error
// wraps ErrInvalid.
func ValidateUsername(name Username) error {
	if name == "." || name == ".." || !usernameRE.MatchString(string(name)) {
		return fmt.Errorf("%w: username %q must be 1 to 64 characters of a-z, 0-9, \"_\", \".\" and \"-\", "+
			"and start with a letter, a digit or \"_\"", ErrInvalid, name)
	}
	return nil
}

// normalizeEmail checks that email is one bare address (alice@example.org,
// not "Alice <alice@example.org>") and returns it without surrounding blanks.
func normalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", fmt.Errorf("%w: an email address is required", ErrInvalid)
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return "", fmt.Errorf("%w: email %q must be a bare address such as alice@example.org", ErrInvalid, email)
	}
	return email, nil
}

// emailKey is the form in which addresses are compared: case-insensitively.
func emailKey(email string) string { return strings.ToLower(email) }

// normalizeDisplayName trims displayName and defaults it to the username.
func normalizeDisplayName(displayName string, name Username) (string, error) {
	displayName = strings.TrimSpace(displayName)
	if displayName == "" {
		return string(name), nil
	}
	if len(displayName) > maxDisplayName || !utf8.ValidString(displayName) ||
		strings.ContainsFunc(displayName, unicode.IsControl) {
		return "", fmt.Errorf("%w: display name must be valid UTF-8 text of at most %d bytes without control characters",
			ErrInvalid, maxDisplayName)
	}
	return displayName, nil
}

// ValidatePassword reports whether password can be set. The error wraps
// ErrInvalid.
func ValidatePassword(password string) error {
	switch {
	case password == "":
		return fmt.Errorf("%w: the password must not be empty", ErrInvalid)
	case len(password) > MaxPasswordBytes:
		return fmt.Errorf("%w: the password is %d bytes long; bcrypt uses at most %d bytes, so choose a shorter one",
			ErrInvalid, len(password), MaxPasswordBytes)
	}
	return nil
}

// sameAccount reports whether a and b hold the same data.
func sameAccount(a, b Account) bool {
	return a.Name == b.Name && a.Email == b.Email && a.DisplayName == b.DisplayName &&
		a.PasswordHash == b.PasswordHash && a.Created.Equal(b.Created)
}
