package passkeyd

import (
	"context"
	"time"
)

// OIDCClient is an application that signs its users in through passkeyd's
// OpenID Connect provider (package oidc).
type OIDCClient struct {
	ID   string
	Name string // shown on the consent page and in Connected apps
	// SecretHash is the SHA-256 of the client secret, hex; empty for a
	// public client. Secrets are at least 256 bits of randomness (or 32
	// characters an operator chose), so a fast hash is enough: there is
	// nothing to guess.
	SecretHash             string
	Public                 bool     // a SPA or native app: no secret, PKCE required
	RedirectURIs           []string // compared exactly
	PostLogoutRedirectURIs []string
	Scopes                 []string      // scopes it may ask for
	IDTokenAlg             string        // RS256 (default), ES256 or EdDSA
	AccessTokenTTL         time.Duration // 0: the provider's default
	IDTokenTTL             time.Duration
	RefreshTokenTTL        time.Duration
	Trusted                bool     // consent is not asked
	AllowedUsers           []string // emails or "@domain"; empty: every user
	// AllowedGroups names the groups whose members may sign in (besides
	// the AllowedUsers); with both empty, every user may. The store keeps
	// the groups' IDs, so renaming a group keeps the app's rule; an
	// unknown name is EINVALID when saved.
	AllowedGroups []string
	// Declared: the client comes from OIDC_CLIENTS_FILE (set by
	// ApplyClients); the console shows it read-only.
	Declared bool
	// AllowUnverifiedEmail lets accounts whose address is not confirmed
	// sign in to this client. Off by default: an app that finds its own
	// accounts by email would take anyone who signed up with someone
	// else's address for that person. AllowedUsers admits only confirmed
	// addresses whatever this says.
	AllowUnverifiedEmail bool
	CreatedAt            time.Time
	UpdatedAt            time.Time
	LastUsedAt           time.Time
}

// OIDCAuthRequest is an authorization request in progress: created by the
// authorize endpoint, completed when the user has signed in and consented,
// then given a code, which is redeemed once at the token endpoint.
type OIDCAuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	Scopes              []string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              []string
	MaxAge              int64 // seconds; -1 when the client sent none
	LoginHint           string
	// BrowserHash is the keyed hash of the browser binding in the cookie
	// of the browser that started the request: only that browser may
	// sign in and consent for it.
	BrowserHash string
	// HintSubject is the subject of the request's valid id_token_hint:
	// the account the app asked for ("" when it named none).
	HintSubject string
	UserID      string    // set by IssueOIDCCode
	AuthTime    time.Time // the passkey verification the user signed in with
	// CredentialID is the API ID of the passkey whose session completed
	// the request; its tokens inherit it, so that deleting the passkey
	// ends them (set by IssueOIDCCode).
	CredentialID   string
	AMR            []string
	Done           bool
	CreatedAt      time.Time
	ExpiresAt      time.Time
	CodeHash       string // keyed hash of the code, once issued
	CodeExpiresAt  time.Time
	CodeRedeemedAt time.Time
}

// OIDCCodeIssue is what OIDCStore.IssueOIDCCode records on a request:
// who signed in, with which passkey, when and how, and the code's keyed
// hash and expiry.
type OIDCCodeIssue struct {
	RequestID     string
	UserID        string
	CredentialID  string
	AuthTime      time.Time
	AMR           []string
	CodeHash      string
	CodeExpiresAt time.Time
}

// OIDCTokenKind tells access tokens from refresh tokens.
type OIDCTokenKind string

const (
	OIDCAccessToken  OIDCTokenKind = "access"
	OIDCRefreshToken OIDCTokenKind = "refresh"
)

// OIDCToken is an access or refresh token. Every token belongs to a grant:
// the authorization request it came from. The refresh tokens of a grant are
// its refresh family; revoking a grant ends all its tokens.
type OIDCToken struct {
	// ID is a random ID for access tokens (the bearer token is sealed
	// around it) and a keyed hash of the token for refresh tokens.
	ID       string
	Kind     OIDCTokenKind
	GrantID  string
	ClientID string
	UserID   string
	Scopes   []string
	Audience []string
	AuthTime time.Time
	AMR      []string
	// CredentialID is the passkey whose session made the grant (the
	// request's CredentialID, kept through rotations).
	CredentialID string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	UsedAt       time.Time // refresh tokens: when it was rotated; zero while current
}

