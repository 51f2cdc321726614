package oidc_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// exchange is one token request as a relying party sent it, and the answer.
type exchange struct {
	basic     bool // client_secret_basic
	post      bool // client_secret_post
	status    int
	challenge string // WWW-Authenticate
	body      string
}

// recorder is a relying party's transport that keeps what it sent to the
// token endpoint and what came back.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []exchange
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var form url.Values
	if req.Body != nil && strings.HasSuffix(req.URL.Path, "/oidc/token") {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		form, _ = url.ParseQuery(string(b))
		req.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	res, err := rec.next.RoundTrip(req)
	if err != nil || form == nil {
		return res, err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(strings.NewReader(string(b)))
	_, _, basic := req.BasicAuth()
	rec.mu.Lock()
	rec.seen = append(rec.seen, exchange{basic: basic, post: form.Has("client_secret"), status: res.StatusCode,
		challenge: res.Header.Get("WWW-Authenticate"), body: string(b)})
	rec.mu.Unlock()
	return res, nil
}

func (rec *recorder) take() []exchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	seen := rec.seen
	rec.seen = nil
	return seen
}

// securityLog returns the types of the signed-in user's security-log
// events, newest first.
func (s *server) securityLog(t *testing.T) []string {
	t.Helper()
	res, err := s.browser.Do(t.Context(), http.MethodGet, "/api/security-log?limit=100", nil)
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("GET /api/security-log: %v %v", res, err)
	}
	var log struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	if err := json.Unmarshal(res.Body, &log); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range log.Events {
		types = append(types, e.Type)
	}
	return types
}

// post sends a form to an endpoint of the provider and returns the answer
// with its body read.
func (s *server) post(t *testing.T, path, rawQuery string, form url.Values, basic bool) (*http.Response, string) {
	t.Helper()
	u := s.issuer + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth("app", url.QueryEscape(appSecret))
	}
	return s.do(t, req)
}

func (s *server) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := s.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

func oauthError(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Errorf("answer %q is not a JSON error: %v", body, err)
	}
	return e.Error
}

