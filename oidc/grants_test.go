package oidc_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/mail/mailtest"
	"github.com/passkeyd/passkeyd/oidc"
)

// TestAccountEventsEndAppGrants runs the real binary and a real relying
// party (x/oauth2, go-oidc): after a takeover, a recovery through an
// operator's link, or disabling and re-enabling an account, the app's
// refresh and access tokens granted before no longer work, and the app
// must ask for consent again.
func TestAccountEventsEndAppGrants(t *testing.T) {
	smtp := mailtest.NewServer(t)
	dir := t.TempDir()
	// The squatter of the takeover case signs in to the app with an address
	// nobody confirmed, as an app that allows unconfirmed addresses lets
	// them (by default passkeyd stops them before the app).
	clients := strings.Replace(testClients, `"name": "Test App",`, `"name": "Test App", "allow_unverified_email": true,`, 1)
	s := startInstances(t, "file:"+filepath.Join(dir, "passkeyd.db"), clients, 1, withMail(smtp))[0]
	p := s.provider(t)
	ctx := s.rpContext(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)

	// as returns s driven by a browser of its own, signed up and in as
	// email with a new authenticator.
	as := func(t *testing.T, email string) (*server, *softauthn.Authenticator) {
		t.Helper()
		b := *s
		b.browser = softauthn.NewClient(s.issuer, s.issuer, loopback())
		a := softauthn.New("localhost", s.issuer)
		if _, err := b.browser.Register(t.Context(), a, email); err != nil {
			t.Fatalf("register %s: %v", email, err)
		}
		res, err := b.browser.SignIn(t.Context(), a, email, nil)
		if err != nil {
			t.Fatalf("sign in %s: %v", email, err)
		}
		b.userID = res.User.ID
		return &b, a
	}
	passkeyd := func(t *testing.T, args ...string) string {
		t.Helper()
		cmd := exec.Command(testserver.Binary(t), args...)
		cmd.Env, cmd.Dir = s.env, s.dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("passkeyd %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	wantEnded := func(t *testing.T, tok *oauth2.Token, what string) {
		t.Helper()
		if _, err := app.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Errorf("the app's refresh token still works after %s", what)
		}
		if _, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Errorf("the app's access token still works after %s", what)
		}
	}
	wantAskedAgain := func(t *testing.T, b *server) {
		t.Helper()
		back, asked := b.authorize(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if !asked || back.Query().Get("code") == "" {
			t.Errorf("next sign-in to the app: consent asked %v, response %v; want the consent page, then a code", asked, back.Query())
		}
	}
	wantNoApps := func(t *testing.T, b *server) {
		t.Helper()
		res, err := b.browser.Do(t.Context(), http.MethodGet, "/api/apps", nil)
		if err != nil || res.Status != http.StatusOK || !bytes.Contains(res.Body, []byte(`"apps":[]`)) {
			t.Errorf("Connected apps = %v, %v; want none", res, err)
		}
	}

	// High: whoever signed up with someone else's address keeps no app
	// once its owner takes the account over.
	t.Run("Takeover", func(t *testing.T) {
		squatter, _ := as(t, "victim@example.com")
		tok, idt := squatter.signIn(t, p, app)
		owner := *s
		owner.browser = softauthn.NewClient(s.issuer, s.issuer, loopback())
		if res, err := owner.browser.PostJSON(t.Context(), "/api/recovery/email", map[string]string{"email": "victim@example.com"}); err != nil || res.Status != http.StatusAccepted {
			t.Fatalf("ask for a recovery email: %v, %v", res, err)
		}
		var msg mailtest.Received
		for !strings.Contains(msg.Text, "/recover/takeover?token=") { // past the sign-up's confirmation email
			var err error
			if msg, err = smtp.Wait(t.Context(), "victim@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(msg.Text, "disconnects every app") {
			t.Errorf("the takeover email does not say that apps are disconnected:\n%s", msg.Text)
		}
		link := mailtest.Link(msg.Text, s.issuer+"/recover/takeover?token=")
		if link == "" {
			t.Fatalf("no takeover link in:\n%s", msg.Text)
		}
		token := mustParse(t, link).Query().Get("token")
		if res, err := owner.browser.PostJSON(t.Context(), "/api/recovery/email/takeover", map[string]string{"token": token}); err != nil || res.Status != http.StatusOK {
			t.Fatalf("take over: %v, %v", res, err)
		}
		ownerKey := softauthn.New("localhost", s.issuer)
		if _, err := owner.browser.Register(t.Context(), ownerKey, ""); err != nil {
			t.Fatalf("the owner's new passkey: %v", err)
		}
		wantEnded(t, tok, "a takeover")
		wantNoApps(t, &owner)
		owner.userID = idt.Subject
		wantAskedAgain(t, &owner)
	})

	// Erin's address was never confirmed: the operator's link is a
	// takeover link, as "Lost your passkey?" would send.
	t.Run("OperatorRecoveryLink", func(t *testing.T) {
		b, _ := as(t, "erin@example.com")
		tok, _ := b.signIn(t, p, app)
		out := passkeyd(t, "users", "recovery-link", "erin@example.com")
		link := mailtest.Link(out, s.issuer+"/recover/takeover?token=")
		if link == "" {
			t.Fatalf("no takeover link in:\n%s", out)
		}
		token := mustParse(t, link).Query().Get("token")
		if res, err := b.browser.PostJSON(t.Context(), "/api/recovery/email/takeover", map[string]string{"token": token}); err != nil || res.Status != http.StatusOK {
			t.Fatalf("use the takeover link: %v, %v", res, err)
		}
		if _, err := b.browser.Register(t.Context(), softauthn.New("localhost", s.issuer), ""); err != nil {
			t.Fatalf("the new passkey: %v", err)
		}
		wantEnded(t, tok, "a takeover by an operator's link")
		wantNoApps(t, b)
		wantAskedAgain(t, b)
	})

	t.Run("DisableThenEnable", func(t *testing.T) {
		b, a := as(t, "dora@example.com")
		tok, _ := b.signIn(t, p, app)
		passkeyd(t, "users", "disable", "dora@example.com")
		passkeyd(t, "users", "enable", "dora@example.com")
		wantEnded(t, tok, "disabling and re-enabling the account")
		if _, err := b.browser.SignIn(t.Context(), a, "dora@example.com", nil); err != nil {
			t.Fatalf("sign in after enable: %v", err)
		}
		wantNoApps(t, b)
		wantAskedAgain(t, b)
	})

	// Last, since it changes the app's secret. A new secret ends the
	// client's refresh tokens for everyone: a leaked secret with a stolen
	// refresh token is what rotating it is for. The consent stays, so the
	// app signs the user in again without asking.
	t.Run("SecretRotated", func(t *testing.T) {
		b, _ := as(t, "frank@example.com")
		tok, _ := b.signIn(t, p, app)
		out := passkeyd(t, "clients", "rotate-secret", "app")
		m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("rotate-secret printed no secret:\n%s", out)
		}
		rotated := *app
		rotated.ClientSecret = m[1]
		if _, err := rotated.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Error("a refresh token issued before the secret was rotated works with the new secret")
		}
		if _, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("an access token issued before the secret was rotated still works")
		}
		// The new secret works (so the refusal above was the token's), and
		// the consent stayed.
		verifier := oauth2.GenerateVerifier()
		back, asked := b.authorize(t, rotated.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		if asked {
			t.Error("sign-in after the rotation asked for consent again; want the consent kept")
		}
		if _, err := rotated.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Errorf("exchange with the new secret: %v", err)
		}
	})
}

