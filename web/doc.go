// Package web is passkeyd's HTTP handler: the sign-in pages and the JSON
// API behind them (passkey registration and sign-in, account recovery, the
// account's passkeys, sessions and security log).
//
// # Mount it
//
// New checks a Config and returns a Server, a plain http.Handler. It
// expects its BasePath stripped from request paths:
//
//	auth, err := web.New(web.Config{
//		RPID:     "example.com",
//		Origins:  []string{"https://example.com"},
//		Secret:   secret, // 32 bytes or more, the same on every instance
//		BasePath: "/auth",
//	}, web.Deps{Store: store, Logger: logger})
//	if err != nil {
//		return err
//	}
//	mux.Handle("/auth/", http.StripPrefix("/auth", auth))
//
// Config.Origins are the origins users open (the browser checks them
// against the RP ID, and so does New). Deps.Mailer sends the recovery and
// confirmation links, Deps.Metrics (NewMetrics) counts ceremonies; both
// may be nil.
//
// # Require a user
//
// Wrap the host application's own handlers in RequireUser. It loads the
// session from the cookie the sign-in set, lets signed-in users through
// with the user in the request context, and sends others to the sign-in
// page (or answers 401 JSON to API calls):
//
//	mux.Handle("/app/", auth.RequireUser(app))
//	// in app: u := passkeyd.UserFromContext(r.Context())
//
// A browser in the middle of account recovery (it may only add a passkey)
// is not signed in for RequireUser.
//
// # Bring a store
//
// Deps.Store is a passkeyd.Store: package sqlite (the default) or package
// postgres, or your own implementation passing the storetest suite. The
// store keeps users, passkeys, sessions and the records of used
// challenges; the state of ceremonies in progress is sealed into the
// browser's cookies. The Server keeps nothing between requests but rate-limit
// counters, so any number of instances can share one database (and the
// same Secret).
//
// # Mount handlers in it
//
// Mount serves another handler inside the Server, behind its middleware
// and with rules declared on the line, as the Server's own routes are:
// the login session is loaded unless Sessionless, cross-site requests that
// change state are refused unless CrossOrigin, and BoundedBody,
// AppSignInLimits, ClientAuthFailureLimit and ErrorPage add limits and
// pages. Such a handler reads the signed-in user with SignedIn and renders
// pages in passkeyd's layout with Render. This is how cmd/passkeyd mounts
// the OpenID Connect provider (package oidc), which web does not import:
// an app that mounts web alone links none of the provider's libraries.
// With the provider mounted, set Config.ConnectedApps: the dashboard then
// lists and revokes the apps' grants, from the store.
//
// # How the package is built
//
// routes.go lists every route on one line, with the rules that cut across
// routes as middleware around it: who may call it (signedIn, stepUp), how
// often (limit with perIP, perEmail, perAccount), and whether it reads
// the session (Sessionless) or may be called from other sites
// (CrossOrigin). The middleware around every request knows no routes. Every handler returns
// an error, which one adapter (api) answers as JSON {"error": "..."};
// the verify step of a ceremony goes through counted, which also counts
// success and failure by reason.
//
// The Server holds handlers and middleware only. What they use are small
// types, each a field of the Server: stateCookies (sealedstate.go) seals a
// ceremony's state into a cookie of the browser and finds it again
// (begin, finish, end); sessions finds, starts and checks login
// sessions; notifier (notify.go) writes and queues every email;
// securityLog makes and records security-log entries (with
// passkeyd.NewEvent); originSet, limiters, hashSlots, background and
// pages do what their names say. The first middleware, withRequest, gives
// the request its ID, works out the client's address once and sets the
// request's deadline, all in one context.
//
// Rules that are not HTTP live in small packages: internal/ceremony (the
// sign-in steps and the registration's verification on go-webauthn),
// internal/emailtoken (the tokens of emailed links, also used by
// `passkeyd users recovery-link`), internal/recoverycode (making and
// checking recovery codes) and internal/emailtext (the wording of every
// email).
package web
