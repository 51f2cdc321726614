package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passkeyd/passkeyd"
)

// storage is op.Storage over passkeyd's stores. The op package calls it;
// passkeyd's own rules (S256 only, PKCE for public clients, codes and
// refresh tokens used once, reuse revoking the grant) live here.
type storage struct{ p *Provider }

var (
	_ op.Storage                   = storage{}
	_ op.CanSetUserinfoFromRequest = storage{}
)

// authRequest is a stored authorization request as op sees it.
type authRequest struct{ r *passkeyd.OIDCAuthRequest }

var _ op.AuthRequest = authRequest{}

func (a authRequest) GetID() string          { return a.r.ID }
func (a authRequest) GetACR() string         { return "" }
func (a authRequest) GetAMR() []string       { return a.r.AMR }
func (a authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a authRequest) GetClientID() string    { return a.r.ClientID }
func (a authRequest) GetCodeChallenge() *zoidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &zoidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: zoidc.CodeChallengeMethod(a.r.CodeChallengeMethod)}
}
func (a authRequest) GetNonce() string       { return a.r.Nonce }
func (a authRequest) GetRedirectURI() string { return a.r.RedirectURI }
func (a authRequest) GetResponseType() zoidc.ResponseType {
	return zoidc.ResponseType(a.r.ResponseType)
}
func (a authRequest) GetResponseMode() zoidc.ResponseMode {
	return zoidc.ResponseMode(a.r.ResponseMode)
}
func (a authRequest) GetScopes() []string { return a.r.Scopes }
func (a authRequest) GetState() string    { return a.r.State }
func (a authRequest) GetSubject() string  { return a.r.UserID }
func (a authRequest) Done() bool          { return a.r.Done }

