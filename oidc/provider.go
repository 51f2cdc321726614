package oidc

import (
	"context"
	"encoding/json"
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
// its own tables. The sqlite and postgres stores are both.
type Store interface {
	passkeyd.Store
	passkeyd.OIDCStore
}

// Provider is the OpenID Connect provider. Its Handler expects to run
// inside passkeyd's web handler, which loads the browser's session into
// the request context (passkeyd.UserFromContext) and strips the mount
// prefix; web.New does this when web.Config.OIDC is set.
type Provider struct {
	cfg     Config
	users   passkeyd.Store
	store   passkeyd.OIDCStore
	log     *slog.Logger
	secrets *secrets
	ring    keyring
	op      *op.Provider
	handler http.Handler
}

// New returns a provider. It does not touch the database: the signing keys
// are made when first needed (or by EnsureKeys).
func New(cfg Config, store Store, log *slog.Logger) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sec, err := deriveSecrets(cfg.Secret)
	if err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg, users: store, store: store, log: log, secrets: sec}
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
	mux.Handle("GET /.well-known/openid-configuration", cors.New(corsOptions).Handler(http.HandlerFunc(p.handleDiscovery)))
	mux.Handle("GET /oidc/login", http.HandlerFunc(p.handleLogin))
	mux.Handle("POST /oidc/consent", http.HandlerFunc(p.handleConsent))
	// The op package's endpoints. Introspection, device authorization and
	// its /healthz, /ready are not offered.
	mux.Handle("/oidc/authorize", p.explainRedirectMismatch(p.bindBrowser(withIssuerInResponse(cfg.Issuer, p.op))))
	mux.Handle("/oidc/token", noStore(formPostOnly(p.op)))
	mux.Handle("/oidc/revoke", noStore(formPostOnly(p.op)))
	mux.Handle("/oidc/userinfo", noStore(p.userinfoEndpoint(p.op)))
	mux.Handle("/oidc/end_session", p.op)
	mux.Handle("/oidc/keys", withJWKSCaching(p.op))
	p.handler = mux
	return p, nil
}

// Handler serves /.well-known/openid-configuration and /oidc/...
func (p *Provider) Handler() http.Handler { return p.handler }

// KeyPublishDelay is how long RotateKeys publishes a key before it signs.
func (p *Provider) KeyPublishDelay() time.Duration { return p.cfg.KeyPublishDelay }

// Issuer is the provider's issuer identifier.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// CrossOrigin reports whether path is an endpoint other sites' scripts
// may POST to (single-page apps redeem codes and refresh tokens from the
// browser). They authenticate by client credentials or bearer token,
// never by passkeyd's cookies, so cross-site requests are no CSRF risk.
func CrossOrigin(path string) bool {
	switch path {
	case "/oidc/token", "/oidc/revoke", "/oidc/userinfo":
		return true
	}
	return false
}

func (p *Provider) now() time.Time { return p.cfg.Now() }

// record writes a security-log event; a failure is logged, not returned:
// the event accompanies an answer already decided.
func (p *Provider) record(ctx context.Context, ev *passkeyd.Event) {
	if ev.UserID == "" {
		return
	}
	if err := p.users.RecordEvent(ctx, ev); err != nil {
		p.log.ErrorContext(ctx, "record event", "event_type", ev.Type, "error", err)
	}
}

func (p *Provider) clientName(ctx context.Context, id string) string {
	if c, err := p.store.FindOIDCClient(ctx, id); err == nil {
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
		"at_hash", "c_hash", "email", "email_verified", "name", "preferred_username"}
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

// explainRedirectMismatch answers an authorization request whose
// redirect_uri is not registered for its client with a page that shows
// what the client sent beside what is registered, and logs both: the
// most common mistake when setting up an app is a trailing slash or a
// different scheme. The op package makes the same check (and refuses
// without a redirect); this only words the refusal.
func (p *Provider) explainRedirectMismatch(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clientID, sent := r.FormValue("client_id"), r.FormValue("redirect_uri")
		c, err := p.store.FindOIDCClient(r.Context(), clientID)
		if err != nil || sent == "" || redirectRegistered(c, sent) {
			next.ServeHTTP(w, r)
			return
		}
		p.log.WarnContext(r.Context(), "oidc redirect_uri not registered", "event", "oidc_redirect_uri_mismatch",
			"client_id", c.ID, "sent", sent, "registered", c.RedirectURIs)
		p.cfg.RenderPage(w, r, http.StatusBadRequest, "oidc-error", &Page{
			Message:    c.Name + " asked to come back to an address that is not registered for it, so passkeyd will not send you there.",
			Sent:       sent,
			Registered: c.RedirectURIs,
		})
	})
}

// redirectRegistered is the op package's rule: an exact match, or, for a
// public (native) client, a registered loopback URI on another port.
func redirectRegistered(c *passkeyd.OIDCClient, uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	if !c.Public {
		return false
	}
	u, ok := op.HTTPLoopbackOrLocalhost(uri)
	if !ok {
		return false
	}
	for _, reg := range c.RedirectURIs {
		if ru, ok := op.HTTPLoopbackOrLocalhost(reg); ok && ru.Path == u.Path && ru.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

// errorPage answers a browser with an error it must not be redirected
// with (an unknown or expired request).
func (p *Provider) errorPage(w http.ResponseWriter, r *http.Request, status int, err error) {
	msg := passkeyd.ErrorMessage(err)
	if passkeyd.ErrorCode(err) == passkeyd.EINTERNAL || passkeyd.ErrorCode(err) == passkeyd.EUNAVAILABLE {
		p.log.ErrorContext(r.Context(), "oidc", "error", err)
		status = http.StatusInternalServerError
		if passkeyd.ErrorCode(err) == passkeyd.EUNAVAILABLE {
			status = http.StatusServiceUnavailable
		}
	}
	p.cfg.RenderPage(w, r, status, "oidc-error", &Page{Message: msg})
}

// corsOptions let a single-page app on any origin call the provider's
// endpoints (discovery, keys, token, userinfo, revocation), which it
// authenticates by PKCE, client credentials or bearer tokens, never by
// cookies. The library's default also allows credentials, which would let
// any site read what a signed-in browser's cookies fetch from these
// endpoints; nothing here needs that, so it is off.
var corsOptions = cors.Options{
	AllowCredentials: false,
	AllowedHeaders:   []string{"Origin", "Accept", "Accept-Language", "Authorization", "Content-Type", "X-Requested-With"},
	AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
	ExposedHeaders:   []string{"Location", "Content-Length"},
	AllowOriginFunc:  func(string) bool { return true },
}
