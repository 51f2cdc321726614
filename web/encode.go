package web

import (
	"net/http"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// decodeWithEmail decodes a body into req and returns its email field (at
// email, inside req) validated.
func decodeWithEmail(w http.ResponseWriter, r *http.Request, req any, email *string) (string, error) {
	if err := httpjson.Decode(w, r, req); err != nil {
		return "", err
	}
	return passkeyd.ValidateEmail(*email)
}
