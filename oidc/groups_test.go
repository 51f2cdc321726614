package oidc_test

import (
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/passkeyd/passkeyd/internal/testserver"
)

// passkeyd runs a subcommand of the passkeyd binary on s's database, as
// an operator would on the server while it runs.
func (s *server) passkeyd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(testserver.Binary(t), args...)
	cmd.Env, cmd.Dir = s.env, s.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("passkeyd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// groupsOf returns the groups claim of claims, and whether there is one.
func groupsOf(t *testing.T, claims map[string]any) ([]string, bool) {
	t.Helper()
	raw, ok := claims["groups"]
	if !ok {
		return nil, false
	}
	list, isList := raw.([]any)
	if !isList {
		t.Fatalf("groups claim %#v: want a JSON array", raw)
	}
	names := []string{}
	for _, v := range list {
		name, _ := v.(string)
		names = append(names, name)
	}
	return names, true
}

const groupsClients = `{"clients": [
		{"id": "app", "name": "Test App", "secret": "` + appSecret + `", "redirect_uris": ["` + appRedirect + `"],
		 "scopes": ["openid", "email", "profile", "offline_access", "groups"]},
		{"id": "plain", "name": "Plain App", "secret": "` + appSecret + `", "redirect_uris": ["` + appRedirect + `"]}
	]}`

// TestGroupsClaim (issue 20, item 3): the groups scope gives the app the
// names of the user's groups, sorted, in the ID token and userinfo, and
// the consent page says so; discovery offers it; an app not given the
// scope gets no groups.
func TestGroupsClaim(t *testing.T) {
	s := startServerWithClients(t, groupsClients)
	p := s.provider(t)

	var discovery struct {
		Scopes []string `json:"scopes_supported"`
		Claims []string `json:"claims_supported"`
	}
	if err := p.Claims(&discovery); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(discovery.Scopes, "groups") || !slices.Contains(discovery.Claims, "groups") {
		t.Errorf("discovery: scopes_supported %v, claims_supported %v; want groups in both", discovery.Scopes, discovery.Claims)
	}

	check := func(t *testing.T, want []string) {
		t.Helper()
		listed, idToken, userinfo, _ := s.consentAndToken(t, p, "openid", "groups")
		if !slices.Contains(listed, "groups") {
			t.Errorf("the consent page lists %v, want groups", listed)
		}
		for what, claims := range map[string]map[string]any{"ID token": idToken, "userinfo": userinfo} {
			if got, ok := groupsOf(t, claims); !ok || !slices.Equal(got, want) {
				t.Errorf("%s: groups %v (present: %v), want %v", what, got, ok, want)
			}
		}
	}
	consentPage := func(t *testing.T) string {
		t.Helper()
		conf := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
		conf.Scopes = []string{"openid", "groups"}
		a := s.login(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("prompt", "consent")))
		if a.status != http.StatusOK {
			t.Fatalf("consent page: status %d\n%s", a.status, a.body)
		}
		return a.body
	}

	t.Run("NoGroups", func(t *testing.T) {
		check(t, []string{}) // an empty array, not a missing claim
		if body := consentPage(t); !strings.Contains(body, "Your groups (now: none)") {
			t.Errorf("consent page without groups:\n%s", body)
		}
	})
	t.Run("Member", func(t *testing.T) {
		s.passkeyd(t, "groups", "add", "ops")
		s.passkeyd(t, "groups", "add", "Admins")
		s.passkeyd(t, "groups", "add", "viewers")
		s.passkeyd(t, "groups", "members", "ops", "-add", "alice@example.com")
		s.passkeyd(t, "groups", "members", "Admins", "-add", "alice@example.com")
		check(t, []string{"Admins", "ops"})
		if body := consentPage(t); !strings.Contains(body, "Your groups: Admins, ops") {
			t.Errorf("consent page of a member of Admins and ops:\n%s", body)
		}
	})
	t.Run("WithoutTheScope", func(t *testing.T) {
		listed, idToken, userinfo, _ := s.consentAndToken(t, p, "openid", "email")
		if _, ok := groupsOf(t, idToken); ok || slices.Contains(listed, "groups") {
			t.Errorf("without the groups scope: consent lists %v, ID token %v; want no groups", listed, idToken)
		}
		if _, ok := groupsOf(t, userinfo); ok {
			t.Errorf("without the groups scope: userinfo %v; want no groups", userinfo)
		}
	})
	t.Run("AppNotGivenTheScope", func(t *testing.T) {
		conf := s.config(p, "plain", appRedirect, oauth2.AuthStyleInHeader)
		conf.Scopes = []string{"openid", "groups"}
		_, idt := s.signIn(t, p, conf)
		var claims map[string]any
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if _, ok := groupsOf(t, claims); ok {
			t.Errorf("an app without the groups scope asked for it and got %v", claims["groups"])
		}
	})
}

