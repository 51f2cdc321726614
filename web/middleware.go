package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// contentSecurityPolicy allows only our own scripts and styles: no inline
// code, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// The values of the headers every answer carries, made once: assigned as
// they are, they cost no allocation per answer. Sharing them is safe:
// Header.Set replaces a value, and Header.Add appends to a full slice,
// which copies it.
var (
	cspValue        = []string{contentSecurityPolicy}
	nosniffValue    = []string{"nosniff"}
	sameOriginValue = []string{"same-origin"}
	denyValue       = []string{"DENY"}
	hstsValue       = []string{"max-age=63072000; includeSubDomains"}
)

// securityHeaders sets the headers every answer carries; secure: served
// over https (Strict-Transport-Security).
func securityHeaders(secure bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Security-Policy"] = cspValue[:1:1]
		h["X-Content-Type-Options"] = nosniffValue[:1:1]
		h["Referrer-Policy"] = sameOriginValue[:1:1]
		h["X-Frame-Options"] = denyValue[:1:1]
		h["Cross-Origin-Opener-Policy"] = sameOriginValue[:1:1]
		if secure {
			h["Strict-Transport-Security"] = hstsValue[:1:1]
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses cross-site requests that change state. A browser
// always sends Origin on such requests: it must be one of ours. A request
// without Origin must not be marked cross-site by Sec-Fetch-Site either.
// Requests from non-browser clients (no Origin, no Sec-Fetch-Site) pass:
// CSRF needs a victim's browser. Every route has it but those declared
// CrossOrigin (routes.go, Mount).
func (s *Server) sameOrigin(next http.Handler) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		switch {
		case r.Method == http.MethodGet, r.Method == http.MethodHead, r.Method == http.MethodOptions:
		default:
			if origin := r.Header.Get("Origin"); origin != "" {
				if !s.origins.has(origin) { // exactly as the browser serialized it
					return passkeyd.Errorf(passkeyd.EFORBIDDEN,
						"Request from origin %s refused: passkeyd is configured for %s (set WEBAUTHN_ORIGIN to add an origin).",
						origin, s.origins.list())
				}
			} else if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
				return passkeyd.Errorf(passkeyd.EFORBIDDEN, "Cross-site request refused.")
			}
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// recoverPanics turns a panic into a logged 500 so one bad request never
// takes the server down. Neither the client nor the log gets a stack
// trace: it may hold request data, and the panic value says where to look.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				httpjson.Write(w, http.StatusInternalServerError, apiError{Error: "Internal error."})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// loadSession puts the signed-in user, if any, into the request context.
// When the session cannot be looked up (the database is down), the request
// fails with 503 rather than going on as signed out. Every route has it but
// those declared Sessionless (routes.go, Mount).
func (s *Server) loadSession(next http.Handler) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		sess, u, err := s.sessions.current(r)
		if err != nil {
			return err
		}
		if u != nil {
			r = r.WithContext(passkeyd.NewContextWithUser(r.Context(), u, sess))
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// withRequest is the first middleware: it gives the request an ID, works
// out its client (see client), and bounds its work: a database that
// accepts connections but stops answering (a network partition) gets 503
// after timeout instead of holding requests until clients give up. All
// three go into the request's context at once: each r.WithContext copies
// the request.
func withRequest(trusted []netip.Prefix, timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &requestInfo{id: newRequestID(), client: clientFrom(r, trusted)}
		w.Header().Set("X-Request-Id", info.id)
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), requestKey{}, info), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// RequireUser lets only signed-in users through to next; others get 401
// JSON (API paths) or a redirect to the start page. next reads the user
// with passkeyd.UserFromContext. Routes of a host application need it
// wrapped around them by the Server's session loading, so mount them as
// srv.RequireUser(app): it loads the session itself.
func (s *Server) RequireUser(next http.Handler) http.Handler {
	check := s.api(func(w http.ResponseWriter, r *http.Request) error {
		if _, _, err := signedIn(r); err != nil {
			if wantsJSON(r) {
				return err
			}
			http.Redirect(w, r, s.cfg.BasePath+"/", http.StatusSeeOther)
			return nil
		}
		next.ServeHTTP(w, r)
		return nil
	})
	withSession := s.loadSession(check)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if passkeyd.SessionFromContext(r.Context()) != nil {
			check.ServeHTTP(w, r) // our own routes: the session is loaded already
			return
		}
		withSession.ServeHTTP(w, r)
	})
}

var errNotSignedIn = passkeyd.Errorf(passkeyd.EUNAUTHORIZED, "Not signed in.")

func wantsJSON(r *http.Request) bool {
	return httpjson.IsJSON(r) || r.Header.Get("Accept") == "application/json" || r.Method != http.MethodGet
}
