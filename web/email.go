package web

import (
	"net/http"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// The account's address: confirming it (the link sent at sign-up, sent
// again on request) and changing it (a link to the new address, a
// cancelling one to the address in use).

// handleEmailVerify confirms an address from the link sent at sign-up.
func (s *Server) handleEmailVerify(w http.ResponseWriter, r *http.Request) error {
	type response struct {
		Verified bool   `json:"verified"`
		Email    string `json:"email"`
	}
	t, u, err := takeLinkToken(w, r, s.tokens, s.store, passkeyd.TokenVerifyEmail)
	if err != nil {
		return err
	}
	if err := s.store.VerifyEmail(r.Context(), u.ID, t.Email, s.cfg.Now(), s.events.new(r, u.ID, passkeyd.EventEmailVerified, "", t.Email)); err != nil {
		return notFoundAs(err, passkeyd.Errorf(passkeyd.EINVALID, "The account's email address changed since this link was sent."))
	}
	httpjson.Write(w, http.StatusOK, response{Verified: true, Email: t.Email})
	return nil
}

// handleResendVerification sends a new verification link.
func (s *Server) handleResendVerification(w http.ResponseWriter, r *http.Request) error {
	u, _ := account(r)
	if !u.EmailVerifiedAt.IsZero() {
		return passkeyd.Errorf(passkeyd.EINVALID, "Your address is already confirmed.")
	}
	token, err := s.tokens.Issue(r.Context(), passkeyd.TokenVerifyEmail, u.ID, u.Email, s.cfg.EmailLinkTTL)
	if err != nil {
		return err
	}
	s.mail.verification(u, token)
	httpjson.Write(w, http.StatusAccepted, map[string]string{"message": "A new link is on its way to " + u.Email + "."})
	return nil
}

// handleEmailChange sends a confirmation link to the new address; the
// change happens when it is opened.
func (s *Server) handleEmailChange(w http.ResponseWriter, r *http.Request) error {
	type request struct {
		Email string `json:"email"`
	}
	u, _ := account(r)
	var req request
	email, err := decodeWithEmail(w, r, &req, &req.Email)
	if err != nil {
		return err
	}
	if passkeyd.EmailKey(email) == passkeyd.EmailKey(u.Email) {
		return passkeyd.Errorf(passkeyd.EINVALID, "That is already your address.")
	}
	// The address in use hears of the request at once, with a way to
	// cancel it: whoever asked may be someone who held this session for
	// a moment, and the confirmation link goes to their own address.
	cancelToken, err := s.tokens.Issue(r.Context(), passkeyd.TokenCancelEmailChange, u.ID, u.Email, s.cfg.EmailLinkTTL)
	if err != nil {
		return err
	}
	token, err := s.tokens.Issue(r.Context(), passkeyd.TokenChangeEmail, u.ID, email, s.cfg.EmailLinkTTL)
	if err != nil {
		return err
	}
	if err := s.store.RecordEvent(r.Context(), s.events.new(r, u.ID, passkeyd.EventEmailChangeRequested, "", "to "+email)); err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "email change requested", "event", passkeyd.EventEmailChangeRequested, "user_id", u.ID, "client_ip", clientIP(r))
	s.mail.emailChange(email, u.Email, token, cancelToken)
	httpjson.Write(w, http.StatusAccepted, map[string]string{"message": "Open the link we sent to " + email + " to confirm it. Until then your address stays " + u.Email + "."})
	return nil
}

// handleEmailChangeConfirm replaces the address and tells the old one.
func (s *Server) handleEmailChangeConfirm(w http.ResponseWriter, r *http.Request) error {
	t, u, err := takeLinkToken(w, r, s.tokens, s.store, passkeyd.TokenChangeEmail)
	if err != nil {
		return err
	}
	err = s.store.ChangeEmail(r.Context(), u.ID, t.Email, s.cfg.Now(), s.events.new(r, u.ID, passkeyd.EventEmailChanged, "", u.Email+" → "+t.Email))
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
		err = passkeyd.Errorf(passkeyd.ECONFLICT, "%s now belongs to another account, so it cannot be yours here.", t.Email)
	}
	if err != nil {
		return err
	}
	s.mail.notice(u.Email, emailtext.EmailChangedNotice, t.Email)
	httpjson.Write(w, http.StatusOK, map[string]string{"email": t.Email})
	return nil
}

// handleEmailChangeCancel ends the pending email change, from the link
// sent to the address in use when the change was asked for.
func (s *Server) handleEmailChangeCancel(w http.ResponseWriter, r *http.Request) error {
	secret, err := readLinkToken(w, r)
	if err != nil {
		return err
	}
	u, err := s.store.CancelEmailChange(r.Context(), s.tokens.ID(passkeyd.TokenCancelEmailChange, secret), s.cfg.Now(), s.events.new(r, "", passkeyd.EventEmailChangeCancelled, "", "from the link sent to the address in use"))
	if err != nil {
		return notFoundAs(err, errBadLink)
	}
	s.log.InfoContext(r.Context(), "email change cancelled", "event", passkeyd.EventEmailChangeCancelled, "user_id", u.ID, "client_ip", clientIP(r))
	httpjson.Write(w, http.StatusOK, map[string]any{"cancelled": true, "email": u.Email})
	return nil
}
