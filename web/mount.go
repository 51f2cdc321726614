package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// What a handler mounted in the Server (Mount) gets: the Server's
// middleware and rules, the signed-in user of its requests (SignedIn), and
// pages in passkeyd's layout (Render). cmd/passkeyd mounts the OpenID
// Connect provider this way; web knows nothing of it.

// A Rule is what a route declares beside its handler: whether it reads the
// login session, whether other sites may call it, and the limits it is held
// to. routes.go declares web's own routes with them; Mount takes them for
// a host's routes.
type Rule struct {
	sessionless bool
	crossOrigin bool
	errorPage   func(http.ResponseWriter, *http.Request, error)
	wrap        func(s *Server, next http.Handler) http.Handler
}

var (
	// Sessionless: the route never reads the login session, so the session
	// cookie is not looked up in the database for it. Without it, the
	// session is loaded into the request context (passkeyd.UserFromContext),
	// and a session that cannot be looked up (the database is down) is
	// answered with 503, not taken for a signed-out browser.
	Sessionless = Rule{sessionless: true}
	// CrossOrigin: other sites' pages may call the route with any method,
	// and read its answers (Access-Control-Allow-Origin, no credentials).
	// Only for routes that authenticate by credentials of their own (client
	// secrets, bearer tokens), never by passkeyd's cookies: without it, a
	// request that changes state must come from one of Config.Origins
	// (sameOrigin).
	CrossOrigin = Rule{crossOrigin: true}
	// BoundedBody: a body of more than 64 KiB is not read (the JSON API's
	// handlers bound theirs with decode).
	BoundedBody = Rule{wrap: func(_ *Server, next http.Handler) http.Handler { return limitBody(httpjson.MaxBody, next) }}
	// AppSignInLimits: RateLimits.AuthorizePerIP and PendingAuthorizePerIP,
	// for the requests apps send browsers with to sign in.
	AppSignInLimits = Rule{wrap: func(s *Server, next http.Handler) http.Handler {
		return s.limit(perIP(s.limits.authorizePerIP), perIP(s.limits.pendingAuthorizePerIP))(next)
	}}
	// ConsoleLimits: RateLimits.ConsolePerIP and ConsolePerAccount, for the
	// administrator's console API: per address, then per administrator
	// (the signed-in account) or per API key (a bearer token, which the
	// console authenticates instead of the cookie).
	ConsoleLimits = Rule{wrap: func(s *Server, next http.Handler) http.Handler {
		return s.limit(perIP(s.limits.consolePerIP), perAccountOrAPIKey(s.limits.consolePerAccount, "console"))(next)
	}}
	// ClientAuthFailureLimit: RateLimits.ClientAuthFailuresPerIP, for a
	// token endpoint (401 is a failure).
	ClientAuthFailureLimit = Rule{wrap: func(s *Server, next http.Handler) http.Handler {
		return s.limitFailures(s.clientAuthFailures())(next)
	}}
)

// ErrorPage answers the errors the Server's rules return to a GET on the
// route (a rate limit reached, an outage) with page instead of JSON: a
// person followed a link there.
func ErrorPage(page func(http.ResponseWriter, *http.Request, error)) Rule {
	return Rule{errorPage: page}
}

// Mount serves h at pattern (http.ServeMux syntax, on paths with BasePath
// stripped) inside the Server's middleware, with rules, as the Server's
// own routes are served (routes.go). Call it before serving requests.
func (s *Server) Mount(pattern string, h http.Handler, rules ...Rule) {
	routeMux{s, s.mux}.Handle(pattern, h, rules...)
}

// routeMux registers routes with their rules. Unless a route declares
// otherwise, it gets the same-origin check and the login session; the
// rest of its rules wrap it in the order given, the first outermost.
type routeMux struct {
	s   *Server
	mux *http.ServeMux
}

func (m routeMux) Handle(pattern string, h http.Handler, rules ...Rule) {
	var sessionless, crossOrigin bool
	var errorPage func(http.ResponseWriter, *http.Request, error)
	for i := len(rules) - 1; i >= 0; i-- {
		rule := rules[i]
		sessionless = sessionless || rule.sessionless
		crossOrigin = crossOrigin || rule.crossOrigin
		if rule.errorPage != nil {
			errorPage = rule.errorPage
		}
		if rule.wrap != nil {
			h = rule.wrap(m.s, h)
		}
	}
	if !sessionless {
		h = m.s.loadSession(h)
	}
	if crossOrigin {
		h = allowAnyOrigin(h)
	} else {
		h = m.s.sameOrigin(h)
	}
	if errorPage != nil {
		h = withErrorPage(errorPage, h)
	}
	m.mux.Handle(pattern, h)
}

// allowAnyOrigin lets other sites' scripts read a CrossOrigin route's
// answers, the Server's own refusals included (a rate limit's 429, a body
// too large), without credentials: such a route never reads passkeyd's
// cookies. The route's handler may set CORS headers of its own over these
// (the provider's echo the origin).
func allowAnyOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		}
		next.ServeHTTP(w, r)
	})
}

type errorPageKey struct{}

// withErrorPage has s.api answer a GET's errors with page.
func withErrorPage(page func(http.ResponseWriter, *http.Request, error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			r = r.WithContext(context.WithValue(r.Context(), errorPageKey{}, page))
		}
		next.ServeHTTP(w, r)
	})
}

func errorPageOf(r *http.Request) func(http.ResponseWriter, *http.Request, error) {
	page, _ := r.Context().Value(errorPageKey{}).(func(http.ResponseWriter, *http.Request, error))
	return page
}

// SignedIn returns the signed-in user of a request served by the Server
// and their session, or nils: the session the Server loaded for it.
func (s *Server) SignedIn(r *http.Request) (*passkeyd.User, *passkeyd.Session) {
	return passkeyd.UserFromContext(r.Context()), passkeyd.SessionFromContext(r.Context())
}

// Render writes page name (one of web/templates) with status, in
// passkeyd's layout; the template reads data as .Data. A template that
// fails is a bug: nothing of the page is sent, and the error is returned.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	if s.pages.templates[name] == nil {
		return fmt.Errorf("render page %s: no such page", name)
	}
	return s.pages.render(w, name, status, page{Data: data})
}

// ClientIP is the address of a request served by a Server, as its logs
// and security-log events show it (behind TrustedProxies, the client's),
// for handlers mounted in it.
func ClientIP(r *http.Request) string { return clientIP(r) }

// LoggerWithRequestIDs returns log adding the request ID to every line
// written with a request's context (log.InfoContext(r.Context(), ...)), as
// the Server's own log does: for handlers mounted in the Server.
func LoggerWithRequestIDs(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(requestIDHandler); ok {
		return log
	}
	return slog.New(requestIDHandler{log.Handler()})
}
