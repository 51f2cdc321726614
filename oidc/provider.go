package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rs/cors"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passkeyd/passkeyd"
)

// Store is what the provider keeps: passkeyd's accounts and sessions, and
// its own tables, and reads of the console's groups. The sqlite and
// postgres stores are all three.
type Store interface {
	passkeyd.Store
	passkeyd.OIDCStore
	GroupStore
}

// GroupStore is the one thing the provider reads of groups
// (passkeyd.ConsoleStore has it): a user's groups, for the groups claim
// and for the clients that admit only members of given groups.
type GroupStore interface {
	// ListUserGroups returns the account's groups, by name.
	ListUserGroups(ctx context.Context, userID string) ([]*passkeyd.Group, error)
}

// Users tells who is signed in: passkeyd's web handler, which the
// provider's Handler is mounted in (web.Server.SignedIn).
type Users interface {
	// SignedIn returns the signed-in user of r and their session, or nils.
	SignedIn(r *http.Request) (*passkeyd.User, *passkeyd.Session)
}

// Pages renders the provider's pages in the host's layout, so that signing
// in to an app looks like signing in to passkeyd (web.Server.Render, with
// web/templates/oidc-*.html).
type Pages interface {
	// Render writes page name ("oidc-signin", "oidc-consent",
	// "oidc-confirm-email", "oidc-signout" or "oidc-error") with status
	// and data (a *Page), or returns why it could not, having written
	// nothing.
	Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error
}

// Deps are the collaborators of a Provider. cmd/passkeyd passes its web
// handler as Pages and Users, and mounts Handler in it.
type Deps struct {
	Store Store        // required
	Pages Pages        // required
	Users Users        // required
	Log   *slog.Logger // nil discards logs
	// Metrics, if set, counts sign-ins, tokens and refusals per client
	// (NewMetrics).
	Metrics *Metrics
}

// Provider is the OpenID Connect provider. Its Handler expects to run
// inside passkeyd's web handler, which loads the browser's session
// (Deps.Users) and strips the mount prefix: cmd/passkeyd mounts it there
// with web.Server.Mount.
type Provider struct {
	cfg      Config
	accounts passkeyd.Store
	store    passkeyd.OIDCStore
	groups   GroupStore
	pages    Pages
	users    Users
	log      *slog.Logger
	metrics  *Metrics
	secrets  *secrets
	ring     keyring
	op       *op.Provider
	handler  http.Handler
}

// New returns a provider. It does not touch the database: the signing keys
// are made when first needed (or by EnsureKeys).
func New(cfg Config, deps Deps) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil || deps.Pages == nil || deps.Users == nil {
		return nil, fmt.Errorf("oidc.New: Deps.Store, Deps.Pages and Deps.Users are required")
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sec, err := deriveSecrets(cfg.Secret)
	if err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, accounts: deps.Store, store: deps.Store, groups: deps.Store, pages: deps.Pages, users: deps.Users,
		log: log, metrics: deps.Metrics, secrets: sec}
	opts := []op.Option{
		op.WithCustomEndpoints(
			op.NewEndpoint("oidc/authorize"),
			op.NewEndpoint("oidc/token"),
			op.NewEndpoint("oidc/userinfo"),
			op.NewEndpoint("oidc/revoke"),
			op.NewEndpoint("oidc/end_session"),
			op.NewEndpoint("oidc/keys"),
		),
		op.WithHttpInterceptors(withClientID),
		op.WithCORSOptions(&corsOptions),
	}
	if strings.HasPrefix(cfg.Issuer, "http://") {
		opts = append(opts, op.WithAllowInsecure()) // validate allowed it for loopback only
	}
	p.op, err = op.NewProvider(&op.Config{
		CryptoKey:                sec.tokens,
		DefaultLogoutRedirectURI: cfg.Issuer + "/",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedScopes:          KnownScopes,
	}, storage{p}, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc provider: %w", err)
	}
	mux := http.NewServeMux()
	// Discovery is ours, not the op package's router: it gets the same CORS.
	mux.Handle("GET /.well-known/openid-configuration", allowCORS(http.HandlerFunc(p.handleDiscovery)))
	mux.Handle("GET /oidc/login", p.page(p.handleLogin))
	mux.Handle("POST /oidc/consent", p.page(p.handleConsent))
	mux.Handle("POST /oidc/cancel", p.page(p.handleCancel))
	mux.Handle("/oidc/end_session", p.page(p.handleEndSession))
	// The op package's endpoints. Introspection, device authorization and
	// its /healthz, /ready are not offered. An authorization request op
	// would refuse with its own plain text is refused first, with a page
	// (checkAuthorizeRequest); what op refuses still gets one (errorPages).
	mux.Handle("/oidc/authorize", p.checkAuthorizeRequest(p.bindBrowser(withIssuerInResponse(cfg.Issuer, p.errorPages(p.op)))))
	// The endpoints single-page apps call get CORS outside passkeyd's own
	// refusals too (a wrong method or body, a bad verifier, a refused
	// access token), so that the app can read why, not just that it failed.
	mux.Handle("/oidc/token", allowCORS(noStore(formPostOnly(p.op))))
	mux.Handle("/oidc/revoke", allowCORS(noStore(formPostOnly(p.op))))
	mux.Handle("/oidc/userinfo", allowCORS(noStore(p.userinfoEndpoint(p.op))))
	mux.Handle("/oidc/keys", withJWKSCaching(p.op))
	p.handler = withRequestCache(mux)
	return p, nil
}

