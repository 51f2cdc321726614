package web

import (
	"net/http"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// handleRelatedOrigins serves WebAuthn Related Origin Requests' list: the
// sibling sites allowed to use this RP ID's passkeys. Browsers fetch it
// from https://RPID/.well-known/webauthn.
func (s *Server) handleRelatedOrigins(w http.ResponseWriter, r *http.Request) error {
	type response struct {
		Origins []string `json:"origins"`
	}
	if len(s.cfg.RelatedOrigins) == 0 {
		return passkeyd.Errorf(passkeyd.ENOTFOUND, "No related origins are configured.")
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	origins := append(append([]string(nil), s.cfg.Origins...), s.cfg.RelatedOrigins...)
	httpjson.Write(w, http.StatusOK, response{Origins: origins})
	return nil
}
