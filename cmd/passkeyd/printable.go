package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/passkeyd/passkeyd"
)

// printable returns s safe to write to an operator's terminal: a rune that
// is not text (control characters such as ESC, which starts terminal
// sequences, bidi overrides, invalid UTF-8; see passkeyd.IsTextRune) and
// any other unprintable rune is written as a Go escape (\x1b, \u202e), and
// a backslash as \\ so the escapes are unambiguous. Everything passkeyd
// users prints from the database goes through it: names, emails, user
// agents were typed by users, or by attackers.
func printable(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i]) // a byte of invalid UTF-8
		case passkeyd.IsTextRune(r) && (unicode.IsPrint(r) || unicode.Is(unicode.Cf, r)):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}
