package oidc

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
)

// Config tunes the provider. Zero values get the defaults documented on
// each field; Issuer, Secret and StepUpWindow are required. cmd/passkeyd sets Issuer,
// Secret, Now and StepUpWindow to those of its web.Config, so the
// provider and passkeyd's pages agree.
type Config struct {
	// Issuer is the provider's identifier and the base of its endpoints:
	// the public URL of passkeyd's pages, mount prefix included, without a
	// trailing slash ("https://login.example.com", "https://example.com/auth").
	// It is used byte for byte in discovery, tokens and authorization
	// responses, never taken from a request's Host header.
	Issuer string
	// Secret is the session secret; the keys that seal signing keys, codes
	// and access tokens, and that hash refresh tokens, are derived from it.
	Secret []byte
	// AccessTokenTTL is the default lifetime of access tokens. Default 10 minutes.
	AccessTokenTTL time.Duration
	// IDTokenTTL is the default lifetime of ID tokens. Default 1 hour.
	IDTokenTTL time.Duration
	// RefreshTokenTTL is the default lifetime of a refresh token (each
	// rotation starts a new one). Default 30 days.
	RefreshTokenTTL time.Duration
	// CodeTTL bounds an authorization code. Default 1 minute.
	CodeTTL time.Duration
	// RequestTTL bounds an authorization request: the time a user has to
	// sign in and consent. Default 10 minutes.
	RequestTTL time.Duration
	// KeyPublishDelay is how long a key added by RotateKeys is published in
	// JWKS before it signs: longer than relying parties keep a cached JWKS
	// (passkeyd sends max-age=300; some libraries keep it hours, e.g.
	// .NET's 12). Default 24 hours; 10 minutes to 30 days.
	KeyPublishDelay time.Duration
	// StepUpWindow: letting an app in for the first time (or with more
	// scopes) needs a passkey verification this recent, as other
	// sensitive changes do; the consent page asks for one inline (set it
	// to web.Config.StepUpWindow; required, its default is web's).
	StepUpWindow time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SignUpPage, if set, is where the sign-in page sends a newcomer to
	// create an account (passkeyd's start page when sign-up goes by email
	// first); empty, newcomers create one on the sign-in page.
	SignUpPage string
}

// The default and bounds of Config.KeyPublishDelay: at least twice the
// max-age of JWKS (jwksMaxAge), so clients that honour it have the new key
// in time.
const (
	DefaultKeyPublishDelay = 24 * time.Hour
	MinKeyPublishDelay     = 10 * time.Minute
	MaxKeyPublishDelay     = 30 * 24 * time.Hour
)

// jwksMaxAge is the Cache-Control max-age of JWKS, in seconds: short, so
// that a key withdrawn by RotateKeysNow stops being trusted soon.
const jwksMaxAge = 300

func (c Config) withDefaults() Config {
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = 10 * time.Minute
	}
	if c.IDTokenTTL == 0 {
		c.IDTokenTTL = time.Hour
	}
	if c.RefreshTokenTTL == 0 {
		c.RefreshTokenTTL = 30 * 24 * time.Hour
	}
	if c.CodeTTL == 0 {
		c.CodeTTL = time.Minute
	}
	if c.RequestTTL == 0 {
		c.RequestTTL = 10 * time.Minute
	}
	if c.KeyPublishDelay == 0 {
		c.KeyPublishDelay = DefaultKeyPublishDelay
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// validate reports the first problem with c.
func (c Config) validate() error {
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return passkeyd.NewConfigError([]string{"Issuer"}, "the OpenID Connect issuer {Issuer} %q must be an absolute URL without query or fragment", c.Issuer)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	default:
		return passkeyd.NewConfigError([]string{"Issuer"}, "the OpenID Connect issuer {Issuer} %q must use https (http only for localhost)", c.Issuer)
	}
	if c.KeyPublishDelay < MinKeyPublishDelay || c.KeyPublishDelay > MaxKeyPublishDelay {
		return passkeyd.NewConfigError([]string{"KeyPublishDelay"}, "{KeyPublishDelay} %s is out of bounds: set it between %s and %s (longer than relying parties cache JWKS; shorter than you wait for a rotation)",
			c.KeyPublishDelay, MinKeyPublishDelay, MaxKeyPublishDelay)
	}
	if c.StepUpWindow <= 0 {
		// web.Config's, so that a new app needs the passkey check other
		// sensitive changes need; its default lives there alone.
		return passkeyd.NewConfigError([]string{"StepUpWindow"}, "{StepUpWindow} must be set (to web.Config's StepUpWindow)")
	}
	if len(c.Secret) < 32 {
		return fmt.Errorf("OIDC provider: the session secret must be at least 32 bytes")
	}
	return nil
}
