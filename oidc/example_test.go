package oidc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/sqlite"
	"github.com/passkeyd/passkeyd/web"
)

// A host application that mounts passkeyd under /auth adds the OpenID
// Connect provider beside it: the provider renders its pages and learns who
// is signed in through passkeyd's web handler, and is mounted in it, with
// what each route declares (cmd/passkeyd mounts every route of it so). The
// issuer is the public URL, mount prefix included, byte for byte in
// discovery and tokens.
func Example() {
	dir, _ := os.MkdirTemp("", "passkeyd-example")
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(context.Background(), "file:"+filepath.Join(dir, "app.db"))
	if err != nil {
		panic(err)
	}
	defer store.Close()

	auth, err := web.New(web.Config{
		RPID:          "example.com",
		Origins:       []string{"https://example.com"},
		Secret:        []byte("a-random-secret-of-at-least-32-bytes!"),
		BasePath:      "/auth",
		ConnectedApps: true,
	}, web.Deps{Store: store})
	if err != nil {
		panic(err)
	}
	provider, err := oidc.New(oidc.Config{
		Issuer:       "https://example.com/auth",
		Secret:       []byte("a-random-secret-of-at-least-32-bytes!"),
		StepUpWindow: web.DefaultConfig().StepUpWindow, // web's, for the consent's passkey check
	}, oidc.Deps{Store: store, Pages: auth, Users: auth})
	if err != nil {
		panic(err)
	}
	h := provider.Handler()
	auth.Mount("GET /.well-known/openid-configuration", h, web.Sessionless)
	auth.Mount("/oidc/authorize", h, web.Sessionless, web.BoundedBody, web.AppSignInLimits, web.ErrorPage(provider.ErrorPage))
	auth.Mount("POST /oidc/token", h, web.Sessionless, web.CrossOrigin, web.BoundedBody, web.ClientAuthFailureLimit)
	auth.Mount("/oidc/revoke", h, web.Sessionless, web.CrossOrigin, web.BoundedBody)
	auth.Mount("/oidc/userinfo", h, web.Sessionless, web.CrossOrigin, web.BoundedBody)
	auth.Mount("/oidc/", h, web.BoundedBody) // the sign-in steps read the session
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", auth))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/auth/.well-known/openid-configuration", nil))
	var d struct {
		Issuer                string   `json:"issuer"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		JWKS                  string   `json:"jwks_uri"`
		PKCE                  []string `json:"code_challenge_methods_supported"`
	}
	json.NewDecoder(rec.Body).Decode(&d)
	fmt.Println(d.Issuer)
	fmt.Println(d.AuthorizationEndpoint)
	fmt.Println(d.JWKS)
	fmt.Println(d.PKCE)
	// Output:
	// https://example.com/auth
	// https://example.com/auth/oidc/authorize
	// https://example.com/auth/oidc/keys
	// [S256]
}
