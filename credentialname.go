package passkeyd

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateCredentialName returns name trimmed, or an EINVALID error when it
// cannot name a passkey: empty, longer than MaxCredentialNameLength
// characters, not UTF-8, or holding a character that is not text. Control
// characters (ESC starts terminal sequences such as OSC 8 links), line and
// paragraph separators, and bidirectional formatting characters (which
// make a name read differently from what it is, "Trojan Source") are
// refused, since names reach dashboards, email and operators' terminals.
func ValidateCredentialName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxCredentialNameLength || !utf8.ValidString(name) {
		return "", Errorf(EINVALID, "A passkey name needs 1 to %d characters on one line.", MaxCredentialNameLength)
	}
	for _, r := range name {
		if !IsTextRune(r) {
			return "", Errorf(EINVALID, "A passkey name may not contain control or text-direction characters (found U+%04X).", r)
		}
	}
	return name, nil
}

// IsTextRune reports whether r may appear in a name shown to people: not a
// control character, not a line or paragraph separator, not a
// bidirectional formatting character, not U+FFFD from broken UTF-8.
// Other format characters stay allowed: emoji sequences need the zero
// width joiner (U+200D) and variation selectors.
func IsTextRune(r rune) bool {
	switch {
	case unicode.IsControl(r), unicode.In(r, unicode.Zl, unicode.Zp), r == utf8.RuneError:
		return false
	case unicode.Is(unicode.Bidi_Control, r):
		// U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069
		return false
	}
	return true
}
