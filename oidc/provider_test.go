package oidc_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testclock"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// inProcess is passkeyd's web handler with the provider on, on a real
// SQLite file and a real loopback listener, with a clock the test moves.
type inProcess struct {
	*server
	store   oidc.Store
	clock   *testclock.Clock
	authn   *softauthn.Authenticator
	metrics *prometheus.Registry
	oidc    *oidc.Provider
	mails   *inbox
}

func startInProcess(t *testing.T, configure ...func(*web.Config)) *inProcess {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	return startInProcessOn(t, store, configure...)
}

// startInProcessOn is startInProcess on store, which it closes at the end
// of the test.
func startInProcessOn(t *testing.T, store oidc.Store, configure ...func(*web.Config)) *inProcess {
	t.Helper()
	t.Cleanup(func() { store.Close() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	issuer := "http://localhost:" + port
	clk := testclock.New(time.Now().UTC().Truncate(time.Millisecond))
	reg := prometheus.NewRegistry()
	cfg := web.Config{
		RPID: "localhost", Origins: []string{issuer}, Secret: []byte("an-oidc-test-secret-of-at-least-32-characters"),
		RateLimits: web.RateLimits{Off: true}, Now: clk.Now, ConnectedApps: true,
	}
	for _, f := range configure {
		f(&cfg)
	}
	mails := &inbox{}
	h, err := web.New(cfg, web.Deps{Store: store, Metrics: web.NewMetrics(reg), Mailer: mails})
	if err != nil {
		t.Fatal(err)
	}
	provider := mountProvider(t, h, cfg, store, oidc.NewMetrics(reg))
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	for _, c := range []*passkeyd.OIDCClient{
		{ID: "app", Name: "Test App", SecretHash: oidc.HashSecret(appSecret), RedirectURIs: []string{appRedirect}},
		{ID: "only-org", Name: "Org App", SecretHash: oidc.HashSecret(appSecret), RedirectURIs: []string{appRedirect}, AllowedUsers: []string{"@example.org"}},
	} {
		if err := oidc.ValidateClient(c); err != nil {
			t.Fatal(err)
		}
		if err := store.CreateOIDCClient(t.Context(), c, nil); err != nil {
			t.Fatal(err)
		}
	}
	s := &inProcess{server: &server{issuer: issuer, http: &http.Client{Transport: loopback()}}, store: store, clock: clk,
		authn: softauthn.New("localhost", issuer), metrics: reg, oidc: provider, mails: mails}
	s.browser = softauthn.NewClient(issuer, issuer, loopback())
	if cfg.SignUpMode == web.SignUpEmailFirst {
		return s // nobody signs up directly
	}
	if _, err := s.browser.Register(t.Context(), s.authn, "alice@example.com"); err != nil {
		t.Fatalf("register: %v", err)
	}
	s.signInAgain(t)
	s.confirmEmail(t, "alice@example.com") // apps take only confirmed addresses by default
	return s
}

// mountProvider makes the provider for auth and mounts it there, as
// cmd/passkeyd does (provider.go); the relying-party tests run that one,
// in the real binary.
func mountProvider(t *testing.T, auth *web.Server, cfg web.Config, store oidc.Store, metrics *oidc.Metrics) *oidc.Provider {
	t.Helper()
	cfg = cfg.WithDefaults()
	oc := oidc.Config{Issuer: cfg.PublicURL, Secret: cfg.Secret, Now: cfg.Now, StepUpWindow: cfg.StepUpWindow}
	if cfg.SignUpMode == web.SignUpEmailFirst {
		oc.SignUpPage = cfg.PublicURL + "/"
	}
	p, err := oidc.New(oc, oidc.Deps{Store: store, Pages: auth, Users: auth, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	h := p.Handler()
	auth.Mount("GET /.well-known/openid-configuration", h, web.Sessionless)
	auth.Mount("/oidc/authorize", h, web.Sessionless, web.BoundedBody, web.AppSignInLimits, web.ErrorPage(p.ErrorPage))
	auth.Mount("POST /oidc/token", h, web.Sessionless, web.CrossOrigin, web.BoundedBody, web.ClientAuthFailureLimit)
	auth.Mount("/oidc/revoke", h, web.Sessionless, web.CrossOrigin, web.BoundedBody)
	auth.Mount("/oidc/userinfo", h, web.Sessionless, web.CrossOrigin, web.BoundedBody)
	auth.Mount("/oidc/", h, web.BoundedBody)
	return p
}

// inbox keeps the email passkeyd sends.
type inbox struct {
	mu    sync.Mutex
	mails []passkeyd.Email
}

func (b *inbox) Enqueue(e passkeyd.Email) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mails = append(b.mails, e)
	return true
}

var verifyLink = regexp.MustCompile(`verify-email\?token=([A-Za-z0-9_-]+)`)

// confirmEmail opens the last confirmation link sent to address, in the
// browser.
func (s *inProcess) confirmEmail(t *testing.T, address string) {
	t.Helper()
	var token string
	for range 200 {
		s.mails.mu.Lock()
		for _, m := range s.mails.mails {
			if l := verifyLink.FindStringSubmatch(m.Text); m.To == address && l != nil {
				token = l[1]
			}
		}
		s.mails.mu.Unlock()
		if token != "" {
			break
		}
		time.Sleep(50 * time.Millisecond) // email is sent after the answer
	}
	if token == "" {
		t.Fatalf("no confirmation link sent to %s", address)
	}
	if res, err := s.browser.PostJSON(t.Context(), "/api/email/verify", map[string]string{"token": token}); err != nil || res.Status != http.StatusOK {
		t.Fatalf("confirm %s: %v %v", address, res, err)
	}
}

func (s *inProcess) signInAgain(t *testing.T) {
	t.Helper()
	res, err := s.browser.SignIn(t.Context(), s.authn, "alice@example.com", nil)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	s.userID = res.User.ID
}

// loginPage starts an authorization request and returns the login step's
// answer: its status, body and Location.
func (s *inProcess) loginPage(t *testing.T, authURL string) (int, string, string) {
	t.Helper()
	res := s.get(t, authURL)
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, s.issuer+"/oidc/login?") {
		t.Fatalf("authorize sent the browser to %q, want the login step", loc)
	}
	page, err := s.browser.HTTP.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer page.Body.Close()
	body, _ := io.ReadAll(page.Body)
	return page.StatusCode, string(body), page.Header.Get("Location")
}

// TestSignInPageSignUp: newcomers create an account on the sign-in page,
// unless sign-up goes by email first, when they are sent to the start page.
func TestSignInPageSignUp(t *testing.T) {
	for _, mode := range []web.SignUpMode{web.SignUpOpen, web.SignUpEmailFirst} {
		t.Run(string(mode), func(t *testing.T) {
			s := startInProcess(t, func(c *web.Config) { c.SignUpMode = mode })
			p := s.provider(t)
			app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
			if res, err := s.browser.Do(t.Context(), http.MethodPost, "/api/auth/logout", nil); err != nil || res.Status != http.StatusNoContent {
				t.Fatalf("sign out: %v %v", res, err)
			}
			status, body, _ := s.loginPage(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			button, link := strings.Contains(body, `id="signup-button"`), strings.Contains(body, `href="`+s.issuer+`/"`)
			if status != http.StatusOK || button != (mode == web.SignUpOpen) || link != (mode == web.SignUpEmailFirst) {
				t.Errorf("sign-in page (status %d): sign-up button %v, link to the start page %v", status, button, link)
			}
		})
	}
}

// TestPagesInLayout: the provider's sign-in, consent and error pages are
// passkeyd's pages: the same layout, style and shared script.
func TestPagesInLayout(t *testing.T) {
	s := startInProcess(t)
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	pkce := oauth2.S256ChallengeOption(oauth2.GenerateVerifier())
	wantLayout := func(name, body string, scripts ...string) {
		t.Helper()
		for _, want := range []string{`<main class="card">`, `<footer class="footer">`, `<link rel="stylesheet" href="/static/style.`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s page: no %s; want passkeyd's layout:\n%s", name, want, body)
			}
		}
		var got []string
		for _, m := range regexp.MustCompile(`<script src="/static/([a-z-]+)\.[0-9a-f]{12}\.js" defer></script>`).FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
		}
		if want := append([]string{"app"}, scripts...); !slices.Equal(got, want) {
			t.Errorf("%s page loads %v, want %v", name, got, want)
		}
	}
	status, body, _ := s.loginPage(t, app.AuthCodeURL("st", pkce))
	if status != http.StatusOK || !strings.Contains(body, "Allow Test App") {
		t.Fatalf("first sign-in: status %d, want the consent page", status)
	}
	wantLayout("consent", body)
	if res, err := s.browser.Do(t.Context(), http.MethodPost, "/api/auth/logout", nil); err != nil || res.Status != http.StatusNoContent {
		t.Fatalf("sign out: %v %v", res, err)
	}
	status, body, _ = s.loginPage(t, app.AuthCodeURL("st", pkce))
	if status != http.StatusOK || !strings.Contains(body, `id="signin-button"`) {
		t.Fatalf("signed out: status %d, want the sign-in page", status)
	}
	wantLayout("sign-in", body, "oidc-signin")
	res, err := s.browser.HTTP.Get(s.issuer + "/oidc/login?id=unknown")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown request: status %d, want 400", res.StatusCode)
	}
	wantLayout("error", string(b))
}

