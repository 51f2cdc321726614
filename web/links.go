package web

import (
	"net/http"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/ceremony"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// The pages that emailed links open send their token back as
// {"token": ...}; internal/emailtoken stores and takes them.

var errBadLink = passkeyd.Errorf(passkeyd.EINVALID, "This link is not valid: it was already used, has expired, or was mistyped. Ask for a new one.")

// readLinkToken reads the body {"token": ...} a link's page sends.
func readLinkToken(w http.ResponseWriter, r *http.Request) (string, error) {
	var req struct {
		Token string `json:"token"`
	}
	if err := httpjson.Decode(w, r, &req); err != nil {
		return "", err
	}
	if !emailtoken.Valid(req.Token) {
		return "", errBadLink
	}
	return req.Token, nil
}

// takeLinkToken consumes the token a link's page sends, and returns it
// with its account.
func takeLinkToken(w http.ResponseWriter, r *http.Request, tokens *emailtoken.Tokens, store passkeyd.Store, purpose passkeyd.TokenPurpose) (*passkeyd.Token, *passkeyd.User, error) {
	secret, err := readLinkToken(w, r)
	if err != nil {
		return nil, nil, err
	}
	t, err := tokens.Take(r.Context(), purpose, secret)
	if err != nil {
		return nil, nil, notFoundAs(err, errBadLink)
	}
	u, err := store.FindUserByID(r.Context(), t.UserID)
	if err != nil {
		return nil, nil, notFoundAs(err, errBadLink)
	}
	if u.Disabled {
		return nil, nil, ceremony.ErrDisabled
	}
	return t, u, nil
}
