package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd"
)

// TestProfile: sign-up sets no name (the address must not become the
// name apps receive); the dashboard's PUT /api/account/profile sets and
// unsets the name and username, refuses a bad or taken username with
// nothing written, and needs a signed-in browser.
func TestProfile(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "ada@example.com")
	e.signIn(t, b, a, "", nil)
	if u := e.user(t, "ada@example.com"); u.DisplayName != "" || u.Username != "" {
		t.Fatalf("after sign-up: name %q, username %q; want neither set", u.DisplayName, u.Username)
	}

	res := call(t, b, "PUT", "/api/account/profile", map[string]string{"displayName": " Ada Lovelace ", "username": "ada.l"})
	if res.Status != http.StatusOK || string(res.Body) != `{"displayName":"Ada Lovelace","username":"ada.l"}`+"\n" {
		t.Fatalf("set profile: %d %s", res.Status, res.Body)
	}
	if u := e.user(t, "ada@example.com"); u.DisplayName != "Ada Lovelace" || u.Username != "ada.l" {
		t.Fatalf("stored: name %q, username %q", u.DisplayName, u.Username)
	}
	if events := e.events(t, "ada@example.com"); len(events) == 0 || events[0] != passkeyd.EventProfileChanged {
		t.Errorf("security log %v: want profile_changed first", events)
	}
	page := call(t, b, "GET", "/dashboard", nil)
	if !strings.Contains(string(page.Body), `id="display-name" type="text" name="displayName" value="Ada Lovelace"`) ||
		!strings.Contains(string(page.Body), `value="ada.l"`) {
		t.Errorf("the dashboard's form does not show the stored name and username:\n%s", page.Body)
	}

	for _, bad := range []map[string]string{
		{"displayName": "Ada", "username": "Ada"},             // upper case
		{"displayName": "Ada", "username": "ad"},              // too short
		{"displayName": "Ada", "username": "ada@example.com"}, // not an address
		{"displayName": "Ada", "username": strings.Repeat("a", 33)},
		{"displayName": "Ada\u202eecalevoL", "username": "ada.l"}, // bidi override
		{"displayName": strings.Repeat("x", 65), "username": "ada.l"},
	} {
		wantError(t, call(t, b, "PUT", "/api/account/profile", bad), http.StatusBadRequest)
	}
	if u := e.user(t, "ada@example.com"); u.DisplayName != "Ada Lovelace" || u.Username != "ada.l" {
		t.Fatalf("after refused changes: name %q, username %q; want them unchanged", u.DisplayName, u.Username)
	}

	// Another account cannot take the username.
	other, oa := e.browser(), e.authenticator()
	e.signUp(t, other, oa, "bob@example.com")
	e.signIn(t, other, oa, "", nil)
	wantError(t, call(t, other, "PUT", "/api/account/profile", map[string]string{"displayName": "Bob", "username": "ada.l"}), http.StatusConflict, "taken")
	if u := e.user(t, "bob@example.com"); u.DisplayName != "" || u.Username != "" {
		t.Errorf("bob after a refused username: %q, %q; want nothing written", u.DisplayName, u.Username)
	}

	// Unset.
	if res := call(t, b, "PUT", "/api/account/profile", map[string]string{"displayName": "", "username": ""}); res.Status != http.StatusOK {
		t.Fatalf("unset: %d %s", res.Status, res.Body)
	}
	if u := e.user(t, "ada@example.com"); u.DisplayName != "" || u.Username != "" {
		t.Errorf("after unsetting: %q, %q", u.DisplayName, u.Username)
	}

	wantError(t, call(t, e.browser(), "PUT", "/api/account/profile", map[string]string{"displayName": "Mallory"}), http.StatusUnauthorized)
}
