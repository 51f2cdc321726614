package oidc

import (
	"context"
	"net/http"

	"github.com/passkeyd/passkeyd"
)

// requestCache holds the client and the user one request has read. The op
// package asks for the client in each of its storage callbacks (the
// authorization request's checks, client authentication, the tokens, the
// signing key), and a refresh reads the user twice (may they still use the
// app, then their claims): with the cache each is read once per request.
// It lives only as long as the request, so a client changed or an account
// disabled on another instance counts from the next request on, as
// without it; nothing is cached across requests.
type requestCache struct {
	client *passkeyd.OIDCClient
	user   *passkeyd.User
}

type requestCacheKey struct{}

// withRequestCache gives each request its requestCache.
func withRequestCache(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestCacheKey{}, &requestCache{})))
	})
}

// client returns the client id, read once per request. Errors are not
// kept: a failed read is tried again.
func (p *Provider) client(ctx context.Context, id string) (*passkeyd.OIDCClient, error) {
	rc, _ := ctx.Value(requestCacheKey{}).(*requestCache)
	if rc != nil && rc.client != nil && rc.client.ID == id {
		return rc.client, nil
	}
	c, err := p.store.FindOIDCClient(ctx, id)
	if err == nil && rc != nil {
		rc.client = c
	}
	return c, err
}

// user returns the account id, read once per request.
func (p *Provider) user(ctx context.Context, id string) (*passkeyd.User, error) {
	rc, _ := ctx.Value(requestCacheKey{}).(*requestCache)
	if rc != nil && rc.user != nil && rc.user.ID == id {
		return rc.user, nil
	}
	u, err := p.accounts.FindUserByID(ctx, id)
	if err == nil && rc != nil {
		rc.user = u
	}
	return u, err
}
