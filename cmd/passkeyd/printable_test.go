package main

import "testing"

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Work phone":        "Work phone",
		"Clé 👩‍💻":           "Clé 👩‍💻",
		"evil\x1b[2J":       `evil\x1b[2J`,
		"\x1b]8;;x\x07link": `\x1b]8;;x\x07link`,
		"a\u202eb":          `a\u202eb`,
		"c1\u009b":          `c1\x9b`,
		"tab\tnl\n":         `tab\x09nl\x0a`,
		"bad\xffbyte":       `bad\xffbyte`,
		"real \uFFFD":       `real \ufffd`,
		`back\slash`:        `back\\slash`,
		"line\u2028sep":     `line\u2028sep`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}
