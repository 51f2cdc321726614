// Command oidc-client is a small web app that signs its users in with
// passkeyd, as any app offering "Sign in with OpenID Connect" does: the
// code flow with PKCE, the ID token verified against passkeyd's keys, a
// refresh token, and RP-initiated logout. It uses golang.org/x/oauth2 and
// github.com/coreos/go-oidc/v3, nothing of passkeyd.
//
// Register it, then run it:
//
//	passkeyd clients add -id example-app -name "Example app" \
//	  -redirect-uri http://localhost:3001/callback -post-logout-uri http://localhost:3001/
//	ISSUER=http://localhost:8080 CLIENT_ID=example-app CLIENT_SECRET=... go run ./examples/oidc-client
//	open http://localhost:3001/
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		log.Fatal(err)
	}
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, getenv func(string) string) error {
	addr := envOr(getenv, "ADDR", "127.0.0.1:3001")
	public := envOr(getenv, "PUBLIC_URL", "http://localhost:3001")
	issuer := envOr(getenv, "ISSUER", "http://localhost:8080")
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return fmt.Errorf("discover %s: %w", issuer, err)
	}
	a := &app{
		issuer:   issuer,
		public:   public,
		provider: provider,
		verifier: provider.Verifier(&oidc.Config{ClientID: getenv("CLIENT_ID")}),
		conf: &oauth2.Config{
			ClientID:     getenv("CLIENT_ID"),
			ClientSecret: getenv("CLIENT_SECRET"),
			Endpoint:     provider.Endpoint(),
			RedirectURL:  public + "/callback",
			Scopes:       []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess},
		},
		sessions: map[string]*session{},
		pending:  map[string]*pending{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("POST /refresh", a.refresh)
	mux.HandleFunc("POST /logout", a.logout)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Printf("example app on %s (listening on %s), signing in with %s", public, l.Addr(), issuer)
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type app struct {
	issuer   string
	public   string
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     *oauth2.Config

	mu       sync.Mutex
	sessions map[string]*session // by cookie
	pending  map[string]*pending // sign-ins in progress, by state
}

type session struct {
	Email, Subject string
	IDToken        string
	Token          *oauth2.Token
	Message        string
}

type pending struct {
	verifier, nonce string
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example app</title></head>
<body>
<h1>Example app</h1>
{{with .}}
<p>Signed in as <strong id="email">{{.Email}}</strong></p>
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}
<form method="post" action="/refresh"><button id="refresh" type="submit">Refresh tokens</button></form>
<form method="post" action="/logout"><button id="logout" type="submit">Sign out</button></form>
{{else}}
<p id="signed-out">You are not signed in.</p>
<form method="post" action="/login"><button id="login" type="submit">Sign in</button></form>
{{end}}
</body></html>
`))

func (a *app) current(r *http.Request) *session {
	c, err := r.Cookie("example_session")
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[c.Value]
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page.Execute(w, a.current(r))
}

// login starts the code flow with PKCE (S256), a state and a nonce.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	a.mu.Lock()
	a.pending[state] = &pending{verifier: verifier, nonce: nonce}
	a.mu.Unlock()
	http.Redirect(w, r, a.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), http.StatusSeeOther)
}

// callback redeems the code and verifies the ID token.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	p := a.pending[q.Get("state")]
	delete(a.pending, q.Get("state"))
	a.mu.Unlock()
	if p == nil {
		http.Error(w, "Unknown or used state.", http.StatusBadRequest)
		return
	}
	if e := q.Get("error"); e != "" {
		http.Error(w, "Sign-in refused: "+e+": "+q.Get("error_description"), http.StatusForbidden)
		return
	}
	// RFC 9207: the response must come from the issuer we asked (passkeyd
	// always sends iss), not from another provider the user was sent to.
	if q.Get("iss") != a.issuer {
		http.Error(w, "Response from another issuer.", http.StatusBadRequest)
		return
	}
	tok, err := a.conf.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		http.Error(w, "Code exchange failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(r.Context(), raw)
	if err != nil || idt.Nonce != p.nonce {
		http.Error(w, "Invalid ID token.", http.StatusBadGateway)
		return
	}
	var claims struct {
		Email string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		http.Error(w, "Invalid ID token claims.", http.StatusBadGateway)
		return
	}
	id := rand.Text()
	a.mu.Lock()
	a.sessions[id] = &session{Email: claims.Email, Subject: idt.Subject, IDToken: raw, Token: tok}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "example_session", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// refresh uses the refresh token, which passkeyd rotates.
func (a *app) refresh(w http.ResponseWriter, r *http.Request) {
	s := a.current(r)
	if s == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	tok, err := a.conf.TokenSource(r.Context(), &oauth2.Token{RefreshToken: s.Token.RefreshToken}).Token()
	a.mu.Lock()
	if err != nil {
		s.Message = "Refresh failed: the app no longer has access."
	} else {
		s.Token, s.Message = tok, "Tokens refreshed."
	}
	a.mu.Unlock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the app's session and passkeyd's (RP-initiated logout).
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s := a.current(r)
	if c, err := r.Cookie("example_session"); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: "example_session", Path: "/", MaxAge: -1})
	var claims struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if s == nil || a.provider.Claims(&claims) != nil || claims.EndSession == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	q := url.Values{"id_token_hint": {s.IDToken}, "post_logout_redirect_uri": {a.public + "/"}}
	http.Redirect(w, r, claims.EndSession+"?"+q.Encode(), http.StatusSeeOther)
}
