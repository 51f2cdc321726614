package web

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtext"
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
	mailer     passkeyd.Mailer
	texts      *emailtext.Texts
	background *background // work after answering; see afterAnswer
	hashers    hashSlots   // concurrent Argon2id runs; see withHashSlot
	wa         *webauthn.WebAuthn
	limits     *limiters
	pages      *pages
	origins    map[string]bool
	cookies    cookieNames
	// ceremonyAEAD seals ceremonies in progress into the ceremony cookie.
	ceremonyAEAD cipher.AEAD
	secure       bool
	handler      http.Handler
	mux          *http.ServeMux // the routes (routes.go) and those mounted (Mount)
	userVerf     protocol.UserVerificationRequirement
	apps         passkeyd.OIDCStore // nil unless Config.ConnectedApps is set
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
		// The library's own expiry is on, and the sealed ceremony carries
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
	aead, err := ceremonySealKey(cfg.Secret)
	if err != nil {
		return nil, err
	}
	p, err := loadPages(cfg.BasePath)
	if err != nil {
		return nil, err
	}
	texts, err := emailtext.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:          cfg,
		store:        deps.Store,
		log:          log,
		metrics:      deps.Metrics,
		mailer:       deps.Mailer,
		texts:        texts,
		background:   newBackground(),
		hashers:      hashSlots{slots: make(chan struct{}, runtime.NumCPU())},
		wa:           wa,
		limits:       newLimiters(cfg.RateLimits, deps.Metrics),
		pages:        p,
		origins:      map[string]bool{},
		ceremonyAEAD: aead,
		secure:       cfg.Secure(),
		userVerf:     protocol.UserVerificationRequirement(cfg.UserVerification),
	}
	for _, o := range append(append([]string(nil), cfg.Origins...), cfg.RelatedOrigins...) {
		s.origins[normalizeOrigin(o)] = true
	}
	s.cookies = newCookieNames(s.secure)
	if cfg.ConnectedApps {
		apps, ok := deps.Store.(passkeyd.OIDCStore)
		if !ok {
			return nil, fmt.Errorf("web.New: Config.ConnectedApps needs a store that keeps OpenID Connect grants (passkeyd.OIDCStore); %T does not", deps.Store)
		}
		s.apps = apps
	}
	if err := deps.Metrics.watchSessions(s.store, cfg.Now); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.routes(routeMux{s, s.mux})
	// Wrappers that know no routes; what differs by route is declared
	// with it (routes.go, Mount).
	s.handler = s.withRequestID(s.recoverPanics(s.securityHeaders(s.withTimeout(s.observe(s.mux)))))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// keyedHash is how tokens are stored: HMAC-SHA-256 under the configured
// secret, with a purpose label so a hash of one kind never matches another.
func (s *Server) keyedHash(purpose, token string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newToken returns 32 random bytes, base64url-encoded.
func newToken() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}
