package web

import (
	"context"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/google/uuid"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/ceremony"
	"github.com/passkeyd/passkeyd/internal/httpjson"
	"github.com/passkeyd/passkeyd/internal/keyedhash"
)

// Sign-up by email link (SignUpEmailFirst): the only way to a new account
// when the site must not tell whether an address has one.

var errSignUpByEmailOff = passkeyd.Errorf(passkeyd.ENOTFOUND,
	"Sign-up by email link is off on this site: register a passkey with your email address directly.")

// signUpCheckEmail is the one answer to a sign-up request, whatever the
// address: it names no address, so that answers for an address with an
// account and one without are the same bytes.
const signUpCheckEmail = "Check your email: we have sent you a message to continue. If it does not arrive within a few minutes, look in your spam folder."

// handleSignUpEmail starts a sign-up. The answer is the same, and takes the
// same time, whether or not the address has an account: the look-up and
// the email happen after it is sent (as for recovery).
func (s *Server) handleSignUpEmail(w http.ResponseWriter, r *http.Request) error {
	type request struct {
		Email string `json:"email"`
	}
	type response struct {
		Message string `json:"message"`
	}
	if s.cfg.SignUpMode != SignUpEmailFirst {
		return errSignUpByEmailOff
	}
	var req request
	email, err := decodeWithEmail(w, r, &req, &req.Email)
	if err != nil {
		return err
	}
	ip := clientIP(r) // read now: the request is gone when the look-up runs
	s.background.afterAnswer(r, "sign-up look-up", func(ctx context.Context) { s.mail.signUpMail(ctx, email, ip) })
	httpjson.Write(w, http.StatusAccepted, response{Message: signUpCheckEmail})
	return nil
}

// handleSignUpLink spends a sign-up link and starts the registration of
// the new account's first passkey: it answers with creation options, like
// generate-registration-options. The account is written only when the
// passkey verifies (verify-registration), with its address confirmed.
func (s *Server) handleSignUpLink(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.SignUpMode != SignUpEmailFirst {
		return errSignUpByEmailOff
	}
	// Refused before the link is spent, so it still works after signing out.
	if u := passkeyd.UserFromContext(r.Context()); u != nil {
		return passkeyd.Errorf(passkeyd.EINVALID, "You are signed in as %s. Sign out first, then open the link again to create another account.", u.Email)
	}
	secret, err := readLinkToken(w, r)
	if err != nil {
		return err
	}
	t, err := s.tokens.Take(r.Context(), passkeyd.TokenSignUp, secret)
	if err != nil {
		return notFoundAs(err, errBadLink)
	}
	// Another link to the address may have made its account meanwhile;
	// the holder of this link owns the address, so telling is no leak.
	switch _, err := s.store.FindUserByEmail(r.Context(), t.Email); passkeyd.ErrorCode(err) {
	case "":
		return errEmailTaken
	case passkeyd.ENOTFOUND:
	default:
		return err
	}
	handle := keyedhash.RandomBytes(32)
	st := &sealedState{Kind: passkeyd.CeremonyEmailSignUp, UserID: uuid.NewString(), Email: t.Email, Handle: handle}
	return s.beginRegistration(w, r, st, &ceremony.User{Handle: handle, Name: t.Email}, protocol.MediationDefault)
}
