package oidc

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/passkeyd/passkeyd"
)

// The rules passkeyd adds around the op package's token, revocation and
// userinfo endpoints, where the library is looser: what it answers is
// never cached, credentials are never taken from a URL, and failures are
// answered as the RFCs say, so that clients react to them correctly.

// noStore marks every answer of next as not to be stored by any cache:
// token and userinfo answers carry credentials and personal data (RFC
// 6749 §5.1; Pragma for HTTP/1.0 caches).
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// formPostOnly refuses a token or revocation request that is not a POST
// with a form body, or that carries anything in its URL: a code, refresh
// token or client secret there ends up in access logs, proxies and
// browser history (RFC 6749 §3.2, RFC 7009 §2.1, RFC 9700 §2.4), and the
// op package would otherwise read the query too. It also refuses a PKCE
// code_verifier that RFC 7636 §4.1 does not allow (43 to 128 unreserved
// characters), which the library does not check. Nothing is redeemed or
// spent by a refused request. A CORS preflight goes on to the library,
// which answers it.
func formPostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			httphelper.MarshalJSONWithStatus(w, zoidc.ErrInvalidRequest().WithDescription("Use POST with a form body."), http.StatusMethodNotAllowed)
			return
		}
		if r.URL.RawQuery != "" {
			httphelper.MarshalJSONWithStatus(w, zoidc.ErrInvalidRequest().WithDescription(
				"Send the parameters in the form body, never in the URL."), http.StatusBadRequest)
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			httphelper.MarshalJSONWithStatus(w, zoidc.ErrInvalidRequest().WithDescription(
				"The body must be application/x-www-form-urlencoded."), http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			httphelper.MarshalJSONWithStatus(w, zoidc.ErrInvalidRequest().WithDescription("The form body cannot be read."), http.StatusBadRequest)
			return
		}
		if r.PostForm.Has("code_verifier") && !validCodeVerifier(r.PostForm.Get("code_verifier")) {
			httphelper.MarshalJSONWithStatus(w, zoidc.ErrInvalidRequest().WithDescription(
				"code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~' (RFC 7636 §4.1)."), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(&basicChallengeWriter{ResponseWriter: w, basic: usedBasic(r)}, r)
	})
}

// validCodeVerifier is RFC 7636 §4.1: 43 to 128 unreserved characters.
func validCodeVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

func usedBasic(r *http.Request) bool {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Basic")
}

// basicChallengeWriter adds the challenge RFC 6749 §5.2 requires to the
// op package's 401 invalid_client when the client authenticated with HTTP
// Basic.
type basicChallengeWriter struct {
	http.ResponseWriter
	basic bool
}

func (w *basicChallengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized && w.basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="passkeyd", charset="UTF-8"`)
	}
	w.ResponseWriter.WriteHeader(status)
}

// userinfoEndpoint answers the userinfo requests the op package refuses as
// RFC 6750 §3.1 says, instead of its bare text or a serialised internal
// error: 401 with WWW-Authenticate: Bearer, and error="invalid_token" for
// a token that is malformed, expired or revoked (or whose user is gone or
// disabled), so that apps refresh or sign the user in again; a failure of
// passkeyd's own is a 5xx. An access token in the URL is refused (RFC 9700
// §2.4); in the Authorization header or a form body it is taken.
func (p *Provider) userinfoEndpoint(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if r.URL.Query().Has("access_token") {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
			httphelper.MarshalJSONWithStatus(w, zoidc.ErrInvalidRequest().WithDescription(
				"Send the access token in the Authorization header, never in the URL."), http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
			httphelper.MarshalJSONWithStatus(w, zoidc.ErrInvalidRequest().WithDescription("The form body cannot be read."), http.StatusBadRequest)
			return
		}
		presented := r.Header.Get("Authorization") != "" || r.PostForm.Get("access_token") != ""
		fault := &userinfoFault{}
		rw := &refusalWriter{ResponseWriter: w}
		next.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), userinfoFaultKey{}, fault)))
		if !rw.refused {
			return
		}
		switch {
		case fault.err != nil:
			p.log.ErrorContext(r.Context(), "oidc userinfo", "error", fault.err)
			status := http.StatusInternalServerError
			if passkeyd.ErrorCode(fault.err) == passkeyd.EUNAVAILABLE {
				status = http.StatusServiceUnavailable
			}
			httphelper.MarshalJSONWithStatus(w, zoidc.ErrServerError().WithDescription("Please try again later."), status)
		case !presented:
			w.Header().Set("WWW-Authenticate", `Bearer`)
			httphelper.MarshalJSONWithStatus(w, zoidc.ErrInvalidRequest().WithDescription(
				"An access token is required (Authorization: Bearer)."), http.StatusUnauthorized)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid, expired or revoked."`)
			httphelper.MarshalJSONWithStatus(w, &zoidc.Error{ErrorType: "invalid_token",
				Description: "The access token is invalid, expired or revoked."}, http.StatusUnauthorized)
		}
	})
}

// userinfoFault carries a failure of passkeyd's own (the database) from
// SetUserinfoFromToken to userinfoEndpoint, which the op package answers
// like a bad token.
type userinfoFault struct{ err error }

type userinfoFaultKey struct{}

// userinfoError returns err, noting it for userinfoEndpoint when it is a
// store's failure rather than the token's fault.
func userinfoError(ctx context.Context, err error) error {
	var perr *passkeyd.Error
	if errors.As(err, &perr) && (perr.Code == passkeyd.EINTERNAL || perr.Code == passkeyd.EUNAVAILABLE) {
		if f, ok := ctx.Value(userinfoFaultKey{}).(*userinfoFault); ok {
			f.err = err
		}
	}
	return err
}

// refusalWriter passes a success through and swallows a refusal (any
// status from 400 on), which its caller answers instead.
type refusalWriter struct {
	http.ResponseWriter
	refused, wrote bool
}

func (w *refusalWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if status >= http.StatusBadRequest {
		w.refused = true
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *refusalWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.refused {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}
