package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/aaguid"
	"github.com/passkeyd/passkeyd/internal/ceremony"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

type userJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// handleLoginBegin answers with request options for a discoverable
// ceremony. With or without an email, and whether or not the email has an
// account, the answer is the same: no credential IDs, no database read, so
// neither its content nor its timing tells anyone which emails exist.
func (s *Server) handleLoginBegin(w http.ResponseWriter, r *http.Request) error {
	type request struct {
		Email string `json:"email"`
	}
	var req request
	if err := httpjson.Decode(w, r, &req); err != nil {
		return err
	}
	st := &sealedState{Kind: passkeyd.CeremonyAuthentication}
	if req.Email != "" {
		email, err := passkeyd.ValidateEmail(req.Email)
		if err != nil {
			return err
		}
		st.Email = email
	}
	assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(s.userVerf))
	if err != nil {
		return err
	}
	if err := s.states.begin(w, r, st, sd); err != nil {
		return err
	}
	s.metrics.started("authentication")
	httpjson.Write(w, http.StatusOK, assertion.Response)
	return nil
}

var errLoginFailed = passkeyd.Errorf(passkeyd.EUNAUTHORIZED,
	"Sign-in failed: the passkey's answer could not be verified. Please try again.")

// handleLoginFinish verifies a sign-in and opens a new session: the
// assertion is verified (ceremony.VerifySignIn), then the sign-in is
// committed in one write (ceremony.Assertion.Commit).
func (s *Server) handleLoginFinish(w http.ResponseWriter, r *http.Request) (string, error) {
	type response struct {
		Verified bool     `json:"verified"`
		User     userJSON `json:"user"`
	}
	ctx := r.Context()
	body, err := httpjson.ReadBody(w, r)
	if err != nil {
		return "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return "", parseError(err)
	}
	credKey := "cred:" + passkeyd.EncodeCredentialID(parsed.RawID)
	if err := s.limits.credentialBlocked(w, credKey); err != nil {
		return "", err
	}
	st, sd, used, err := s.states.finish(r, passkeyd.CeremonyAuthentication, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return "", err
	}
	if err := s.origins.checkClient(parsed.Response.CollectedClientData.Origin); err != nil {
		return "", err
	}
	stored, owner, err := s.store.FindCredential(ctx, parsed.RawID)
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		s.log.InfoContext(ctx, "sign-in with unknown passkey", "event", passkeyd.EventLoginFailed, "reason", "unknown_credential", "client_ip", clientIP(r))
		return "", &reasonError{passkeyd.Errorf(passkeyd.EUNAUTHORIZED,
			"This passkey is not registered here (it may have been deleted). Choose another passkey, or register a new one."), "unknown_credential"}
	}
	if err != nil {
		return "", err
	}

	now := s.cfg.Now()
	newEvent := func(typ, detail string) *passkeyd.Event {
		return passkeyd.NewEvent(now, actor(r), owner.ID, typ, stored.ID, detail)
	}
	verified, err := ceremony.VerifySignIn(s.wa, *sd, parsed, owner, stored)
	if err != nil {
		s.limits.recordFailure(r, credKey)
		s.events.record(ctx, newEvent(passkeyd.EventLoginFailed, "verification failed"))
		s.log.InfoContext(ctx, "sign-in failed", "event", passkeyd.EventLoginFailed, "user_id", owner.ID, "passkey_id", stored.ID,
			"client_ip", clientIP(r), "reason", protocolDetail(err))
		return "", errLoginFailed
	}
	if err := verified.Refusal(owner, st.Email); err != nil {
		if errors.Is(err, ceremony.ErrCloned) {
			if err := s.flagCloned(r, used, owner, stored, parsed.Response.AuthenticatorData.Counter, newEvent); err != nil {
				if errors.Is(err, passkeyd.ErrChallengeUsed) {
					// This ceremony signed in already and wrote the counter
					// this response carries: the same response sent again
					// (a retry, a double submit), not a copy.
					return "", challengeUsed(r, s.log, owner, stored)
				}
				return "", err
			}
		}
		return "", err
	}

	sess, token := s.sessions.start(r, owner, passkeyd.ScopeFull, stored.ID)
	// The browser's previous session, if it has one, ends: the route is
	// sessionless, so it was not looked up, and deleting a session that
	// does not exist is no error.
	var replaces string
	if c, err := r.Cookie(s.cookies.session); err == nil && c.Value != "" && len(c.Value) <= 100 {
		replaces = s.sessions.id(c.Value)
	}
	if err := s.store.CompleteSignIn(ctx, verified.Commit(used, stored, sess, replaces, now, newEvent)); err != nil {
		if errors.Is(err, passkeyd.ErrChallengeUsed) {
			return "", challengeUsed(r, s.log, owner, stored)
		}
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
			// The counter moved since we read it: another sign-in with
			// the same counter value (a replayed or cloned assertion, or
			// the same one sent twice) won. Refused like any failed
			// verification.
			s.events.record(ctx, newEvent(passkeyd.EventLoginFailed, "sign-in counter already used"))
			s.log.InfoContext(ctx, "sign-in failed", "event", passkeyd.EventLoginFailed, "user_id", owner.ID, "passkey_id", stored.ID,
				"client_ip", clientIP(r), "reason", "counter_race")
			return "", errLoginFailed
		}
		return "", err
	}
	if verified.BackupEligibleChanged {
		s.log.InfoContext(ctx, "passkey backup eligibility changed", "event", passkeyd.EventBackupEligibleChanged, "user_id", owner.ID,
			"passkey_id", stored.ID, "backup_eligible", verified.BackupEligible)
	}
	s.log.InfoContext(ctx, "signed in", "event", passkeyd.EventLoginSucceeded, "user_id", owner.ID, "passkey_id", stored.ID, "client_ip", clientIP(r))
	s.states.end(w, st)
	s.cookies.set(w, s.cookies.session, token, s.cfg.SessionMaxAge)
	httpjson.Write(w, http.StatusOK, response{Verified: true, User: userJSON{ID: owner.ID, Email: owner.Email}})
	return aaguid.Name(stored.AAGUID), nil
}