const allowedGroupsClients = `{"clients": [
		{"id": "ops-app", "name": "Ops App", "secret": "` + appSecret + `", "redirect_uris": ["` + appRedirect + `"],
		 "allowed_groups": ["ops"]},
		{"id": "either", "name": "Either App", "secret": "` + appSecret + `", "redirect_uris": ["` + appRedirect + `"],
		 "allowed_users": ["@example.org"], "allowed_groups": ["ops"]},
		{"id": "org", "name": "Org App", "secret": "` + appSecret + `", "redirect_uris": ["` + appRedirect + `"],
		 "allowed_users": ["@example.org"]}
	]}`

// TestAllowedGroups (issue 20, item 3): an app that admits only members
// of given groups (beside, or instead of, addresses) refuses others with
// passkeyd's page, which names the app and none of its addresses, and
// whose button tells the app access_denied; an address allow-list refuses
// the same way. Taken out of the group, a member's refresh token stops.
func TestAllowedGroups(t *testing.T) {
	s := startServerWithClients(t, allowedGroupsClients) // ops is made at start: the file names it
	p := s.provider(t)
	pkce := func() oauth2.AuthCodeOption { return oauth2.S256ChallengeOption(oauth2.GenerateVerifier()) }
	opsApp := s.config(p, "ops-app", appRedirect, oauth2.AuthStyleInHeader)
	either := s.config(p, "either", appRedirect, oauth2.AuthStyleInHeader)
	org := s.config(p, "org", appRedirect, oauth2.AuthStyleInHeader)

	refused := func(t *testing.T, conf *oauth2.Config, app string) {
		t.Helper()
		a := s.login(t, conf.AuthCodeURL("st", pkce()))
		wantPage(t, "alice at "+app, a, http.StatusForbidden, "You have no access to "+app, "alice@example.com", `id="back-to-app"`, "Back to "+app)
		if strings.Contains(a.body, "127.0.0.1:9") || strings.Contains(a.body, "callback") {
			t.Errorf("the no-access page shows the app's redirect URI:\n%s", a.body)
		}
		id := requestID.FindStringSubmatch(a.body)
		if id == nil {
			t.Fatalf("the no-access page has no request ID:\n%s", a.body)
		}
		c := s.send(t, http.MethodPost, s.issuer+"/oidc/cancel", url.Values{"id": {id[1]}})
		q := mustParse(t, c.location).Query()
		if c.status != http.StatusSeeOther || q.Get("error") != "access_denied" || q.Get("state") != "st" || q.Get("code") != "" ||
			!strings.Contains(q.Get("error_description"), "may not sign in") {
			t.Errorf("Back to %s: status %d, %v; want access_denied back to the app", app, c.status, q)
		}
		// prompt=none shows no page: the app hears at once.
		a = s.login(t, conf.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("prompt", "none")))
		if q := mustParse(t, a.location).Query(); a.status != http.StatusSeeOther || q.Get("error") != "access_denied" {
			t.Errorf("prompt=none at %s: status %d, %v; want access_denied", app, a.status, q)
		}
	}

	t.Run("NotAMember", func(t *testing.T) {
		refused(t, opsApp, "Ops App")
		refused(t, either, "Either App")
		refused(t, org, "Org App") // the address allow-list: the same page
	})

	var refresh string
	t.Run("Member", func(t *testing.T) {
		s.passkeyd(t, "groups", "members", "ops", "-add", "alice@example.com")
		tok, _ := s.signIn(t, p, opsApp)
		refresh = tok.RefreshToken
		s.signIn(t, p, either) // a member of a listed group, though not on the address list
		refused(t, org, "Org App")
	})

	t.Run("RemovedFromTheGroup", func(t *testing.T) {
		if refresh == "" {
			t.Fatal("Member got no refresh token")
		}
		s.passkeyd(t, "groups", "members", "ops", "-remove", "alice@example.com")
		if _, err := opsApp.TokenSource(s.rpContext(t), &oauth2.Token{RefreshToken: refresh}).Token(); err == nil {
			t.Error("a refresh token of a member taken out of the app's group still works")
		}
		refused(t, opsApp, "Ops App")
	})
}