// OIDCConsent records that a user let a client receive scopes.
type OIDCConsent struct {
	UserID     string
	ClientID   string
	ClientName string // filled in by FindOIDCConsent
	Scopes     []string
	// CredentialID is the passkey whose session gave (or last widened)
	// the consent: deleting it ends the consent.
	CredentialID string
	CreatedAt    time.Time
	LastUsedAt   time.Time
}

// OIDCConnectedApp is an app that holds a grant of a user: a consent, or
// a live refresh token (a trusted app, which is never asked, may hold one
// without a consent made before consents were recorded for trusted apps).
// The dashboard's Connected apps lists them, each with Revoke.
type OIDCConnectedApp struct {
	ClientID   string
	ClientName string
	Trusted    bool
	Scopes     []string // the consent's, or those of the live refresh tokens
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// OIDCKey is a token-signing key. The private key is stored sealed (AEAD)
// under a key derived from the session secret.
type OIDCKey struct {
	ID         string    // the JWK "kid"
	Algorithm  string    // RS256, ES256 or EdDSA
	PrivateKey []byte    // sealed PKCS #8
	CreatedAt  time.Time // published in JWKS from then on
	// SignFrom is when it starts signing (zero: at once). A rotated key is
	// published first, so that relying parties that cache JWKS know it
	// before tokens signed with it reach them.
	SignFrom time.Time
	RetireAt time.Time // zero while current; leaves JWKS after this
	// Generation numbers the keys of an algorithm from 1, each new key one
	// more than the newest. A generation is stored once, so instances that
	// find no key and make one at the same time store exactly one.
	Generation int64
}

// OIDCStore keeps what the OpenID Connect provider needs. The sqlite and
// postgres stores implement it; storetest.RunOIDC is its suite.
type OIDCStore interface {
	// SaveOIDCClient creates the client or replaces every setting of the
	// one with its ID (CreatedAt and LastUsedAt are kept), and records ev
	// (nil: none), in one transaction. A new secret (SecretHash changed)
	// ends the client's tokens and unredeemed codes for every user, in the
	// same transaction: a leaked secret with a stolen refresh token is what
	// rotating a secret is for.
	SaveOIDCClient(ctx context.Context, c *OIDCClient, ev *Event) error
	// CreateOIDCClient stores a new client and records ev (nil: none), in
	// one transaction; ECONFLICT, and nothing written, if the ID is taken.
	CreateOIDCClient(ctx context.Context, c *OIDCClient, ev *Event) error
	// FindOIDCClient returns ENOTFOUND for an unknown client.
	FindOIDCClient(ctx context.Context, id string) (*OIDCClient, error)
	// ListOIDCClients returns every client, by name.
	ListOIDCClients(ctx context.Context) ([]*OIDCClient, error)
	// DeleteOIDCClient deletes a client with its requests, tokens and
	// consents, and records ev (nil: none), in one transaction. ENOTFOUND,
	// and nothing written, if unknown.
	DeleteOIDCClient(ctx context.Context, id string, ev *Event) error

	// SaveOIDCAuthRequest stores a new authorization request.
	SaveOIDCAuthRequest(ctx context.Context, r *OIDCAuthRequest) error
	// FindOIDCAuthRequest returns an unexpired request; ENOTFOUND otherwise.
	FindOIDCAuthRequest(ctx context.Context, id string, now time.Time) (*OIDCAuthRequest, error)
	// DeleteOIDCAuthRequest ends a request that has not been completed
	// (the user cancelled, or the app was sent an error). ENOTFOUND if it
	// is gone or was completed.
	DeleteOIDCAuthRequest(ctx context.Context, id string) error
	// IssueOIDCCode completes a request (who signed in, with which passkey,
	// when and how), gives it its code and records ev, in one transaction:
	// the sign-in step's one write; a request yields one code. ENOTFOUND, and nothing written, if the
	// request is gone, expired or has a code already.
	IssueOIDCCode(ctx context.Context, c *OIDCCodeIssue, ev *Event, now time.Time) error
	// FindOIDCCode returns the request a code was issued for, without
	// redeeming it: while the code is unexpired, and once it is redeemed
	// (until the request is deleted), so that a second redemption is
	// recognised. ENOTFOUND otherwise.
	FindOIDCCode(ctx context.Context, codeHash string, now time.Time) (*OIDCAuthRequest, error)
	// RedeemOIDCCode marks the code redeemed, stores tokens (those it
	// grants) and returns its request, in one transaction. Of several
	// callers racing, on any number of instances, exactly one gets it, and
	// its tokens are stored before any other caller can see the code
	// redeemed. A code redeemed before returns ECONFLICT together with its
	// request, so the caller can revoke what it granted, and stores
	// nothing; an unknown or expired code is ENOTFOUND.
	RedeemOIDCCode(ctx context.Context, codeHash string, now time.Time, tokens ...*OIDCToken) (*OIDCAuthRequest, error)

	// CreateOIDCTokens stores tokens of one grant and records the use of
	// the client and of the user's consent to it.
	CreateOIDCTokens(ctx context.Context, tokens ...*OIDCToken) error
	// RotateOIDCRefreshToken marks the current refresh token id used and
	// stores next in its place, in one transaction. Of several callers
	// racing, exactly one succeeds; a token used before (or revoked, or
	// expired) is ECONFLICT with the used token returned, so the caller can
	// revoke its grant, or ENOTFOUND when it is unknown.
	RotateOIDCRefreshToken(ctx context.Context, id string, now time.Time, next ...*OIDCToken) (*OIDCToken, error)
	// FindOIDCToken returns an unexpired, unused token of kind.
	FindOIDCToken(ctx context.Context, id string, kind OIDCTokenKind, now time.Time) (*OIDCToken, error)
	// FindOIDCRefreshToken returns a refresh token whether or not it has
	// been used (ENOTFOUND if unknown or expired): reuse detection needs
	// the used ones.
	FindOIDCRefreshToken(ctx context.Context, id string, now time.Time) (*OIDCToken, error)
	// DeleteOIDCToken revokes one token. Deleting a missing token is not
	// an error.
	DeleteOIDCToken(ctx context.Context, id string) error
	// RevokeOIDCGrant deletes every token of a grant and returns how many.
	RevokeOIDCGrant(ctx context.Context, grantID string) (int64, error)

	// SaveOIDCConsent creates or widens a user's consent to a client.
	SaveOIDCConsent(ctx context.Context, c *OIDCConsent) error
	// FindOIDCConsent returns ENOTFOUND if the user never consented.
	FindOIDCConsent(ctx context.Context, userID, clientID string) (*OIDCConsent, error)
	// ListOIDCConnectedApps returns the apps that hold a grant of the
	// user at now (a consent or an unexpired, unused refresh token),
	// trusted or not, most recently used first.
	ListOIDCConnectedApps(ctx context.Context, userID string, now time.Time) ([]*OIDCConnectedApp, error)
	// RevokeOIDCConsent ends a user's consent to a client, every token the
	// client holds for the user and the user's requests of the client not
	// yet redeemed, and records ev. ENOTFOUND if there was neither consent
	// nor token.
	RevokeOIDCConsent(ctx context.Context, userID, clientID string, ev *Event) error

	// AddOIDCKey stores a new signing key; no other key of its algorithm
	// stays published after retireOthersAt (the current ones retire then,
	// and those due to retire later retire then too). ECONFLICT, and
	// nothing changed, if a key of its algorithm and generation exists:
	// another caller added that generation first.
	AddOIDCKey(ctx context.Context, k *OIDCKey, retireOthersAt time.Time) error
	// ListOIDCKeys returns the keys not retired at now, newest first.
	ListOIDCKeys(ctx context.Context, now time.Time) ([]*OIDCKey, error)
}

// Security-log events of the OpenID Connect provider (see the Event* list
// in event.go).
const (
	EventOIDCSignIn       = "oidc_sign_in"       // signed in to an app; Detail names it
	EventOIDCAppRevoked   = "oidc_app_revoked"   // the user disconnected an app
	EventOIDCCodeReused   = "oidc_code_reused"   // a code came back twice; its tokens were revoked
	EventOIDCRefreshReuse = "oidc_refresh_reuse" // a rotated refresh token came back; its family was revoked
)
