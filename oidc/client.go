package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passkeyd/passkeyd"
)

// KnownScopes are the scopes the provider gives meaning to: openid (an ID
// token), email (email, email_verified), profile (name,
// preferred_username), offline_access (a refresh token) and groups (the
// names of the user's groups). Other scopes in a request are ignored, not
// refused.
var KnownScopes = []string{"openid", "email", "profile", "offline_access", "groups"}

// DefaultScopes are the scopes of a client given none: all but groups,
// which an operator gives an app that maps groups to roles or access
// (the names of a user's groups may say more about them than the app
// needs).
var DefaultScopes = []string{"openid", "email", "profile", "offline_access"}

// Algorithms are the ID token signing algorithms a client may choose.
// RS256 is the default: OIDC Core §15.1 requires it, and many relying
// parties verify nothing else unless configured.
var Algorithms = []string{"RS256", "ES256", "EdDSA"}

// MinSecretLength is the shortest client secret accepted from an
// operator; generated secrets are 43 characters (256 bits).
const MinSecretLength = 32

// NewSecret returns a new client secret and the hash to store.
func NewSecret() (secret, hash string) {
	secret = rand.Text() + rand.Text() // 2 × 128 bits, base32
	return secret, HashSecret(secret)
}

// HashSecret is how client secrets are stored: SHA-256, hex. A secret has
// at least 160 bits of entropy (MinSecretLength base32-ish characters an
// operator chose, or a generated one), so a slow hash would add nothing.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func secretMatches(hash, secret string) bool {
	return hash != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(HashSecret(secret))) == 1
}

// NewClientID returns a random client ID, for clients given none.
func NewClientID() string {
	return strings.ToLower(rand.Text())
}

// ValidateClient checks a client's settings and fills in defaults (scopes,
// algorithm). The messages name what to fix.
func ValidateClient(c *passkeyd.OIDCClient) error {
	if c.ID == "" || len(c.ID) > 200 || strings.ContainsFunc(c.ID, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return passkeyd.Errorf(passkeyd.EINVALID, "Client ID %q: 1 to 200 printable ASCII characters without spaces.", c.ID)
	}
	if strings.TrimSpace(c.Name) == "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "Client %s needs a name (shown to users).", c.ID)
	}
	if c.Public && c.SecretHash != "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "Client %s is public: it has no secret.", c.ID)
	}
	if !c.Public && c.SecretHash == "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "Client %s is confidential and needs a secret.", c.ID)
	}
	if len(c.RedirectURIs) == 0 {
		return passkeyd.Errorf(passkeyd.EINVALID, "Client %s needs at least one redirect URI.", c.ID)
	}
	for _, u := range c.RedirectURIs {
		if err := validateRedirectURI(u, c.Public); err != nil {
			return passkeyd.Errorf(passkeyd.EINVALID, "Client %s: redirect URI %q: %v.", c.ID, u, err)
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := validateRedirectURI(u, c.Public); err != nil {
			return passkeyd.Errorf(passkeyd.EINVALID, "Client %s: post-logout redirect URI %q: %v.", c.ID, u, err)
		}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = slices.Clone(DefaultScopes)
	}
	for _, s := range c.Scopes {
		if !slices.Contains(KnownScopes, s) {
			return passkeyd.Errorf(passkeyd.EINVALID, "Client %s: unknown scope %q (known: %s).", c.ID, s, strings.Join(KnownScopes, ", "))
		}
	}
	if !slices.Contains(c.Scopes, "openid") {
		return passkeyd.Errorf(passkeyd.EINVALID, "Client %s: the scopes must include openid.", c.ID)
	}
	if c.IDTokenAlg == "" {
		c.IDTokenAlg = "RS256"
	}
	if !slices.Contains(Algorithms, c.IDTokenAlg) {
		return passkeyd.Errorf(passkeyd.EINVALID, "Client %s: ID token algorithm %q is not one of %s.", c.ID, c.IDTokenAlg, strings.Join(Algorithms, ", "))
	}
	for _, d := range []time.Duration{c.AccessTokenTTL, c.IDTokenTTL, c.RefreshTokenTTL} {
		if d < 0 || (d > 0 && d < time.Minute) {
			return passkeyd.Errorf(passkeyd.EINVALID, "Client %s: token lifetimes must be at least a minute.", c.ID)
		}
	}
	for i, a := range c.AllowedUsers {
		a = passkeyd.EmailKey(a)
		c.AllowedUsers[i] = a
		if strings.HasPrefix(a, "@") {
			if len(a) < 2 || strings.Contains(a[1:], "@") {
				return passkeyd.Errorf(passkeyd.EINVALID, "Client %s: %q is not an email domain like @example.com.", c.ID, a)
			}
			continue
		}
		if _, err := passkeyd.ValidateEmail(a); err != nil {
			return passkeyd.Errorf(passkeyd.EINVALID, "Client %s: allowed user %q is neither an email address nor @domain.", c.ID, a)
		}
	}
	var groups []string // trimmed, each once
	for _, g := range c.AllowedGroups {
		name, err := passkeyd.ValidateGroupName(g)
		if err != nil {
			return passkeyd.Errorf(passkeyd.EINVALID, "Client %s: allowed group %q: %s", c.ID, g, passkeyd.ErrorMessage(err))
		}
		if !slices.ContainsFunc(groups, func(n string) bool { return strings.EqualFold(n, name) }) {
			groups = append(groups, name)
		}
	}
	c.AllowedGroups = groups
	return nil
}

