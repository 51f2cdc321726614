package web

import (
	"errors"
	"net/http"

	"github.com/passkeyd/passkeyd"
)

// failureReason is the metrics label for a refused ceremony.
func failureReason(err error) string {
	var re *reasonError
	switch {
	case errors.As(err, &re):
		return re.reason
	case errors.Is(err, errNoCeremony):
		return "challenge"
	case errors.Is(err, errLoginFailed):
		return "verification"
	case errors.Is(err, errCloned):
		return "clone_warning"
	case errors.Is(err, errEmailTaken):
		return "email_taken"
	}
	return passkeyd.ErrorCode(err)
}

// webauthnErrorNames are the DOMException names WebAuthn calls reject with.
// Anything else a client sends is counted as "other", so a client cannot
// create metric labels at will.
var webauthnErrorNames = map[string]bool{
	"NotAllowedError": true, "InvalidStateError": true, "AbortError": true, "SecurityError": true,
	"NotSupportedError": true, "ConstraintError": true, "UnknownError": true, "TypeError": true,
	"NetworkError": true, "TimeoutError": true, "EncodingError": true,
}

// handleClientError counts a WebAuthn error the page saw (the user
// cancelled, the authenticator refused, ...): the server cannot see those
// otherwise.
func (s *Server) handleClientError() http.Handler {
	type request struct {
		Ceremony string `json:"ceremony"`
		Name     string `json:"name"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(w, r, &req); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		switch req.Ceremony {
		case "registration", "authentication", "autofill":
		default:
			writeError(w, r, s.log, passkeyd.Errorf(passkeyd.EINVALID, "ceremony must be registration, authentication or autofill."))
			return
		}
		name := req.Name
		if !webauthnErrorNames[name] {
			name = "other"
		}
		s.metrics.clientError(req.Ceremony, name)
		s.log.InfoContext(r.Context(), "browser reported a passkey error", "event", "client_error",
			"ceremony", req.Ceremony, "name", name, "client_ip", s.clientIP(r))
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleRelatedOrigins serves WebAuthn Related Origin Requests' list: the
// sibling sites allowed to use this RP ID's passkeys. Browsers fetch it
// from https://RPID/.well-known/webauthn.
func (s *Server) handleRelatedOrigins() http.Handler {
	type response struct {
		Origins []string `json:"origins"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.cfg.RelatedOrigins) == 0 {
			writeError(w, r, s.log, passkeyd.Errorf(passkeyd.ENOTFOUND, "No related origins are configured."))
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		origins := append(append([]string(nil), s.cfg.Origins...), s.cfg.RelatedOrigins...)
		encode(w, http.StatusOK, response{Origins: origins})
	})
}
