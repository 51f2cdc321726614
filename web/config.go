package web

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/passkeyd/passkeyd"
)

// Config is what New needs. Zero values get the defaults documented on
// each field; RPID, Origins and Secret are required.
type Config struct {
	// RPID is the WebAuthn relying party ID: the origins' host or a
	// registrable suffix of it ("localhost", "example.com").
	RPID string
	// RPName is shown by some browsers in the passkey prompt. Default "passkeyd".
	RPName string
	// Origins are the full origins (scheme, host, port) pages are served
	// from, e.g. "https://app.example.com" or "http://localhost:8080".
	Origins []string
	// Secret keys the hashes under which session tokens and challenges are
	// stored, so that write access to the database alone cannot mint a
	// session, and the key that seals ceremonies in progress into the
	// ceremony cookie. At least 32 bytes; keep it stable across restarts and equal
	// on every instance.
	Secret []byte
	// BasePath is the prefix the handler is mounted under ("" for the root,
	// "/auth" when mounted with http.StripPrefix("/auth", h)).
	BasePath string
	// UserVerification at sign-in: "required" (default), "preferred" or
	// "discouraged". Registration always prefers it.
	UserVerification string
	// ChallengeTimeout bounds a ceremony. Default 5 minutes; 30 seconds to
	// 30 minutes.
	ChallengeTimeout time.Duration
	// SessionIdleTimeout ends a session unused for this long. Default 7
	// days; at most 30 days and at most SessionMaxAge.
	SessionIdleTimeout time.Duration
	// SessionMaxAge ends any session this long after sign-in. Default 30
	// days; at most 400 days.
	SessionMaxAge time.Duration
	// RelatedOrigins are sibling sites (other domains of the same operator)
	// whose pages may use this RP ID's passkeys: served as
	// /.well-known/webauthn (WebAuthn Related Origin Requests) and accepted
	// as origins. They need not be under RPID; that is their point.
	RelatedOrigins []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed for the client address (rate limits, logs). Empty: the
	// connection's address is the client's.
	TrustedProxies []netip.Prefix
	// PublicURL is where users reach these pages, for links in email.
	// Default: the first origin followed by BasePath.
	PublicURL string
	// StepUpWindow: sensitive changes (adding or deleting a passkey,
	// changing the email, making recovery codes, letting a new app in)
	// need a passkey verification at most this old. Default 5 minutes;
	// 1 second to 1 hour.
	StepUpWindow time.Duration
	// RecoveryLinkTTL bounds recovery links and recovery sessions. Default
	// 15 minutes; 1 minute to 24 hours.
	RecoveryLinkTTL time.Duration
	// EmailLinkTTL bounds the links that confirm an email address (at
	// sign-up and when it changes). Default 24 hours; 5 minutes to 7 days.
	EmailLinkTTL time.Duration
	// SignUpMode is how new accounts are made: SignUpOpen (the default)
	// or SignUpEmailFirst.
	SignUpMode SignUpMode
	// RequestTimeout bounds the database work of one request. Default 10 s.
	RequestTimeout time.Duration
	// LogRequests logs one line per request.
	LogRequests bool
	// RateLimits bounds ceremony attempts; see DefaultRateLimits.
	RateLimits RateLimits
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// ConnectedApps: an OpenID Connect provider is mounted beside these
	// pages (package oidc, by cmd/passkeyd), so the dashboard lists the
	// apps that hold a grant of the user and disconnects them. The Store
	// must implement passkeyd.OIDCStore (the sqlite and postgres stores do).
	ConnectedApps bool
	// Console: the administrator's console is mounted beside these pages
	// at /admin (package console, by cmd/passkeyd), so the dashboard links
	// administrators to it. The Store must implement
	// passkeyd.ConsoleStore (the sqlite and postgres stores do).
	Console bool
}

// SignUpMode is how new accounts are made.
type SignUpMode string

const (
	// SignUpOpen: a visitor registers a passkey for an address at once. An
	// address that has an account is refused (409), which tells anyone
	// that it has one.
	SignUpOpen SignUpMode = "open"
	// SignUpEmailFirst: a visitor gives an address and is told to check
	// their email, whether or not it has an account; nothing else tells.
	// A new address gets a link that opens the passkey registration, and
	// the account is made with the address confirmed; an address with an
	// account gets a notice that someone tried to sign up, with a sign-in
	// link. For sites where having an account is itself sensitive.
	SignUpEmailFirst SignUpMode = "email-first"
)

// MinSecretLength is the shortest Secret accepted.
const MinSecretLength = 32

