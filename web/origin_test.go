package web_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/passkeyd/passkeyd/internal/softauthn"
)

// wantRefused checks that a ceremony step was answered with a 4xx.
func wantRefused(t *testing.T, err error) {
	t.Helper()
	var se *softauthn.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("ceremony: %v, want a refusal", err)
	}
	if se.Res.Status < 400 || se.Res.Status > 499 {
		t.Fatalf("%s: status %d, want 4xx", se.Step, se.Res.Status)
	}
}

// A browser serializes an origin as scheme://host[:port], never with a
// path: a trailing slash means the response was not made by a browser on
// our page, so it is refused (issue 11.5).
func TestClientDataOriginWithTrailingSlashRefused(t *testing.T) {
	t.Run("Registration", func(t *testing.T) {
		e := newEnv(t)
		b, a := e.browser(), e.authenticator()
		a.RP.Origin = e.origin + "/"
		_, err := b.Register(context.Background(), a, "slash@example.com")
		wantRefused(t, err)
		e.noUser(t, "slash@example.com")
	})
	t.Run("SignIn", func(t *testing.T) {
		e := newEnv(t)
		a := e.authenticator()
		e.signUp(t, e.browser(), a, "slash@example.com")
		a.RP.Origin = e.origin + "/"
		b := e.browser()
		_, err := b.SignIn(context.Background(), a, "", nil)
		wantRefused(t, err)
		if status, _ := e.me(t, b); status != http.StatusUnauthorized {
			t.Fatalf("after the refused sign-in /api/auth/me = %d, want 401", status)
		}
	})
	t.Run("OriginHeader", func(t *testing.T) {
		e := newEnv(t)
		b := e.browser()
		b.Origin = e.origin + "/"
		res, err := b.PostJSON(context.Background(), "/api/passkeys/generate-authentication-options", map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, res, http.StatusForbidden, "refused")
	})
}
