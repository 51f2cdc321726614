// Package oidc makes passkeyd an OpenID Connect provider: any application
// that offers "Sign in with OpenID Connect" (Grafana, Gitea, Nextcloud,
// oauth2-proxy, Auth.js, ...) can sign its users in with their passkeys.
//
// The protocol (parsing requests, client authentication, PKCE, JWTs, JWKS,
// discovery) is github.com/zitadel/oidc/v3's op package, an OpenID-certified
// provider library; this package supplies its storage, the sign-in and
// consent steps, and the few rules passkeyd is stricter about.
//
// # Composition
//
// The provider does not import passkeyd's web handler, nor web it: New
// takes what the provider needs through small interfaces it declares
// (Deps): Pages renders its pages in the host's layout, Users tells who is
// signed in to a request, with the Store, the log and Metrics. cmd/passkeyd
// builds both, passes the web handler as Pages and Users, and mounts
// Handler inside it (web.Server.Mount), declaring each route's rules where
// it mounts it: the sign-in steps read the session; discovery, authorize,
// token, revocation and userinfo do not, and token, revocation and
// userinfo may be called from other sites. The provider's pages answer
// errors through one adapter (page) and one status table (statusOf), as
// web's handlers do; ErrorPage also answers the limits web applies to
// authorization requests.
//
// # The flow
//
//  1. The app sends the browser to {issuer}/oidc/authorize. The library
//     checks the client and its redirect_uri (exact match; an unknown client
//     or URI gets an error page, never a redirect), then calls
//     CreateAuthRequest, where passkeyd refuses what the library would let
//     through: a PKCE method other than S256, a public client without PKCE,
//     scopes the client may not ask for are dropped. The request is stored,
//     bound to the browser (a cookie whose keyed hash the request keeps;
//     browser.go), and the browser goes to {issuer}/oidc/login?id=...
//  2. The login step runs inside passkeyd's web handler, so the browser's
//     passkeyd session is known (Deps.Users); it and the consent step act
//     only for the browser that started the request. Without a session, or
//     when prompt=login or max_age ask for a fresher passkey verification
//     than the session's, it shows the sign-in page, which reloads once the
//     passkey is verified (login_hint fills in the email). The pages are
//     rendered in passkeyd's layout (Deps.Pages). prompt=none answers
//     login_required instead of showing any page. A client with
//     AllowedUsers or AllowedGroups admits only an account on either list
//     (admits, asked again at every refresh); anyone else gets the page
//     "You have no access to APP", whose button sends the app
//     access_denied. Any error sent to the app (a cancelled consent:
//     access_denied) deletes the request first.
//  3. Consent: unless the client is trusted or the user agreed before to
//     every scope asked for, a page names the app and what it will receive
//     (prompt=none: consent_required). The answer is stored per user and
//     client; Connected apps in the dashboard lists and revokes it. A new
//     grant (no consent yet, or more scopes) needs a passkey verification
//     within Config.StepUpWindow: the consent page runs one before it
//     posts Allow; a trusted client, which shows no page, gets the sign-in
//     page instead, and its grant is stored as a consent too. The store
//     ends consents and tokens with the account's recovery, takeover,
//     disabling, and with the passkey they were made with.
//  4. The request is completed with the user, the passkey verification's
//     time (auth_time) and amr, and a code is issued: the library seals the
//     request ID into it, passkeyd stores only a keyed hash. The browser is
//     sent to the redirect_uri with code, state and iss (RFC 9207, which the
//     library does not add: passkeyd adds it to every authorization
//     response, success or error).
//  5. The app redeems the code at {issuer}/oidc/token with its secret
//     (client_secret_basic or client_secret_post) or, if public, with its
//     PKCE verifier only. The redemption is one conditional UPDATE, so a
//     code is used once even when several instances race; a code seen again
//     revokes every token issued from it and is logged.
//
// # State
//
// Everything lives in the database, so any instance can continue any step:
// authorization requests (10 minutes), codes (1 minute, single use),
// access tokens (opaque, sealed around a random ID that is stored), refresh
// tokens (stored as a keyed hash). The refresh tokens of one grant form a
// family: each use rotates the token, and a rotated token used again
// revokes the family (RFC 9700 §4.14.2).
//
// # Keys
//
// Signing keys (RS256, ES256, EdDSA; RS256 is the default per client, as
// OIDC Core §15.1 requires) are generated when first needed and stored in the
// database as PKCS #8 sealed with AES-256-GCM under a key derived from the
// session secret with HKDF-SHA-256, so every instance with the same
// SESSION_SECRET signs with and publishes the same keys, and a copy of the
// database alone holds no usable key. Rotation (passkeyd oidc rotate-keys,
// RotateKeys) adds a new key per algorithm, published in JWKS at once and
// signing after Config.KeyPublishDelay, since not every relying party
// fetches JWKS again when it meets an unknown key ID; the old key signs
// until then and stays in JWKS until the longest ID token it may have
// signed has expired. RotateKeysNow, for a leaked key, switches at once and
// withdraws the old keys.
package oidc