func TestProviderRequests(t *testing.T) {
	s := startInProcess(t)
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	pkce := func() oauth2.AuthCodeOption { return oauth2.S256ChallengeOption(oauth2.GenerateVerifier()) }

	t.Run("RedirectMismatchExplained", func(t *testing.T) {
		wrong := *app
		wrong.RedirectURL = appRedirect + "/"
		res, err := s.browser.HTTP.Get(wrong.AuthCodeURL("st", pkce()))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" || !strings.Contains(string(body), appRedirect+"/</pre>") {
			t.Errorf("status %d, Location %q, page:\n%s\nwant 400, no redirect, and what was sent", res.StatusCode, res.Header.Get("Location"), body)
		}
		// What is registered is the operator's business: the log, not
		// the page any visitor can open.
		if strings.Contains(string(body), appRedirect+"<") || strings.Contains(string(body), appRedirect+"\n") {
			t.Errorf("the error page shows the registered redirect URI %s:\n%s", appRedirect, body)
		}
	})

	t.Run("PromptNoneConsentRequired", func(t *testing.T) {
		status, _, loc := s.loginPage(t, app.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("prompt", "none")))
		q := mustParse(t, loc).Query()
		if status != http.StatusSeeOther || q.Get("error") != "consent_required" || q.Get("iss") != s.issuer || q.Get("state") != "st" {
			t.Errorf("status %d, response %v; want consent_required with state and iss, and no page", status, q)
		}
	})

	t.Run("ConsentDenied", func(t *testing.T) {
		status, body, _ := s.loginPage(t, app.AuthCodeURL("st", pkce()))
		m := consentID.FindStringSubmatch(body)
		if status != http.StatusOK || m == nil {
			t.Fatalf("first sign-in: status %d, want the consent page", status)
		}
		form := url.Values{"id": {m[1]}, "decision": {"deny"}}
		req, _ := http.NewRequest(http.MethodPost, s.issuer+"/oidc/consent", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.issuer)
		res, err := s.browser.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		q := mustParse(t, res.Header.Get("Location")).Query()
		if res.StatusCode != http.StatusSeeOther || q.Get("error") != "access_denied" || q.Get("iss") != s.issuer {
			t.Errorf("Cancel: status %d, %v; want access_denied with iss", res.StatusCode, q)
		}
		// The request is over: neither the login step nor the consent
		// form takes it again.
		if _, err := s.store.FindOIDCAuthRequest(t.Context(), m[1], s.clock.Now()); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			t.Errorf("the request after Cancel: %v, want it deleted", err)
		}
		page, err := s.browser.HTTP.Get(s.issuer + "/oidc/login?id=" + url.QueryEscape(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		page.Body.Close()
		if page.StatusCode != http.StatusBadRequest || page.Header.Get("Location") != "" {
			t.Errorf("the login step after Cancel: status %d, Location %q; want 400 and no redirect", page.StatusCode, page.Header.Get("Location"))
		}
		allow := url.Values{"id": {m[1]}, "decision": {"allow"}}
		req, _ = http.NewRequest(http.MethodPost, s.issuer+"/oidc/consent", strings.NewReader(allow.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.issuer)
		if res, err = s.browser.HTTP.Do(req); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Errorf("Allow after Cancel: status %d, Location %q; want 400 and no code", res.StatusCode, res.Header.Get("Location"))
		}
		// A consent form posted from another site is refused.
		req, _ = http.NewRequest(http.MethodPost, s.issuer+"/oidc/consent", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if res, err = s.browser.HTTP.Do(req); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("consent posted from another origin: status %d, want 403", res.StatusCode)
		}
	})

	// Consent once, so that the next requests go straight through.
	tok, idt := s.signIn(t, p, app)
	var claims struct {
		AuthTime int64 `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if want := s.clock.Now().Unix(); claims.AuthTime != want {
		t.Errorf("auth_time %d, want the passkey verification's time %d", claims.AuthTime, want)
	}

	t.Run("ExpiredCode", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		back, _ := s.authorize(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		s.clock.Advance(61 * time.Second)
		if _, err := app.Exchange(s.rpContext(t), back.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
			t.Error("a code was redeemed after it expired")
		}
	})

	t.Run("PromptLogin", func(t *testing.T) {
		s.clock.Advance(time.Minute)
		status, body, _ := s.loginPage(t, app.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("prompt", "login")))
		if status != http.StatusOK || !strings.Contains(body, `id="signin"`) {
			t.Fatalf("prompt=login with a live session: status %d; want the sign-in page", status)
		}
		s.signInAgain(t) // a fresh passkey verification
		back, _ := s.authorize(t, app.AuthCodeURL("st", pkce()))
		if back.Query().Get("code") == "" {
			t.Errorf("after signing in again: %v, want a code", back.Query())
		}
	})

	t.Run("MaxAge", func(t *testing.T) {
		s.clock.Advance(2 * time.Minute)
		status, _, _ := s.loginPage(t, app.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("max_age", "60")))
		if status != http.StatusOK {
			t.Errorf("max_age=60, verified 2 minutes ago: status %d, want the sign-in page", status)
		}
		status, _, loc := s.loginPage(t, app.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("max_age", "600")))
		if status != http.StatusSeeOther || mustParse(t, loc).Query().Get("code") == "" {
			t.Errorf("max_age=600, verified 2 minutes ago: status %d, Location %q; want a code", status, loc)
		}
	})

	t.Run("LoginHint", func(t *testing.T) {
		status, body, _ := s.loginPage(t, app.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("prompt", "login"),
			oauth2.SetAuthURLParam("login_hint", `bob"@example.com`)))
		if status != http.StatusOK || !strings.Contains(body, `value="bob&#34;@example.com"`) {
			t.Errorf("login_hint not filled in (escaped) on the sign-in page:\n%s", body)
		}
	})

	t.Run("AllowList", func(t *testing.T) {
		org := s.config(p, "only-org", appRedirect, oauth2.AuthStyleInHeader)
		// passkeyd's page says so (TestAllowedGroups follows its button
		// to access_denied); prompt=none tells the app at once.
		status, body, _ := s.loginPage(t, org.AuthCodeURL("st", pkce()))
		if status != http.StatusForbidden || !strings.Contains(body, "You have no access to Org App") {
			t.Errorf("a user outside the allow-list: status %d; want the no-access page\n%s", status, body)
		}
		status, _, loc := s.loginPage(t, org.AuthCodeURL("st", pkce(), oauth2.SetAuthURLParam("prompt", "none")))
		if q := mustParse(t, loc).Query(); status != http.StatusSeeOther || q.Get("error") != "access_denied" {
			t.Errorf("a user outside the allow-list, prompt=none: status %d, %v; want access_denied", status, q)
		}
	})

	t.Run("Metrics", func(t *testing.T) {
		for _, m := range []struct {
			name   string
			labels map[string]string
		}{
			{"passkeyd_oidc_sign_ins_total", map[string]string{"client": "app"}},
			{"passkeyd_oidc_tokens_issued_total", map[string]string{"client": "app", "grant": "authorization_code"}},
			{"passkeyd_oidc_refused_total", map[string]string{"client": "only-org", "reason": "user_not_allowed"}},
		} {
			if got := counter(t, s.metrics, m.name, m.labels); got < 1 {
				t.Errorf("%s%v = %v, want at least 1", m.name, m.labels, got)
			}
		}
	})

	t.Run("ConsentRevoked", func(t *testing.T) {
		// Connected apps, as the dashboard sees it.
		res, err := s.browser.Do(t.Context(), http.MethodGet, "/api/apps", nil)
		if err != nil || res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"clientId":"app","name":"Test App"`) {
			t.Fatalf("GET /api/apps = %v, %v; want Test App listed", res, err)
		}
		res, err = s.browser.Do(t.Context(), http.MethodDelete, "/api/apps/app", nil)
		if err != nil || res.Status != http.StatusNoContent {
			t.Fatalf("DELETE /api/apps/app = %v, %v; want 204", res, err)
		}
		res, err = s.browser.Do(t.Context(), http.MethodDelete, "/api/apps/app", nil)
		if err != nil || res.Status != http.StatusNotFound {
			t.Errorf("second DELETE /api/apps/app = %v, %v; want 404", res, err)
		}
		if _, err := app.TokenSource(s.rpContext(t), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Error("a refresh token works after its consent was revoked")
		}
		status, body, _ := s.loginPage(t, app.AuthCodeURL("st", pkce()))
		if status != http.StatusOK || !strings.Contains(body, "Allow Test App") {
			t.Errorf("after revoking: status %d; want the consent page again", status)
		}
	})

	t.Run("DisabledUser", func(t *testing.T) {
		// A fresh grant, then the account is disabled: its refresh token stops working.
		fresh, _ := s.signIn(t, p, app)
		if err := s.store.SetUserDisabled(t.Context(), s.userID, true, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := app.TokenSource(s.rpContext(t), &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err == nil {
			t.Error("a disabled user's refresh token still works")
		}
	})

	// Bob signs in, and his account is deleted before the app redeems the
	// code: a refusal (invalid_grant, 400), not a server error.
	t.Run("UserDeletedBeforeRedeem", func(t *testing.T) {
		bob := softauthn.New("localhost", s.issuer)
		if _, err := s.browser.Register(t.Context(), bob, "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		res, err := s.browser.SignIn(t.Context(), bob, "bob@example.com", nil)
		if err != nil {
			t.Fatal(err)
		}
		s.confirmEmail(t, "bob@example.com")
		verifier := oauth2.GenerateVerifier()
		back, _ := s.authorize(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		if err := s.store.DeleteUser(t.Context(), res.User.ID); err != nil {
			t.Fatal(err)
		}
		_, err = app.Exchange(s.rpContext(t), back.Query().Get("code"), oauth2.VerifierOption(verifier))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusBadRequest || re.ErrorCode != "invalid_grant" {
			t.Errorf("exchange after the user was deleted: %v; want 400 invalid_grant", err)
		}
	})
}

// counter reads a counter with exactly these labels from reg (0 if absent).
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestCORSWithoutCredentials: a single-page app on another origin may call
// the provider's endpoints, but a browser's cookies never make their
// answers readable to another site.
func TestCORSWithoutCredentials(t *testing.T) {
	s := startInProcess(t)
	for _, path := range []string{"/.well-known/openid-configuration", "/oidc/keys", "/oidc/userinfo"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.issuer+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://spa.example.net")
		res, err := s.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin"); got == "" {
			t.Errorf("%s: no Access-Control-Allow-Origin for a cross-origin app", path)
		}
		if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "" {
			t.Errorf("%s: Access-Control-Allow-Credentials %q, want none", path, got)
		}
	}
	// passkeyd's own refusals, before the library's handler, too: the app
	// can read why.
	for _, tc := range []struct{ method, path, contentType, body string }{
		{http.MethodGet, "/oidc/token", "", ""},
		{http.MethodPost, "/oidc/token", "application/json", "{}"},
		{http.MethodPost, "/oidc/revoke", "text/plain", "token=x"},
		{http.MethodPost, "/oidc/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=x&code_verifier=short"},
		{http.MethodGet, "/oidc/userinfo?access_token=x", "", ""},
	} {
		req, err := http.NewRequestWithContext(t.Context(), tc.method, s.issuer+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://spa.example.net")
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		res, err := s.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode < 400 || res.Header.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("%s %s (%s): %d with Access-Control-Allow-Origin %q; want a refusal the app can read",
				tc.method, tc.path, tc.contentType, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}
