package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
)

// ceremonyBinding returns the keyed hash of this browser's ceremony cookie,
// setting a new cookie first when the browser has none.
func (s *Server) ceremonyBinding(w http.ResponseWriter, r *http.Request) string {
	token := ""
	if c, err := r.Cookie(s.cookies.ceremony); err == nil && len(c.Value) == 43 {
		token = c.Value
	} else {
		token = newToken()
		// A browser-session cookie: ceremonies last minutes, not days.
		s.setCookie(w, s.cookies.ceremony, token, 0)
	}
	return s.keyedHash("ceremony", token)
}

// saveChallenge stores a ceremony's SessionData server-side, keyed by its
// challenge and bound to this browser.
func (s *Server) saveChallenge(w http.ResponseWriter, r *http.Request, ch *passkeyd.Challenge, sd *webauthn.SessionData) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	now := s.now()
	ch.ID = s.keyedHash("challenge", sd.Challenge)
	ch.Binding = s.ceremonyBinding(w, r)
	ch.SessionData = data
	ch.CreatedAt = now
	ch.ExpiresAt = now.Add(s.cfg.ChallengeTimeout)
	if sess := passkeyd.SessionFromContext(r.Context()); sess != nil {
		ch.SessionID = sess.ID
	}
	return s.store.SaveChallenge(r.Context(), ch)
}

var errNoCeremony = passkeyd.Errorf(passkeyd.EINVALID,
	"This passkey request has expired or was already used. Please start again.")

// takeChallenge consumes the challenge the response answers: it must have
// been issued to this browser, for this kind of ceremony, and not be
// expired or used. Anything else is one error, so replays learn nothing.
func (s *Server) takeChallenge(r *http.Request, kind passkeyd.CeremonyKind, clientChallenge string) (*passkeyd.Challenge, *webauthn.SessionData, error) {
	c, err := r.Cookie(s.cookies.ceremony)
	if err != nil || clientChallenge == "" {
		return nil, nil, errNoCeremony
	}
	ch, err := s.store.TakeChallenge(r.Context(),
		s.keyedHash("challenge", clientChallenge), s.keyedHash("ceremony", c.Value), kind, s.now())
	if err != nil {
		if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
			return nil, nil, errNoCeremony
		}
		return nil, nil, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(ch.SessionData, &sd); err != nil {
		// Written by us; unreadable only after a library upgrade changed the format.
		return nil, nil, passkeyd.WrapError(passkeyd.EINVALID, "This passkey request can no longer be completed. Please start again.", err)
	}
	return ch, &sd, nil
}

// checkClientOrigin names both origins when the page that ran the ceremony
// is not one passkeyd is configured for: the tutorial's silent failure.
func (s *Server) checkClientOrigin(origin string) error {
	if s.origins[origin] { // exactly as the browser serialized it: see normalizeOrigin
		return nil
	}
	return passkeyd.Errorf(passkeyd.EINVALID,
		"The passkey was used on %s, but passkeyd is configured for %s. Set WEBAUTHN_ORIGIN to the address users open.",
		origin, s.originList())
}

// protocolDetail returns go-webauthn's reason for a failure, for the logs.
func protocolDetail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		if pe.DevInfo != "" {
			return pe.Type + ": " + pe.Details + ": " + pe.DevInfo
		}
		return pe.Type + ": " + pe.Details
	}
	return err.Error()
}

// parseError explains a response that could not even be parsed.
func parseError(err error) error {
	return passkeyd.WrapError(passkeyd.EINVALID,
		"The passkey response is malformed: "+publicDetail(err), err)
}

// publicDetail is the part of a parse error that is safe and useful to show:
// the library's short description, never its internal information.
func publicDetail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details + "."
	}
	return "it could not be read."
}
