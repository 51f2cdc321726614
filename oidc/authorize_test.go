package oidc_test

import (
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	_ "modernc.org/sqlite"

	"github.com/passkeyd/passkeyd/internal/softauthn"
)

// answer is what the browser got: status, Location and page.
type answer struct {
	status   int
	location string
	body     string
	header   http.Header
}

// send makes the browser send a request without following redirects; a
// form is posted from passkeyd's own origin unless origin says otherwise.
func (s *server) send(t *testing.T, method, u string, form url.Values, origin ...string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.issuer)
		if len(origin) > 0 {
			req.Header.Set("Origin", origin[0])
		}
	}
	res, err := s.browser.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header.Get("Location"), string(b), res.Header}
}

// login starts an authorization request and returns the login step's answer.
func (s *server) login(t *testing.T, authURL string) answer {
	t.Helper()
	a := s.send(t, http.MethodGet, authURL, nil)
	if !strings.HasPrefix(a.location, s.issuer+"/oidc/login?") {
		t.Fatalf("authorize: status %d, Location %q; want the login step\n%s", a.status, a.location, a.body)
	}
	return s.send(t, http.MethodGet, a.location, nil)
}

var requestID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// wantPage checks that a is passkeyd's error page (its layout, HTML,
// no redirect) with status and every one of texts.
func wantPage(t *testing.T, what string, a answer, status int, texts ...string) {
	t.Helper()
	if a.status != status || a.location != "" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(a.body, `<main class="card">`) {
		t.Errorf("%s: status %d, Location %q, Content-Type %q; want %d and passkeyd's page:\n%s",
			what, a.status, a.location, a.header.Get("Content-Type"), status, a.body)
		return
	}
	for _, text := range texts {
		if !strings.Contains(a.body, text) {
			t.Errorf("%s: the page does not say %q:\n%s", what, text, a.body)
		}
	}
}

