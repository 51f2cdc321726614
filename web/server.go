package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
	"github.com/passkeyd/passkeyd/oidc"
)

// Deps are the collaborators of a Server.
type Deps struct {
	Store   passkeyd.Store
	Logger  *slog.Logger // nil discards logs
	Metrics *Metrics     // nil records none; see NewMetrics
	Mailer  Mailer       // nil drops email (with a warning in the log)
}

// Server is passkeyd's HTTP handler: the pages and the JSON API. It
// expects its BasePath stripped from request paths (http.StripPrefix).
type Server struct {
	cfg        Config
	store      passkeyd.Store
	log        *slog.Logger
	metrics    *Metrics
	background *background // work after answering; see afterAnswer
	hashers    hashSlots   // concurrent Argon2id runs; see hashSlots.run
	wa         *webauthn.WebAuthn
	limits     *limiters
	pages      *pages
	origins    originSet
	cookies    cookieJar
	sessions   sessions           // the browsers' login sessions
	states     *stateCookies      // ceremonies in progress, sealed into cookies
	tokens     *emailtoken.Tokens // the tokens of emailed links
	mail       *notifier          // every email
	events     securityLog        // the accounts' security logs
	handler    http.Handler
	mux        *http.ServeMux // the routes; loadSession asks it which a request takes
	userVerf   protocol.UserVerificationRequirement
	oidc       *oidc.Provider // nil unless Config.OIDC is set
}

// New checks cfg and returns a ready Server.
func New(cfg Config, deps Deps) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, fmt.Errorf("web.New: Deps.Store is required")
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = slog.New(requestIDHandler{log.Handler()})
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPName,
		RPOrigins:             append(append([]string(nil), cfg.Origins...), cfg.RelatedOrigins...),
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationPreferred,
		},
		// The library's own expiry is on, and the sealed state carries
		// its expiry too: either one refuses a late response.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: cfg.ChallengeTimeout, TimeoutUVD: cfg.ChallengeTimeout},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: cfg.ChallengeTimeout, TimeoutUVD: cfg.ChallengeTimeout},
		},
		// Browsers and password managers add extension outputs nobody asked
		// for (authelia#13146); refusing them locks real users out and
		// protects nothing, since unrequested outputs are never used.
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
	if err != nil {
		return nil, fmt.Errorf("webauthn config: %w", err)
	}
	cookies := newCookieJar(cfg.Secure())
	states, err := newStateCookies(cfg.Secret, cookies, cfg)
	if err != nil {
		return nil, err
	}
	p, err := loadPages(cfg.BasePath, cfg.RPName)
	if err != nil {
		return nil, err
	}
	texts, err := emailtext.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:        cfg,
		store:      deps.Store,
		log:        log,
		metrics:    deps.Metrics,
		background: newBackground(log, cfg.RequestTimeout),
		hashers:    hashSlots{slots: make(chan struct{}, runtime.NumCPU()), metrics: deps.Metrics},
		wa:         wa,
		limits:     newLimiters(cfg.RateLimits, deps.Metrics),
		pages:      p,
		origins:    newOriginSet(cfg),
		cookies:    cookies,
		sessions:   newSessions(cfg, deps.Store, cookies.session),
		states:     states,
		tokens:     emailtoken.New(deps.Store, cfg.Secret, cfg.PublicURL, cfg.Now),
		events:     securityLog{store: deps.Store, log: log, now: cfg.Now},
		userVerf:   protocol.UserVerificationRequirement(cfg.UserVerification),
	}
	if cfg.OIDC != nil {
		if s.oidc, err = newOIDCProvider(cfg, deps, log, s.renderOIDCPage); err != nil {
			return nil, err
		}
	}
	s.mail = newNotifier(cfg, deps.Store, texts, deps.Mailer, s.tokens, log, deps.Metrics, s.oidc != nil)
	if err := deps.Metrics.watchSessions(s.store, cfg.Now); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.routes(s.mux)
	s.handler = withClient(cfg.TrustedProxies, withRequestID(recoverPanics(log, securityHeaders(cfg.Secure(),
		s.sameOrigin(withTimeout(cfg.RequestTimeout, s.loadSession(observe(deps.Metrics, log, cfg.LogRequests, s.mux))))))))
	return s, nil
}

// newOIDCProvider makes the OpenID Connect provider cfg.OIDC asks for.
func newOIDCProvider(cfg Config, deps Deps, log *slog.Logger, render oidc.RenderPage) (*oidc.Provider, error) {
	st, ok := deps.Store.(oidc.Store)
	if !ok {
		return nil, fmt.Errorf("web.New: Config.OIDC needs a store that implements oidc.Store; %T does not", deps.Store)
	}
	oc := *cfg.OIDC
	if oc.Issuer == "" {
		oc.Issuer = cfg.PublicURL
	}
	if oc.Secret == nil {
		oc.Secret = cfg.Secret
	}
	if oc.Now == nil {
		oc.Now = cfg.Now
	}
	if oc.StepUpWindow == 0 {
		oc.StepUpWindow = cfg.StepUpWindow
	}
	if oc.SignUpPage == "" && cfg.SignUpMode == SignUpEmailFirst {
		oc.SignUpPage = cfg.PublicURL + "/" // direct sign-up is refused: newcomers go by email
	}
	if oc.RenderPage == nil {
		oc.RenderPage = render
	}
	if oc.Metrics == nil && deps.Metrics != nil && deps.Metrics.reg != nil {
		oc.Metrics = oidc.NewMetrics(deps.Metrics.reg)
	}
	return oidc.New(oc, st, log)
}

// OIDC returns the OpenID Connect provider, or nil when Config.OIDC is
// not set.
func (s *Server) OIDC() *oidc.Provider { return s.oidc }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}
