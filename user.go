package passkeyd

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// User is an account. It is identified by an opaque ID, found by its email
// (unique without regard to case) and, at sign-in, by its WebAuthn user
// handle: random bytes chosen once, stored in every passkey of the account,
// and never derived from the email or the ID so they reveal nothing.
type User struct {
	ID              string
	Email           string    // as the user typed it
	DisplayName     string    // the name claim apps receive; "" when unset, never the email
	Username        string    // preferred_username; "" when unset (ValidateUsername)
	Handle          []byte    // WebAuthn user.id, 32 random bytes
	EmailVerifiedAt time.Time // zero until the address is confirmed
	Disabled        bool      // set by an operator; a disabled user cannot sign in
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// MaxEmailLength is the longest address accepted (RFC 5321's path limit).
const MaxEmailLength = 254

// EmailKey is the form of an address that uniqueness and look-ups use:
// trimmed and lower-cased, so Alice@Example.com and alice@example.com are
// one account.
func EmailKey(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidateEmail checks that email is a plain address (no display name, no
// angle brackets) of a sensible length, and returns it trimmed.
func ValidateEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", Errorf(EINVALID, "Please enter an email address.")
	}
	if len(email) > MaxEmailLength || !utf8.ValidString(email) {
		return "", Errorf(EINVALID, "That email address is too long.")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") && !strings.HasSuffix(email, "@localhost") {
		return "", Errorf(EINVALID, "%q is not a valid email address.", email)
	}
	return email, nil
}

// Validate reports whether u can be stored.
func (u *User) Validate() error {
	if u.ID == "" {
		return Errorf(EINVALID, "User ID required.")
	}
	if _, err := ValidateEmail(u.Email); err != nil {
		return err
	}
	if len(u.Handle) == 0 || len(u.Handle) > 64 {
		return Errorf(EINVALID, "User handle must be 1 to 64 bytes.")
	}
	return nil
}
