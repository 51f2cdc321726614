package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/console"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/oidc"
)

// walkBodies are bodies that would change something if the access check
// let the call through.
func walkBodies(bobEmail string) map[string]any {
	app := map[string]any{"name": "Walked", "redirectUris": []string{"https://walk.example.com/cb"}}
	return map[string]any{
		"POST /api/admin/setup":             map[string]string{"token": "not-a-setup-token"},
		"POST /api/admin/people/{id}/admin": map[string]bool{"admin": true},
		"DELETE /api/admin/people/{id}":     map[string]string{"confirm": bobEmail},
		"POST /api/admin/apps":              app,
		"PUT /api/admin/apps/{id}":          app,
		"POST /api/admin/groups":            map[string]string{"name": "walkers"},
		"PATCH /api/admin/groups/{id}":      map[string]string{"name": "walkers"},
		"POST /api/admin/api-keys":          map[string]string{"name": "walk"},
	}
}

// walkFixtures makes an app, a group (Bob in it), an API key and a
// connected app to aim every route at, and returns their IDs by section.
func walkFixtures(t *testing.T, store console.Store, bobID string, now time.Time) map[string]string {
	t.Helper()
	ctx := t.Context()
	app := &passkeyd.OIDCClient{ID: "walk-app", Name: "Walk App", SecretHash: oidc.HashSecret("s3cret-s3cret-s3cret-s3cret-s3cret"),
		RedirectURIs: []string{"https://app.example.com/cb"}, CreatedAt: now, UpdatedAt: now}
	if err := oidc.ValidateClient(app); err != nil {
		t.Fatal(err)
	}
	if err := store.CreateOIDCClient(ctx, app, nil); err != nil {
		t.Fatal(err)
	}
	g := &passkeyd.Group{ID: "walk-group", Name: "walkers-before", CreatedAt: now, UpdatedAt: now}
	if err := store.CreateGroup(ctx, g, passkeyd.NewEvent(now, passkeyd.Actor{}, "", passkeyd.EventGroupCreated, "", "fixture")); err != nil {
		t.Fatal(err)
	}
	if err := store.AddGroupMember(ctx, g.ID, bobID, passkeyd.NewEvent(now, passkeyd.Actor{}, bobID, passkeyd.EventGroupMemberAdded, "", "fixture")); err != nil {
		t.Fatal(err)
	}
	k := &passkeyd.APIKey{ID: "walk-key", Name: "walk-key", Hash: strings.Repeat("ab", 32), CreatedBy: "shell", CreatedAt: now}
	if err := store.CreateAPIKey(ctx, k, passkeyd.NewEvent(now, passkeyd.Actor{}, "", passkeyd.EventAPIKeyCreated, "", "fixture")); err != nil {
		t.Fatal(err)
	}
	if err := store.SaveOIDCConsent(ctx, &passkeyd.OIDCConsent{UserID: bobID, ClientID: app.ID, Scopes: []string{"openid"}, CreatedAt: now, LastUsedAt: now}); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"people": bobID, "apps": app.ID, "groups": g.ID, "api-keys": k.ID}
}

// walk calls every route of the table as each of callers and checks the
// status; nothing may change in the store, nor any email go out.
func walk(t *testing.T, routes []console.Route, store console.Store, ids map[string]string, bobEmail string,
	callers map[string]*softauthn.Client, wantStatus func(who string, rt console.Route) int, sent func() int) {
	t.Helper()
	bodies := walkBodies(bobEmail)
	before, mailsBefore := snapshot(t, store), sent()
	for _, who := range []string{"anonymous", "not an administrator"} {
		for _, rt := range routes {
			if !strings.HasPrefix(rt.Pattern, "/admin") && !strings.HasPrefix(rt.Pattern, "/api/admin") {
				t.Errorf("route %s %s is outside /admin and /api/admin", rt.Method, rt.Pattern)
			}
			path := pathFor(rt.Pattern, ids)
			res := call(t, callers[who], rt.Method, path, bodies[rt.Method+" "+rt.Pattern])
			if w := wantStatus(who, rt); res.Status != w {
				t.Errorf("%s: %s %s (%s): status %d, want %d: %.200s", who, rt.Method, path, rt.Access, res.Status, w, res.Body)
			}
		}
	}
	if after := snapshot(t, store); after != before {
		t.Errorf("the walk changed the store:\nbefore %s\nafter %s", before, after)
	}
	if n := sent(); n != mailsBefore {
		t.Errorf("the walk sent %d emails", n-mailsBefore)
	}
}

