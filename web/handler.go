package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/httprate"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/apikey"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// handlerFunc is the one shape of our handlers: it answers, or returns an
// error for s.api to answer, so no handler can forget the return after an
// error or answer twice.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// api adapts a handlerFunc: its error is answered by writeError, which maps
// error codes to statuses and logs internal errors, once.
func (s *Server) api(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			if page := errorPageOf(r); page != nil {
				page(w, r, err) // a route declared with ErrorPage
				return
			}
			writeError(w, r, s.log, err)
		}
	})
}

// verifyFunc is the verify step of a WebAuthn ceremony. It answers on
// success and returns the passkey provider's name for the metrics.
type verifyFunc func(w http.ResponseWriter, r *http.Request) (provider string, err error)

// counted adapts a verifyFunc like api, and counts the ceremony's success
// by provider or failure by reason.
func (s *Server) counted(name string, fn verifyFunc) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		provider, err := fn(w, r)
		if err != nil {
			s.metrics.failed(name, failureReason(err))
			return err
		}
		s.metrics.succeeded(name, provider)
		return nil
	})
}

// signedIn lets only requests with a full session through.
func (s *Server) signedIn(next http.Handler) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		if _, _, err := signedIn(r); err != nil {
			return err
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// stepUp lets through only a full session whose passkey was verified
// within StepUpWindow (see sessions.requireStepUp).
func (s *Server) stepUp(next http.Handler) http.Handler {
	return s.signedIn(s.freshIfSignedIn(next))
}

// freshIfSignedIn lets anyone through, but a signed-in caller only within
// StepUpWindow of their last passkey verification.
func (s *Server) freshIfSignedIn(next http.Handler) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		if sess := passkeyd.SessionFromContext(r.Context()); sess != nil {
			if err := s.sessions.requireStepUp(sess); err != nil {
				return err
			}
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// limitRule is one rate limit of a route: a limiter, the name its metric
// and keys carry, and what it counts in a request.
type limitRule struct {
	limiter *httprate.RateLimiter
	name    string
	// readsBody: key needs the request body.
	readsBody bool
	// key returns what to count; ok false skips the rule for this request.
	key func(s *Server, r *http.Request, body []byte) (key string, ok bool)
}

// perIP counts requests from one client address (for IPv6, its /64).
func perIP(l *httprate.RateLimiter) limitRule {
	return limitRule{limiter: l, name: "ip", key: func(s *Server, r *http.Request, _ []byte) (string, bool) {
		return clientRateKey(r), true
	}}
}

// perEmail counts requests whose JSON body names one email address, under
// name. A body without a valid address is not counted here: the handler
// refuses an invalid one, and an absent one is allowed where it is optional.
func perEmail(l *httprate.RateLimiter, name string) limitRule {
	return limitRule{limiter: l, name: name, readsBody: true, key: func(_ *Server, _ *http.Request, body []byte) (string, bool) {
		var req struct {
			Email string `json:"email"`
		}
		if len(body) == 0 || json.Unmarshal(body, &req) != nil {
			return "", false
		}
		email, err := passkeyd.ValidateEmail(req.Email)
		if err != nil {
			return "", false
		}
		return passkeyd.EmailKey(email), true
	}}
}

// perAccount counts requests of one signed-in account, under name.
func perAccount(l *httprate.RateLimiter, name string) limitRule {
	return limitRule{limiter: l, name: name, key: func(_ *Server, r *http.Request, _ []byte) (string, bool) {
		u := passkeyd.UserFromContext(r.Context())
		if u == nil {
			return "", false
		}
		return u.ID, true
	}}
}

// perAccountOrAPIKey counts the requests of one API key (an Authorization
// bearer token, counted under its hash: the key is a secret) or, without
// one, of one signed-in account, under name.
func perAccountOrAPIKey(l *httprate.RateLimiter, name string) limitRule {
	return limitRule{limiter: l, name: name, key: func(_ *Server, r *http.Request, _ []byte) (string, bool) {
		if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			return "key:" + apikey.Hash(strings.TrimSpace(token)), true
		}
		if u := passkeyd.UserFromContext(r.Context()); u != nil {
			return "user:" + u.ID, true
		}
		return "", false
	}}
}

// limit returns middleware that counts a request against each rule in
// order and answers 429, with Retry-After, at the first limit reached.
// When a rule needs the body, it is read here once and put back for the
// handler's decode.
func (s *Server) limit(rules ...limitRule) func(http.Handler) http.Handler {
	readsBody := false
	for _, rule := range rules {
		readsBody = readsBody || rule.readsBody
	}
	return func(next http.Handler) http.Handler {
		return s.api(func(w http.ResponseWriter, r *http.Request) error {
			if s.limits.off {
				next.ServeHTTP(w, r)
				return nil
			}
			var body []byte
			if readsBody {
				var err error
				if body, err = httpjson.ReadBody(w, r); err != nil {
					return err
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			for _, rule := range rules {
				if key, ok := rule.key(s, r, body); ok {
					if err := s.limits.allow(rule.limiter, rule.name, w, r, key); err != nil {
						return err
					}
				}
			}
			next.ServeHTTP(w, r)
			return nil
		})
	}
}

// limitBody bounds the request body at n bytes: reading more fails (the
// handler answers it as it answers a body it cannot read).
func limitBody(n int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

// failureRule is a limit on failures: a request whose key has failed
// limiter's count of times within its window is refused with 429, and
// next's answer with status failed counts one more failure.
type failureRule struct {
	limiter *httprate.RateLimiter
	max     int
	name    string
	failed  int
	key     func(s *Server, r *http.Request) (key string, ok bool)
}

// clientAuthFailures counts the token requests of one client ID from one
// address that fail client authentication (401, invalid_client), so that
// nobody can guess a client's secret, while a failing client elsewhere
// does not lock the real one out.
func (s *Server) clientAuthFailures() failureRule {
	return failureRule{limiter: s.limits.clientAuthFailures, max: s.limits.maxClientAuthFailures,
		name: "client-auth", failed: http.StatusUnauthorized,
		key: func(s *Server, r *http.Request) (string, bool) {
			id, _, ok := r.BasicAuth()
			if ok {
				id, _ = url.QueryUnescape(id)
			} else if err := r.ParseForm(); err == nil {
				id = r.PostForm.Get("client_id")
			}
			if id == "" || len(id) > 200 {
				return "", false
			}
			return id + " " + clientRateKey(r), true
		}}
}

// limitFailures returns middleware that refuses a request whose key has
// reached rule's failures, and counts next's failed answers.
func (s *Server) limitFailures(rule failureRule) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return s.api(func(w http.ResponseWriter, r *http.Request) error {
			if s.limits.off {
				next.ServeHTTP(w, r)
				return nil
			}
			key, ok := rule.key(s, r)
			if !ok {
				next.ServeHTTP(w, r)
				return nil
			}
			if err := s.limits.failuresReached(rule.limiter, rule.max, rule.name, w, key); err != nil {
				return err
			}
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rec, r)
			if rec.status == rule.failed {
				s.limits.countFailure(rule.limiter, r, key)
			}
			return nil
		})
	}
}