// Handler serves /.well-known/openid-configuration and /oidc/... . The
// token, revocation and userinfo endpoints are called by other sites'
// scripts (single-page apps redeem codes and refresh tokens from the
// browser), authenticated by client credentials or bearer tokens, never by
// passkeyd's cookies: they may be called cross-origin. The sign-in steps
// (/oidc/login, consent, cancel, end_session) read the browser's session.
func (p *Provider) Handler() http.Handler { return p.handler }

// KeyPublishDelay is how long RotateKeys publishes a key before it signs.
func (p *Provider) KeyPublishDelay() time.Duration { return p.cfg.KeyPublishDelay }

// Issuer is the provider's issuer identifier.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

func (p *Provider) now() time.Time { return p.cfg.Now() }

// record writes a security-log event; a failure is logged, not returned:
// the event accompanies an answer already decided.
func (p *Provider) record(ctx context.Context, ev *passkeyd.Event) {
	if ev.UserID == "" {
		return
	}
	if err := p.accounts.RecordEvent(ctx, ev); err != nil {
		p.log.ErrorContext(ctx, "record event", "event_type", ev.Type, "error", err)
	}
}

func (p *Provider) clientName(ctx context.Context, id string) string {
	if c, err := p.client(ctx, id); err == nil {
		return c.Name
	}
	return id
}

// withClientID puts the client ID of a token request into its context, so
// that SigningKey signs the ID token with that client's algorithm (the op
// package asks for a key without saying for whom). The client is
// authenticated afterwards by op; a wrong ID here only picks a key.
func withClientID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/oidc/token") {
			id, _, ok := r.BasicAuth()
			if ok {
				id, _ = url.QueryUnescape(id)
			} else if err := r.ParseForm(); err == nil {
				id = r.PostForm.Get("client_id")
			}
			r = r.WithContext(context.WithValue(r.Context(), clientIDKey{}, id))
		}
		next.ServeHTTP(w, r)
	})
}

// handleDiscovery serves the op package's discovery document, narrowed to
// what passkeyd offers, with authorization_response_iss_parameter_supported
// (RFC 9207).
func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), p.cfg.Issuer)
	d := op.CreateDiscoveryConfig(ctx, p.op, storage{p})
	d.ResponseTypesSupported = []string{string(zoidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(zoidc.ResponseModeQuery), string(zoidc.ResponseModeFragment)}
	d.GrantTypesSupported = []zoidc.GrantType{zoidc.GrantTypeCode, zoidc.GrantTypeRefreshToken}
	d.TokenEndpointAuthMethodsSupported = []zoidc.AuthMethod{zoidc.AuthMethodBasic, zoidc.AuthMethodPost, zoidc.AuthMethodNone}
	d.RevocationEndpointAuthMethodsSupported = d.TokenEndpointAuthMethodsSupported
	d.IntrospectionEndpoint, d.DeviceAuthorizationEndpoint = "", ""
	d.IntrospectionEndpointAuthMethodsSupported, d.IntrospectionEndpointAuthSigningAlgValuesSupported = nil, nil
	d.RevocationEndpointAuthSigningAlgValuesSupported, d.TokenEndpointAuthSigningAlgValuesSupported = nil, nil
	d.ClaimsSupported = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp",
		"at_hash", "c_hash", "email", "email_verified", "name", "preferred_username", "groups"}
	b, err := json.Marshal(d)
	var doc map[string]any
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	if err != nil {
		p.log.ErrorContext(r.Context(), "oidc discovery", "error", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	doc["authorization_response_iss_parameter_supported"] = true
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	json.NewEncoder(w).Encode(doc)
}

// withJWKSCaching says how long JWKS may be cached. Relying parties and
// caches in between that honour it see a new key within jwksMaxAge, well
// before it signs (MinKeyPublishDelay), and stop trusting a withdrawn one
// as soon. An error is not to be cached.
func withJWKSCaching(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&jwksWriter{ResponseWriter: w}, r)
	})
}

type jwksWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *jwksWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		cc := "no-store"
		if status == http.StatusOK {
			cc = fmt.Sprintf("public, max-age=%d", jwksMaxAge)
		}
		w.Header().Set("Cache-Control", cc)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *jwksWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// withIssuerInResponse adds iss (RFC 9207) to the authorization error
// responses the op package redirects to a client: a redirect away from
// the issuer that carries error. passkeyd's own responses (login.go) add
// it themselves.
func withIssuerInResponse(issuer string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&issuerWriter{ResponseWriter: w, issuer: issuer}, r)
	})
}

type issuerWriter struct {
	http.ResponseWriter
	issuer string
}

func (w *issuerWriter) WriteHeader(status int) {
	if status == http.StatusFound || status == http.StatusSeeOther {
		if loc := w.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, w.issuer+"/") {
			w.Header().Set("Location", addIssuer(loc, w.issuer))
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

// addIssuer adds iss next to the code or error of an authorization
// response, in the query or the fragment, wherever the response put them.
func addIssuer(loc, issuer string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	if f, err := url.ParseQuery(u.Fragment); err == nil && (f.Has("code") || f.Has("error")) {
		f.Set("iss", issuer)
		u.Fragment, u.RawFragment = "", ""
		return u.String() + "#" + f.Encode()
	}
	q := u.Query()
	if q.Has("code") || q.Has("error") {
		q.Set("iss", issuer)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return loc
}

// AuthorizeParameterLimits bound each authorization request parameter, in
// bytes: longer ones are refused with an error page before anything is
// stored. The stored ones are generous for what apps send (a state of a
// few hundred bytes, a 43-character S256 challenge); id_token_hint, a
// signed ID token, is read and not stored. Other parameters get
// otherParameterLimit.
var AuthorizeParameterLimits = map[string]int{
	"client_id":             200, // ValidateClient's bound
	"redirect_uri":          2048,
	"response_type":         64,
	"response_mode":         32,
	"scope":                 1024,
	"state":                 2048,
	"nonce":                 512,
	"code_challenge":        128, // RFC 7636 §4.2: 43 to 128
	"code_challenge_method": 16,
	"prompt":                64,
	"max_age":               16,
	"login_hint":            320,
	"ui_locales":            256,
	"claims_locales":        256,
	"acr_values":            256,
	"display":               32,
	"id_token_hint":         8192,
}

// otherParameterLimit bounds the authorization request parameters
// AuthorizeParameterLimits does not name.
const otherParameterLimit = 1024

// checkAuthorizeRequest refuses, with passkeyd's error page and before
// anything is stored, an authorization request that is too large, names
// no registered client, is not for a code, or asks to come back to an
// address that is not registered. Nothing of it is redirected: the
// redirect URI is not trusted yet (RFC 6749 §4.1.2.1). For a redirect URI
// that is not registered, the page shows what the client sent and the log
// shows what is registered: the most common mistake when setting up an
// app is a trailing slash or a different scheme, and the registered URIs
// are the operator's business, not any visitor's.
func (p *Provider) checkAuthorizeRequest(next http.Handler) http.Handler {
	return p.page(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		refuse := func(msg string) error { return passkeyd.Errorf(passkeyd.EINVALID, "%s", msg) }
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return p.render(w, r, http.StatusRequestEntityTooLarge, "oidc-error", &Page{
					Message: "The app's sign-in request is larger than passkeyd accepts. Please go back to the app and try again; if it happens again, tell the app's operator.",
				})
			}
			return refuse("The app's sign-in request could not be read. Please go back to the app and try again.")
		}
		for name, values := range r.Form {
			limit, ok := AuthorizeParameterLimits[name]
			if !ok {
				limit = otherParameterLimit
			}
			if len(values) > 1 || len(values[0]) > limit {
				p.log.InfoContext(ctx, "oidc authorization request parameter refused", "event", "oidc_request_too_large",
					"parameter", truncate(name, 64), "bytes", len(values[0]), "limit", limit, "times", len(values))
				return refuse(fmt.Sprintf("The app's sign-in request has a %s parameter that is too long (at most %d characters) or appears more than once, so passkeyd refused it. Tell the app's operator.", truncate(name, 64), limit))
			}
		}
		clientID, sent := r.Form.Get("client_id"), r.Form.Get("redirect_uri")
		if clientID == "" {
			return refuse("The app did not say which app it is (its sign-in request has no client_id). Tell the app's operator.")
		}
		c, err := p.client(ctx, clientID)
		if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
			p.log.InfoContext(ctx, "oidc request for an unknown client", "event", "oidc_unknown_client", "client_id", clientID)
			return refuse(fmt.Sprintf("The app that sent you here is not registered with passkeyd (client ID %q). Tell the app's operator: the client ID in its settings must be one registered with passkeyd clients add.", clientID))
		}
		if err != nil {
			return err
		}
		if sent == "" {
			return refuse(c.Name + "'s sign-in request does not say where to come back to (no redirect_uri). Tell the app's operator.")
		}
		if !redirectRegistered(c, sent) {
			p.log.WarnContext(ctx, "oidc redirect_uri not registered", "event", "oidc_redirect_uri_mismatch",
				"client_id", c.ID, "sent", sent, "registered", c.RedirectURIs)
			return p.render(w, r, http.StatusBadRequest, "oidc-error", &Page{
				Message: c.Name + " asked to come back to an address that is not registered for it, so passkeyd will not send you there.",
				Sent:    sent,
			})
		}
		if rt := r.Form.Get("response_type"); rt != string(zoidc.ResponseTypeCode) {
			p.log.InfoContext(ctx, "oidc response_type not supported", "event", "oidc_response_type_unsupported", "client_id", c.ID, "response_type", rt)
			return refuse(fmt.Sprintf("%s asked for response_type=%q, but passkeyd offers only the authorization code flow (response_type=code, with PKCE). Tell the app's operator to set the app up for it.", c.Name, rt))
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// redirectRegistered reports whether uri is registered for c: an exact
// match, or, for a public (native) client, a registered loopback URI on
// another port. Only the port may vary (RFC 8252 §7.3): not the scheme,
// the host (127.0.0.1, [::1] and localhost are different hosts), the path
// or the query. The op package's own rule is looser; this runs first.
func redirectRegistered(c *passkeyd.OIDCClient, uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	if !c.Public || strings.Contains(uri, "#") {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.User != nil || !isLoopbackHost(u.Hostname()) {
		return false
	}
	for _, reg := range c.RedirectURIs {
		ru, err := url.Parse(reg)
		if err != nil || ru.Scheme != "http" || !isLoopbackHost(ru.Hostname()) {
			continue
		}
		if ru.Hostname() == u.Hostname() && ru.EscapedPath() == u.EscapedPath() && ru.RawQuery == u.RawQuery && ru.ForceQuery == u.ForceQuery {
			return true
		}
	}
	return false
}

// errorPages turns what the op package refuses without a redirect (a
// plain text or JSON error) into passkeyd's error page: a person sees
// these. What it said goes to the log.
func (p *Provider) errorPages(next http.Handler) http.Handler {
	return p.page(func(w http.ResponseWriter, r *http.Request) error {
		ew := &errorPageWriter{ResponseWriter: w}
		next.ServeHTTP(ew, r)
		if ew.status == 0 {
			return nil
		}
		p.log.InfoContext(r.Context(), "oidc request refused", "event", "oidc_request_refused",
			"client_id", truncate(r.Form.Get("client_id"), 200), "status", ew.status, "detail", truncate(strings.TrimSpace(ew.body.String()), 500))
		return p.render(w, r, ew.status, "oidc-error", &Page{
			Message: "The app's sign-in request is not valid, so passkeyd cannot go on with it. Please go back to the app and try again; if it happens again, tell the app's operator.",
		})
	})
}

// errorPageWriter holds back an error answer (status 400 and up) for
// errorPages to replace; everything else passes.
type errorPageWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *errorPageWriter) WriteHeader(status int) {
	if status >= 400 && w.status == 0 {
		w.status = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *errorPageWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		if w.body.Len() < 1024 {
			w.body.Write(b)
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// corsOptions let a single-page app on any origin call the provider's
// endpoints (discovery, keys, token, userinfo, revocation), which it
// authenticates by PKCE, client credentials or bearer tokens, never by
// cookies. The library's default also allows credentials, which would let
// any site read what a signed-in browser's cookies fetch from these
// endpoints; nothing here needs that, so it is off.
// allowCORS answers with corsOptions' headers around next, preflight
// requests included.
func allowCORS(next http.Handler) http.Handler { return cors.New(corsOptions).Handler(next) }

var corsOptions = cors.Options{
	AllowCredentials: false,
	AllowedHeaders:   []string{"Origin", "Accept", "Accept-Language", "Authorization", "Content-Type", "X-Requested-With"},
	AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
	ExposedHeaders:   []string{"Location", "Content-Length"},
	AllowOriginFunc:  func(string) bool { return true },
}
