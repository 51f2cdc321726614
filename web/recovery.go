package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/ceremony"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/recoverycode"
)

// handleRecoveryEmail sends a recovery link to a verified address. The
// answer is the same, and takes the same time, whether or not the address
// has an account: the look-up and the email happen after it is sent.
func (s *Server) handleRecoveryEmail(w http.ResponseWriter, r *http.Request) error {
	type request struct {
		Email string `json:"email"`
	}
	type response struct {
		Message string `json:"message"`
	}
	var req request
	email, err := decodeWithEmail(w, r, &req, &req.Email)
	if err != nil {
		return err
	}
	ip := s.clientIP(r) // read now: the request is gone when the look-up runs
	s.afterAnswer(r, "recovery look-up", func(ctx context.Context) { s.issueRecoveryLink(ctx, email, ip) })
	encode(w, http.StatusAccepted, response{Message: "If " + email + " belongs to an account, a link to get back in is on its way. It works once, for " + human(s.cfg.RecoveryLinkTTL) + "."})
	return nil
}

// issueRecoveryLink runs off the request path (see handleRecoveryEmail).
// An account whose address was never confirmed gets a takeover link
// instead: whoever signed up may have used someone else's address, and the
// owner of the address must be able to have the account without inheriting
// that person's passkeys.
func (s *Server) issueRecoveryLink(ctx context.Context, email, ip string) {
	u, err := s.store.FindUserByEmail(ctx, email)
	if err != nil || u.Disabled {
		if err != nil && passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			s.log.WarnContext(ctx, "recovery look-up failed", "err", err)
		}
		return
	}
	if u.EmailVerifiedAt.IsZero() {
		token, err := s.saveToken(ctx, u, passkeyd.TokenTakeover, u.Email, s.cfg.RecoveryLinkTTL)
		if err != nil {
			s.log.WarnContext(ctx, "takeover token not saved", "err", err)
			return
		}
		s.log.InfoContext(ctx, "takeover link sent", "event", "takeover_link_sent", "user_id", u.ID, "client_ip", ip)
		s.sendTakeoverLink(u, token)
		return
	}
	token, err := s.saveToken(ctx, u, passkeyd.TokenRecovery, u.Email, s.cfg.RecoveryLinkTTL)
	if err != nil {
		s.log.WarnContext(ctx, "recovery token not saved", "err", err)
		return
	}
	s.log.InfoContext(ctx, "recovery link sent", "event", "recovery_link_sent", "user_id", u.ID, "client_ip", ip)
	s.sendRecoveryLink(u.Email, token)
}