// DefaultConfig returns the defaults New gives the zero fields of a
// Config: the one place they are written. cmd/passkeyd shows them in -h.
func DefaultConfig() Config {
	return Config{
		RPName:             "passkeyd",
		UserVerification:   "required",
		ChallengeTimeout:   5 * time.Minute,
		SessionIdleTimeout: 7 * 24 * time.Hour,
		SessionMaxAge:      30 * 24 * time.Hour,
		StepUpWindow:       5 * time.Minute,
		RecoveryLinkTTL:    15 * time.Minute,
		EmailLinkTTL:       24 * time.Hour,
		SignUpMode:         SignUpOpen,
		RequestTimeout:     10 * time.Second,
		RateLimits:         DefaultRateLimits(),
	}
}

// WithDefaults returns c with its zero values replaced by the defaults New
// uses, e.g. to tell an operator how long a link lasts.
func (c Config) WithDefaults() Config { return c.withDefaults() }

// withDefaults returns c with zero values replaced by the defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.RPName == "" {
		c.RPName = d.RPName
	}
	if c.UserVerification == "" {
		c.UserVerification = d.UserVerification
	}
	if c.ChallengeTimeout == 0 {
		c.ChallengeTimeout = d.ChallengeTimeout
	}
	if c.SessionMaxAge == 0 {
		c.SessionMaxAge = d.SessionMaxAge
	}
	if c.SessionIdleTimeout == 0 {
		c.SessionIdleTimeout = min(d.SessionIdleTimeout, c.SessionMaxAge)
	}
	if c.RateLimits == (RateLimits{}) {
		c.RateLimits = d.RateLimits
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.BasePath = strings.TrimSuffix(c.BasePath, "/")
	if c.PublicURL == "" && len(c.Origins) > 0 {
		c.PublicURL = strings.TrimSuffix(c.Origins[0], "/") + c.BasePath
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if c.RequestTimeout == 0 {
		c.RequestTimeout = d.RequestTimeout
	}
	if c.StepUpWindow == 0 {
		c.StepUpWindow = d.StepUpWindow
	}
	if c.RecoveryLinkTTL == 0 {
		c.RecoveryLinkTTL = d.RecoveryLinkTTL
	}
	if c.EmailLinkTTL == 0 {
		c.EmailLinkTTL = d.EmailLinkTTL
	}
	if c.SignUpMode == "" {
		c.SignUpMode = d.SignUpMode
	}
	return c
}

// ConfigError is a problem Validate found: its message names Config
// fields (see passkeyd.ConfigError).
type ConfigError = passkeyd.ConfigError

func configError(fields []string, format string, args ...any) *ConfigError {
	return passkeyd.NewConfigError(fields, format, args...)
}

// Validate reports the first problem with c, in words an operator can act
// on, as a *ConfigError.
func (c Config) Validate() error {
	rpID := []string{"RPID"}
	if c.RPID == "" {
		return configError(rpID, "{RPID} is empty: set it to your site's domain, e.g. example.com")
	}
	if net.ParseIP(strings.Trim(c.RPID, "[]")) != nil {
		return configError(rpID, "{RPID} %q is an IP address; WebAuthn needs a domain name (use localhost for local development)", c.RPID)
	}
	if strings.Contains(c.RPID, "/") || strings.Contains(c.RPID, ":") {
		return configError(rpID, "{RPID} %q must be a bare domain, without scheme or port", c.RPID)
	}
	if c.RPID != "localhost" {
		if suffix, _ := publicsuffix.PublicSuffix(c.RPID); suffix == c.RPID {
			return configError(rpID, "{RPID} %q is a public suffix; use a domain you own beneath it", c.RPID)
		}
	}
	if len(c.Origins) == 0 {
		return configError([]string{"Origins"}, "{Origins} is empty: set it to the origin your users open, e.g. https://app.example.com")
	}
	for _, o := range c.Origins {
		host, err := checkOrigin("Origins", o)
		if err != nil {
			return err
		}
		if !rpIDCovers(c.RPID, host) {
			return configError([]string{"RPID", "Origins"}, "{RPID} %q is neither the host of {Origins} %q nor a registrable suffix of it", c.RPID, o)
		}
	}
	for _, o := range c.RelatedOrigins {
		if _, err := checkOrigin("RelatedOrigins", o); err != nil {
			return err
		}
	}
	if len(c.Secret) < MinSecretLength {
		return configError([]string{"Secret"}, "{Secret} must be at least %d characters; generate one with: openssl rand -base64 32", MinSecretLength)
	}
	switch c.UserVerification {
	case "", "required", "preferred", "discouraged":
	default:
		return configError([]string{"UserVerification"}, "{UserVerification} %q must be required, preferred or discouraged", c.UserVerification)
	}
	switch c.SignUpMode {
	case "", SignUpOpen, SignUpEmailFirst:
	default:
		return configError([]string{"SignUpMode"}, "{SignUpMode} %q must be open or email-first", c.SignUpMode)
	}
	for _, b := range lifetimeBounds {
		d := b.get(c)
		if d != 0 && (d < b.Min || d > b.Max) {
			return configError([]string{b.Field}, "{%s} %s is out of bounds: set it between %s and %s (%s)", b.Field, d, b.Min, b.Max, b.Why)
		}
	}
	if c.SessionIdleTimeout > 0 && c.SessionMaxAge > 0 && c.SessionIdleTimeout > c.SessionMaxAge {
		return configError([]string{"SessionIdleTimeout", "SessionMaxAge"}, "{SessionIdleTimeout} %s is longer than {SessionMaxAge} %s; a session never outlives its maximum age", c.SessionIdleTimeout, c.SessionMaxAge)
	}
	return nil
}

// LifetimeBound is the range Validate accepts for one lifetime field.
type LifetimeBound struct {
	Field    string // the Config field, e.g. "ChallengeTimeout"
	Min, Max time.Duration
	Why      string
	get      func(Config) time.Duration
}

// LifetimeBounds are the ranges Validate accepts for the lifetime fields,
// e.g. for a program to show them with its settings.
func LifetimeBounds() []LifetimeBound { return append([]LifetimeBound(nil), lifetimeBounds...) }

// lifetimeBounds keep every lifetime within what is safe: a challenge,
// link or session that lives longer is worth more to whoever steals it.
// The minimums only stop settings that would lock everyone out (a few
// seconds are allowed for session timeouts so tests can watch them pass).
var lifetimeBounds = []LifetimeBound{
	{"ChallengeTimeout", 30 * time.Second, 30 * time.Minute, "time to finish one passkey prompt",
		func(c Config) time.Duration { return c.ChallengeTimeout }},
	{"SessionIdleTimeout", time.Second, 30 * 24 * time.Hour, "an unused session ends after this",
		func(c Config) time.Duration { return c.SessionIdleTimeout }},
	{"SessionMaxAge", time.Second, 400 * 24 * time.Hour, "browsers keep no cookie longer than 400 days",
		func(c Config) time.Duration { return c.SessionMaxAge }},
	{"RecoveryLinkTTL", time.Minute, 24 * time.Hour, "a recovery link lets its holder into the account",
		func(c Config) time.Duration { return c.RecoveryLinkTTL }},
	{"EmailLinkTTL", 5 * time.Minute, 7 * 24 * time.Hour, "email confirmation links",
		func(c Config) time.Duration { return c.EmailLinkTTL }},
	{"StepUpWindow", time.Second, time.Hour, "a copied session cookie is worth this long after a passkey check",
		func(c Config) time.Duration { return c.StepUpWindow }},
}

// checkOrigin returns the host of an origin, or an error naming field.
func checkOrigin(field, o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", configError([]string{field}, "{%s} %q is not an origin like https://app.example.com (scheme, host and optional port only)", field, o)
	}
	host := u.Hostname()
	if u.Scheme == "http" && host != "localhost" && !strings.HasSuffix(host, ".localhost") {
		return "", configError([]string{field}, "{%s} %q uses http; browsers allow passkeys only on https origins or http://localhost", field, o)
	}
	return host, nil
}

