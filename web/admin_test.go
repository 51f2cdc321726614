package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// consolePage has the fields of console.Page, which the console gives
// template "admin" (web does not import the console).
type consolePage struct {
	Section, ID, Admin, Token, Heading string
}

// TestAdminPage: template "admin" renders every console section in the
// wide layout with the shared scripts and the section's own, the section
// marked in the navigation, and the setup and error pages without it;
// other pages keep the narrow card.
func TestAdminPage(t *testing.T) {
	store, err := sqlite.Open(context.Background(), "file:"+filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s, err := web.New(web.Config{RPID: "localhost", RPName: "passkeyd test", Origins: []string{"http://localhost"},
		Secret: []byte(strings.Repeat("s", 32))}, web.Deps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	// Other pages keep the narrow card.
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<main class="card">`) {
		t.Errorf("start page: %d, no <main class=\"card\">:\n%s", w.Code, w.Body)
	}

	hashed := regexp.MustCompile(`^/static/([a-z-]+)\.[0-9a-f]{12}\.js$`)
	current := regexp.MustCompile(`<a href="/admin[^"]*" aria-current="page">([^<]+)</a>`)
	for _, tc := range []struct {
		section string
		scripts []string
		nav     string // the navigation's current entry; "" for no navigation
	}{
		{"overview", []string{"app", "admin", "admin-overview"}, "Overview"},
		{"people", []string{"app", "admin", "admin-people"}, "People"},
		{"person", []string{"app", "admin", "admin-people"}, "People"},
		{"apps", []string{"app", "admin", "admin-apps"}, "Apps"},
		{"new-app", []string{"app", "admin", "admin-apps"}, "Apps"},
		{"app", []string{"app", "admin", "admin-apps"}, "Apps"},
		{"groups", []string{"app", "admin", "admin-groups"}, "Groups"},
		{"group", []string{"app", "admin", "admin-groups"}, "Groups"},
		{"audit", []string{"app", "admin", "admin-audit"}, "Audit log"},
		{"api-keys", []string{"app", "admin", "admin-keys"}, "API keys"},
		{"setup", []string{"app", "admin", "admin-setup"}, ""},
		{"signed-out", []string{"app", "admin"}, ""},
		{"forbidden", []string{"app", "admin"}, ""},
		{"not-found", []string{"app", "admin"}, ""},
	} {
		t.Run(tc.section, func(t *testing.T) {
			admin := "ada@example.com"
			if tc.nav == "" {
				admin = ""
			}
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/admin", nil)
			if err := s.Render(w, r, http.StatusOK, "admin", consolePage{Section: tc.section, ID: "x1", Admin: admin, Token: "t", Heading: "Heading"}); err != nil {
				t.Fatalf("render: %v", err)
			}
			page := w.Body.String()
			var got []string
			for _, m := range scriptTag.FindAllStringSubmatch(page, -1) {
				if name := hashed.FindStringSubmatch(m[1]); name != nil {
					got = append(got, name[1])
				}
			}
			if !slices.Equal(got, tc.scripts) {
				t.Errorf("scripts %q, want %q", got, tc.scripts)
			}
			if !strings.Contains(page, `<main class="card console">`) || !strings.Contains(page, `data-section="`+tc.section+`"`) {
				t.Errorf("no wide main or no data-section in:\n%s", page)
			}
			nav := ""
			if m := current.FindStringSubmatch(page); m != nil {
				nav = m[1]
			}
			if nav != tc.nav {
				t.Errorf("navigation marks %q, want %q", nav, tc.nav)
			}
		})
	}
}