// refreshRequest is a refresh token being redeemed, as op sees it.
type refreshRequest struct {
	t      *passkeyd.OIDCToken
	scopes []string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string                 { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string            { return r.t.Audience }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string              { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.t.UserID }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

// isS256Challenge reports whether challenge can be an S256 code
// challenge: a SHA-256 in base64url without padding.
func isS256Challenge(challenge string) bool {
	sum, err := base64.RawURLEncoding.DecodeString(challenge)
	return err == nil && len(sum) == sha256.Size
}

// CreateAuthRequest stores a request the op package has validated
// (client, redirect_uri, response_type), after the checks passkeyd adds.
// Its errors are redirected to the (registered) redirect_uri.
//
// hintSubject is the subject of the request's id_token_hint, which op has
// verified (an expired hint still names its subject); the sign-in step
// compares it with the signed-in user.
func (s storage) CreateAuthRequest(ctx context.Context, req *zoidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	c, err := s.p.client(ctx, req.ClientID)
	if err != nil {
		return nil, err
	}
	switch {
	case req.CodeChallenge != "" && req.CodeChallengeMethod != zoidc.CodeChallengeMethodS256:
		// An absent method means plain (RFC 7636 §4.3), which proves nothing
		// against an attacker who saw the request.
		return nil, zoidc.ErrInvalidRequest().WithDescription("PKCE: only code_challenge_method=S256 is supported.")
	case req.CodeChallenge == "" && c.Public:
		return nil, zoidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with method S256) is required for this client.")
	case req.CodeChallenge != "" && !isS256Challenge(req.CodeChallenge):
		// Said now, rather than as a failed code exchange later: no verifier
		// can match a challenge that is not a SHA-256 (RFC 7636 §4.2).
		return nil, zoidc.ErrInvalidRequest().WithDescription("PKCE: code_challenge must be the verifier's SHA-256 in base64url without padding (43 characters).")
	}
	switch req.ResponseMode {
	case "", zoidc.ResponseModeQuery, zoidc.ResponseModeFragment:
	default:
		return nil, zoidc.ErrInvalidRequest().WithDescription("response_mode must be query or fragment.")
	}
	if !slices.Contains(req.Scopes, "openid") {
		return nil, zoidc.ErrInvalidScope().WithDescription("The openid scope is required.")
	}
	// Scopes the client may not have, and scopes nobody knows, are dropped:
	// "openid email profile" is many clients' fixed default.
	var scopes []string
	for _, sc := range req.Scopes {
		if slices.Contains(c.Scopes, sc) && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	maxAge := int64(-1)
	if req.MaxAge != nil {
		maxAge = int64(*req.MaxAge)
	}
	browser, _ := ctx.Value(browserKey{}).(string)
	if browser == "" { // bindBrowser runs before every authorization request
		return nil, zoidc.ErrServerError().WithDescription("The request is not bound to a browser.")
	}
	now := s.p.now()
	r := &passkeyd.OIDCAuthRequest{
		ID:                  base64.RawURLEncoding.EncodeToString(randomBytes(24)),
		ClientID:            c.ID,
		RedirectURI:         req.RedirectURI,
		Scopes:              scopes,
		State:               req.State,
		Nonce:               req.Nonce,
		ResponseType:        string(req.ResponseType),
		ResponseMode:        string(req.ResponseMode),
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt:              req.Prompt,
		MaxAge:              maxAge,
		LoginHint:           req.LoginHint,
		BrowserHash:         browser,
		HintSubject:         hintSubject,
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.p.cfg.RequestTTL),
	}
	if err := s.p.store.SaveOIDCAuthRequest(ctx, r); err != nil {
		return nil, err
	}
	return authRequest{r}, nil
}

func (s storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.p.store.FindOIDCAuthRequest(ctx, id, s.p.now())
	if err != nil {
		return nil, err
	}
	return authRequest{r}, nil
}

// AuthRequestByCode finds the request a code was issued for, without
// redeeming it: the op package asks for it before it authenticates the
// client and checks the PKCE verifier and redirect_uri, so a request that
// fails those (a wrong secret, then x/oauth2's retry of it with
// client_secret_post; anyone who intercepted the code) must leave the code
// as it was, and raise no alarm. The code is redeemed, together with the
// tokens it grants, by saveTokens, which op reaches only when every check
// has passed. A redeemed code is found too, so that its authenticated
// client presenting it again is recognised as a reuse there.
func (s storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.p.store.FindOIDCCode(ctx, s.p.secrets.keyedHash("code", code), s.p.now())
	if err != nil {
		return nil, err
	}
	return authRequest{r}, nil
}

// saveTokens stores the tokens of a token request; for a code, in the
// transaction that redeems it, so that of requests racing with one code
// exactly one gets tokens, and the others find them there to revoke. A
// code presented again by its client revokes everything issued from it
// (RFC 6749 §4.1.2).
func (s storage) saveTokens(ctx context.Context, req op.TokenRequest, tokens ...*passkeyd.OIDCToken) error {
	a, ok := req.(authRequest)
	if !ok {
		return s.p.store.CreateOIDCTokens(ctx, tokens...)
	}
	r, err := s.p.store.RedeemOIDCCode(ctx, a.r.CodeHash, s.p.now(), tokens...)
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT && r != nil {
		n, rerr := s.p.store.RevokeOIDCGrant(ctx, r.ID)
		s.p.log.WarnContext(ctx, "oidc code used twice; its tokens are revoked", "event", passkeyd.EventOIDCCodeReused,
			"client_id", r.ClientID, "user_id", r.UserID, "tokens_revoked", n, "error", rerr)
		s.p.record(ctx, passkeyd.NewEvent(s.p.now(), passkeyd.Actor{}, r.UserID, passkeyd.EventOIDCCodeReused, "", s.p.clientName(ctx, r.ClientID)))
		s.p.metrics.refuse(r.ClientID, "code_reused")
		return zoidc.ErrInvalidGrant().WithDescription("This code was used already.")
	}
	return err
}

func (s storage) SaveAuthCode(context.Context, string, string) error {
	return errCodesIssuedAtSignIn
}

// errCodesIssuedAtSignIn: op saves a code only when it makes the
// authorization response itself; passkeyd's sign-in step makes the code
// with op.BuildAuthRequestCode and stores it with the request's completion
// and its event in one transaction (OIDCStore.IssueOIDCCode), so this is
// never reached.
var errCodesIssuedAtSignIn = errors.New("oidc: codes are issued by the sign-in step (IssueOIDCCode), not by SaveAuthCode")

// DeleteAuthRequest keeps the row: it expires by itself, and until then a
// second use of its code is recognised as such.
func (s storage) DeleteAuthRequest(context.Context, string) error { return nil }

// grantError turns a store error met while issuing tokens into an OAuth
// error: what vanished meanwhile (a user deleted between sign-in and code
// redemption) is invalid_grant, a 400; only real faults are server_error.
func grantError(err error) error {
	var oe *zoidc.Error
	if errors.As(err, &oe) {
		return err
	}
	switch passkeyd.ErrorCode(err) {
	case passkeyd.ENOTFOUND, passkeyd.ECONFLICT, passkeyd.EINVALID:
		return zoidc.ErrInvalidGrant().WithParent(err)
	}
	return zoidc.ErrServerError().WithParent(err)
}

// grantOf describes the grant a token request continues.
type grantOf struct {
	id, clientID, userID, credentialID string
	scopes, amr                        []string
	authTime                           time.Time
}

func grantFrom(req op.TokenRequest) (grantOf, error) {
	switch r := req.(type) {
	case authRequest:
		return grantOf{r.r.ID, r.r.ClientID, r.r.UserID, r.r.CredentialID, r.r.Scopes, r.r.AMR, r.r.AuthTime}, nil
	case *refreshRequest:
		return grantOf{r.t.GrantID, r.t.ClientID, r.t.UserID, r.t.CredentialID, r.scopes, r.t.AMR, r.t.AuthTime}, nil
	}
	return grantOf{}, zoidc.ErrUnsupportedGrantType()
}

func (s storage) accessToken(ctx context.Context, g grantOf, c *passkeyd.OIDCClient, now time.Time) *passkeyd.OIDCToken {
	ttl := c.AccessTokenTTL
	if ttl == 0 {
		ttl = s.p.cfg.AccessTokenTTL
	}
	return &passkeyd.OIDCToken{
		ID: base64.RawURLEncoding.EncodeToString(randomBytes(24)), Kind: passkeyd.OIDCAccessToken,
		GrantID: g.id, ClientID: g.clientID, UserID: g.userID, Scopes: g.scopes, Audience: []string{g.clientID},
		AuthTime: g.authTime, AMR: g.amr, CredentialID: g.credentialID, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
}

func (s storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, err := grantFrom(req)
	if err != nil {
		return "", time.Time{}, grantError(err)
	}
	c, err := s.p.client(ctx, g.clientID)
	if err != nil {
		return "", time.Time{}, grantError(err)
	}
	t := s.accessToken(ctx, g, c, s.p.now())
	if err := s.saveTokens(ctx, req, t); err != nil {
		return "", time.Time{}, grantError(err)
	}
	s.p.metrics.issued(g.clientID, grantName(req))
	return t.ID, t.ExpiresAt, nil
}

// CreateAccessAndRefreshTokens issues an access token and a new refresh
// token; with currentRefreshToken, it rotates that one, atomically: of two
// requests racing with one token, the loser is treated as reuse.
func (s storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	g, err := grantFrom(req)
	if err != nil {
		return "", "", time.Time{}, grantError(err)
	}
	c, err := s.p.client(ctx, g.clientID)
	if err != nil {
		return "", "", time.Time{}, grantError(err)
	}
	now := s.p.now()
	access := s.accessToken(ctx, g, c, now)
	raw := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	ttl := c.RefreshTokenTTL
	if ttl == 0 {
		ttl = s.p.cfg.RefreshTokenTTL
	}
	refresh := *access
	refresh.ID, refresh.Kind, refresh.ExpiresAt = s.p.secrets.keyedHash("refresh", raw), passkeyd.OIDCRefreshToken, now.Add(ttl)
	if r, ok := req.(*refreshRequest); ok {
		// A refresh asking for fewer scopes narrows its access token only:
		// the new refresh token keeps the grant's (RFC 6749 §6).
		refresh.Scopes = r.t.Scopes
	}
	if currentRefreshToken == "" {
		err = s.saveTokens(ctx, req, access, &refresh)
	} else {
		var used *passkeyd.OIDCToken
		used, err = s.p.store.RotateOIDCRefreshToken(ctx, s.p.secrets.keyedHash("refresh", currentRefreshToken), now, access, &refresh)
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT && used != nil {
			s.refreshReused(ctx, used)
			return "", "", time.Time{}, zoidc.ErrInvalidGrant().WithDescription("This refresh token was used already.")
		}
	}
	if err != nil {
		return "", "", time.Time{}, grantError(err)
	}
	s.p.metrics.issued(g.clientID, grantName(req))
	return access.ID, raw, access.ExpiresAt, nil
}

// grantName names a token request's grant type, for metrics.
func grantName(req op.TokenRequest) string {
	if _, ok := req.(*refreshRequest); ok {
		return "refresh_token"
	}
	return "authorization_code"
}

// refreshReused revokes the family of a refresh token presented after it
// was rotated: either the client or a thief holds a stale copy, and the
// server cannot tell which (RFC 9700 §4.14.2).
func (s storage) refreshReused(ctx context.Context, t *passkeyd.OIDCToken) {
	n, err := s.p.store.RevokeOIDCGrant(ctx, t.GrantID)
	s.p.log.WarnContext(ctx, "oidc refresh token reused; its family is revoked", "event", passkeyd.EventOIDCRefreshReuse,
		"client_id", t.ClientID, "user_id", t.UserID, "tokens_revoked", n, "error", err)
	s.p.record(ctx, passkeyd.NewEvent(s.p.now(), passkeyd.Actor{}, t.UserID, passkeyd.EventOIDCRefreshReuse, "", s.p.clientName(ctx, t.ClientID)))
	s.p.metrics.refuse(t.ClientID, "refresh_reused")
}

func (s storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := s.p.store.FindOIDCRefreshToken(ctx, s.p.secrets.keyedHash("refresh", token), s.p.now())
	if err != nil {
		return nil, err
	}
	if id, _ := ctx.Value(clientIDKey{}).(string); id != t.ClientID {
		// Another client (op authenticated it before asking) holds this
		// app's token: no reuse by the grant's client, so nothing is
		// revoked; op refuses it with invalid_grant.
		return nil, errors.New("refresh token of another client")
	}
	if !t.UsedAt.IsZero() {
		s.refreshReused(ctx, t)
		return nil, errors.New("refresh token reused")
	}
	// The account may have been disabled, deleted or taken off the client's
	// allow-list since, or the client may no longer take unconfirmed
	// addresses: no new tokens then.
	u, err := s.p.user(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	c, err := s.p.client(ctx, t.ClientID)
	if err != nil {
		return nil, err
	}
	if u.Disabled || mustConfirmEmail(c, u) {
		return nil, errors.New("user may no longer use this client")
	}
	admitted, err := s.p.admits(ctx, c, u)
	if err != nil {
		return nil, err
	}
	if !admitted {
		return nil, errors.New("user may no longer use this client")
	}
	return &refreshRequest{t: t, scopes: t.Scopes}, nil
}

// TerminateSession is not called: the end_session endpoint is passkeyd's
// own (handleEndSession).
func (s storage) TerminateSession(context.Context, string, string) error { return nil }

// RevokeToken revokes an access token (by ID) or a refresh token (by ID,
// from GetRefreshTokenInfo); a refresh token takes its whole grant with it.
// Unknown tokens are not an error (RFC 7009 §2.2).
func (s storage) RevokeToken(ctx context.Context, tokenID, _ string, clientID string) *zoidc.Error {
	now := s.p.now()
	if t, err := s.p.store.FindOIDCRefreshToken(ctx, tokenID, now); err == nil {
		if t.ClientID != clientID {
			return zoidc.ErrUnauthorizedClient().WithDescription("The token was not issued to this client.")
		}
		if _, err := s.p.store.RevokeOIDCGrant(ctx, t.GrantID); err != nil {
			return zoidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	t, err := s.p.store.FindOIDCToken(ctx, tokenID, passkeyd.OIDCAccessToken, now)
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		return nil
	}
	if err != nil {
		return zoidc.ErrServerError().WithParent(err)
	}
	if t.ClientID != clientID {
		return zoidc.ErrUnauthorizedClient().WithDescription("The token was not issued to this client.")
	}
	if err := s.p.store.DeleteOIDCToken(ctx, t.ID); err != nil {
		return zoidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s storage) GetRefreshTokenInfo(ctx context.Context, _ string, token string) (string, string, error) {
	id := s.p.secrets.keyedHash("refresh", token)
	t, err := s.p.store.FindOIDCRefreshToken(ctx, id, s.p.now())
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	return t.UserID, t.ID, nil
}

type clientIDKey struct{}

// SigningKey returns the newest key of the algorithm of the client the
// token request is from (see withClientID), RS256 otherwise.
func (s storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg := "RS256"
	if id, _ := ctx.Value(clientIDKey{}).(string); id != "" {
		if c, err := s.p.client(ctx, id); err == nil && c.IDTokenAlg != "" {
			alg = c.IDTokenAlg
		}
	}
	return s.p.signingKeyFor(ctx, alg)
}

func (s storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	algs := make([]jose.SignatureAlgorithm, len(Algorithms))
	for i, a := range Algorithms {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	return algs, nil
}

func (s storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.p.keys(ctx)
	if err == nil && !everyAlgorithm(keys) { // nothing signed yet: make the keys now
		if err = s.p.EnsureKeys(ctx); err == nil {
			keys, err = s.p.keys(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	set := make([]op.Key, len(keys))
	for i, k := range keys {
		set[i] = publicKey{k}
	}
	return set, nil
}

// GetClientByClientID returns a plain error for an unknown client (op
// then answers with an error page, never a redirect); at the token
// endpoint (withClientID marked the request), invalid_client, which op
// passes on as is for a refresh (a plain error would be a 500 there).
func (s storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.p.client(ctx, id)
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		if _, tokenRequest := ctx.Value(clientIDKey{}).(string); tokenRequest {
			return nil, zoidc.ErrInvalidClient().WithDescription("Unknown client.")
		}
		return nil, errors.New("unknown client")
	}
	if err != nil {
		return nil, zoidc.ErrServerError().WithParent(err)
	}
	return s.p.opClient(c), nil
}

// AuthorizeClientIDSecret checks a confidential client's secret; the op
// package has already form-decoded a client_secret_basic header (RFC 6749
// §2.3.1), so secrets with ':' or '%' work.
func (s storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.p.client(ctx, id)
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		return errors.New("unknown client")
	}
	if err != nil {
		return zoidc.ErrServerError().WithParent(err)
	}
	if c.Public || !secretMatches(c.SecretHash, secret) {
		s.p.log.InfoContext(ctx, "oidc client authentication failed", "event", "oidc_client_auth_failed", "client_id", id)
		s.p.metrics.refuse(id, "client_auth_failed")
		return errors.New("wrong client secret")
	}
	return nil
}

func (s storage) SetUserinfoFromScopes(context.Context, *zoidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s storage) SetUserinfoFromRequest(ctx context.Context, info *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(ctx, info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint for a live access
// token. Its errors are answered by userinfoEndpoint: invalid_token,
// unless the store failed.
func (s storage) SetUserinfoFromToken(ctx context.Context, info *zoidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.p.store.FindOIDCToken(ctx, tokenID, passkeyd.OIDCAccessToken, s.p.now())
	if err != nil {
		return userinfoError(ctx, err)
	}
	if t.UserID != subject {
		return errors.New("token subject mismatch")
	}
	return userinfoError(ctx, s.setUserinfo(ctx, info, t.UserID, t.Scopes))
}

func (s storage) setUserinfo(ctx context.Context, info *zoidc.UserInfo, userID string, scopes []string) error {
	u, err := s.p.user(ctx, userID)
	if err != nil {
		return grantError(err)
	}
	if u.Disabled {
		return zoidc.ErrAccessDenied().WithDescription("The account is disabled.")
	}
	claims, err := s.p.claims(ctx, u, scopes)
	if err != nil {
		return grantError(err)
	}
	info.Subject = u.ID
	setClaims(info, claims)
	return nil
}

func (s storage) SetIntrospectionFromToken(context.Context, *zoidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection is not supported")
}

func (s storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT client authentication is not supported")
}

func (s storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s storage) Health(ctx context.Context) error { return s.p.accounts.Ping(ctx) }
