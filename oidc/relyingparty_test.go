package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/testserver"
	"github.com/passkeyd/passkeyd/mail/mailtest"
)

func TestMain(m *testing.M) { testserver.Main(m) }

const (
	appSecret   = "app:secret%with-colon-and-percent-0123456789" // client_secret_basic must form-encode it
	appRedirect = "http://127.0.0.1:9/callback"
	appLogout   = "http://127.0.0.1:9/signed-out"
	spaRedirect = "http://127.0.0.1:9/spa"
	esRedirect  = "http://127.0.0.1:9/es"
)

// server is a real passkeyd binary with an OIDC_CLIENTS_FILE, and a
// scripted browser signed in to it.
type server struct {
	issuer  string
	env     []string
	dir     string
	http    *http.Client // reaches localhost:PORT at 127.0.0.1, for the relying party
	browser *softauthn.Client
	userID  string
	base    string // where this instance listens; the issuer for the first
	dbURL   string // DATABASE_URL
	alice   *softauthn.Authenticator
	out     *testserver.Buffer
	mail    *mailtest.Server // where passkeyd's email goes; nil: its log
}

// loopback dials localhost as 127.0.0.1, where passkeyd listens.
func loopback() *http.Transport {
	d := &net.Dialer{}
	return &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, _ := net.SplitHostPort(addr)
		if host == "localhost" {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}}
}

func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWithClients(t, testClients)
}

// startServerWithClients starts passkeyd on SQLite with these clients
// (OIDC_CLIENTS_FILE's JSON).
func startServerWithClients(t *testing.T, clients string, opts ...startOption) *server {
	t.Helper()
	dir := t.TempDir()
	return startInstances(t, "file:"+filepath.Join(dir, "passkeyd.db"), clients, 1, opts...)[0]
}

// startOption changes how startInstances starts passkeyd.
type startOption func(*startOptions)

type startOptions struct {
	unconfirmed bool     // leave alice's address unconfirmed
	env         []string // more settings, after the usual ones
	mail        *mailtest.Server
}

// aliceUnconfirmed leaves alice's address unconfirmed: she never opens
// the link emailed at sign-up.
func aliceUnconfirmed() startOption { return func(o *startOptions) { o.unconfirmed = true } }

// withMail sends passkeyd's email to m (SMTP_URL) instead of its log.
func withMail(m *mailtest.Server) startOption {
	return func(o *startOptions) { o.mail, o.env = m, append(o.env, "SMTP_URL="+m.URL()) }
}

// withEnv adds settings (NAME=value) to passkeyd's environment.
func withEnv(kv ...string) startOption { return func(o *startOptions) { o.env = append(o.env, kv...) } }

// testClients are the clients most tests use.
const testClients = `{"clients": [
		{"id": "app", "name": "Test App", "secret": "` + appSecret + `",
		 "redirect_uris": ["` + appRedirect + `"], "post_logout_redirect_uris": ["` + appLogout + `"]},
		{"id": "spa", "name": "Test SPA", "public": true, "redirect_uris": ["` + spaRedirect + `"]},
		{"id": "es", "name": "ES App", "secret": "` + appSecret + `", "trusted": true, "id_token_alg": "ES256",
		 "redirect_uris": ["` + esRedirect + `"]}
	]}`

