package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/httpjson"
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
	ip := clientIP(r) // read now: the request is gone when the look-up runs
	s.background.afterAnswer(r, "recovery look-up", func(ctx context.Context) { s.mail.recoveryMail(ctx, email, ip) })
	httpjson.Write(w, http.StatusAccepted, response{Message: "If " + email + " belongs to an account, a link to get back in is on its way. It works once, for " + emailtext.Duration(s.cfg.RecoveryLinkTTL) + "."})
	return nil
}

type recoveryResponse struct {
	Recovery bool     `json:"recovery"`
	User     userJSON `json:"user"`
}

// handleRecoveryLink opens a recovery session from an emailed link.
func (s *Server) handleRecoveryLink(w http.ResponseWriter, r *http.Request) error {
	secret, err := readLinkToken(w, r)
	if err != nil {
		return err
	}
	u, err := s.startRecovery(w, r, &passkeyd.Recovery{TokenID: s.tokens.ID(passkeyd.TokenRecovery, secret)}, "an emailed recovery link")
	if err != nil {
		return notFoundAs(err, errBadLink)
	}
	httpjson.Write(w, http.StatusOK, recoveryResponse{Recovery: true, User: userJSON{ID: u.ID, Email: u.Email}})
	return nil
}

// handleTakeoverLink opens a recovery session from an emailed takeover
// link, after confirming the address and removing every passkey and
// recovery code of the account (see issueRecoveryLink).
func (s *Server) handleTakeoverLink(w http.ResponseWriter, r *http.Request) error {
	secret, err := readLinkToken(w, r)
	if err != nil {
		return err
	}
	u, err := s.startRecovery(w, r, &passkeyd.Recovery{TokenID: s.tokens.ID(passkeyd.TokenTakeover, secret), Takeover: true}, "a link to take over an account whose address was not confirmed")
	if err != nil {
		return notFoundAs(err, errBadLink)
	}
	httpjson.Write(w, http.StatusOK, recoveryResponse{Recovery: true, User: userJSON{ID: u.ID, Email: u.Email}})
	return nil
}

// startRecovery spends the link or code in rec, signs out every session of
// its account and opens a recovery session in this browser, which may only
// register a new passkey: one store transaction, so a failure spends
// nothing. It returns the account.
func (s *Server) startRecovery(w http.ResponseWriter, r *http.Request, rec *passkeyd.Recovery, how string) (*passkeyd.User, error) {
	// For a link the store learns the account from the link and sets it
	// on the session and the event.
	sess, token := s.sessions.start(r, &passkeyd.User{ID: rec.UserID}, passkeyd.ScopeRecovery, "")
	sess.ExpiresAt = s.cfg.Now().Add(s.cfg.RecoveryLinkTTL)
	sess.IdleExpiresAt = sess.ExpiresAt
	rec.Session, rec.At = sess, s.cfg.Now()
	eventType := passkeyd.EventRecoveryUsed
	if rec.Takeover {
		eventType = passkeyd.EventAccountTakenOver
	}
	rec.Event = s.events.new(r, rec.UserID, eventType, "", how)
	u, err := s.store.StartRecovery(r.Context(), rec)
	if err != nil {
		return nil, err
	}
	s.cookies.set(w, s.cookies.session, token, s.cfg.RecoveryLinkTTL)
	s.log.InfoContext(r.Context(), "account recovery started", "event", eventType, "user_id", u.ID, "how", how, "client_ip", clientIP(r))
	s.mail.notice(u.Email, emailtext.RecoveryUsed, how)
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
	if err := s.hashers.run(func() {
		for _, c := range recoverycode.Generate(recoverycode.Count) {
			res.Codes = append(res.Codes, c.String())
			rows = append(rows, &passkeyd.RecoveryCode{ID: c.ID, UserID: u.ID, Hash: recoverycode.Hash(c.Secret), CreatedAt: s.cfg.Now()})
		}
	}); err != nil {
		return err
	}
	if err := s.store.ReplaceRecoveryCodes(r.Context(), u.ID, rows,
		s.events.new(r, u.ID, passkeyd.EventRecoveryCodesGenerated, "", fmt.Sprintf("%d codes", len(rows)))); err != nil {
		return err
	}
	s.mail.notice(u.Email, emailtext.RecoveryCodesGenerated, "")
	httpjson.Write(w, http.StatusOK, res)
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
	if err := s.hashers.run(func() { match = recoverycode.Check(hash, code.Secret) }); err != nil {
		return err
	}
	if !match || rc == nil || u.Disabled {
		if u != nil {
			s.events.record(r.Context(), s.events.new(r, u.ID, passkeyd.EventLoginFailed, "", "wrong recovery code"))
		}
		return errBadCode
	}
	if _, err := s.startRecovery(w, r, &passkeyd.Recovery{UserID: u.ID, CodeID: rc.ID}, "a recovery code"); err != nil {
		return notFoundAs(err, errBadCode)
	}
	httpjson.Write(w, http.StatusOK, recoveryResponse{Recovery: true, User: userJSON{ID: u.ID, Email: u.Email}})
	return nil
}
