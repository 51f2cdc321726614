package main

// The oidc mode: each browser signs in to an app (a registered OpenID
// Connect client) through passkeyd's provider, and the app redeems the
// code, asks for the user's claims and refreshes its tokens, as a web app
// with a server side does:
//
//	authorize  GET /oidc/authorize (PKCE S256, state, nonce) → 302 to the login step
//	login      GET /oidc/login?id=… → 303 back to the app with a code; or the
//	           sign-in page (no session: a passkey sign-in through the JSON
//	           API, as the page's script does, then the login step again),
//	           or the consent page (the first time)
//	consent    POST /oidc/consent (allow) → 303 back to the app with a code
//	token      POST /oidc/token, authorization_code, client_secret_basic
//	userinfo   GET /oidc/userinfo with the access token
//	refresh    POST /oidc/token, refresh_token, client_secret_basic
//
// The browser's requests carry its cookies (the session, the provider's
// browser binding passkeyd_oidc); the app's (token, userinfo, refresh)
// carry none. Answers are checked as an app would check them, except the
// ID token's signature, which tests verify (Config.OnAppSignIn) so that
// the load tool's own CPU stays small.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/passkeyd/passkeyd/internal/loadresult"
)

// AppConfig names the client the oidc mode signs in to.
type AppConfig struct {
	ClientID     string
	ClientSecret string // client_secret_basic
	RedirectURI  string // registered for the client; never visited
	Scope        string // default "openid email profile offline_access"
}

func (a *AppConfig) check() error {
	if a.ClientID == "" || a.ClientSecret == "" || a.RedirectURI == "" {
		return errors.New("-mode oidc needs -client-id, -client-secret and -redirect-uri of a registered confidential client (passkeyd clients add)")
	}
	if a.Scope == "" {
		a.Scope = "openid email profile offline_access"
	}
	if !strings.Contains(" "+a.Scope+" ", " openid ") || !strings.Contains(" "+a.Scope+" ", " email ") || !strings.Contains(" "+a.Scope+" ", " offline_access ") {
		return fmt.Errorf("-scope %q: the oidc mode needs openid, email (userinfo's email is checked) and offline_access (it refreshes)", a.Scope)
	}
	return nil
}

// AppSignIn is one completed app sign-in, for Config.OnAppSignIn.
type AppSignIn struct {
	Email         string // the account the browser belongs to
	Nonce         string // sent in the authorization request
	IDToken       string // from the code's token response
	UserinfoEmail string
	RefreshToken  string // from the code's token response
	NewRefresh    string // from the refresh
	IDTokenAfter  string // the ID token of the refresh's response, if any
	Passkey       bool   // a passkey sign-in was needed (no session)
	Consented     bool   // the consent page was answered
}

// The steps, as the report and the errors name them.
const (
	stepAuthorize = "authorize"
	stepLogin     = "login"
	stepConsent   = "consent"
	stepToken     = "token"
	stepUserinfo  = "userinfo"
	stepRefresh   = "refresh"
)

// appSteps are the report's rows for the oidc mode, in order.
var appSteps = []string{stepAuthorize, stepLogin, epSignInOptions, epSignInVerify, stepConsent, stepToken, stepUserinfo, stepRefresh}

// appClient is what every app sign-in reuses.
type appClient struct {
	cfg           AppConfig
	authorize     string // /oidc/authorize?… without state, nonce and code_challenge
	basic         string // the Authorization header line of client_secret_basic
	codeGrant     string // the token request's body up to the code
	redirectParam string // &redirect_uri=…
	onSignIn      func(AppSignIn)

	algOnce  sync.Once
	alg      string
	idTokens atomic.Int64 // ID tokens received in completed app sign-ins
}

func newAppClient(cfg Config) *appClient {
	a := cfg.App
	q := url.Values{"response_type": {"code"}, "client_id": {a.ClientID}, "redirect_uri": {a.RedirectURI},
		"scope": {a.Scope}, "code_challenge_method": {"S256"}}
	// RFC 6749 §2.3.1: the ID and secret are form-encoded before Basic.
	creds := url.QueryEscape(a.ClientID) + ":" + url.QueryEscape(a.ClientSecret)
	return &appClient{
		cfg:           a,
		authorize:     "/oidc/authorize?" + q.Encode(),
		basic:         "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(creds)) + "\r\n",
		codeGrant:     "grant_type=authorization_code&code=",
		redirectParam: "&redirect_uri=" + url.QueryEscape(a.RedirectURI),
		onSignIn:      cfg.OnAppSignIn,
	}
}

const (
	acceptHTML = "Accept: text/html\r\n"
	formBody   = "Content-Type: application/x-www-form-urlencoded\r\n"
	acceptJSON = "Accept: application/json\r\n"
)

