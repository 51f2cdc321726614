package oidc_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/passkeyd/passkeyd/internal/softauthn"
)

// TestRequestBoundToBrowser: a link to an authorization request someone
// else started (another browser, even signed in) is refused at the
// sign-in and the consent step, changing nothing; the browser that
// started it goes on.
func TestRequestBoundToBrowser(t *testing.T) {
	s := startInProcess(t)
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	res := s.get(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	loginURL := res.Header.Get("Location")
	if !strings.HasPrefix(loginURL, s.issuer+"/oidc/login?") {
		t.Fatalf("authorize sent the browser to %q, want the login step", loginURL)
	}
	var binding *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "passkeyd_oidc" {
			binding = c
		}
	}
	if binding == nil || !binding.HttpOnly || binding.SameSite != http.SameSiteLaxMode || binding.Path != "/" || binding.MaxAge <= 0 {
		t.Fatalf("authorize set the binding cookie %+v; want passkeyd_oidc, HttpOnly, SameSite=Lax, Path=/, with a lifetime", binding)
	}
	id := mustParse(t, loginURL).Query().Get("id")

	// Mallory's browser, signed in to passkeyd as herself.
	other := softauthn.NewClient(s.issuer, s.issuer, loopback())
	mallory := softauthn.New("localhost", s.issuer)
	if _, err := other.Register(t.Context(), mallory, "mallory@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.SignIn(t.Context(), mallory, "mallory@example.com", nil); err != nil {
		t.Fatal(err)
	}
	page, err := other.HTTP.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "started in another browser") || page.Header.Get("Location") != "" {
		t.Errorf("the login step in another browser: status %d, Location %q; want 403 and a page that says why:\n%s", page.StatusCode, page.Header.Get("Location"), body)
	}
	for _, decision := range []string{"allow", "deny"} {
		form := url.Values{"id": {id}, "decision": {decision}}
		req, _ := http.NewRequest(http.MethodPost, s.issuer+"/oidc/consent", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.issuer)
		res, err := other.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("consent %s from another browser: status %d, want 403", decision, res.StatusCode)
		}
	}
	got, err := s.store.FindOIDCAuthRequest(t.Context(), id, s.clock.Now())
	if err != nil || got.Done || got.UserID != "" {
		t.Fatalf("the request after the other browser's attempts: %+v, %v; want it untouched", got, err)
	}

	// The browser that started it signs in and consents.
	page, err = s.browser.HTTP.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(page.Body)
	page.Body.Close()
	m := consentID.FindSubmatch(body)
	if page.StatusCode != http.StatusOK || m == nil || string(m[1]) != id {
		t.Fatalf("the login step in the browser that started it: status %d; want the consent page", page.StatusCode)
	}
	form := url.Values{"id": {id}, "decision": {"allow"}}
	req, _ := http.NewRequest(http.MethodPost, s.issuer+"/oidc/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.issuer)
	res, err = s.browser.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if q := mustParse(t, res.Header.Get("Location")).Query(); res.StatusCode != http.StatusSeeOther || q.Get("code") == "" {
		t.Errorf("consent in the browser that started it: status %d, %v; want a code", res.StatusCode, q)
	}
}