// challengeUsed answers a sign-in whose ceremony completed already, here
// or on another instance: a replay, or the same response sent twice.
func challengeUsed(r *http.Request, log *slog.Logger, owner *passkeyd.User, stored *passkeyd.Credential) error {
	log.InfoContext(r.Context(), "sign-in failed", "event", passkeyd.EventLoginFailed, "user_id", owner.ID, "passkey_id", stored.ID,
		"client_ip", clientIP(r), "reason", "challenge_used")
	return &reasonError{errNoCeremony, "challenge_used"}
}

// flagCloned marks a passkey whose sign counter went backwards, so that it
// is refused from now on, and tells its owner. The flag spends the
// ceremony (used): ErrChallengeUsed, and nothing flagged or sent, when it
// had completed already.
func (s *Server) flagCloned(r *http.Request, used passkeyd.UsedChallenge, owner *passkeyd.User, stored *passkeyd.Credential, received uint32,
	newEvent func(typ, detail string) *passkeyd.Event) error {
	ev := newEvent(passkeyd.EventCloneWarning, "sign-in counter did not increase")
	if err := s.store.FlagCredentialCloned(r.Context(), used, stored.CredentialID, ev); err != nil {
		return err
	}
	s.metrics.cloneWarning()
	s.mail.notice(owner.Email, emailtext.CloneWarning, stored.Name)
	s.log.WarnContext(r.Context(), "possibly cloned passkey refused", "event", passkeyd.EventCloneWarning, "user_id", owner.ID,
		"passkey_id", stored.ID, "stored_count", stored.SignCount, "received_count", received, "client_ip", clientIP(r))
	return nil
}

// handleLogout destroys the session server-side; the old cookie is useless
// afterwards even if kept.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	if _, err := httpjson.ReadBody(w, r); err != nil {
		return err
	}
	if sess := passkeyd.SessionFromContext(r.Context()); sess != nil {
		if err := s.store.DeleteSession(r.Context(), sess.ID); err != nil {
			return err
		}
		s.events.record(r.Context(), s.events.new(r, sess.UserID, passkeyd.EventLogout, "", ""))
	}
	s.cookies.set(w, s.cookies.session, "", -1)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleMe answers with the signed-in user, or 401 (with the code
// "recovery_in_progress" for a recovery session).
func handleMe(w http.ResponseWriter, r *http.Request) error {
	type response struct {
		User userJSON `json:"user"`
	}
	u, _, err := signedIn(r)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, response{User: userJSON{ID: u.ID, Email: u.Email}})
	return nil
}
