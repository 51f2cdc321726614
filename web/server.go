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
)

// Deps are the collaborators of a Server.
type Deps struct {
	Store   passkeyd.Store
	Logger  *slog.Logger    // nil discards logs
	Metrics *Metrics        // nil records none; see NewMetrics
	Mailer  passkeyd.Mailer // nil drops email (with a warning in the log)
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
	mux        *http.ServeMux // the routes (routes.go) and those mounted (Mount)
	userVerf   protocol.UserVerificationRequirement
	apps       passkeyd.OIDCStore    // nil unless Config.ConnectedApps is set
	admins     passkeyd.ConsoleStore // nil unless Config.Console is set
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
	log = LoggerWithRequestIDs(log)
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
	if cfg.ConnectedApps {
		apps, ok := deps.Store.(passkeyd.OIDCStore)
		if !ok {
			return nil, fmt.Errorf("web.New: Config.ConnectedApps needs a store that keeps OpenID Connect grants (passkeyd.OIDCStore); %T does not", deps.Store)
		}
		s.apps = apps
	}
	if cfg.Console {
		admins, ok := deps.Store.(passkeyd.ConsoleStore)
		if !ok {
			return nil, fmt.Errorf("web.New: Config.Console needs a store that keeps administrators (passkeyd.ConsoleStore); %T does not", deps.Store)
		}
		s.admins = admins
	}
	s.mail = newNotifier(cfg, deps.Store, texts, deps.Mailer, s.tokens, log, deps.Metrics, cfg.ConnectedApps)
	if err := deps.Metrics.watchSessions(s.store, cfg.Now); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.routes(routeMux{s, s.mux})
	// Wrappers that know no routes; what differs by route is declared
	// with it (routes.go, Mount).
	s.handler = withRequest(cfg.TrustedProxies, cfg.RequestTimeout, recoverPanics(log, securityHeaders(cfg.Secure(),
		observe(deps.Metrics, log, cfg.LogRequests, s.mux))))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}