// startInstances starts n instances of passkeyd on one database, as behind
// a load balancer: all with the first one's address as origin and issuer.
// The first one's browser is signed up and in.
func startInstances(t *testing.T, databaseURL, clients string, n int, opts ...startOption) []*server {
	t.Helper()
	var o startOptions
	for _, opt := range opts {
		opt(&o)
	}
	port, dir := testserver.FreePort(t), t.TempDir()
	issuer := "http://localhost:" + port
	file := filepath.Join(dir, "clients.json")
	if err := os.WriteFile(file, []byte(clients), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &server{issuer: issuer, dir: dir, env: []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"HOST=127.0.0.1",
		"PORT=" + port,
		"WEBAUTHN_RP_ID=localhost",
		"WEBAUTHN_ORIGIN=" + issuer,
		"DATABASE_URL=" + databaseURL,
		"DATA_DIR=" + filepath.Join(dir, "data"),
		"SESSION_SECRET=an-oidc-test-secret-of-at-least-32-characters",
		"OIDC_CLIENTS_FILE=" + file,
		"RATE_LIMIT=off",
		"LOG_FORMAT=text",
	}}
	s.env = append(s.env, o.env...) // the last setting wins
	s.mail = o.mail
	p := testserver.Run(t, testserver.Config{Dir: dir, Env: s.env}, 10*time.Second)
	p.WaitHealthy(t, "http://127.0.0.1:"+port+"/healthz", 60*time.Second)
	s.base, s.out, s.dbURL = issuer, p.Out, databaseURL
	all := []*server{s}
	for i := 1; i < n; i++ {
		other := *s
		otherPort := testserver.FreePort(t)
		other.base = "http://localhost:" + otherPort
		other.env = append(slices.Clone(s.env), "PORT="+otherPort) // the last setting wins
		p := testserver.Run(t, testserver.Config{Name: fmt.Sprintf("passkeyd %d", i+1), Dir: dir, Env: other.env}, 10*time.Second)
		p.WaitHealthy(t, "http://127.0.0.1:"+otherPort+"/healthz", 60*time.Second)
		all = append(all, &other)
	}
	s.http = &http.Client{Transport: loopback()}
	s.browser = softauthn.NewClient(issuer, issuer, loopback())
	a := softauthn.New("localhost", issuer)
	ctx := t.Context()
	if _, err := s.browser.Register(ctx, a, "alice@example.com"); err != nil {
		t.Fatalf("register: %v", err)
	}
	res, err := s.browser.SignIn(ctx, a, "alice@example.com", nil)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	s.userID, s.alice = res.User.ID, a
	if !o.unconfirmed {
		// Apps take only confirmed addresses unless told otherwise.
		s.confirmEmail(t, "alice@example.com")
	}
	for _, o := range all[1:] {
		o.http, o.browser, o.userID = s.http, s.browser, s.userID
	}
	return all
}

// confirmEmail opens the last confirmation link passkeyd emailed to
// address (without SMTP_URL, passkeyd writes email to its log) in the
// browser, which is signed in as its account.
func (s *server) confirmEmail(t *testing.T, address string) {
	t.Helper()
	if s.mail != nil {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		for {
			msg, err := s.mail.Wait(ctx, address)
			if err != nil {
				t.Fatalf("no confirmation link for %s: %v", address, err)
			}
			if m := verifyLink.FindStringSubmatch(msg.Text); m != nil {
				s.openConfirmation(t, address, m[1])
				return
			}
		}
	}
	link := regexp.MustCompile(`to=` + regexp.QuoteMeta(address) + `[^\n]*?verify-email\?token=([A-Za-z0-9_-]+)`)
	var token string
	for range 200 {
		if m := link.FindAllStringSubmatch(s.out.String(), -1); m != nil {
			token = m[len(m)-1][1]
			break
		}
		time.Sleep(50 * time.Millisecond) // the email is written after the answer
	}
	if token == "" {
		t.Fatalf("no confirmation link for %s in passkeyd's log", address)
	}
	s.openConfirmation(t, address, token)
}

// openConfirmation spends a confirmation link's token in s's browser.
func (s *server) openConfirmation(t *testing.T, address, token string) {
	t.Helper()
	if res, err := s.browser.PostJSON(t.Context(), "/api/email/verify", map[string]string{"token": token}); err != nil || res.Status != http.StatusOK {
		t.Fatalf("confirm %s: %v %v", address, res, err)
	}
}

// rpContext makes go-oidc and x/oauth2 use the loopback client.
func (s *server) rpContext(t *testing.T) context.Context {
	return gooidc.ClientContext(t.Context(), s.http)
}

func (s *server) provider(t *testing.T) *gooidc.Provider {
	t.Helper()
	p, err := gooidc.NewProvider(s.rpContext(t), s.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return p
}

func (s *server) config(p *gooidc.Provider, clientID, redirect string, style oauth2.AuthStyle) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = style
	secret := appSecret
	if clientID == "spa" {
		secret = ""
	}
	return &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: ep, RedirectURL: redirect,
		Scopes: []string{"openid", "email", "profile", "offline_access"}}
}

// get makes the browser GET u (absolute) without following redirects.
func (s *server) get(t *testing.T, u string) *http.Response {
	t.Helper()
	res, err := s.browser.HTTP.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	res.Body.Close()
	return res
}

