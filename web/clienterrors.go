package web

import (
	"net/http"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

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
func (s *Server) handleClientError(w http.ResponseWriter, r *http.Request) error {
	type request struct {
		Ceremony string `json:"ceremony"`
		Name     string `json:"name"`
	}
	var req request
	if err := httpjson.Decode(w, r, &req); err != nil {
		return err
	}
	switch req.Ceremony {
	case "registration", "authentication", "autofill":
	default:
		return passkeyd.Errorf(passkeyd.EINVALID, "ceremony must be registration, authentication or autofill.")
	}
	name := req.Name
	if !webauthnErrorNames[name] {
		name = "other"
	}
	s.metrics.clientError(req.Ceremony, name)
	s.log.InfoContext(r.Context(), "browser reported a passkey error", "event", "client_error",
		"ceremony", req.Ceremony, "name", name, "client_ip", clientIP(r))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