// TestNewGrantNeedsRecentPasskey: letting an app in (a first consent, or
// more scopes) needs a passkey verification within the step-up window, so
// a copied session cookie alone cannot mint refresh tokens. The consent
// page asks for it inline; a trusted app, which shows no consent page,
// asks on the sign-in page.
func TestNewGrantNeedsRecentPasskey(t *testing.T) {
	s := startInProcess(t)
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	pkce := func() oauth2.AuthCodeOption { return oauth2.S256ChallengeOption(oauth2.GenerateVerifier()) }
	const wikiRedirect = "http://127.0.0.1:9/wiki"
	wiki := &passkeyd.OIDCClient{ID: "wiki", Name: "Wiki", SecretHash: oidc.HashSecret(appSecret), Trusted: true,
		RedirectURIs: []string{wikiRedirect}, Scopes: oidc.KnownScopes}
	if err := oidc.ValidateClient(wiki); err != nil {
		t.Fatal(err)
	}
	if err := s.store.CreateOIDCClient(t.Context(), wiki, nil); err != nil {
		t.Fatal(err)
	}
	postConsent := func(t *testing.T, id string) *http.Response {
		t.Helper()
		form := url.Values{"id": {id}, "decision": {"allow"}}
		req, _ := http.NewRequest(http.MethodPost, s.issuer+"/oidc/consent", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.issuer)
		res, err := s.browser.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	stale := func() { s.clock.Advance(5*time.Minute + time.Second) } // web's default StepUpWindow

	t.Run("Consent", func(t *testing.T) {
		stale()
		status, body, _ := s.loginPage(t, app.AuthCodeURL("st", pkce()))
		m := consentID.FindStringSubmatch(body)
		if status != http.StatusOK || m == nil || !strings.Contains(body, `data-step-up="true"`) || !strings.Contains(body, "/oidc-consent.") {
			t.Fatalf("consent page with a stale session: status %d; want the consent page asking for a passkey, with its script:\n%s", status, body)
		}
		res := postConsent(t, m[1])
		if res.StatusCode != http.StatusForbidden || res.Header.Get("Location") != "" {
			t.Errorf("Allow without a recent passkey: status %d, Location %q; want 403 and no code", res.StatusCode, res.Header.Get("Location"))
		}
		if _, err := s.store.FindOIDCConsent(t.Context(), s.userID, "app"); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			t.Errorf("consent after a refused Allow: %v, want none", err)
		}
		s.signInAgain(t) // what the page's script does before it posts Allow
		res = postConsent(t, m[1])
		if res.StatusCode != http.StatusSeeOther || mustParse(t, res.Header.Get("Location")).Query().Get("code") == "" {
			t.Errorf("Allow after a passkey verification: status %d, Location %q; want 303 with a code", res.StatusCode, res.Header.Get("Location"))
		}
	})

	// prompt=consent asks again for what was allowed already: that grants
	// nothing new, so no passkey is needed.
	t.Run("ConsentAgainForNothingNew", func(t *testing.T) {
		stale()
		status, body, _ := s.loginPage(t, app.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("prompt", "consent")))
		m := consentID.FindStringSubmatch(body)
		if status != http.StatusOK || m == nil || strings.Contains(body, "data-step-up") {
			t.Fatalf("prompt=consent for allowed scopes: status %d; want the plain consent page:\n%s", status, body)
		}
		if res := postConsent(t, m[1]); res.StatusCode != http.StatusSeeOther {
			t.Errorf("Allow: status %d, want 303 back to the app", res.StatusCode)
		}
	})

	t.Run("TrustedApp", func(t *testing.T) {
		conf := s.config(p, "wiki", wikiRedirect, oauth2.AuthStyleInHeader)
		stale()
		status, _, loc := s.loginPage(t, conf.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("prompt", "none")))
		if q := mustParse(t, loc).Query(); status != http.StatusSeeOther || q.Get("error") != "login_required" {
			t.Errorf("prompt=none for a trusted app never allowed, stale session: status %d, %v; want login_required", status, q)
		}
		status, body, _ := s.loginPage(t, conf.AuthCodeURL("st", pkce()))
		if status != http.StatusOK || !strings.Contains(body, `id="signin"`) || !strings.Contains(body, "confirm it is you") {
			t.Fatalf("trusted app never allowed, stale session: status %d; want the sign-in page asking to confirm:\n%s", status, body)
		}
		s.signInAgain(t)
		tok, _ := s.signIn(t, p, conf)
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token for the trusted app")
		}
		// Allowed once (recorded as a consent, without a page), it signs in
		// without a passkey from then on, and is listed in Connected apps.
		stale()
		if back, asked := s.authorize(t, conf.AuthCodeURL("st", pkce())); asked || back.Query().Get("code") == "" {
			t.Errorf("trusted app allowed before: asked %v, response %v; want a code at once", asked, back.Query())
		}
		res, err := s.browser.Do(t.Context(), http.MethodGet, "/api/apps", nil)
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("GET /api/apps = %v, %v", res, err)
		}
		var apps struct {
			Apps []struct {
				ClientID string `json:"clientId"`
				Trusted  bool   `json:"trusted"`
			} `json:"apps"`
		}
		if err := json.Unmarshal(res.Body, &apps); err != nil {
			t.Fatal(err)
		}
		listed := false
		for _, a := range apps.Apps {
			listed = listed || (a.ClientID == "wiki" && a.Trusted)
		}
		if !listed {
			t.Errorf("Connected apps %s: want the trusted Wiki listed", res.Body)
		}
		if res, err := s.browser.Do(t.Context(), http.MethodDelete, "/api/apps/wiki", nil); err != nil || res.Status != http.StatusNoContent {
			t.Fatalf("DELETE /api/apps/wiki = %v, %v; want 204", res, err)
		}
		if _, err := conf.TokenSource(s.rpContext(t), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Error("the trusted app's refresh token works after Revoke")
		}
	})
}