var consentID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// authorize runs the browser through an authorization request and returns
// where passkeyd finally sends it back to the app. It consents when asked
// and reports whether it was asked.
func (s *server) authorize(t *testing.T, authURL string) (*url.URL, bool) {
	t.Helper()
	res := s.get(t, authURL)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302 to the login step", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, s.issuer+"/oidc/login?") {
		return mustParse(t, loc), false // an error response straight from authorize
	}
	res, err := s.browser.HTTP.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	consented := false
	if res.StatusCode == http.StatusOK {
		m := consentID.FindSubmatch(body)
		if m == nil {
			t.Fatalf("login step: a page without a consent form:\n%s", body)
		}
		consented = true
		form := url.Values{"id": {string(m[1])}, "decision": {"allow"}}
		req, _ := http.NewRequest(http.MethodPost, s.issuer+"/oidc/consent", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.issuer)
		if res, err = s.browser.HTTP.Do(req); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login step: status %d, want 303 back to the app", res.StatusCode)
	}
	return mustParse(t, res.Header.Get("Location")), consented
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u
}

// signIn runs a full code flow with PKCE for clientID and returns the
// token response and the verified ID token.
func (s *server) signIn(t *testing.T, p *gooidc.Provider, conf *oauth2.Config) (*oauth2.Token, *gooidc.IDToken) {
	t.Helper()
	verifier, state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	back, _ := s.authorize(t, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)))
	q := back.Query()
	if got := back.Scheme + "://" + back.Host + back.Path; got != conf.RedirectURL {
		t.Fatalf("sent back to %s, want %s", got, conf.RedirectURL)
	}
	if q.Get("state") != state || q.Get("iss") != s.issuer || q.Get("code") == "" {
		t.Fatalf("authorization response %v: want code, state %q and iss %q (RFC 9207)", q, state, s.issuer)
	}
	tok, err := conf.Exchange(s.rpContext(t), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	algs := []string{"RS256"}
	if conf.ClientID == "es" {
		algs = []string{"ES256"}
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: conf.ClientID, SupportedSigningAlgs: algs}).Verify(s.rpContext(t), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce %q, want %q", idt.Nonce, nonce)
	}
	return tok, idt
}

