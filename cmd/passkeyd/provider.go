package main

import (
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/web"
)

// The OpenID Connect provider and passkeyd's pages meet here: neither
// package imports the other. The provider renders its pages and learns who
// is signed in through the web handler (oidc.Deps), and is mounted in it,
// so that its routes get web's middleware and rules.

// newProvider makes the provider for passkeyd's web handler auth, built
// from cfg: the same public URL (the issuer), secret, clock and step-up
// window.
func newProvider(s *settings, cfg web.Config, auth *web.Server, store passkeyd.Store, log *slog.Logger, metrics *oidc.Metrics) (*oidc.Provider, error) {
	st, ok := store.(oidc.Store)
	if !ok {
		return nil, fmt.Errorf("the %T store cannot keep OpenID Connect clients", store)
	}
	// The op package starts an OpenTelemetry span in each of its functions,
	// through the global tracer provider: passkeyd exports no traces, and
	// the global placeholder's spans cost an allocation or two each, about
	// 3 % of the objects of an app sign-in. The no-op provider's cost less.
	otel.SetTracerProvider(noop.NewTracerProvider())
	cfg = cfg.WithDefaults()
	oc := oidc.Config{
		Issuer:          cfg.PublicURL,
		Secret:          cfg.Secret,
		Now:             cfg.Now,
		StepUpWindow:    cfg.StepUpWindow,
		KeyPublishDelay: s.oidcKeyPublishDelay,
	}
	if cfg.SignUpMode == web.SignUpEmailFirst {
		oc.SignUpPage = cfg.PublicURL + "/" // direct sign-up is refused: newcomers go by email
	}
	p, err := oidc.New(oc, oidc.Deps{Store: st, Pages: auth, Users: auth, Log: web.LoggerWithRequestIDs(log), Metrics: metrics})
	if err != nil {
		// The provider's issuer is web's PublicURL; its other fields have
		// settings of their own.
		return nil, envNames(err, map[string]string{"Issuer": "PUBLIC_URL"})
	}
	return p, nil
}

// mountProvider serves the provider's routes in auth, each with what it
// declares, as web/routes.go declares web's own: the session is loaded
// only where the provider asks who is signed in (the sign-in steps, under
// /oidc/); the endpoints apps call from their own pages are CrossOrigin,
// authenticated by client credentials or tokens, never by cookies.
func mountProvider(auth *web.Server, p *oidc.Provider) {
	h := p.Handler()
	auth.Mount("GET /.well-known/openid-configuration", h, web.Sessionless)
	auth.Mount("/oidc/authorize", h, web.Sessionless, web.BoundedBody, web.AppSignInLimits, web.ErrorPage(p.ErrorPage))
	auth.Mount("POST /oidc/token", h, web.Sessionless, web.CrossOrigin, web.BoundedBody, web.ClientAuthFailureLimit)
	auth.Mount("/oidc/revoke", h, web.Sessionless, web.CrossOrigin, web.BoundedBody)
	auth.Mount("/oidc/userinfo", h, web.Sessionless, web.CrossOrigin, web.BoundedBody)
	auth.Mount("/oidc/", h, web.BoundedBody) // login, consent, cancel, end_session, keys
}
