package console_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/console"
)

// The settings the console shows for an app are the README's App settings
// table filled in: every setting they name is in the app's row there.
func TestAppSettingsFollowREADME(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		for _, app := range []string{"Grafana", "Gitea", "Nextcloud", "oauth2-proxy", "Auth.js"} {
			if strings.HasPrefix(line, "| "+app) {
				rows[app] += line // its rows: the app's, then the groups claim's
			}
		}
	}
	app := &passkeyd.OIDCClient{ID: "grafana", Name: "Grafana", Scopes: []string{"openid", "email", "profile", "offline_access", "groups"},
		RedirectURIs: []string{"https://grafana.example.com/login/generic_oauth"}, PostLogoutRedirectURIs: []string{"https://grafana.example.com/login"},
		AllowedGroups: []string{"ops"}}
	names := regexp.MustCompile(`--[a-z][a-z-]*|^[a-z_]+ = |[a-zA-Z]+: `)
	settings := console.AppSettings("https://login.example.com", app)
	if len(settings) != 5 {
		t.Fatalf("%d apps' settings", len(settings))
	}
	for _, s := range settings {
		row := rows[strings.Fields(s.Name)[0]]
		if row == "" {
			t.Errorf("README's App settings table has no row for %s", s.Name)
			continue
		}
		for _, line := range s.Lines {
			if !strings.Contains(line, "login.example.com") && !strings.Contains(line, "=") && !strings.Contains(line, ":") {
				continue
			}
			for _, name := range names.FindAllString(line, -1) {
				name = strings.TrimSuffix(strings.TrimSuffix(name, " = "), ": ")
				if !strings.Contains(row, name) {
					t.Errorf("%s: %q names %s, which the README's row does not", s.Name, line, name)
				}
			}
			if strings.Contains(line, "login.example.com") && !strings.Contains(line, "https://login.example.com") {
				t.Errorf("%s: %q", s.Name, line)
			}
		}
	}
}
