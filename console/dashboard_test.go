package console_test

import (
	"bytes"
	"net/http"
	"testing"
)

// TestDashboardLinksAdministrators: an administrator's dashboard links to
// the console (web.Config.Console); anyone else's does not, and loses the
// link with the role.
func TestDashboardLinksAdministrators(t *testing.T) {
	h := newHarness(t)
	link := []byte(`id="console-link" href="/admin"`)
	dashboard := func(who string) []byte {
		t.Helper()
		browser := h.alice
		if who == "bob" {
			browser = h.bob
		}
		res, err := browser.Do(t.Context(), http.MethodGet, "/dashboard", nil)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("%s's dashboard: %v %v", who, res, err)
		}
		return res.Body
	}
	if !bytes.Contains(dashboard("alice"), link) {
		t.Errorf("the administrator's dashboard has no link to the console")
	}
	if bytes.Contains(dashboard("bob"), link) {
		t.Errorf("a non-administrator's dashboard links to the console")
	}
}