// TestWalkRefusesOthers walks every route of the table as an anonymous
// caller (401) and as a signed-in person who is not an administrator
// (403), and checks that nothing changed. The setup routes admit any
// signed-in person: their page shows (200), and the claim without a
// valid link is 404.
func TestWalkRefusesOthers(t *testing.T) {
	h := newHarness(t)
	ids := walkFixtures(t, h.store, h.bobID, h.clock.Now())
	routes := h.console.Routes()
	if len(routes) < 40 {
		t.Fatalf("%d routes in the table", len(routes))
	}
	walk(t, routes, h.store, ids, h.bobEmail, map[string]*softauthn.Client{"anonymous": h.anon, "not an administrator": h.bob},
		func(who string, rt console.Route) int {
			switch {
			case who == "anonymous":
				return http.StatusUnauthorized
			case rt.Access != console.Setup:
				return http.StatusForbidden
			case rt.Page:
				return http.StatusOK
			}
			return http.StatusNotFound
		}, h.mails.count)
	// The pages say why: sign in, or not an administrator.
	call(t, h.anon, "GET", "/admin/people", nil)
	if p := h.pages.lastPage(); p.Section != "signed-out" {
		t.Errorf("anonymous page: section %q, want signed-out", p.Section)
	}
	call(t, h.bob, "GET", "/admin/people", nil)
	if p := h.pages.lastPage(); p.Section != "forbidden" || p.Admin != "" {
		t.Errorf("non-administrator's page: section %q, admin %q; want forbidden, none", p.Section, p.Admin)
	}
	// The administrator gets each page, with the section and ID.
	res := call(t, h.alice, "GET", "/admin/people/"+h.bobID, nil)
	if p := h.pages.lastPage(); res.Status != http.StatusOK || p.Section != "person" || p.ID != h.bobID || p.Admin != h.aliceEmail {
		t.Errorf("person page: status %d, %+v", res.Status, p)
	}
	// Unknown paths are not found, for anyone.
	want(t, call(t, h.alice, "GET", "/api/admin/nothing", nil), http.StatusNotFound, nil)
	want(t, call(t, h.anon, "GET", "/admin/nothing", nil), http.StatusNotFound, nil)
}

// A signed-in person's recovery session is no administrator's session.
func TestRecoverySessionIsNoAdmin(t *testing.T) {
	h := newHarness(t)
	res := call(t, h.alice, "GET", "/api/admin/me", nil)
	var me struct{ Email, UserID string }
	want(t, res, http.StatusOK, &me)
	if me.Email != h.aliceEmail || me.UserID != h.aliceID {
		t.Fatalf("me = %+v", me)
	}
	// Alice gets back in with a recovery code: her new session is a
	// recovery session until she adds a passkey.
	res = call(t, h.alice, "POST", "/api/recovery/codes", map[string]string{})
	var codes struct{ Codes []string }
	want(t, res, http.StatusOK, &codes)
	lost := softauthn.NewClient(h.base, h.base, loopback())
	want(t, call(t, lost, "POST", "/api/recovery/codes/verify", map[string]string{"email": h.aliceEmail, "code": codes.Codes[0]}), http.StatusOK, nil)
	res = call(t, lost, "GET", "/api/admin/me", nil)
	want(t, res, http.StatusForbidden, nil)
}