// saveToken stores a new single-use token and returns the secret for the link.
func (s *Server) saveToken(ctx context.Context, u *passkeyd.User, purpose passkeyd.TokenPurpose, email string, ttl time.Duration) (string, error) {
	secret := newToken()
	now := s.now()
	t := &passkeyd.Token{ID: s.keyedHash("token:"+string(purpose), secret), UserID: u.ID, Purpose: purpose, Email: email,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	return secret, s.store.SaveToken(ctx, t)
}

var errBadLink = passkeyd.Errorf(passkeyd.EINVALID, "This link is not valid: it was already used, has expired, or was mistyped. Ask for a new one.")

// linkTokenID reads the body {"token": ...} a link's page sends and
// returns the ID under which that token is stored.
func (s *Server) linkTokenID(w http.ResponseWriter, r *http.Request, purpose passkeyd.TokenPurpose) (string, error) {
	var req struct {
		Token string `json:"token"`
	}
	if err := decode(w, r, &req); err != nil {
		return "", err
	}
	if req.Token == "" || len(req.Token) > 100 {
		return "", errBadLink
	}
	return s.keyedHash("token:"+string(purpose), req.Token), nil
}

// takeLinkToken consumes the token a link's page sends.
func (s *Server) takeLinkToken(w http.ResponseWriter, r *http.Request, purpose passkeyd.TokenPurpose) (*passkeyd.Token, *passkeyd.User, error) {
	id, err := s.linkTokenID(w, r, purpose)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.store.TakeToken(r.Context(), id, purpose, s.now())
	if err != nil {
		return nil, nil, notFoundAs(err, errBadLink)
	}
	u, err := s.store.FindUserByID(r.Context(), t.UserID)
	if err != nil {
		return nil, nil, notFoundAs(err, errBadLink)
	}
	if u.Disabled {
		return nil, nil, ceremony.ErrDisabled
	}
	return t, u, nil
}

type recoveryResponse struct {
	Recovery bool     `json:"recovery"`
	User     userJSON `json:"user"`
}

// handleRecoveryLink opens a recovery session from an emailed link.
func (s *Server) handleRecoveryLink(w http.ResponseWriter, r *http.Request) error {
	id, err := s.linkTokenID(w, r, passkeyd.TokenRecovery)
	if err != nil {
		return err
	}
	u, err := s.startRecovery(w, r, &passkeyd.Recovery{TokenID: id}, "an emailed recovery link")
	if err != nil {
		return notFoundAs(err, errBadLink)
	}
	encode(w, http.StatusOK, recoveryResponse{Recovery: true, User: userJSON{ID: u.ID, Email: u.Email}})
	return nil
}

// handleTakeoverLink opens a recovery session from an emailed takeover
// link, after confirming the address and removing every passkey and
// recovery code of the account (see issueRecoveryLink).
func (s *Server) handleTakeoverLink(w http.ResponseWriter, r *http.Request) error {
	id, err := s.linkTokenID(w, r, passkeyd.TokenTakeover)
	if err != nil {
		return err
	}
	u, err := s.startRecovery(w, r, &passkeyd.Recovery{TokenID: id, Takeover: true}, "a link to take over an account whose address was not confirmed")
	if err != nil {
		return notFoundAs(err, errBadLink)
	}
	encode(w, http.StatusOK, recoveryResponse{Recovery: true, User: userJSON{ID: u.ID, Email: u.Email}})
	return nil
}

// startRecovery spends the link or code in rec, signs out every session of
// its account and opens a recovery session in this browser, which may only
// register a new passkey: one store transaction, so a failure spends
// nothing. It returns the account.
func (s *Server) startRecovery(w http.ResponseWriter, r *http.Request, rec *passkeyd.Recovery, how string) (*passkeyd.User, error) {
	// For a link the store learns the account from the link and sets it
	// on the session and the event.
	sess, token := s.startSession(r, &passkeyd.User{ID: rec.UserID}, passkeyd.ScopeRecovery, "")
	sess.ExpiresAt = s.now().Add(s.cfg.RecoveryLinkTTL)
	sess.IdleExpiresAt = sess.ExpiresAt
	rec.Session, rec.At = sess, s.now()
	eventType := passkeyd.EventRecoveryUsed
	if rec.Takeover {
		eventType = passkeyd.EventAccountTakenOver
	}
	rec.Event = s.event(r, rec.UserID, eventType, "", how)
	u, err := s.store.StartRecovery(r.Context(), rec)
	if err != nil {
		return nil, err
	}
	s.setCookie(w, s.cookies.session, token, s.cfg.RecoveryLinkTTL)
	s.log.InfoContext(r.Context(), "account recovery started", "event", eventType, "user_id", u.ID, "how", how, "client_ip", s.clientIP(r))
	s.notify(u.Email, emailtext.RecoveryUsed, how)
	return u, nil
}

// handleRecoveryCodesGenerate makes a new set of codes, shown this once.
func (s *Server) handleRecoveryCodesGenerate(w http.ResponseWriter, r *http.Request) error {
	type response struct {
		Codes []string `json:"codes"`
	}
	u, _ := account(r)
	var res response
	var rows []*passkeyd.RecoveryCode
	if err := s.withHashSlot(func() {
		for _, c := range recoverycode.Generate(recoverycode.Count) {
			res.Codes = append(res.Codes, c.String())
			rows = append(rows, &passkeyd.RecoveryCode{ID: c.ID, UserID: u.ID, Hash: recoverycode.Hash(c.Secret), CreatedAt: s.now()})
		}
	}); err != nil {
		return err
	}
	if err := s.store.ReplaceRecoveryCodes(r.Context(), u.ID, rows,
		s.event(r, u.ID, passkeyd.EventRecoveryCodesGenerated, "", fmt.Sprintf("%d codes", len(rows)))); err != nil {
		return err
	}
	s.notify(u.Email, emailtext.RecoveryCodesGenerated, "")
	encode(w, http.StatusOK, res)
	return nil
}

var errBadCode = passkeyd.Errorf(passkeyd.EUNAUTHORIZED, "That email and recovery code do not match an unused code. Check both and try again.")

// handleRecoveryCodeVerify opens a recovery session with a recovery code.
// Unknown email, unknown code and wrong secret are one answer.
func (s *Server) handleRecoveryCodeVerify(w http.ResponseWriter, r *http.Request) error {
	type request struct {
		Email string `json:"email"`
		Code  string `json:"code"`
	}
	var req request
	email, err := decodeWithEmail(w, r, &req, &req.Email)
	if err != nil {
		return err
	}
	code, ok := recoverycode.Parse(req.Code)
	u, err := s.store.FindUserByEmail(r.Context(), email)
	if err != nil && passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
		return err
	}
	var rc *passkeyd.RecoveryCode
	if u != nil && ok {
		rc, err = s.store.FindRecoveryCode(r.Context(), u.ID, code.ID)
		if err != nil && passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			return err
		}
	}
	// Hash even when there is nothing to compare, so timing does not
	// tell whether the email or the code ID exists.
	hash := recoverycode.DummyHash
	if rc != nil {
		hash = rc.Hash
	}
	var match bool
	if err := s.withHashSlot(func() { match = recoverycode.Check(hash, code.Secret) }); err != nil {
		return err
	}
	if !match || rc == nil || u.Disabled {
		if u != nil {
			s.recordEvent(r.Context(), s.event(r, u.ID, passkeyd.EventLoginFailed, "", "wrong recovery code"))
		}
		return errBadCode
	}
	if _, err := s.startRecovery(w, r, &passkeyd.Recovery{UserID: u.ID, CodeID: rc.ID}, "a recovery code"); err != nil {
		return notFoundAs(err, errBadCode)
	}
	encode(w, http.StatusOK, recoveryResponse{Recovery: true, User: userJSON{ID: u.ID, Email: u.Email}})
	return nil
}

