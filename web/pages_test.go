package web_test

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var scriptTag = regexp.MustCompile(`<script src="([^"]+)" defer></script>`)

// TestPageScripts: each page loads the shared app.js first, then only its
// own scripts, all under content-hashed names that answer with long cache
// headers.
func TestPageScripts(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "scripts@example.com")
	e.signIn(t, b, a, "", nil)
	anon := e.browser()
	hashed := regexp.MustCompile(`^/static/([a-z-]+)\.[0-9a-f]{12}\.js$`)
	for _, tc := range []struct {
		path     string
		signedIn bool
		want     []string
	}{
		{"/", false, []string{"app", "home"}},
		{"/dashboard", true, []string{"app", "dashboard", "dashboard-passkeys", "dashboard-email", "dashboard-profile", "dashboard-codes", "dashboard-sessions", "dashboard-log"}},
		{"/recover", false, []string{"app", "new-passkey", "recover"}},
		{"/recover/email", false, []string{"app", "new-passkey", "link"}},
		{"/verify-email", false, []string{"app", "link"}},
		{"/confirm-email", false, []string{"app", "link"}},
	} {
		client := anon.HTTP
		if tc.signedIn {
			client = b.HTTP
		}
		res, err := client.Get(e.srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", tc.path, res.StatusCode)
		}
		var got []string
		for _, m := range scriptTag.FindAllStringSubmatch(string(page), -1) {
			name := hashed.FindStringSubmatch(m[1])
			if name == nil {
				t.Errorf("%s loads %s, want /static/NAME.HASH.js", tc.path, m[1])
				continue
			}
			got = append(got, name[1])
			js, err := anon.HTTP.Get(e.srv.URL + m[1])
			if err != nil {
				t.Fatal(err)
			}
			js.Body.Close()
			if js.StatusCode != http.StatusOK || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") ||
				!strings.Contains(js.Header.Get("Cache-Control"), "immutable") {
				t.Errorf("GET %s: %d %q %q", m[1], js.StatusCode, js.Header.Get("Content-Type"), js.Header.Get("Cache-Control"))
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s loads %q, want %q", tc.path, got, tc.want)
		}
	}
}