// An API key calls the API as an administrator would, without cookies;
// its actions name it; a revoked key is refused.
func TestAPIKey(t *testing.T) {
	h := newHarness(t)
	// Alice makes a key in the console (a step-up call: she signed in
	// just now).
	res := call(t, h.alice, "POST", "/api/admin/api-keys", map[string]string{"name": "terraform"})
	var made struct {
		Key struct {
			ID, Name, CreatedBy string
		}
		Secret string
	}
	want(t, res, http.StatusCreated, &made)
	if !strings.HasPrefix(made.Secret, "pkd_") || made.Key.CreatedBy != h.aliceEmail {
		t.Fatalf("made %+v", made)
	}
	script := withKey(h.base, made.Secret)
	var me struct{ APIKey string }
	want(t, call(t, script, "GET", "/api/admin/me", nil), http.StatusOK, &me)
	if me.APIKey != "terraform" {
		t.Errorf("me = %+v", me)
	}
	var people struct {
		People []struct{ ID, Email string }
		Total  int
	}
	want(t, call(t, script, "GET", "/api/admin/people", nil), http.StatusOK, &people)
	if people.Total != 2 {
		t.Errorf("people: %+v", people)
	}
	// A destructive call needs no step-up from a key; it is logged with
	// the key's name.
	want(t, call(t, script, "POST", "/api/admin/people/"+h.bobID+"/disable", nil), http.StatusNoContent, nil)
	events, err := h.store.ListAuditEvents(t.Context(), passkeyd.AuditQuery{Type: passkeyd.EventUserDisabled, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].AdminID != "apikey:"+made.Key.ID || events[0].AdminName != "API key terraform" || events[0].UserID != h.bobID {
		t.Fatalf("disable events %+v", events)
	}
	keys, err := h.store.ListAPIKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].LastUsedAt.IsZero() {
		t.Errorf("keys after use: %+v", keys)
	}
	// Revoked, it opens nothing; neither does a cookie beside it.
	want(t, call(t, h.alice, "DELETE", "/api/admin/api-keys/"+made.Key.ID, nil), http.StatusNoContent, nil)
	want(t, call(t, script, "GET", "/api/admin/people", nil), http.StatusUnauthorized, nil)
	aliceWithBadKey := h.alice
	aliceWithBadKey.HTTP.Transport = &bearer{key: made.Secret, next: loopback()}
	want(t, call(t, aliceWithBadKey, "GET", "/api/admin/me", nil), http.StatusUnauthorized, nil)
	want(t, call(t, withKey(h.base, "pkd_short"), "GET", "/api/admin/me", nil), http.StatusUnauthorized, nil)
	// Another scheme (HTTP Basic, sent by a browser behind a proxy that
	// asks for it) is not the console's: the session decides.
	aliceBehindProxy := h.alice
	aliceBehindProxy.HTTP.Transport = &basicAuth{next: loopback()}
	want(t, call(t, aliceBehindProxy, "GET", "/api/admin/me", nil), http.StatusOK, nil)
}