// validateRedirectURI allows https, http on a loopback address (RFC 8252
// §7.3; nothing else can be trusted over plain http), and, for public
// clients, a private-use scheme with a dot (RFC 8252 §7.1,
// com.example.app:/callback). Fragments (RFC 6749 §3.1.2) and wildcards
// are forbidden.
func validateRedirectURI(raw string, public bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("not an absolute URL")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("a fragment is not allowed")
	}
	// Redirect URIs match exactly, so a * would only ever match itself; an
	// operator who writes one expects a wildcard, which passkeyd never
	// offers (RFC 9700 §4.1.3: exact matching).
	if strings.Contains(raw, "*") || strings.Contains(strings.ToLower(raw), "%2a") {
		return fmt.Errorf("wildcards are not allowed: register each redirect URI exactly")
	}
	switch {
	case u.Scheme == "https" && u.Host != "":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	case u.Scheme == "http":
		return fmt.Errorf("http is allowed only for loopback addresses (127.0.0.1, [::1], localhost); use https")
	case public && strings.Contains(u.Scheme, "."):
	default:
		return fmt.Errorf("use https (or, for a native app, a scheme like com.example.app)")
	}
	if u.User != nil {
		return fmt.Errorf("user information is not allowed")
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// mustConfirmEmail reports whether u has to confirm the address before
// signing in to c. An address allow-list trusts the address, so it admits
// only a confirmed one, always; other clients ask for it unless the
// operator let unconfirmed addresses in (AllowUnverifiedEmail), because an
// app that finds its accounts by email (Gitea's account linking, Grafana's
// oauth_allow_insecure_email_lookup) would take whoever signed up with
// someone else's address for that person.
func mustConfirmEmail(c *passkeyd.OIDCClient, u *passkeyd.User) bool {
	return u.EmailVerifiedAt.IsZero() && (len(c.AllowedUsers) > 0 || !c.AllowUnverifiedEmail)
}

// admits reports whether c lets u sign in: every account when c names
// neither addresses nor groups; otherwise an account whose address is on
// AllowedUsers (confirmed or not: see mustConfirmEmail) or that is a
// member of one of AllowedGroups. Each sign-in and each refresh asks
// again, so a member taken out of a group is out at the next one.
func (p *Provider) admits(ctx context.Context, c *passkeyd.OIDCClient, u *passkeyd.User) (bool, error) {
	if len(c.AllowedUsers) == 0 && len(c.AllowedGroups) == 0 {
		return true, nil
	}
	email := passkeyd.EmailKey(u.Email)
	for _, a := range c.AllowedUsers {
		if a == email || strings.HasPrefix(a, "@") && strings.HasSuffix(email, a) {
			return true, nil
		}
	}
	if len(c.AllowedGroups) == 0 {
		return false, nil
	}
	groups, err := p.groups.ListUserGroups(ctx, u.ID)
	if err != nil {
		return false, fmt.Errorf("list the groups of %s: %w", u.ID, err)
	}
	for _, g := range groups {
		for _, name := range c.AllowedGroups {
			if strings.EqualFold(g.Name, name) { // group names are unique without regard to case
				return true, nil
			}
		}
	}
	return false, nil
}

// client is a passkeyd.OIDCClient as the op package sees it.
type client struct {
	c   *passkeyd.OIDCClient
	p   *Provider
	ttl time.Duration // ID token lifetime
}

var _ op.Client = (*client)(nil)

func (p *Provider) opClient(c *passkeyd.OIDCClient) *client {
	ttl := c.IDTokenTTL
	if ttl == 0 {
		ttl = p.cfg.IDTokenTTL
	}
	return &client{c: c, p: p, ttl: ttl}
}

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

// ApplicationType: public clients are native (the op package then allows
// loopback redirects on any port, RFC 8252 §7.3, and private-use
// schemes); confidential clients are web applications.
func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

// AuthMethod: a confidential client authenticates with client_secret_basic
// or client_secret_post, whichever it sends; the op package accepts both
// for AuthMethodBasic when AuthMethodPost is enabled.
func (c *client) AuthMethod() zoidc.AuthMethod {
	if c.c.Public {
		return zoidc.AuthMethodNone
	}
	return zoidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []zoidc.ResponseType {
	return []zoidc.ResponseType{zoidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []zoidc.GrantType {
	grants := []zoidc.GrantType{zoidc.GrantTypeCode}
	if slices.Contains(c.c.Scopes, "offline_access") {
		grants = append(grants, zoidc.GrantTypeRefreshToken)
	}
	return grants
}

func (c *client) LoginURL(id string) string {
	return c.p.cfg.Issuer + "/oidc/login?id=" + url.QueryEscape(id)
}

func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return c.ttl }
func (c *client) DevMode() bool                       { return false }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed is asked only about scopes outside the standard ones;
// CreateAuthRequest then drops whatever the client may not have.
func (c *client) IsScopeAllowed(scope string) bool { return slices.Contains(c.c.Scopes, scope) }

// IDTokenUserinfoClaimsAssertion puts email and the other claims of the
// granted scopes in the ID token itself: Auth.js and others never call
// userinfo.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
