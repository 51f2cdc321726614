package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/passkeyd/passkeyd"
)

// An authorization request is bound to the browser that started it, so
// that nobody can hand a victim a link to their own pending request
// (/oidc/login?id=...) and have the victim's session complete it: the
// victim would be signed in to the app as themselves in the attacker's
// flow, or the code would go where the attacker's request says. The
// browser holds a random value in a cookie; the request stores its keyed
// hash; the sign-in and consent steps act only when the two agree.

// browserKey is the context key of the browser binding's hash, from
// bindBrowser to storage.CreateAuthRequest.
type browserKey struct{}

// browserCookie is the binding cookie's name: with the __Host- prefix
// under https, so no subdomain can set it.
func (p *Provider) browserCookie() string {
	if strings.HasPrefix(p.cfg.Issuer, "https://") {
		return "__Host-passkeyd_oidc"
	}
	return "passkeyd_oidc"
}

// bindBrowser gives the browser its binding cookie (keeping the value it
// has, so that requests in several tabs all stay bound) and passes the
// value's hash to CreateAuthRequest. The cookie lasts as long as a request
// made now.
func (p *Provider) bindBrowser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		value := p.browserValue(r)
		if value == "" {
			value = base64.RawURLEncoding.EncodeToString(randomBytes(32))
		}
		http.SetCookie(w, &http.Cookie{
			Name:     p.browserCookie(),
			Value:    value,
			Path:     "/",
			MaxAge:   int(p.cfg.RequestTTL.Seconds()),
			HttpOnly: true,
			Secure:   strings.HasPrefix(p.cfg.Issuer, "https://"),
			// Lax: sent on the top-level navigation from the app to the
			// sign-in step, never on other sites' subrequests.
			SameSite: http.SameSiteLaxMode,
		})
		ctx := context.WithValue(r.Context(), browserKey{}, p.secrets.keyedHash("oidc browser", value))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// browserValue is the binding cookie's value, or "" when it is missing or
// malformed.
func (p *Provider) browserValue(r *http.Request) string {
	c, err := r.Cookie(p.browserCookie())
	if err != nil || len(c.Value) != 43 {
		return ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil {
		return ""
	}
	return c.Value
}

// startedHere reports whether req was started by the browser r comes from.
func (p *Provider) startedHere(r *http.Request, req *passkeyd.OIDCAuthRequest) bool {
	value := p.browserValue(r)
	if value == "" || req.BrowserHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(p.secrets.keyedHash("oidc browser", value)), []byte(req.BrowserHash)) == 1
}