// TestPasskeyDeletedEndsItsGrants: deleting a passkey ends the app grants
// made in its sessions, and leaves those made with another passkey.
func TestPasskeyDeletedEndsItsGrants(t *testing.T) {
	s := startInProcess(t)
	p := s.provider(t)
	ctx := t.Context()
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	other := &passkeyd.OIDCClient{ID: "other", Name: "Other App", SecretHash: oidc.HashSecret(appSecret),
		RedirectURIs: []string{esRedirect}, Scopes: oidc.KnownScopes}
	if err := s.store.CreateOIDCClient(ctx, other, nil); err != nil {
		t.Fatal(err)
	}
	otherConf := s.config(p, "other", esRedirect, oauth2.AuthStyleInHeader)

	lost := s.authn.Credentials()[0]
	fromLost, _ := s.signIn(t, p, app)            // in the session of the first passkey
	phone := softauthn.New("localhost", s.issuer) // the second passkey, on another device
	if _, err := s.browser.Register(ctx, phone, ""); err != nil {
		t.Fatalf("add a second passkey: %v", err)
	}
	if _, err := s.browser.SignIn(ctx, phone, "alice@example.com", nil); err != nil {
		t.Fatal(err)
	}
	fromKept, _ := s.signIn(t, p, otherConf)

	creds, err := s.store.ListCredentials(ctx, s.userID)
	if err != nil {
		t.Fatal(err)
	}
	var lostID string
	for _, c := range creds {
		if bytes.Equal(c.CredentialID, lost.ID) {
			lostID = c.ID
		}
	}
	if res, err := s.browser.Do(ctx, http.MethodDelete, "/api/passkeys/"+lostID, nil); err != nil || res.Status != http.StatusNoContent {
		t.Fatalf("DELETE /api/passkeys/%s = %v, %v; want 204", lostID, res, err)
	}
	if _, err := app.TokenSource(s.rpContext(t), &oauth2.Token{RefreshToken: fromLost.RefreshToken}).Token(); err == nil {
		t.Error("a refresh token granted in the deleted passkey's session still works")
	}
	if _, err := p.UserInfo(s.rpContext(t), oauth2.StaticTokenSource(fromLost)); err == nil {
		t.Error("an access token granted in the deleted passkey's session still works")
	}
	if _, err := otherConf.TokenSource(s.rpContext(t), &oauth2.Token{RefreshToken: fromKept.RefreshToken}).Token(); err != nil {
		t.Errorf("a refresh token granted with the other passkey: %v, want it to work", err)
	}
	if back, asked := s.authorize(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))); !asked || back.Query().Get("code") == "" {
		t.Errorf("next sign-in to the app: consent asked %v; want it asked again (its consent was given with the deleted passkey)", asked)
	}
}
