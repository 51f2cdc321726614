package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/passkeyd/passkeyd"
)

// handleRecoveryEmail sends a recovery link to a verified address. The
// answer is the same, and takes the same time, whether or not the address
// has an account: the look-up and the email happen after it is sent.
func (s *Server) handleRecoveryEmail() http.Handler {
	type request struct {
		Email string `json:"email"`
	}
	type response struct {
		Message string `json:"message"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		email, err := passkeyd.ValidateEmail(req.Email)
		if err != nil {
			return err
		}
		if err := s.limits.allow(s.limits.optionsPerIP, w, r, s.clientRateKey(r)); err != nil {
			return err
		}
		if err := s.limits.allow(s.limits.recoveryPerEmail, w, r, "recovery:"+passkeyd.EmailKey(email)); err != nil {
			return err
		}
		select {
		case s.background <- struct{}{}:
			go func() {
				defer func() { <-s.background }()
				s.issueRecoveryLink(context.WithoutCancel(r.Context()), email, s.clientIP(r))
			}()
		default:
			s.log.WarnContext(r.Context(), "recovery requests backlog full; request dropped")
		}
		encode(w, http.StatusAccepted, response{Message: "If " + email + " belongs to an account with a confirmed address, a link to get back in is on its way. It works once, for " + human(s.cfg.RecoveryLinkTTL) + "."})
		return nil
	})
}

// issueRecoveryLink runs off the request path (see handleRecoveryEmail).
func (s *Server) issueRecoveryLink(ctx context.Context, email, ip string) {
	u, err := s.store.FindUserByEmail(ctx, email)
	if err != nil || u.Disabled || u.EmailVerifiedAt.IsZero() {
		if err != nil && passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			s.log.WarnContext(ctx, "recovery look-up failed", "err", err)
		}
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

// tokenID returns the stored ID of the token a link carried.
func (s *Server) tokenID(purpose passkeyd.TokenPurpose, secret string) (string, error) {
	if secret == "" || len(secret) > 100 {
		return "", errBadLink
	}
	return s.keyedHash("token:"+string(purpose), secret), nil
}

// takeToken consumes the token a link carried.
func (s *Server) takeToken(r *http.Request, purpose passkeyd.TokenPurpose, secret string) (*passkeyd.Token, *passkeyd.User, error) {
	id, err := s.tokenID(purpose, secret)
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
		return nil, nil, errDisabled
	}
	return t, u, nil
}

type recoveryResponse struct {
	Recovery bool     `json:"recovery"`
	User     userJSON `json:"user"`
}

// handleRecoveryLink opens a recovery session from an emailed link.
func (s *Server) handleRecoveryLink() http.Handler {
	type request struct {
		Token string `json:"token"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		if err := s.limits.allow(s.limits.verifyPerIP, w, r, s.clientRateKey(r)); err != nil {
			return err
		}
		id, err := s.tokenID(passkeyd.TokenRecovery, req.Token)
		if err != nil {
			return err
		}
		u, err := s.startRecovery(w, r, &passkeyd.Recovery{TokenID: id}, "an emailed recovery link")
		if err != nil {
			return notFoundAs(err, errBadLink)
		}
		encode(w, http.StatusOK, recoveryResponse{Recovery: true, User: userJSON{ID: u.ID, Email: u.Email}})
		return nil
	})
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
	rec.Event = s.event(r, rec.UserID, passkeyd.EventRecoveryUsed, "", how)
	u, err := s.store.StartRecovery(r.Context(), rec)
	if err != nil {
		return nil, err
	}
	s.setCookie(w, s.cookies.session, token, s.cfg.RecoveryLinkTTL)
	s.log.InfoContext(r.Context(), "account recovery started", "event", passkeyd.EventRecoveryUsed, "user_id", u.ID, "how", how, "client_ip", s.clientIP(r))
	s.notify(u.Email, noteRecoveryUsed, how)
	return u, nil
}

// Recovery codes read "id-secret": a public ID of 5 characters that finds
// the row, and a 12-character secret (60 bits) stored as an Argon2id hash.
const (
	recoveryCodeCount = 10
	codeAlphabet      = "abcdefghjkmnpqrstuvwxyz23456789" // no 0/o, 1/l/i
)