// TestTokenEndpoint: the token endpoint authenticates the client before it
// spends the code; its answers are never cached and take no credentials
// from the URL; the PKCE verifier's form is checked; a narrower refresh
// keeps the grant's scope for the next one.
func TestTokenEndpoint(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	rec := &recorder{next: loopback()}
	ctx := gooidc.ClientContext(t.Context(), &http.Client{Transport: rec})
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleAutoDetect)
	code := func(t *testing.T) (string, string) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		back, _ := s.authorize(t, app.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
		if back.Query().Get("code") == "" {
			t.Fatalf("no code: %v", back)
		}
		return back.Query().Get("code"), verifier
	}

	// golang.org/x/oauth2, as Gitea, oauth2-proxy and most Go apps use it,
	// sends the code with HTTP Basic, and on any error sends it again with
	// client_secret_post: with a wrong secret, both must be invalid_client,
	// and neither may spend the code or be taken for a code used twice.
	t.Run("WrongSecretLeavesCodeUnspent", func(t *testing.T) {
		c, verifier := code(t)
		wrong := *app
		wrong.ClientSecret = appSecret + "x"
		_, err := wrong.Exchange(ctx, c, oauth2.VerifierOption(verifier))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
			t.Fatalf("exchange with a wrong secret: %v; want 401 invalid_client", err)
		}
		seen := rec.take()
		if len(seen) != 2 || !seen[0].basic || !seen[1].post {
			t.Fatalf("token requests %+v; want x/oauth2's Basic, then its client_secret_post retry", seen)
		}
		for _, x := range seen {
			if x.status != http.StatusUnauthorized || oauthError(t, x.body) != "invalid_client" {
				t.Errorf("basic %v post %v: %d %s; want 401 invalid_client", x.basic, x.post, x.status, x.body)
			}
		}
		if seen[0].challenge != `Basic realm="passkeyd", charset="UTF-8"` {
			t.Errorf("WWW-Authenticate %q after a failed Basic authentication; want a Basic challenge (RFC 6749 §5.2)", seen[0].challenge)
		}
		if log := s.securityLog(t); slices.Contains(log, "oidc_code_reused") {
			t.Errorf("security log %v after a wrong secret: want no oidc_code_reused", log)
		}
		tok, err := app.Exchange(ctx, c, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("the right secret with the same code: %v; want tokens", err)
		}
		if _, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
			t.Errorf("userinfo with the token: %v", err)
		}
		// Only a second authenticated redemption is a reuse: alarm, and the
		// first one's tokens end.
		if _, err := app.Exchange(ctx, c, oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("a code was redeemed twice")
		}
		if log := s.securityLog(t); !slices.Contains(log, "oidc_code_reused") {
			t.Errorf("security log %v after the client redeemed its code twice: want oidc_code_reused", log)
		}
		if _, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("the access token of a code used twice still works")
		}
		rec.take()
	})

	t.Run("NotCached", func(t *testing.T) {
		c, verifier := code(t)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {appRedirect}, "code_verifier": {verifier}}
		res, body := s.post(t, "/oidc/token", "", form, true)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("token: %d %s", res.StatusCode, body)
		}
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		json.Unmarshal([]byte(body), &tok)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.issuer+"/oidc/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		info, _ := s.do(t, req)
		revoked, _ := s.post(t, "/oidc/revoke", "", url.Values{"token": {tok.RefreshToken}}, true)
		failed, _ := s.post(t, "/oidc/token", "", form, true) // the code again
		for name, res := range map[string]*http.Response{"token": res, "userinfo": info, "revocation": revoked, "refused token": failed} {
			if cc, pragma := res.Header.Get("Cache-Control"), res.Header.Get("Pragma"); cc != "no-store" || pragma != "no-cache" {
				t.Errorf("%s answer (%d): Cache-Control %q, Pragma %q; want no-store and no-cache (RFC 6749 §5.1)", name, res.StatusCode, cc, pragma)
			}
		}
	})

	t.Run("NoCredentialsInURL", func(t *testing.T) {
		c, verifier := code(t)
		form := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {appRedirect}, "code_verifier": {verifier}}
		inURL := url.Values{"code": {c}, "client_id": {"app"}, "client_secret": {appSecret}}
		res, body := s.post(t, "/oidc/token", inURL.Encode(), form, false)
		if res.StatusCode != http.StatusBadRequest || oauthError(t, body) != "invalid_request" {
			t.Errorf("code and secret in the URL: %d %s; want 400 invalid_request", res.StatusCode, body)
		}
		res, body = s.post(t, "/oidc/token", url.Values{"code": {c}}.Encode(), form, true)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("code in the URL: %d %s; want 400", res.StatusCode, body)
		}
		res, body = s.post(t, "/oidc/token", url.Values{"refresh_token": {"x"}}.Encode(), url.Values{"grant_type": {"refresh_token"}}, true)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("refresh_token in the URL: %d %s; want 400", res.StatusCode, body)
		}
		all := url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {appRedirect}, "code_verifier": {verifier},
			"client_id": {"app"}, "client_secret": {appSecret}}
		get, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.issuer+"/oidc/token?"+all.Encode(), nil)
		res, body = s.do(t, get)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" || oauthError(t, body) != "invalid_request" {
			t.Errorf("GET token request: %d %s; want 405, Allow: POST and invalid_request", res.StatusCode, body)
		}
		asJSON, _ := json.Marshal(map[string]string{"grant_type": "authorization_code", "code": c, "redirect_uri": appRedirect, "code_verifier": verifier})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.issuer+"/oidc/token", strings.NewReader(string(asJSON)))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth("app", url.QueryEscape(appSecret))
		res, body = s.do(t, req)
		if res.StatusCode != http.StatusBadRequest || oauthError(t, body) != "invalid_request" {
			t.Errorf("JSON token request: %d %s; want 400 invalid_request", res.StatusCode, body)
		}
		// None of them spent the code.
		if _, err := app.Exchange(ctx, c, oauth2.VerifierOption(verifier)); err != nil {
			t.Errorf("the code after the refused requests: %v; want it unspent", err)
		}
		rec.take()
	})

	t.Run("PKCEVerifierForm", func(t *testing.T) {
		c, verifier := code(t)
		for name, bad := range map[string]string{
			"Short":    verifier[:42],
			"Long":     strings.Repeat(verifier, 3)[:129],
			"Reserved": verifier[:42] + "+",
			"Space":    verifier[:42] + " ",
		} {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {appRedirect}, "code_verifier": {bad}}
			res, body := s.post(t, "/oidc/token", "", form, true)
			if res.StatusCode != http.StatusBadRequest || oauthError(t, body) != "invalid_request" || !strings.Contains(body, "RFC 7636") {
				t.Errorf("%s verifier: %d %s; want 400 invalid_request citing RFC 7636", name, res.StatusCode, body)
			}
		}
		if _, err := app.Exchange(ctx, c, oauth2.VerifierOption(verifier)); err != nil {
			t.Errorf("the code after refused verifiers: %v; want it unspent", err)
		}
		rec.take()
	})

	// A client the provider does not know is refused as a client, 401, not
	// a server error, whatever the grant.
	t.Run("UnknownClient", func(t *testing.T) {
		for _, form := range []url.Values{
			{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {"nobody"}, "client_secret": {appSecret}},
			{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {appRedirect}, "client_id": {"nobody"}, "client_secret": {appSecret}},
		} {
			res, body := s.post(t, "/oidc/token", "", form, false)
			if res.StatusCode >= 500 {
				t.Errorf("%s grant from an unknown client: %d %s; want a 4xx", form.Get("grant_type"), res.StatusCode, body)
			}
		}
	})

	// A used refresh token presented by another (authenticated) client is
	// not the grant's client reusing it: it gets invalid_grant and revokes
	// nothing, or any client could end another app's sessions with a token
	// it saw.
	t.Run("ReuseByAnotherClientRevokesNothing", func(t *testing.T) {
		tok, _ := s.signIn(t, p, app)
		refresh := func(clientID, rt string) (int, string, string) {
			t.Helper()
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.issuer+"/oidc/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(clientID, url.QueryEscape(appSecret))
			res, body := s.do(t, req)
			var r struct {
				RefreshToken string `json:"refresh_token"`
			}
			json.Unmarshal([]byte(body), &r)
			return res.StatusCode, r.RefreshToken, body
		}
		status, next, body := refresh("app", tok.RefreshToken)
		if status != http.StatusOK || next == "" {
			t.Fatalf("first refresh: %d %s", status, body)
		}
		if status, _, body := refresh("es", tok.RefreshToken); status != http.StatusBadRequest || oauthError(t, body) != "invalid_grant" {
			t.Fatalf("another client presents the used token: %d %s; want 400 invalid_grant", status, body)
		}
		if status, _, body := refresh("app", next); status != http.StatusOK {
			t.Fatalf("the app's current refresh token after another client presented the used one: %d %s; want 200 (nothing revoked)", status, body)
		}
		if log := s.securityLog(t); slices.Contains(log, "oidc_refresh_reused") {
			t.Errorf("security log %v: want no oidc_refresh_reused", log)
		}
		rec.take()
	})

	// RFC 6749 §6: a refresh may ask for fewer scopes for its access token;
	// the new refresh token keeps the grant's.
	t.Run("NarrowerRefreshKeepsGrant", func(t *testing.T) {
		tok, _ := s.signIn(t, p, app)
		refresh := func(rt, scope string) (string, string, string) {
			t.Helper()
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
			if scope != "" {
				form.Set("scope", scope)
			}
			res, body := s.post(t, "/oidc/token", "", form, true)
			var r struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
				Scope        string `json:"scope"`
			}
			if err := json.Unmarshal([]byte(body), &r); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("refresh (scope %q): %d %s", scope, res.StatusCode, body)
			}
			return r.AccessToken, r.RefreshToken, r.Scope
		}
		email := func(access string) string {
			t.Helper()
			info, err := p.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access, TokenType: "Bearer"}))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			return info.Email
		}
		access, next, scope := refresh(tok.RefreshToken, "openid offline_access")
		if scope != "openid offline_access" || email(access) != "" {
			t.Errorf("narrowed refresh: scope %q, userinfo email %q; want openid offline_access and no email", scope, email(access))
		}
		access, _, scope = refresh(next, "")
		if scope != "openid email profile offline_access" || email(access) != "alice@example.com" {
			t.Errorf("the next refresh: scope %q, userinfo email %q; want the grant's scope back (openid email profile offline_access) and the email", scope, email(access))
		}
		rec.take()
	})
}

