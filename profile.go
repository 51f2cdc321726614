package passkeyd

import (
	"strings"
	"unicode/utf8"
)

// MaxDisplayNameLength is the longest display name, in characters.
const MaxDisplayNameLength = 64

// ValidateDisplayName returns name trimmed, "" meaning unset, or an
// EINVALID error: longer than MaxDisplayNameLength characters, not UTF-8,
// or holding a character that is not text (see IsTextRune). The name goes
// to apps as the name claim, and to pages and terminals.
func ValidateDisplayName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxDisplayNameLength || !utf8.ValidString(name) {
		return "", Errorf(EINVALID, "A name may have at most %d characters.", MaxDisplayNameLength)
	}
	for _, r := range name {
		if !IsTextRune(r) {
			return "", Errorf(EINVALID, "A name may not contain control or text-direction characters (found U+%04X).", r)
		}
	}
	return name, nil
}

// Username rule: 3 to 32 characters, lowercase ASCII letters, digits, '.',
// '_' and '-'. It goes to apps as preferred_username, which many use as a
// login or an address part (Gitea, Grafana), so it is kept to the
// characters every one of them accepts, and unique here.
const (
	MinUsernameLength = 3
	MaxUsernameLength = 32
)

// ValidateUsername returns username trimmed, "" meaning unset, or an
// EINVALID error saying the rule.
func ValidateUsername(username string) (string, error) {
	username = strings.TrimSpace(username)
	if username == "" {
		return "", nil
	}
	ok := len(username) >= MinUsernameLength && len(username) <= MaxUsernameLength
	for _, r := range username {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-') {
			ok = false
		}
	}
	if !ok {
		return "", Errorf(EINVALID, "A username has %d to %d characters: lowercase letters a-z, digits, '.', '_' and '-'.",
			MinUsernameLength, MaxUsernameLength)
	}
	return username, nil
}