func randomCode(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

// Argon2id parameters: OWASP's minimum (19 MiB, 2 passes). A code is
// checked at most once per attempt (its ID finds the one hash), and
// attempts are rate-limited.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
)

func hashCode(secret string) string {
	salt := randomBytes(16)
	key := argon2.IDKey([]byte(secret), salt, argonTime, argonMemory, argonThreads, 32)
	return fmt.Sprintf("argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func checkCode(hash, secret string) bool {
	h, ok := parseCodeHash(hash)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(secret), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

type codeHash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseCodeHash reads "argon2id$v=19$m=M,t=T,p=P$SALT$KEY".
func parseCodeHash(hash string) (codeHash, bool) {
	var h codeHash
	parts := strings.Split(hash, "$")
	if len(parts) != 5 || parts[0] != "argon2id" {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[2], "m=%d,t=%d,p=%d", &h.memory, &h.time, &h.threads); err != nil {
		return h, false
	}
	var err1, err2 error
	h.salt, err1 = base64.RawStdEncoding.DecodeString(parts[3])
	h.key, err2 = base64.RawStdEncoding.DecodeString(parts[4])
	return h, err1 == nil && err2 == nil && len(h.key) > 0
}

// handleRecoveryCodesGenerate makes a new set of codes, shown this once.
func (s *Server) handleRecoveryCodesGenerate() http.Handler {
	type response struct {
		Codes []string `json:"codes"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		u, sess, err := signedIn(r)
		if err != nil {
			return err
		}
		if err := s.requireStepUp(sess); err != nil {
			return err
		}
		codes := make([]string, 0, recoveryCodeCount)
		rows := make([]*passkeyd.RecoveryCode, 0, recoveryCodeCount)
		seen := map[string]bool{}
		for len(codes) < recoveryCodeCount {
			id := randomCode(5)
			if seen[id] {
				continue
			}
			seen[id] = true
			secret := randomCode(12)
			codes = append(codes, id+"-"+secret[:6]+"-"+secret[6:])
			rows = append(rows, &passkeyd.RecoveryCode{ID: id, UserID: u.ID, Hash: hashCode(secret), CreatedAt: s.now()})
		}
		if err := s.store.ReplaceRecoveryCodes(r.Context(), u.ID, rows,
			s.event(r, u.ID, passkeyd.EventRecoveryCodesGenerated, "", fmt.Sprintf("%d codes", len(rows)))); err != nil {
			return err
		}
		encode(w, http.StatusOK, response{Codes: codes})
		return nil
	})
}

var errBadCode = passkeyd.Errorf(passkeyd.EUNAUTHORIZED, "That email and recovery code do not match an unused code. Check both and try again.")

// handleRecoveryCodeVerify opens a recovery session with a recovery code.
// Unknown email, unknown code and wrong secret are one answer.
func (s *Server) handleRecoveryCodeVerify() http.Handler {
	type request struct {
		Email string `json:"email"`
		Code  string `json:"code"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		email, err := passkeyd.ValidateEmail(req.Email)
		if err != nil {
			return err
		}
		if err := s.limits.allow(s.limits.verifyPerIP, w, r, s.clientRateKey(r)); err != nil {
			return err
		}
		if err := s.limits.allow(s.limits.recoveryPerEmail, w, r, "code:"+passkeyd.EmailKey(email)); err != nil {
			return err
		}
		code := strings.ToLower(strings.TrimSpace(req.Code))
		code = strings.ReplaceAll(strings.ReplaceAll(code, " ", "-"), "--", "-")
		id, secret, ok := strings.Cut(code, "-")
		secret = strings.ReplaceAll(secret, "-", "")
		u, err := s.store.FindUserByEmail(r.Context(), email)
		if err != nil && passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			return err
		}
		var rc *passkeyd.RecoveryCode
		if u != nil && ok && len(id) == 5 && len(secret) == 12 {
			rc, err = s.store.FindRecoveryCode(r.Context(), u.ID, id)
			if err != nil && passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
				return err
			}
		}
		// Hash even when there is nothing to compare, so timing does not
		// tell whether the email or the code ID exists.
		hash := dummyCodeHash
		if rc != nil {
			hash = rc.Hash
		}
		if !checkCode(hash, secret) || rc == nil || u.Disabled {
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
	})
}