// A key belongs to the administrator who made it, and a key made with it
// to them too: when Bob revokes Alice's role, both stop working, and his
// own key does not.
func TestKeysEndWithTheirAdministrator(t *testing.T) {
	h := newHarness(t)
	makeKey := func(by *softauthn.Client, name string) *softauthn.Client {
		t.Helper()
		var made struct{ Secret string }
		want(t, call(t, by, "POST", "/api/admin/api-keys", map[string]string{"name": name}), http.StatusCreated, &made)
		return withKey(h.base, made.Secret)
	}
	alices := makeKey(h.alice, "alice's")
	madeWithAlices := makeKey(alices, "made with alice's")
	want(t, call(t, h.alice, "POST", "/api/admin/people/"+h.bobID+"/admin", map[string]bool{"admin": true}), http.StatusNoContent, nil)
	bobs := makeKey(h.bob, "bob's")
	for _, c := range []*softauthn.Client{alices, madeWithAlices, bobs} {
		want(t, call(t, c, "GET", "/api/admin/me", nil), http.StatusOK, nil)
	}

	want(t, call(t, h.bob, "POST", "/api/admin/people/"+h.aliceID+"/admin", map[string]bool{"admin": false}), http.StatusNoContent, nil)
	want(t, call(t, alices, "GET", "/api/admin/me", nil), http.StatusUnauthorized, nil)
	want(t, call(t, madeWithAlices, "GET", "/api/admin/me", nil), http.StatusUnauthorized, nil)
	want(t, call(t, bobs, "GET", "/api/admin/me", nil), http.StatusOK, nil)
	events, err := h.store.ListAuditEvents(t.Context(), passkeyd.AuditQuery{Type: passkeyd.EventAPIKeyRevoked, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].AdminName != h.bobEmail {
		t.Errorf("api_key_revoked events %+v; want two, made by Bob", events)
	}
}

type basicAuth struct{ next http.RoundTripper }

func (b *basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth("proxy-user", "proxy-password")
	return b.next.RoundTrip(r)
}

// Destructive calls need a recent passkey verification: an older session
// gets step_up_required and changes nothing; signing in again lets it.
func TestStepUp(t *testing.T) {
	h := newHarness(t)
	h.clock.Advance(6 * time.Minute) // STEP_UP_WINDOW is 5 minutes
	for _, rt := range h.console.Routes() {
		if rt.Access != console.StepUp {
			continue
		}
		before := snapshot(t, h.store)
		path := pathFor(rt.Pattern, map[string]string{"people": h.bobID, "apps": "none", "groups": "none", "api-keys": "none"})
		res := call(t, h.alice, rt.Method, path, walkBodies(h.bobEmail)[rt.Method+" "+rt.Pattern])
		if res.Status != http.StatusForbidden || errorCode(res) != "step_up_required" {
			t.Errorf("%s %s with a stale session: %d %s, want 403 step_up_required", rt.Method, path, res.Status, res.Body)
		}
		if after := snapshot(t, h.store); after != before {
			t.Errorf("%s %s changed the store", rt.Method, path)
		}
	}
	// Reading is not destructive.
	want(t, call(t, h.alice, "GET", "/api/admin/people/"+h.bobID, nil), http.StatusOK, nil)
	h.signInAgain(t, h.alice, h.aliceKey, h.aliceEmail)
	want(t, call(t, h.alice, "POST", "/api/admin/people/"+h.bobID+"/disable", nil), http.StatusNoContent, nil)
}

// The last administrator can neither stop being one, nor be disabled or
// deleted; with another administrator, they can.
func TestLastAdmin(t *testing.T) {
	h := newHarness(t)
	me := "/api/admin/people/" + h.aliceID
	res := call(t, h.alice, "POST", me+"/admin", map[string]bool{"admin": false})
	want(t, res, http.StatusConflict, nil)
	want(t, call(t, h.alice, "POST", me+"/disable", nil), http.StatusConflict, nil)
	want(t, call(t, h.alice, "DELETE", me, map[string]string{"confirm": h.aliceEmail}), http.StatusConflict, nil)
	if admin, _ := h.store.IsAdmin(t.Context(), h.aliceID); !admin {
		t.Fatal("Alice is no longer an administrator")
	}
	// Bob becomes one; then Alice may step down.
	want(t, call(t, h.alice, "POST", "/api/admin/people/"+h.bobID+"/admin", map[string]bool{"admin": true}), http.StatusNoContent, nil)
	want(t, call(t, h.bob, "GET", "/api/admin/me", nil), http.StatusOK, nil)
	want(t, call(t, h.alice, "POST", me+"/admin", map[string]bool{"admin": false}), http.StatusNoContent, nil)
	want(t, call(t, h.alice, "GET", "/api/admin/me", nil), http.StatusForbidden, nil)
	// Bob, now the last one, cannot disable himself.
	want(t, call(t, h.bob, "POST", "/api/admin/people/"+h.bobID+"/disable", nil), http.StatusConflict, nil)
}

// Deleting an account takes its address typed in full; the event names
// the administrator.
func TestDeletePerson(t *testing.T) {
	h := newHarness(t)
	path := "/api/admin/people/" + h.bobID
	for _, body := range []any{map[string]string{"confirm": "bob@example.org"}, map[string]string{}, nil,
		map[string]any{"confirm": h.bobEmail, "force": true}} {
		before := snapshot(t, h.store)
		want(t, call(t, h.alice, "DELETE", path, body), http.StatusBadRequest, nil)
		if snapshot(t, h.store) != before {
			t.Fatalf("a refused delete (%v) changed the store", body)
		}
	}
	want(t, call(t, h.alice, "DELETE", path, map[string]string{"confirm": "BOB@example.com"}), http.StatusNoContent, nil)
	if _, err := h.store.FindUserByID(t.Context(), h.bobID); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
		t.Fatalf("Bob is still there: %v", err)
	}
	want(t, call(t, h.bob, "GET", "/api/auth/me", nil), http.StatusUnauthorized, nil)
	var audit struct {
		Events []struct{ Type, UserID, AdminName, Detail, IP string }
	}
	want(t, call(t, h.alice, "GET", "/api/admin/audit?type=user_deleted", nil), http.StatusOK, &audit)
	if len(audit.Events) != 1 || audit.Events[0].AdminName != h.aliceEmail || audit.Events[0].UserID != h.bobID || audit.Events[0].IP == "" {
		t.Fatalf("audit: %+v", audit.Events)
	}
}

