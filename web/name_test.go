package web_test

import (
	"testing"
)

// A passkey name reaches dashboards, email and operators' terminals: it may
// not carry terminal escape sequences or bidi overrides (issue 13.8).
func TestRenameRefusesControlAndBidiCharacters(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "names@example.com")
	e.signIn(t, b, a, "", nil)
	id := e.credentials(t, "names@example.com")[0].ID
	if res := call(t, b, "PATCH", "/api/passkeys/"+id, map[string]string{"name": "Laptop 👩‍💻"}); res.Status != 200 {
		t.Fatalf("rename to an emoji sequence: %d %s", res.Status, res.Body)
	}
	for _, name := range []string{
		"evil\x1b[2J",
		"\x1b]8;;https://attacker.example\x07Work phone\x1b]8;;\x07",
		"Work \u202eenohp",
		"\u2066hidden\u2069",
		"a\x9bb",
	} {
		wantError(t, call(t, b, "PATCH", "/api/passkeys/"+id, map[string]string{"name": name}), 400, "control")
	}
	if got := e.credentials(t, "names@example.com")[0].Name; got != "Laptop 👩‍💻" {
		t.Fatalf("stored name %q after refused renames", got)
	}
}