// handleEmailVerify confirms an address from the link sent at sign-up.
func (s *Server) handleEmailVerify(w http.ResponseWriter, r *http.Request) error {
	type response struct {
		Verified bool   `json:"verified"`
		Email    string `json:"email"`
	}
	t, u, err := s.takeLinkToken(w, r, passkeyd.TokenVerifyEmail)
	if err != nil {
		return err
	}
	if err := s.store.VerifyEmail(r.Context(), u.ID, t.Email, s.now(), s.event(r, u.ID, passkeyd.EventEmailVerified, "", t.Email)); err != nil {
		return notFoundAs(err, passkeyd.Errorf(passkeyd.EINVALID, "The account's email address changed since this link was sent."))
	}
	encode(w, http.StatusOK, response{Verified: true, Email: t.Email})
	return nil
}

// handleResendVerification sends a new verification link.
func (s *Server) handleResendVerification(w http.ResponseWriter, r *http.Request) error {
	u, _ := account(r)
	if !u.EmailVerifiedAt.IsZero() {
		return passkeyd.Errorf(passkeyd.EINVALID, "Your address is already confirmed.")
	}
	token, err := s.saveToken(r.Context(), u, passkeyd.TokenVerifyEmail, u.Email, s.cfg.EmailLinkTTL)
	if err != nil {
		return err
	}
	s.sendVerification(u, token)
	encode(w, http.StatusAccepted, map[string]string{"message": "A new link is on its way to " + u.Email + "."})
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
	cancelToken, err := s.saveToken(r.Context(), u, passkeyd.TokenCancelEmailChange, u.Email, s.cfg.EmailLinkTTL)
	if err != nil {
		return err
	}
	token, err := s.saveToken(r.Context(), u, passkeyd.TokenChangeEmail, email, s.cfg.EmailLinkTTL)
	if err != nil {
		return err
	}
	if err := s.store.RecordEvent(r.Context(), s.event(r, u.ID, passkeyd.EventEmailChangeRequested, "", "to "+email)); err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "email change requested", "event", passkeyd.EventEmailChangeRequested, "user_id", u.ID, "client_ip", s.clientIP(r))
	s.sendEmailChange(email, u.Email, token, cancelToken)
	encode(w, http.StatusAccepted, map[string]string{"message": "Open the link we sent to " + email + " to confirm it. Until then your address stays " + u.Email + "."})
	return nil
}

// handleEmailChangeConfirm replaces the address and tells the old one.
func (s *Server) handleEmailChangeConfirm(w http.ResponseWriter, r *http.Request) error {
	t, u, err := s.takeLinkToken(w, r, passkeyd.TokenChangeEmail)
	if err != nil {
		return err
	}
	err = s.store.ChangeEmail(r.Context(), u.ID, t.Email, s.now(), s.event(r, u.ID, passkeyd.EventEmailChanged, "", u.Email+" → "+t.Email))
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
		err = passkeyd.Errorf(passkeyd.ECONFLICT, "%s now belongs to another account, so it cannot be yours here.", t.Email)
	}
	if err != nil {
		return err
	}
	s.notify(u.Email, emailtext.EmailChangedNotice, t.Email)
	encode(w, http.StatusOK, map[string]string{"email": t.Email})
	return nil
}

// handleEmailChangeCancel ends the pending email change, from the link
// sent to the address in use when the change was asked for.
func (s *Server) handleEmailChangeCancel(w http.ResponseWriter, r *http.Request) error {
	id, err := s.linkTokenID(w, r, passkeyd.TokenCancelEmailChange)
	if err != nil {
		return err
	}
	u, err := s.store.CancelEmailChange(r.Context(), id, s.now(), s.event(r, "", passkeyd.EventEmailChangeCancelled, "", "from the link sent to the address in use"))
	if err != nil {
		return notFoundAs(err, errBadLink)
	}
	s.log.InfoContext(r.Context(), "email change cancelled", "event", passkeyd.EventEmailChangeCancelled, "user_id", u.ID, "client_ip", s.clientIP(r))
	encode(w, http.StatusOK, map[string]any{"cancelled": true, "email": u.Email})
	return nil
}

// IssueRecoveryLink makes a single-use recovery link for a user, for an
// operator who has checked who is asking (passkeyd users recovery-link).
// Unlike the emailed links it needs no confirmed address. It is valid for
// RecoveryLinkTTL.
func (s *Server) IssueRecoveryLink(ctx context.Context, u *passkeyd.User) (string, error) {
	token, err := s.saveToken(ctx, u, passkeyd.TokenRecovery, u.Email, s.cfg.RecoveryLinkTTL)
	if err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "operator issued a recovery link", "event", "recovery_link_issued", "user_id", u.ID)
	return s.link("/recover/email", token), nil
}