// An app made in the console works with the provider: its secret, shown
// once, authenticates it at the token endpoint; rotating it ends the old
// one; bad settings are refused and write nothing.
func TestApps(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{"name": "Grafana", "redirectUris": []string{"https://grafana.example.com/login/generic_oauth"},
		"postLogoutRedirectUris": []string{"https://grafana.example.com/login"}, "accessTokenTtl": "15m", "trusted": true}
	for name, bad := range map[string]map[string]any{
		"http redirect":   {"name": "X", "redirectUris": []string{"http://grafana.example.com/cb"}},
		"wildcard":        {"name": "X", "redirectUris": []string{"https://*.example.com/cb"}},
		"no name":         {"redirectUris": []string{"https://x.example.com/cb"}},
		"unknown field":   {"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "secret": "mine"},
		"bad lifetime":    {"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "idTokenTtl": "soon"},
		"short lifetime":  {"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "idTokenTtl": "10s"},
		"unknown scope":   {"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "scopes": []string{"openid", "admin"}},
		"bad group":       {"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "allowedGroups": []string{"has space"}},
		"unknown group":   {"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "allowedGroups": []string{"nobody"}},
		"wrong type":      {"name": "X", "redirectUris": "https://x.example.com/cb"},
		"allowed address": {"name": "X", "redirectUris": []string{"https://x.example.com/cb"}, "allowedUsers": []string{"not an address"}},
	} {
		before := snapshot(t, h.store)
		res := call(t, h.alice, "POST", "/api/admin/apps", bad)
		if res.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", name, res.Status, res.Body)
		}
		if snapshot(t, h.store) != before {
			t.Errorf("%s: a refused app changed the store", name)
		}
	}

	var made struct {
		App struct {
			ID, Name, IDTokenAlg, AccessTokenTTL string
			Scopes                               []string
			Trusted, Declared                    bool
		}
		Secret string
	}
	want(t, call(t, h.alice, "POST", "/api/admin/apps", body), http.StatusCreated, &made)
	if made.Secret == "" || made.App.ID == "" || made.App.IDTokenAlg != "RS256" || made.App.AccessTokenTTL != "15m" || !made.App.Trusted || len(made.App.Scopes) != 4 {
		t.Fatalf("made %+v", made)
	}
	stored, err := h.store.FindOIDCClient(t.Context(), made.App.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.SecretHash != oidc.HashSecret(made.Secret) || stored.AccessTokenTTL != 15*time.Minute {
		t.Fatalf("stored %+v", stored)
	}
	// A taken client ID is refused, and writes nothing (no event either).
	before := snapshot(t, h.store)
	taken := map[string]any{"id": made.App.ID, "name": "Again", "redirectUris": []string{"https://again.example.com/cb"}}
	want(t, call(t, h.alice, "POST", "/api/admin/apps", taken), http.StatusConflict, nil)
	if snapshot(t, h.store) != before {
		t.Error("a refused app (taken ID) changed the store")
	}
	// The secret is never shown again.
	res := call(t, h.alice, "GET", "/api/admin/apps/"+made.App.ID, nil)
	var shown struct {
		App          map[string]any
		DiscoveryURL string
		Settings     []console.AppSetting
	}
	want(t, res, http.StatusOK, &shown)
	if strings.Contains(string(res.Body), made.Secret) || strings.Contains(string(res.Body), stored.SecretHash) {
		t.Fatal("the app's page shows its secret or hash")
	}
	if shown.DiscoveryURL != h.base+"/.well-known/openid-configuration" || len(shown.Settings) != 5 {
		t.Errorf("app page: %s %d settings", shown.DiscoveryURL, len(shown.Settings))
	}
	// The provider takes the secret: its revocation endpoint
	// authenticates the client (200 for any token, RFC 7009), 401
	// invalid_client with a wrong secret.
	tokenStatus := func(secret string) int {
		form := url.Values{"token": {"no-such-token"}}
		req, _ := http.NewRequestWithContext(t.Context(), "POST", h.base+"/oidc/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(made.App.ID), url.QueryEscape(secret))
		r, err := (&http.Client{Transport: loopback()}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if got := tokenStatus(made.Secret); got != http.StatusOK {
		t.Errorf("revocation with the console's secret: %d, want 200", got)
	}
	if got := tokenStatus("wrong-secret-wrong-secret-wrong-secret"); got != http.StatusUnauthorized {
		t.Errorf("token request with a wrong secret: %d, want 401", got)
	}

	// Update replaces the settings; the client ID and type stay.
	body["name"] = "Grafana (ops)"
	body["accessTokenTtl"] = ""
	want(t, call(t, h.alice, "PUT", "/api/admin/apps/"+made.App.ID, body), http.StatusOK, nil)
	body["public"] = true
	want(t, call(t, h.alice, "PUT", "/api/admin/apps/"+made.App.ID, body), http.StatusBadRequest, nil)
	delete(body, "public")
	if stored, _ = h.store.FindOIDCClient(t.Context(), made.App.ID); stored.Name != "Grafana (ops)" || stored.AccessTokenTTL != 0 {
		t.Errorf("updated %+v", stored)
	}

	var rotated struct{ Secret string }
	want(t, call(t, h.alice, "POST", "/api/admin/apps/"+made.App.ID+"/secret", nil), http.StatusOK, &rotated)
	if got := tokenStatus(made.Secret); got != http.StatusUnauthorized {
		t.Errorf("the old secret after rotation: %d, want 401", got)
	}
	if got := tokenStatus(rotated.Secret); got != http.StatusOK {
		t.Errorf("the new secret: %d, want 200", got)
	}

	// A public app has no secret.
	var spa struct {
		App    struct{ ID string }
		Secret *string
	}
	want(t, call(t, h.alice, "POST", "/api/admin/apps", map[string]any{"name": "SPA", "public": true,
		"redirectUris": []string{"http://127.0.0.1:9/cb"}}), http.StatusCreated, &spa)
	if spa.Secret != nil {
		t.Errorf("a public app got a secret")
	}
	want(t, call(t, h.alice, "POST", "/api/admin/apps/"+spa.App.ID+"/secret", nil), http.StatusConflict, nil)

	// Apps of OIDC_CLIENTS_FILE are read-only.
	declared := []*passkeyd.OIDCClient{{ID: "from-file", Name: "From file", SecretHash: oidc.HashSecret(strings.Repeat("f", 40)),
		RedirectURIs: []string{"https://file.example.com/cb"}}}
	if err := oidc.ApplyClients(t.Context(), h.store, declared, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	before = snapshot(t, h.store)
	want(t, call(t, h.alice, "PUT", "/api/admin/apps/from-file", body), http.StatusConflict, nil)
	want(t, call(t, h.alice, "POST", "/api/admin/apps/from-file/secret", nil), http.StatusConflict, nil)
	want(t, call(t, h.alice, "DELETE", "/api/admin/apps/from-file", nil), http.StatusConflict, nil)
	if snapshot(t, h.store) != before {
		t.Error("a declared app changed")
	}

	want(t, call(t, h.alice, "DELETE", "/api/admin/apps/"+made.App.ID, nil), http.StatusNoContent, nil)
	want(t, call(t, h.alice, "GET", "/api/admin/apps/"+made.App.ID, nil), http.StatusNotFound, nil)
	if got := tokenStatus(rotated.Secret); got != http.StatusUnauthorized {
		t.Errorf("a deleted app's secret: %d, want 401", got)
	}

	// Each change is in the audit log, naming the app and Alice.
	var audit struct {
		Events []struct{ Type, ClientID, AdminName string }
	}
	want(t, call(t, h.alice, "GET", "/api/admin/audit?app="+made.App.ID, nil), http.StatusOK, &audit)
	var types []string
	for _, e := range audit.Events {
		if e.AdminName != h.aliceEmail || e.ClientID != made.App.ID {
			t.Errorf("event %+v", e)
		}
		types = append(types, e.Type)
	}
	if got, want := strings.Join(types, " "), "app_deleted app_secret_rotated app_updated app_created"; got != want {
		t.Errorf("app events %q, want %q", got, want)
	}
}