// rpIDCovers reports whether a passkey for rpID may be used on host: the
// host is the RP ID or a subdomain of it.
func rpIDCovers(rpID, host string) bool {
	rpID, host = strings.ToLower(rpID), strings.ToLower(host)
	return host == rpID || strings.HasSuffix(host, "."+rpID)
}

// Secure reports whether this is an https deployment: every origin is
// https (a plain-http origin can only be localhost development). Cookies
// then get the Secure attribute and the __Host- prefix.
func (c Config) Secure() bool {
	for _, o := range c.Origins {
		if !strings.HasPrefix(strings.ToLower(o), "https://") {
			return false
		}
	}
	return true
}

// normalizeOrigin returns a configured origin as browsers serialize
// origins (HTML's ASCII serialization): lower-case scheme and host, the
// port only when it is not the scheme's default, no path, no trailing
// slash. A received origin (clientDataJSON.origin, the Origin header) is
// compared with these byte for byte and never normalized itself: a browser
// sends nothing else, so "http://localhost:8080/" is not from a browser.
func normalizeOrigin(o string) string {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || u.Host == "" {
		return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" || strings.Contains(host, ":") {
		host = net.JoinHostPort(host, port)
		host = strings.TrimSuffix(host, ":")
	}
	return scheme + "://" + host
}