// TestUserinfoEndpoint: a token that is missing, malformed, revoked or
// expired gets 401 with the Bearer challenge of RFC 6750 §3.1 and a JSON
// error, never the library's text or a serialised internal error; a token
// in the URL is refused.
func TestUserinfoEndpoint(t *testing.T) {
	s := startServer(t)
	p := s.provider(t)
	app := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	tok, _ := s.signIn(t, p, app)
	userinfo := func(t *testing.T, rawQuery, authorization string) (*http.Response, string) {
		t.Helper()
		u := s.issuer + "/oidc/userinfo"
		if rawQuery != "" {
			u += "?" + rawQuery
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		return s.do(t, req)
	}
	if res, body := userinfo(t, "", "Bearer "+tok.AccessToken); res.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with a live token: %d %s", res.StatusCode, body)
	}

	t.Run("TokenInURL", func(t *testing.T) {
		res, body := userinfo(t, url.Values{"access_token": {tok.AccessToken}}.Encode(), "")
		if res.StatusCode != http.StatusBadRequest || oauthError(t, body) != "invalid_request" {
			t.Errorf("access_token in the URL: %d %s; want 400 invalid_request (RFC 9700 §2.4)", res.StatusCode, body)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		res, body := userinfo(t, "", "")
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != "Bearer" || oauthError(t, body) == "" {
			t.Errorf("no token: %d, WWW-Authenticate %q, %s; want 401, Bearer and a JSON error", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
		}
	})
	invalid := func(t *testing.T, res *http.Response, body string) {
		t.Helper()
		if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
			t.Errorf("status %d, WWW-Authenticate %q; want 401 with Bearer error=\"invalid_token\" (RFC 6750 §3.1)", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		if oauthError(t, body) != "invalid_token" || strings.Contains(body, "Code") || strings.Contains(body, "Err") {
			t.Errorf("body %s; want only a JSON invalid_token error", body)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
	}
	t.Run("Malformed", func(t *testing.T) {
		res, body := userinfo(t, "", "Bearer not-a-token")
		invalid(t, res, body)
	})
	t.Run("Revoked", func(t *testing.T) {
		res, body := s.post(t, "/oidc/revoke", "", url.Values{"token": {tok.RefreshToken}}, true)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", res.StatusCode, body)
		}
		res, body = userinfo(t, "", "Bearer "+tok.AccessToken)
		invalid(t, res, body)
		// go-oidc, as apps use it, sees the refusal.
		if _, err := p.UserInfo(s.rpContext(t), oauth2.StaticTokenSource(tok)); err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("go-oidc userinfo with a revoked token: %v; want a 401", err)
		}
	})
}

// TestUserinfoExpiredToken: an expired access token gets the same answer
// as a revoked one, 401 invalid_token, so that apps refresh.
func TestUserinfoExpiredToken(t *testing.T) {
	s := startInProcess(t)
	p := s.provider(t)
	tok, _ := s.signIn(t, p, s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader))
	s.clock.Advance(10*time.Minute + time.Second) // the default access token lifetime
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.issuer+"/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, body := s.do(t, req)
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) || oauthError(t, body) != "invalid_token" {
		t.Errorf("userinfo with an expired token: %d, WWW-Authenticate %q, %s; want 401 invalid_token", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
	}
}

// TestUserinfoStoreDown: when the database fails, userinfo says so with a
// 5xx, not invalid_token, which would send every app's user to sign in
// again.
func TestUserinfoStoreDown(t *testing.T) {
	s := startInProcess(t)
	p := s.provider(t)
	tok, _ := s.signIn(t, p, s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader))
	s.store.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.issuer+"/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, body := s.do(t, req)
	if res.StatusCode < 500 || oauthError(t, body) != "server_error" || res.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("userinfo with the database closed: %d, WWW-Authenticate %q, %s; want a 5xx server_error", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
	}
}