func TestRelyingParty(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	ctx := s.rpContext(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)

	t.Run("Discovery", func(t *testing.T) {
		var d map[string]any
		if err := p.Claims(&d); err != nil {
			t.Fatal(err)
		}
		if d["issuer"] != s.issuer {
			t.Errorf("issuer %q, want exactly %q", d["issuer"], s.issuer)
		}
		for key, want := range map[string][]string{
			"code_challenge_methods_supported":      {"S256"},
			"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
			"response_types_supported":              {"code"},
			"id_token_signing_alg_values_supported": {"RS256", "ES256", "EdDSA"},
		} {
			var got []string
			for _, v := range d[key].([]any) {
				got = append(got, v.(string))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s = %v, want %v", key, got, want)
			}
		}
		if d["authorization_response_iss_parameter_supported"] != true {
			t.Errorf("authorization_response_iss_parameter_supported = %v, want true", d["authorization_response_iss_parameter_supported"])
		}
	})

	var first *oauth2.Token
	var firstID *gooidc.IDToken
	t.Run("CodeFlow", func(t *testing.T) {
		first, firstID = s.signIn(t, p, app)
		var claims struct {
			Sub           string   `json:"sub"`
			Email         string   `json:"email"`
			EmailVerified *bool    `json:"email_verified"`
			AuthTime      int64    `json:"auth_time"`
			AMR           []string `json:"amr"`
		}
		if err := firstID.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.Sub != s.userID || claims.Email != "alice@example.com" || claims.EmailVerified == nil || claims.AuthTime == 0 {
			t.Errorf("ID token claims %+v: want sub %s (the user ID), email, email_verified and auth_time", claims, s.userID)
		}
		if !slices.Contains(claims.AMR, "pop") {
			t.Errorf("amr %v, want pop (RFC 8176: proof of possession of a key)", claims.AMR)
		}
		if first.RefreshToken == "" {
			t.Error("no refresh token for offline_access")
		}
	})

	t.Run("UserInfo", func(t *testing.T) {
		info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(first))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if info.Subject != s.userID || info.Email != "alice@example.com" {
			t.Errorf("userinfo sub %q email %q, want %s alice@example.com", info.Subject, info.Email, s.userID)
		}
	})

	t.Run("SecondSignInSkipsConsent", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		back, asked := s.authorize(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		if asked || back.Query().Get("code") == "" {
			t.Errorf("second sign-in: consent asked %v, response %v; want a code without asking", asked, back.Query())
		}
	})

	t.Run("RefreshRotationAndReuse", func(t *testing.T) {
		tok, _ := s.signIn(t, p, app)
		refresh := func(rt string) (*oauth2.Token, error) {
			return app.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
		}
		next, err := refresh(tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh did not rotate the refresh token")
		}
		if _, err := refresh(tok.RefreshToken); err == nil {
			t.Fatal("the rotated refresh token worked a second time")
		}
		if _, err := refresh(next.RefreshToken); err == nil {
			t.Error("after reuse, the family's current refresh token still works")
		}
		if _, err := p.UserInfo(ctx, oauth2.StaticTokenSource(next)); err == nil {
			t.Error("after reuse, the family's access token still works")
		}
	})

	t.Run("ClientSecretPost", func(t *testing.T) {
		s.signIn(t, p, s.config(p, "app", appRedirect, oauth2.AuthStyleInParams))
	})

	t.Run("PublicClientWithPKCE", func(t *testing.T) {
		s.signIn(t, p, s.config(p, "spa", spaRedirect, oauth2.AuthStyleInParams))
	})

	t.Run("LoopbackAnyPortForPublicClients", func(t *testing.T) {
		// RFC 8252 §7.3: a native app listens on a port of its choosing.
		s.signIn(t, p, s.config(p, "spa", strings.Replace(spaRedirect, ":9/", ":5555/", 1), oauth2.AuthStyleInParams))
	})

	t.Run("UnknownScopesIgnored", func(t *testing.T) {
		conf := *app
		conf.Scopes = []string{"openid", "email", "profile", "groups", "https://example.com/api"}
		tok, _ := s.signIn(t, p, &conf)
		if got := tok.Extra("scope"); got != "openid email profile" {
			t.Errorf("granted scope %q, want the known ones: openid email profile", got)
		}
	})

	t.Run("ES256Client", func(t *testing.T) {
		// signIn verifies the ID token accepting ES256 only; the client is
		// trusted, so no consent is asked.
		s.signIn(t, p, s.config(p, "es", esRedirect, oauth2.AuthStyleInHeader))
	})

	t.Run("Revocation", func(t *testing.T) {
		tok, _ := s.signIn(t, p, app)
		form := url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.issuer+"/oidc/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", url.QueryEscape(appSecret))
		res, err := s.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("revoke: status %d", res.StatusCode)
		}
		if _, err := app.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Error("a revoked refresh token still works")
		}
		if _, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("the access token of a revoked grant still works")
		}
	})

	t.Run("KeyRotation", func(t *testing.T) {
		rotate := func(args ...string) {
			cmd := exec.Command(testserver.Binary(t), append([]string{"oidc", "rotate-keys"}, args...)...)
			cmd.Env, cmd.Dir = s.env, s.dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("passkeyd oidc rotate-keys %v: %v\n%s", args, err, out)
			}
		}
		raw, _ := first.Extra("id_token").(string)
		var oldKey, key struct {
			Kid string `json:"kid"`
		}
		headerOf(t, raw, &oldKey)
		// A scheduled rotation publishes new keys; the old ones sign until
		// OIDC_KEY_PUBLISH_DELAY has passed (TestKeyRotation watches it pass).
		rotate()
		fresh := s.provider(t) // a relying party that fetches JWKS anew
		tok, _ := s.signIn(t, fresh, app)
		if headerOf(t, tok.Extra("id_token").(string), &key); key.Kid != oldKey.Kid {
			t.Errorf("right after rotate-keys the ID token has kid %q, want the old key %q until the new one is published long enough", key.Kid, oldKey.Kid)
		}
		// For a leaked key, -now: the new keys sign at once, and tokens the
		// old key signed no longer verify.
		rotate("-now")
		fresh = s.provider(t)
		tok, _ = s.signIn(t, fresh, app) // verified against the new JWKS
		if headerOf(t, tok.Extra("id_token").(string), &key); key.Kid == oldKey.Kid {
			t.Errorf("after rotate-keys -now the old key %q still signs", key.Kid)
		}
		if _, err := fresh.Verifier(&gooidc.Config{ClientID: "app"}).Verify(ctx, raw); err == nil {
			t.Error("after rotate-keys -now an ID token signed by the withdrawn key still verifies")
		}
		first = tok // the ID token the logout tests hint with must verify
	})

	// The refusals. None may send the browser to an unregistered URI.
	t.Run("Refused", func(t *testing.T) {
		base := func(extra url.Values) string {
			q := url.Values{"client_id": {"app"}, "response_type": {"code"}, "scope": {"openid email"},
				"redirect_uri": {appRedirect}, "state": {"st"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
			for k, v := range extra {
				q[k] = v
			}
			return s.issuer + "/oidc/authorize?" + q.Encode()
		}
		for name, extra := range map[string]url.Values{
			"WrongRedirectURI":   {"redirect_uri": {"http://127.0.0.1:9/other"}},
			"ExtraInRedirectURI": {"redirect_uri": {appRedirect + "?next=https://evil.example"}},
			"TrailingSlash":      {"redirect_uri": {appRedirect + "/"}},
			"OtherPort":          {"redirect_uri": {strings.Replace(appRedirect, ":9/", ":10/", 1)}}, // a confidential client's URI is exact
			"UpperCase":          {"redirect_uri": {strings.ToUpper(appRedirect)}},
			"OpenRedirect":       {"redirect_uri": {"https://evil.example/"}},
			"UnknownClient":      {"client_id": {"nobody"}, "redirect_uri": {"https://evil.example/"}},
			"ProtocolRelative":   {"redirect_uri": {"//evil.example/callback"}},
		} {
			t.Run(name, func(t *testing.T) {
				res := s.get(t, base(extra))
				if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
					t.Errorf("status %d, Location %q; want 400 and no redirect", res.StatusCode, res.Header.Get("Location"))
				}
			})
		}
		for name, extra := range map[string]url.Values{
			"PlainPKCE":         {"code_challenge_method": {"plain"}, "code_challenge": {strings.Repeat("a", 43)}},
			"PKCEWithoutMethod": {"code_challenge_method": {""}, "code_challenge": {strings.Repeat("a", 43)}},
			"S256TooShort":      {"code_challenge": {strings.Repeat("a", 42)}},
			"S256TooLong":       {"code_challenge": {strings.Repeat("a", 44)}},
			"S256NotBase64URL":  {"code_challenge": {strings.Repeat("a", 42) + "+"}},
			"PublicWithoutPKCE": {"client_id": {"spa"}, "redirect_uri": {spaRedirect}, "code_challenge": {""}, "code_challenge_method": {""}},
		} {
			t.Run(name, func(t *testing.T) {
				back, _ := s.authorize(t, base(extra))
				q := back.Query()
				if q.Get("error") != "invalid_request" || q.Get("iss") != s.issuer || q.Get("state") != "st" {
					t.Errorf("response %v: want error=invalid_request with state and iss", q)
				}
				if got := back.Scheme + "://" + back.Host + back.Path; got != extra.Get("redirect_uri") && got != appRedirect {
					t.Errorf("error sent to %s, which is not the registered redirect URI", got)
				}
			})
		}

		code := func(t *testing.T) (string, string) {
			verifier := oauth2.GenerateVerifier()
			back, _ := s.authorize(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
			return back.Query().Get("code"), verifier
		}
		t.Run("WrongVerifier", func(t *testing.T) {
			c, _ := code(t)
			if _, err := app.Exchange(ctx, c, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
				t.Error("a code was redeemed with the wrong PKCE verifier")
			}
		})
		t.Run("WrongSecret", func(t *testing.T) {
			c, verifier := code(t)
			wrong := *app
			wrong.ClientSecret = appSecret + "x"
			if _, err := wrong.Exchange(ctx, c, oauth2.VerifierOption(verifier)); err == nil {
				t.Error("a code was redeemed with a wrong client secret")
			}
		})
		t.Run("WrongRedirectAtToken", func(t *testing.T) {
			c, verifier := code(t)
			wrong := *app
			wrong.RedirectURL = appRedirect + "/"
			if _, err := wrong.Exchange(ctx, c, oauth2.VerifierOption(verifier)); err == nil {
				t.Error("a code was redeemed with another redirect_uri than it was issued for")
			}
		})
		t.Run("CodeTwice", func(t *testing.T) {
			c, verifier := code(t)
			tok, err := app.Exchange(ctx, c, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("first exchange: %v", err)
			}
			if _, err := app.Exchange(ctx, c, oauth2.VerifierOption(verifier)); err == nil {
				t.Fatal("a code was redeemed twice")
			}
			if _, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Error("the access token issued from a code used twice still works")
			}
			if _, err := app.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
				t.Error("the refresh token issued from a code used twice still works")
			}
		})
		t.Run("UnregisteredPostLogoutURI", func(t *testing.T) {
			raw, _ := first.Extra("id_token").(string)
			res := s.get(t, s.issuer+"/oidc/end_session?"+url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
			if loc := res.Header.Get("Location"); res.StatusCode != http.StatusBadRequest || loc != "" {
				t.Errorf("status %d, Location %q; want 400 and no redirect", res.StatusCode, loc)
			}
			res = s.get(t, s.issuer+"/oidc/end_session?"+url.Values{"post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
			if loc := res.Header.Get("Location"); strings.Contains(loc, "evil") {
				t.Errorf("end_session without a client redirected to %s", loc)
			}
		})
	})

	// Last: it signs the browser out.
	t.Run("Logout", func(t *testing.T) {
		raw, _ := first.Extra("id_token").(string)
		res := s.get(t, s.issuer+"/oidc/end_session?"+url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {appLogout}, "state": {"bye"}}.Encode())
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || loc != appLogout+"?state=bye" {
			t.Fatalf("end_session: status %d, Location %q; want 302 to %s?state=bye", res.StatusCode, loc, appLogout)
		}
		me, err := s.browser.Do(t.Context(), http.MethodGet, "/api/auth/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		if me.Status != http.StatusUnauthorized {
			t.Errorf("after logout /api/auth/me answers %d, want 401", me.Status)
		}
		// Signed out, prompt=none answers login_required without a page.
		verifier := oauth2.GenerateVerifier()
		back, _ := s.authorize(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))
		if q := back.Query(); q.Get("error") != "login_required" || q.Get("iss") != s.issuer {
			t.Errorf("prompt=none signed out: %v, want error=login_required with iss", q)
		}
	})
}