// dummyCodeHash is checked when there is no code to check, so that an
// unknown email or code ID costs the same Argon2id run as a real one. A
// constant: hashing one at start would cost every program importing this
// package 19 MiB and a hash (measured: startup 120 → 30 ms).
const dummyCodeHash = "argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Fcs+ptq1AITfJ2u5A9DGaEvV3bAZ1L8F1Ns9jXLjG+w"

// handleEmailVerify confirms an address from the link sent at sign-up.
func (s *Server) handleEmailVerify() http.Handler {
	type request struct {
		Token string `json:"token"`
	}
	type response struct {
		Verified bool   `json:"verified"`
		Email    string `json:"email"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		t, u, err := s.takeToken(r, passkeyd.TokenVerifyEmail, req.Token)
		if err != nil {
			return err
		}
		if err := s.store.VerifyEmail(r.Context(), u.ID, t.Email, s.now(), s.event(r, u.ID, passkeyd.EventEmailVerified, "", t.Email)); err != nil {
			return notFoundAs(err, passkeyd.Errorf(passkeyd.EINVALID, "The account's email address changed since this link was sent."))
		}
		encode(w, http.StatusOK, response{Verified: true, Email: t.Email})
		return nil
	})
}

// handleResendVerification sends a new verification link.
func (s *Server) handleResendVerification() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		u, _, err := signedIn(r)
		if err != nil {
			return err
		}
		if !u.EmailVerifiedAt.IsZero() {
			return passkeyd.Errorf(passkeyd.EINVALID, "Your address is already confirmed.")
		}
		if err := s.limits.allow(s.limits.recoveryPerEmail, w, r, "verify:"+passkeyd.EmailKey(u.Email)); err != nil {
			return err
		}
		token, err := s.saveToken(r.Context(), u, passkeyd.TokenVerifyEmail, u.Email, s.cfg.VerifyLinkTTL)
		if err != nil {
			return err
		}
		s.sendVerification(u.Email, token)
		encode(w, http.StatusAccepted, map[string]string{"message": "A new link is on its way to " + u.Email + "."})
		return nil
	})
}

// handleEmailChange sends a confirmation link to the new address; the
// change happens when it is opened.
func (s *Server) handleEmailChange() http.Handler {
	type request struct {
		Email string `json:"email"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		u, sess, err := signedIn(r)
		if err != nil {
			return err
		}
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		email, err := passkeyd.ValidateEmail(req.Email)
		if err != nil {
			return err
		}
		if passkeyd.EmailKey(email) == passkeyd.EmailKey(u.Email) {
			return passkeyd.Errorf(passkeyd.EINVALID, "That is already your address.")
		}
		if err := s.requireStepUp(sess); err != nil {
			return err
		}
		if err := s.limits.allow(s.limits.recoveryPerEmail, w, r, "change:"+u.ID); err != nil {
			return err
		}
		token, err := s.saveToken(r.Context(), u, passkeyd.TokenChangeEmail, email, s.cfg.VerifyLinkTTL)
		if err != nil {
			return err
		}
		s.sendEmailChange(email, u.Email, token)
		encode(w, http.StatusAccepted, map[string]string{"message": "Open the link we sent to " + email + " to confirm it. Until then your address stays " + u.Email + "."})
		return nil
	})
}

// handleEmailChangeConfirm replaces the address and tells the old one.
func (s *Server) handleEmailChangeConfirm() http.Handler {
	type request struct {
		Token string `json:"token"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := decode(w, r, &req); err != nil {
			return err
		}
		t, u, err := s.takeToken(r, passkeyd.TokenChangeEmail, req.Token)
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
		s.notify(u.Email, noteEmailChangedOld, t.Email)
		encode(w, http.StatusOK, map[string]string{"email": t.Email})
		return nil
	})
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
