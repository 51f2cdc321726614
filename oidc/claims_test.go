package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

var consentClaim = regexp.MustCompile(`data-claim="([^"]+)"`)

// profileClaims are the claims about the user that depend on the scopes.
var profileClaims = []string{"sub", "email", "email_verified", "name", "preferred_username"}

// consentAndToken runs a sign-in with prompt=consent for scopes: it
// returns the claims the consent page lists (its data-claim items), and
// the ID token's payload and the userinfo answer, raw.
func (s *server) consentAndToken(t *testing.T, p *gooidc.Provider, scopes ...string) (listed []string, idToken, userinfo map[string]any, raw string) {
	t.Helper()
	conf := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	conf.Scopes = scopes
	verifier := oauth2.GenerateVerifier()
	res := s.get(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "consent")))
	page, err := s.browser.HTTP.Get(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := consentID.FindSubmatch(body)
	if page.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("login step: status %d, want the consent page:\n%s", page.StatusCode, body)
	}
	for _, c := range consentClaim.FindAllSubmatch(body, -1) {
		listed = append(listed, string(c[1]))
	}
	form := url.Values{"id": {string(m[1])}, "decision": {"allow"}}
	req, _ := http.NewRequest(http.MethodPost, s.issuer+"/oidc/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.issuer)
	if res, err = s.browser.HTTP.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	code := mustParse(t, res.Header.Get("Location")).Query().Get("code")
	tok, err := conf.Exchange(s.rpContext(t), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	jwt, _ := tok.Extra("id_token").(string)
	if _, err := p.Verifier(&gooidc.Config{ClientID: "app"}).Verify(s.rpContext(t), jwt); err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	parts := strings.Split(jwt, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(payload, &idToken) != nil {
		t.Fatalf("ID token payload %q: %v", parts[1], err)
	}
	req, _ = http.NewRequest(http.MethodGet, s.issuer+"/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	ui, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	uiBody, _ := io.ReadAll(ui.Body)
	ui.Body.Close()
	if ui.StatusCode != http.StatusOK || json.Unmarshal(uiBody, &userinfo) != nil {
		t.Fatalf("userinfo: %d %s", ui.StatusCode, uiBody)
	}
	return listed, idToken, userinfo, string(payload) + string(uiBody)
}

// about returns the keys of claims that are in profileClaims, sorted.
func about(claims map[string]any) []string {
	var out []string
	for k := range claims {
		if slices.Contains(profileClaims, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TestProfileScopeCarriesNoEmail: an app granted openid profile receives
// neither the address nor any part of it; a name or username the user has
// not set is left out, and one they set is sent. The consent page lists
// exactly the claims the ID token and userinfo then carry.
func TestProfileScopeCarriesNoEmail(t *testing.T) {
	s := startServer(t) // alice@example.com, signed up with no name
	p := s.provider(t)
	check := func(t *testing.T, want []string, scopes ...string) (map[string]any, map[string]any) {
		t.Helper()
		listed, idToken, userinfo, raw := s.consentAndToken(t, p, scopes...)
		sort.Strings(listed)
		if !slices.Equal(listed, want) || !slices.Equal(about(idToken), want) || !slices.Equal(about(userinfo), want) {
			t.Errorf("scopes %v: consent page lists %v, ID token carries %v, userinfo %v; want %v for all three",
				scopes, listed, about(idToken), about(userinfo), want)
		}
		if !slices.Contains(scopes, "email") && (strings.Contains(raw, "alice@") || strings.Contains(raw, "example.com") || strings.Contains(raw, `"alice"`)) {
			t.Errorf("scopes %v without email: the address or a part of it reached the app:\n%s", scopes, raw)
		}
		return idToken, userinfo
	}

	t.Run("Unset", func(t *testing.T) {
		check(t, []string{"sub"}, "openid", "profile")
	})
	t.Run("EmailScope", func(t *testing.T) {
		idToken, _ := check(t, []string{"email", "email_verified", "sub"}, "openid", "email", "profile")
		if idToken["email"] != "alice@example.com" {
			t.Errorf("email %v, want alice@example.com under the email scope", idToken["email"])
		}
	})
	t.Run("Set", func(t *testing.T) {
		res, err := s.browser.Do(t.Context(), http.MethodPut, "/api/account/profile", []byte(`{"displayName": "Alice Liddell", "username": "wonderland"}`))
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("set profile: %v %+v", err, res)
		}
		idToken, userinfo := check(t, []string{"name", "preferred_username", "sub"}, "openid", "profile")
		for _, claims := range []map[string]any{idToken, userinfo} {
			if claims["name"] != "Alice Liddell" || claims["preferred_username"] != "wonderland" {
				t.Errorf("claims %v: want the name and username set on the dashboard", claims)
			}
		}
	})
}
