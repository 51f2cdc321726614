package passkeyd_test

import (
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd"
)

func TestValidateCredentialName(t *testing.T) {
	good := map[string]string{
		"  YubiKey 5  ":   "YubiKey 5",
		"iCloud Keychain": "iCloud Keychain",
		"Clé de Zoë":      "Clé de Zoë",
		"👩‍💻 laptop":      "👩‍💻 laptop", // zero width joiner in an emoji sequence
		"Ключ":            "Ключ",
		"مفتاح":           "مفتاح", // right-to-left text itself is fine
	}
	for in, want := range good {
		got, err := passkeyd.ValidateCredentialName(in)
		if err != nil || got != want {
			t.Errorf("ValidateCredentialName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"",
		"   ",
		"evil\x1b[2J",                            // ESC: clear screen
		"link \x1b]8;;https://x.example\x07here", // OSC 8 hyperlink
		"a\x9bb",                                 // C1 CSI
		"tab\there",
		"two\nlines",
		"nul\x00",
		"del\x7f",
		"abc\u202edcba",       // RIGHT-TO-LEFT OVERRIDE
		"\u2066isolate\u2069", // LEFT-TO-RIGHT ISOLATE ... POP
		"mark\u200f",          // RIGHT-TO-LEFT MARK
		"line\u2028sep",
		"bad \xff utf8",
		strings.Repeat("a", passkeyd.MaxCredentialNameLength+1),
	}
	for _, in := range bad {
		if got, err := passkeyd.ValidateCredentialName(in); passkeyd.ErrorCode(err) != passkeyd.EINVALID {
			t.Errorf("ValidateCredentialName(%q) = %q, %v; want EINVALID", in, got, err)
		}
	}
}