// countRows counts the rows of table in the server's (SQLite) database.
func (s *server) countRows(t *testing.T, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", strings.TrimPrefix(s.dbURL, "file:"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const unconfirmedClients = `{"clients": [
		{"id": "app", "name": "Test App", "secret": "` + appSecret + `", "redirect_uris": ["` + appRedirect + `"]},
		{"id": "relaxed", "name": "Relaxed App", "secret": "` + appSecret + `", "redirect_uris": ["` + appRedirect + `"],
		 "allow_unverified_email": true},
		{"id": "corp", "name": "Corp App", "secret": "` + appSecret + `", "redirect_uris": ["` + appRedirect + `"],
		 "allowed_users": ["@example.com"], "allow_unverified_email": true}
	]}`

// TestUnconfirmedAddress (issue 18, items 2 and 20): an account whose
// address is not confirmed reaches an app only once it is, unless the
// operator let unconfirmed addresses through for that app; an allow-list
// takes only confirmed addresses, always; email_verified tells the truth.
func TestUnconfirmedAddress(t *testing.T) {
	s := startServerWithClients(t, unconfirmedClients, aliceUnconfirmed())
	p := s.provider(t)
	pkce := func() oauth2.AuthCodeOption { return oauth2.S256ChallengeOption(oauth2.GenerateVerifier()) }
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	corp := s.config(p, "corp", appRedirect, oauth2.AuthStyleInHeader)

	a := s.login(t, app.AuthCodeURL("st", pkce()))
	wantPage(t, "an unconfirmed address at a default app", a, http.StatusOK, "Confirm your email address first", "alice@example.com", `id="resend-verification"`)
	a = s.login(t, corp.AuthCodeURL("st", pkce()))
	wantPage(t, "an unconfirmed address at an allow-list app that allows unconfirmed ones", a, http.StatusOK, "Confirm your email address first", "lets in only certain addresses")

	// prompt=none cannot show the page.
	a = s.login(t, app.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("prompt", "none")))
	if q := mustParse(t, a.location).Query(); a.status != http.StatusSeeOther || q.Get("error") != "interaction_required" {
		t.Errorf("prompt=none, unconfirmed: status %d, %v; want interaction_required", a.status, q)
	}

	// Cancel tells the app access_denied, from passkeyd's origin only.
	a = s.login(t, app.AuthCodeURL("st", pkce()))
	id := requestID.FindStringSubmatch(a.body)
	if id == nil {
		t.Fatalf("the confirm page has no request ID:\n%s", a.body)
	}
	if c := s.send(t, http.MethodPost, s.issuer+"/oidc/cancel", url.Values{"id": {id[1]}}, "https://evil.example"); c.status != http.StatusForbidden {
		t.Errorf("Cancel posted from another origin: status %d, want 403", c.status)
	}
	c := s.send(t, http.MethodPost, s.issuer+"/oidc/cancel", url.Values{"id": {id[1]}})
	if q := mustParse(t, c.location).Query(); c.status != http.StatusSeeOther || q.Get("error") != "access_denied" || q.Get("state") != "st" {
		t.Errorf("Cancel: status %d, %v; want access_denied back to the app", c.status, q)
	}

	// The resend button's route.
	if res, err := s.browser.PostJSON(t.Context(), "/api/email/resend-verification", map[string]string{}); err != nil || res.Status != http.StatusAccepted {
		t.Errorf("resend the confirmation link: %v %v", res, err)
	}

	// An app whose operator lets unconfirmed addresses through gets a
	// code, and email_verified=false.
	relaxed := s.config(p, "relaxed", appRedirect, oauth2.AuthStyleInHeader)
	_, idt := s.signIn(t, p, relaxed)
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.EmailVerified == nil || *claims.EmailVerified {
		t.Errorf("allow_unverified_email: email_verified %v, want false", claims.EmailVerified)
	}

	// Confirmed, Continue (the same page's form: the login step again)
	// goes on to the app.
	a = s.login(t, app.AuthCodeURL("st", pkce()))
	id = requestID.FindStringSubmatch(a.body)
	if id == nil {
		t.Fatalf("the confirm page has no request ID:\n%s", a.body)
	}
	s.confirmEmail(t, "alice@example.com")
	a = s.send(t, http.MethodGet, s.issuer+"/oidc/login?id="+url.QueryEscape(id[1]), nil)
	if a.status != http.StatusOK || !strings.Contains(a.body, "Allow Test App") {
		t.Errorf("Continue once confirmed: status %d; want the consent page\n%s", a.status, a.body)
	}
	a = s.login(t, corp.AuthCodeURL("st", pkce()))
	if a.status != http.StatusOK || !strings.Contains(a.body, "Allow Corp App") {
		t.Errorf("the allow-list app once confirmed: status %d; want the consent page\n%s", a.status, a.body)
	}
}

// TestAuthorizationRequestBounds (issue 18, item 5): an authorization
// request's parameters have bounds, refused with passkeyd's page and no
// row; authorization requests from one address are limited.
func TestAuthorizationRequestBounds(t *testing.T) {
	s := startServerWithClients(t, testClients, withEnv("RATE_LIMIT="))
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	authURL := func(opts ...oauth2.AuthCodeOption) string {
		return app.AuthCodeURL("st", append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(oauth2.GenerateVerifier())}, opts...)...)
	}

	// A 9 MiB state, posted: the body is not read.
	form := mustParse(t, authURL()).Query()
	form.Set("state", strings.Repeat("s", 9<<20))
	a := s.send(t, http.MethodPost, s.issuer+"/oidc/authorize", form)
	wantPage(t, "a 9 MiB state", a, http.StatusRequestEntityTooLarge, "larger than passkeyd accepts")
	for _, tc := range []struct{ name, value string }{
		{"state", strings.Repeat("s", 2049)},
		{"nonce", strings.Repeat("n", 513)},
		{"login_hint", strings.Repeat("l", 321) + "@example.com"},
		{"code_challenge", strings.Repeat("c", 129)},
		{"ui_locales", strings.Repeat("en ", 100)},
		{"scope", "openid " + strings.Repeat("x", 1024)},
		{"anything_else", strings.Repeat("x", 1025)},
	} {
		a := s.send(t, http.MethodGet, authURL(oauth2.SetAuthURLParam(tc.name, tc.value)), nil)
		wantPage(t, "a long "+tc.name, a, http.StatusBadRequest, tc.name, "too long")
	}
	twice := authURL() + "&state=again"
	wantPage(t, "state twice", s.send(t, http.MethodGet, twice, nil), http.StatusBadRequest, "more than once")
	if n := s.countRows(t, "oidc_auth_requests"); n != 0 {
		t.Errorf("%d authorization requests stored from refused requests, want 0", n)
	}

	// 200 requests in a row from one address: 429 once the limit is
	// reached, and no more rows than the limit.
	var limited int
	for range 200 {
		a := s.send(t, http.MethodGet, authURL(), nil)
		switch a.status {
		case http.StatusFound:
		case http.StatusTooManyRequests:
			limited++
			if a.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			wantPage(t, "a limited authorization request", a, http.StatusTooManyRequests, "Too many attempts")
		default:
			t.Fatalf("authorize: status %d\n%s", a.status, a.body)
		}
	}
	if n := s.countRows(t, "oidc_auth_requests"); limited == 0 || n > 30 {
		t.Errorf("200 authorization requests: %d refused with 429, %d stored; want 429s and at most 30 stored", limited, n)
	}
}

// TestClientAuthFailuresLimited (issue 18, item 5): failed client
// authentication at the token endpoint is limited per client and address.
func TestClientAuthFailuresLimited(t *testing.T) {
	s := startServerWithClients(t, testClients, withEnv("RATE_LIMIT=client-auth-failures=3/15m"))
	token := func(clientID, secret string) int {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"unknown"}}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.issuer+"/oidc/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://spa.example.net")
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
		res, err := s.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		// A single-page app can read every answer, the limit's included.
		if res.Header.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("token answer %d without Access-Control-Allow-Origin", res.StatusCode)
		}
		return res.StatusCode
	}
	for i := range 3 {
		if got := token("app", "wrong-secret"); got != http.StatusUnauthorized && got != http.StatusBadRequest {
			t.Fatalf("wrong secret %d: status %d, want a refusal", i+1, got)
		}
	}
	if got := token("app", "wrong-secret"); got != http.StatusTooManyRequests {
		t.Errorf("a fourth wrong secret: status %d, want 429", got)
	}
	if got := token("es", "wrong-secret"); got == http.StatusTooManyRequests {
		t.Errorf("another client from the same address: 429, want it counted apart")
	}
}

// TestEndSessionConfirmation (issue 18, item 9): end_session signs out at
// once only with a valid id_token_hint for the signed-in user; otherwise
// passkeyd asks, and only its button (a same-origin POST) signs out.
func TestEndSessionConfirmation(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	tok, _ := s.signIn(t, p, app)
	hint, _ := tok.Extra("id_token").(string)
	signedIn := func() bool {
		res, err := s.browser.Do(t.Context(), http.MethodGet, "/api/auth/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Status == http.StatusOK
	}
	logout := url.Values{"client_id": {"app"}, "post_logout_redirect_uri": {appLogout}, "state": {"bye"}}

	a := s.send(t, http.MethodGet, s.issuer+"/oidc/end_session?"+logout.Encode(), nil)
	wantPage(t, "end_session without id_token_hint", a, http.StatusOK, "Sign out of passkeyd?", "Test App asks", `id="sign-out"`)
	if !signedIn() {
		t.Fatal("end_session without id_token_hint signed the user out before the button")
	}
	// The page's form: the same parameters, posted back.
	fields := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(a.body, -1) {
		fields.Set(m[1], m[2])
	}
	if fields.Get("decision") != "sign-out" || fields.Get("post_logout_redirect_uri") != appLogout {
		t.Fatalf("the sign-out form carries %v", fields)
	}
	if c := s.send(t, http.MethodPost, s.issuer+"/oidc/end_session", fields, "https://evil.example"); c.status != http.StatusForbidden || !signedIn() {
		t.Errorf("the sign-out form posted from another origin: status %d, signed in %v; want 403 and still signed in", c.status, signedIn())
	}
	c := s.send(t, http.MethodPost, s.issuer+"/oidc/end_session", fields)
	if c.status != http.StatusFound || c.location != appLogout+"?state=bye" || signedIn() {
		t.Errorf("Sign out: status %d, Location %q, signed in %v; want signed out and sent to %s", c.status, c.location, signedIn(), appLogout)
	}

	// A valid hint for the signed-in user: at once, as apps expect.
	s.signInAgain(t)
	logout.Set("id_token_hint", hint)
	a = s.send(t, http.MethodGet, s.issuer+"/oidc/end_session?"+logout.Encode(), nil)
	if a.status != http.StatusFound || a.location != appLogout+"?state=bye" || signedIn() {
		t.Errorf("end_session with the user's id_token_hint: status %d, Location %q, signed in %v; want signed out at once", a.status, a.location, signedIn())
	}

	// A hint for someone else: the page again.
	bob := softauthn.New("localhost", s.issuer)
	if _, err := s.browser.Register(t.Context(), bob, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.browser.SignIn(t.Context(), bob, "bob@example.com", nil); err != nil {
		t.Fatal(err)
	}
	a = s.send(t, http.MethodGet, s.issuer+"/oidc/end_session?"+logout.Encode(), nil)
	wantPage(t, "end_session with another user's id_token_hint", a, http.StatusOK, "Sign out of passkeyd?", "bob@example.com")
	if !signedIn() {
		t.Error("end_session with another user's hint signed bob out")
	}

	// An unregistered post_logout_redirect_uri: passkeyd's page, not JSON.
	bad := url.Values{"client_id": {"app"}, "post_logout_redirect_uri": {"https://evil.example/"}}
	a = s.send(t, http.MethodGet, s.issuer+"/oidc/end_session?"+bad.Encode(), nil)
	wantPage(t, "an unregistered post_logout_redirect_uri", a, http.StatusBadRequest, "not registered")
	if !signedIn() {
		t.Error("a refused end_session signed the user out")
	}
}

// signInAgain signs alice in again in the browser.
func (s *server) signInAgain(t *testing.T) {
	t.Helper()
	if _, err := s.browser.SignIn(t.Context(), s.alice, "alice@example.com", nil); err != nil {
		t.Fatalf("sign in again: %v", err)
	}
}

// TestIDTokenHintForAnotherAccount (issue 18, item 10): a request whose
// id_token_hint names another account than the one signed in gets no
// code for the wrong account.
func TestIDTokenHintForAnotherAccount(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	tok, _ := s.signIn(t, p, app)
	aliceHint, _ := tok.Extra("id_token").(string)

	// Bob signs in on the same browser (and has allowed the app).
	if res, err := s.browser.Do(t.Context(), http.MethodPost, "/api/auth/logout", nil); err != nil || res.Status != http.StatusNoContent {
		t.Fatalf("sign out: %v %v", res, err)
	}
	bob := softauthn.New("localhost", s.issuer)
	if _, err := s.browser.Register(t.Context(), bob, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.browser.SignIn(t.Context(), bob, "bob@example.com", nil); err != nil {
		t.Fatal(err)
	}
	s.confirmEmail(t, "bob@example.com")
	s.signIn(t, p, app)

	hinted := func(opts ...oauth2.AuthCodeOption) string {
		return app.AuthCodeURL("st", append(opts, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("id_token_hint", aliceHint))...)
	}
	a := s.login(t, hinted(oauth2.SetAuthURLParam("prompt", "none")))
	if q := mustParse(t, a.location).Query(); a.status != http.StatusSeeOther || q.Get("error") != "login_required" || q.Get("code") != "" {
		t.Errorf("prompt=none with alice's hint while bob is signed in: status %d, %v; want login_required", a.status, q)
	}
	a = s.login(t, hinted())
	wantPage(t, "alice's hint while bob is signed in", a, http.StatusOK, `id="other-account"`, "bob@example.com", `id="signin-button"`, `id="cancel"`)
	id := requestID.FindStringSubmatch(a.body)
	if id == nil {
		t.Fatalf("no request ID on the page:\n%s", a.body)
	}
	// Signing in as alice answers the same request with alice's code.
	s.signInAgain(t)
	a = s.send(t, http.MethodGet, s.issuer+"/oidc/login?id="+url.QueryEscape(id[1]), nil)
	code := mustParse(t, a.location).Query().Get("code")
	if a.status != http.StatusSeeOther || code == "" {
		t.Fatalf("signed in as alice: status %d, Location %q; want a code", a.status, a.location)
	}
	// A hint for the signed-in user goes through as before.
	back, _ := s.authorize(t, hinted(oauth2.SetAuthURLParam("prompt", "none")))
	if back.Query().Get("code") == "" {
		t.Errorf("prompt=none with alice's hint while alice is signed in: %v, want a code", back.Query())
	}
}

// TestLoopbackRedirectOnlyThePortVaries (issue 18, item 11, RFC 8252
// §7.3): for a registered http://127.0.0.1:9/spa, only the port may vary.
func TestLoopbackRedirectOnlyThePortVaries(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	spa := s.config(p, "spa", spaRedirect, oauth2.AuthStyleInParams)
	try := func(redirect string) answer {
		c := *spa
		c.RedirectURL = redirect
		return s.send(t, http.MethodGet, c.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
	}
	for _, ok := range []string{spaRedirect, "http://127.0.0.1:5555/spa", "http://127.0.0.1/spa"} {
		if a := try(ok); a.status != http.StatusFound || !strings.HasPrefix(a.location, s.issuer+"/oidc/login?") {
			t.Errorf("%s: status %d, Location %q; want the login step", ok, a.status, a.location)
		}
	}
	for _, bad := range []string{
		"https://127.0.0.1:9/spa", "https://localhost:4443/spa", "http://localhost:9/spa", "http://[::1]:9/spa",
		"http://127.0.0.2/spa", "http://127.0.0.1:9/spa/other", "http://127.0.0.1:9/SPA", "http://127.0.0.1:9/spa?x=1",
	} {
		wantPage(t, bad, try(bad), http.StatusBadRequest, "not registered")
	}
}

// TestErrorPagesArePasskeyds (issue 18, item 14): what a person can reach
// is passkeyd's page saying what went wrong, never the library's text.
func TestErrorPagesArePasskeyds(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	authURL := func(c *oauth2.Config, opts ...oauth2.AuthCodeOption) string {
		return c.AuthCodeURL("st", append(opts, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))...)
	}
	unknown := *app
	unknown.ClientID = "nobody"
	wantPage(t, "an unknown client_id", s.send(t, http.MethodGet, authURL(&unknown), nil), http.StatusBadRequest, "not registered with passkeyd", "nobody")
	noClient := *app
	noClient.ClientID = ""
	wantPage(t, "no client_id", s.send(t, http.MethodGet, authURL(&noClient), nil), http.StatusBadRequest, "no client_id")
	wantPage(t, "response_type=token", s.send(t, http.MethodGet, authURL(app, oauth2.SetAuthURLParam("response_type", "token")), nil),
		http.StatusBadRequest, "response_type=code")
	wrong := *app
	wrong.RedirectURL = "https://evil.example/cb"
	a := s.send(t, http.MethodGet, authURL(&wrong), nil)
	wantPage(t, "an unregistered redirect_uri", a, http.StatusBadRequest, "https://evil.example/cb")
	if strings.Contains(a.body, appRedirect) {
		t.Errorf("the error page shows an anonymous visitor the registered redirect URI %s", appRedirect)
	}
	if !s.logged(`event=oidc_redirect_uri_mismatch[^\n]*` + regexp.QuoteMeta(appRedirect)) {
		t.Errorf("the log does not tell the operator what is registered")
	}
}

// logged reports whether passkeyd's log has a line matching pattern,
// waiting a little: the log reaches the test through a pipe, after the
// answer.
func (s *server) logged(pattern string) bool {
	re := regexp.MustCompile(pattern)
	for range 100 {
		if re.MatchString(s.out.String()) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