// headerOf decodes a JWT's header into v.
func headerOf(t *testing.T, jwt string, v any) {
	t.Helper()
	part, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// TestTwoInstancesOnPostgreSQL: a code issued by one instance is redeemed
// on another, and of two redemptions racing on both exactly one wins, and
// the other revokes what it won.
func TestTwoInstancesOnPostgreSQL(t *testing.T) {
	dsn := testserver.PostgresDSN(t)
	both := startInstances(t, dsn, testClients, 2)
	a, b := both[0], both[1]
	p := a.provider(t)
	onA := a.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	onB := *onA
	onB.Endpoint.TokenURL = strings.Replace(onA.Endpoint.TokenURL, a.base, b.base, 1)
	if onB.Endpoint.TokenURL == onA.Endpoint.TokenURL {
		t.Fatalf("token URL %s does not name instance A", onA.Endpoint.TokenURL)
	}
	code := func(t *testing.T) (string, string) {
		verifier := oauth2.GenerateVerifier()
		back, _ := a.authorize(t, onA.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		return back.Query().Get("code"), verifier
	}

	t.Run("RedeemOnOther", func(t *testing.T) {
		c, verifier := code(t)
		tok, err := onB.Exchange(a.rpContext(t), c, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange on B of A's code: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		if _, err := p.Verifier(&gooidc.Config{ClientID: "app"}).Verify(a.rpContext(t), raw); err != nil {
			t.Errorf("B's ID token does not verify with A's JWKS: %v", err)
		}
	})

	t.Run("Race", func(t *testing.T) {
		c, verifier := code(t)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		toks := make([]*oauth2.Token, 2)
		for i, conf := range []*oauth2.Config{onA, &onB} {
			wg.Go(func() {
				toks[i], errs[i] = conf.Exchange(a.rpContext(t), c, oauth2.VerifierOption(verifier))
			})
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("racing redemptions on A and B: %v and %v; want exactly one success", errs[0], errs[1])
		}
		// The loser's reuse revoked what the winner got, whichever came first.
		won := toks[0]
		if errs[0] != nil {
			won = toks[1]
		}
		if _, err := p.UserInfo(a.rpContext(t), oauth2.StaticTokenSource(won)); err == nil {
			t.Error("the winner's access token works after its code was used twice")
		}
		if _, err := onA.TokenSource(a.rpContext(t), &oauth2.Token{RefreshToken: won.RefreshToken}).Token(); err == nil {
			t.Error("the winner's refresh token works after its code was used twice")
		}
	})
}