// do sends one request of a step and records its latency and, unless its
// status is one of ok, the step and status as an error.
func (r *recorder) do(rt *route, step string, req request, ok ...int) (response, bool) {
	start := time.Now()
	res, err := rt.next().do(req)
	r.latencies[step] = append(r.latencies[step], time.Since(start))
	if err != nil {
		r.errors[step+" net"]++
		return res, false
	}
	for _, s := range ok {
		if res.Status == s {
			return res, true
		}
	}
	r.errors[step+" "+strconv.Itoa(res.Status)]++
	return res, false
}

// fail counts a step's failure that is not an HTTP status.
func (r *recorder) fail(step, why string) bool {
	r.errors[step+" "+why]++
	return false
}

// appSignIn runs one app sign-in for u. withEmail says whether a passkey
// sign-in, if one is needed, names the account.
func (r *recorder) appSignIn(rt *route, u *user, app *appClient, withEmail bool) bool {
	var verifier, state, nonce [32]byte
	rand.Read(verifier[:])
	rand.Read(state[:])
	rand.Read(nonce[:])
	enc := base64.RawURLEncoding
	verifierText, stateText, nonceText := enc.EncodeToString(verifier[:]), enc.EncodeToString(state[:]), enc.EncodeToString(nonce[:])
	challenge := sha256.Sum256([]byte(verifierText))
	path := app.authorize + "&state=" + stateText + "&nonce=" + nonceText + "&code_challenge=" + enc.EncodeToString(challenge[:])

	res, ok := r.do(rt, stepAuthorize, request{method: "GET", path: path, header: acceptHTML, jar: &u.cookies}, http.StatusFound, http.StatusSeeOther)
	if !ok {
		return false
	}
	next := pathOf(res.Location)
	if !strings.HasPrefix(next, "/oidc/login?") {
		return r.fail(stepAuthorize, "redirect") // an error sent to the app, or elsewhere
	}
	done := AppSignIn{Email: u.email, Nonce: nonceText}
	var back string
	// Each pass is a visit of the login step: at most one passkey sign-in
	// and one consent before the code.
	for pass := 0; back == "" && pass < 3; pass++ {
		res, ok = r.do(rt, stepLogin, request{method: "GET", path: next, header: acceptHTML, jar: &u.cookies}, http.StatusOK, http.StatusSeeOther, http.StatusFound)
		if !ok {
			return false
		}
		if res.Status != http.StatusOK {
			back = string(res.Location)
			break
		}
		switch {
		case bytes.Contains(res.Body, []byte(`name="decision"`)) && !done.Consented:
			id, found := formValue(res.Body, "id")
			if !found {
				return r.fail(stepConsent, "no-id")
			}
			form := "id=" + url.QueryEscape(id) + "&decision=allow"
			res, ok = r.do(rt, stepConsent, request{method: "POST", path: "/oidc/consent", header: acceptHTML + formBody, origin: true,
				body: []byte(form), jar: &u.cookies}, http.StatusSeeOther, http.StatusFound)
			if !ok {
				return false
			}
			done.Consented = true
			if loc := string(res.Location); strings.HasPrefix(loc, app.cfg.RedirectURI) {
				back = loc
			} else {
				next = pathOf(res.Location) // the login step again (e.g. a step-up)
			}
		case bytes.Contains(res.Body, []byte(`id="signin"`)) && !done.Passkey:
			if !r.signIn(rt, u, withEmail) {
				return false
			}
			done.Passkey = true
		case bytes.Contains(res.Body, []byte(`id="unconfirmed-email"`)):
			// The provider asks apps' users to confirm their address first;
			// the load's accounts never do: register the client with
			// -allow-unverified-email (BENCHMARKS.md).
			return r.fail(stepLogin, "unconfirmed-email")
		default:
			return r.fail(stepLogin, "page") // an error page, or one not known here
		}
	}
	if !strings.HasPrefix(back, app.cfg.RedirectURI) {
		return r.fail(stepLogin, "redirect")
	}
	cb, err := url.Parse(back)
	if err != nil {
		return r.fail(stepLogin, "redirect")
	}
	q := cb.Query()
	code := q.Get("code")
	switch {
	case code == "":
		return r.fail(stepLogin, "no-code") // an error to the app: access_denied, …
	case q.Get("state") != stateText:
		return r.fail(stepLogin, "state")
	case q.Get("iss") == "":
		return r.fail(stepLogin, "no-iss")
	}

	// The app redeems the code: client_secret_basic, the PKCE verifier.
	body := app.codeGrant + url.QueryEscape(code) + app.redirectParam + "&code_verifier=" + verifierText
	tok, ok := r.tokens(rt, stepToken, app, body)
	if !ok {
		return false
	}
	if tok.IDToken == "" || tok.AccessToken == "" || tok.RefreshToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		return r.fail(stepToken, "incomplete")
	}
	done.IDToken, done.RefreshToken = tok.IDToken, tok.RefreshToken
	app.algOnce.Do(func() { app.alg = jwtAlg(tok.IDToken) })

	res, ok = r.do(rt, stepUserinfo, request{method: "GET", path: "/oidc/userinfo",
		header: acceptJSON + "Authorization: Bearer " + tok.AccessToken + "\r\n"}, http.StatusOK)
	if !ok {
		return false
	}
	var info struct {
		Email string `json:"email"`
	}
	if err := json.Unmarshal(res.Body, &info); err != nil {
		return r.fail(stepUserinfo, "json")
	}
	if info.Email != u.email {
		return r.fail(stepUserinfo, "email")
	}
	done.UserinfoEmail = info.Email

	refreshed, ok := r.tokens(rt, stepRefresh, app, "grant_type=refresh_token&refresh_token="+url.QueryEscape(tok.RefreshToken))
	if !ok {
		return false
	}
	if refreshed.AccessToken == "" || refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		return r.fail(stepRefresh, "not-rotated")
	}
	done.NewRefresh, done.IDTokenAfter = refreshed.RefreshToken, refreshed.IDToken
	if refreshed.IDToken != "" {
		app.idTokens.Add(2)
	} else {
		app.idTokens.Add(1)
	}
	if app.onSignIn != nil {
		app.onSignIn(done)
	}
	return true
}

// tokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

// tokens posts a grant to the token endpoint as the app.
func (r *recorder) tokens(rt *route, step string, app *appClient, form string) (tokenResponse, bool) {
	var tok tokenResponse
	res, ok := r.do(rt, step, request{method: "POST", path: "/oidc/token", header: acceptJSON + formBody + app.basic, body: []byte(form)}, http.StatusOK)
	if !ok {
		return tok, false
	}
	if err := json.Unmarshal(res.Body, &tok); err != nil {
		return tok, r.fail(step, "json")
	}
	return tok, true
}

// pathOf is the path and query of a Location: the provider's own
// redirects name its issuer (http://localhost:PORT/oidc/…), which is
// every target; the request goes to the next target all the same.
func pathOf(location []byte) string {
	loc := string(location)
	if i := strings.Index(loc, "://"); i >= 0 {
		rest := loc[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return rest[j:]
		}
		return "/"
	}
	return loc
}

// formValue finds the value of the form field name in a page, as the
// provider's templates write it: name="NAME" value="VALUE".
func formValue(page []byte, name string) (string, bool) {
	marker := []byte(`name="` + name + `" value="`)
	i := bytes.Index(page, marker)
	if i < 0 {
		return "", false
	}
	rest := page[i+len(marker):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return htmlUnescape(string(rest[:j])), true
}

// htmlUnescape undoes what html/template escapes in an attribute value
// that the request IDs could contain.
func htmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return strings.NewReplacer("&#43;", "+", "&#61;", "=", "&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// jwtAlg reads the alg of a JWT's header, unverified: for the report.
func jwtAlg(token string) string {
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Alg
}

// firstAppSignIns runs the oidc mode's first phase after registration:
// every user's first app sign-in, with a passkey sign-in (registration
// leaves no session) and consent, at the registration's concurrency. The
// app sign-ins of phase two then find a session and consent remembered.
func firstAppSignIns(ctx context.Context, cfg Config, target *route, users []*user, sum *loadresult.Summary, progress io.Writer) (*appClient, error) {
	app := newAppClient(cfg)
	fmt.Fprintf(progress, "phase 1b: first app sign-in of %d users to %s (passkey, consent) at concurrency %d\n",
		len(users), cfg.App.ClientID, cfg.RegisterConcurrency)
	var next atomic.Int64
	first := phase(cfg, target, cfg.RegisterConcurrency, func(rec *recorder, w *route, worker int) int {
		done := 0
		for ctx.Err() == nil {
			i := int(next.Add(1)) - 1
			if i >= len(users) {
				break
			}
			if rec.appSignIn(w, users[i], app, i%2 == 0) {
				done++
			}
		}
		return done
	})
	first.Failed = len(users) - first.Ceremonies
	sum.AppFirst = &first
	sum.App = &loadresult.App{ClientID: cfg.App.ClientID, IDTokenAlg: app.alg}
	fmt.Fprintf(progress, "phase 1b: %d signed in to the app, %d failed in %.2fs\n", first.Ceremonies, first.Failed, first.Seconds)
	if first.Ceremonies == 0 {
		return nil, fmt.Errorf("no user could sign in to the app %s; errors: %v (is the client registered with this redirect URI and secret, and with -allow-unverified-email where passkeyd has it?)",
			cfg.App.ClientID, first.Errors)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("phase 1b stopped: %w", err)
	}
	return app, nil
}
