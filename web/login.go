package web

import (
	"bytes"
	"context"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/aaguid"
)

type userJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// handleLoginBegin answers with request options for a discoverable
// ceremony. With or without an email, and whether or not the email has an
// account, the answer is the same: no credential IDs, no database read, so
// neither its content nor its timing tells anyone which emails exist.
func (s *Server) handleLoginBegin() http.Handler {
	type request struct {
		Email string `json:"email"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(w, r, &req); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if err := s.limits.allow(s.limits.optionsPerIP, w, r, s.clientRateKey(r)); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		ch := &passkeyd.Challenge{Kind: passkeyd.CeremonyAuthentication}
		if req.Email != "" {
			email, err := passkeyd.ValidateEmail(req.Email)
			if err != nil {
				writeError(w, r, s.log, err)
				return
			}
			if err := s.limits.allow(s.limits.optionsPerEmail, w, r, "email:"+passkeyd.EmailKey(email)); err != nil {
				writeError(w, r, s.log, err)
				return
			}
			ch.Email = email
		}
		assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(s.userVerf))
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if err := s.saveChallenge(w, r, ch, sd); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		s.metrics.started("authentication")
		encode(w, http.StatusOK, assertion.Response)
	})
}

var (
	errLoginFailed = passkeyd.Errorf(passkeyd.EUNAUTHORIZED,
		"Sign-in failed: the passkey's answer could not be verified. Please try again.")
	errCloned = passkeyd.Errorf(passkeyd.EFORBIDDEN,
		"This passkey was refused because it may have been copied (its sign-in counter went backwards). Use another passkey, and remove this one from your account.")
	errDisabled = passkeyd.Errorf(passkeyd.EFORBIDDEN, "This account is disabled.")
)

// handleLoginFinish verifies a sign-in and opens a new session.
func (s *Server) handleLoginFinish() http.Handler {
	type response struct {
		Verified bool     `json:"verified"`
		User     userJSON `json:"user"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.limits.allow(s.limits.verifyPerIP, w, r, s.clientRateKey(r)); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		u, token, provider, err := s.finishLogin(w, r)
		if err != nil {
			s.metrics.failed("authentication", failureReason(err))
			writeError(w, r, s.log, err)
			return
		}
		s.metrics.succeeded("authentication", provider)
		s.setCookie(w, s.cookies.session, token, s.cfg.SessionMaxAge)
		encode(w, http.StatusOK, response{Verified: true, User: userJSON{ID: u.ID, Email: u.Email}})
	})
}

// finishLogin returns the signed-in user, the session token and the
// passkey's provider name.
func (s *Server) finishLogin(w http.ResponseWriter, r *http.Request) (*passkeyd.User, string, string, error) {
	ctx := r.Context()
	body, err := readBody(w, r)
	if err != nil {
		return nil, "", "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, "", "", parseError(err)
	}
	credKey := "cred:" + passkeyd.EncodeCredentialID(parsed.RawID)
	if err := s.limits.credentialBlocked(w, credKey); err != nil {
		return nil, "", "", err
	}
	ch, sd, err := s.takeChallenge(r, passkeyd.CeremonyAuthentication, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return nil, "", "", err
	}
	if err := s.checkClientOrigin(parsed.Response.CollectedClientData.Origin); err != nil {
		return nil, "", "", err
	}
	stored, owner, err := s.store.FindCredential(ctx, parsed.RawID)
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		s.log.InfoContext(r.Context(), "sign-in with unknown passkey", "event", passkeyd.EventLoginFailed, "reason", "unknown_credential", "client_ip", s.clientIP(r))
		return nil, "", "", &reasonError{passkeyd.Errorf(passkeyd.EUNAUTHORIZED,
			"This passkey is not registered here (it may have been deleted). Choose another passkey, or register a new one."), "unknown_credential"}
	}
	if err != nil {
		return nil, "", "", err
	}

	now := s.now()
	newEvent := func(typ, detail string) *passkeyd.Event {
		return &passkeyd.Event{UserID: owner.ID, Type: typ, CredentialID: stored.ID, IP: s.clientIP(r),
			UserAgent: truncate(r.UserAgent(), 256), Detail: detail, CreatedAt: now}
	}

	// go-webauthn refuses a sign-in whose backup-eligible flag differs from
	// the stored one (go-webauthn#335). Providers do flip it (iCloud
	// Keychain 0→1, some password managers both ways) and refusing locks
	// real people out for no security gain, so we accept the new value,
	// store it and log it.
	waCred := toWebAuthnCredential(stored)
	assertedFlags := parsed.Response.AuthenticatorData.Flags
	beChanged := assertedFlags.HasBackupEligible() != stored.BackupEligible
	if beChanged {
		f := waCred.Flags.ProtocolValue() ^ protocol.FlagBackupEligible
		waCred.Flags = webauthn.NewCredentialFlags(f)
	}
	wu := &webauthnUser{handle: owner.Handle, name: owner.Email, credentials: []webauthn.Credential{waCred}}
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		if !bytes.Equal(userHandle, owner.Handle) {
			return nil, passkeyd.Errorf(passkeyd.EUNAUTHORIZED, "user handle does not match the passkey's owner")
		}
		return wu, nil
	}
	_, verified, err := s.wa.ValidatePasskeyLogin(handler, *sd, parsed)
	if err != nil {
		s.limits.recordFailure(r, credKey)
		s.recordEvent(ctx, newEvent(passkeyd.EventLoginFailed, "verification failed"))
		s.log.InfoContext(r.Context(), "sign-in failed", "event", passkeyd.EventLoginFailed, "user_id", owner.ID, "passkey_id", stored.ID,
			"client_ip", s.clientIP(r), "reason", protocolDetail(err))
		return nil, "", "", errLoginFailed
	}
	if verified.Authenticator.CloneWarning {
		ev := newEvent(passkeyd.EventCloneWarning, "sign-in counter did not increase")
		if err := s.store.FlagCredentialCloned(ctx, stored.CredentialID, ev); err != nil {
			return nil, "", "", err
		}
		s.metrics.cloneWarning()
		s.notify(owner.Email, noteCloneWarning, stored.Name)
		s.log.WarnContext(r.Context(), "possibly cloned passkey refused", "event", passkeyd.EventCloneWarning, "user_id", owner.ID,
			"passkey_id", stored.ID, "stored_count", stored.SignCount, "received_count", parsed.Response.AuthenticatorData.Counter,
			"client_ip", s.clientIP(r))
		return nil, "", "", errCloned
	}
	if owner.Disabled {
		return nil, "", "", errDisabled
	}
	// Only now, with the signature verified, may we say that the passkey
	// is not the typed email's: before, it would answer "does this
	// passkey belong to that email?" for anyone holding a credential ID.
	if ch.Email != "" && passkeyd.EmailKey(ch.Email) != passkeyd.EmailKey(owner.Email) {
		return nil, "", "", passkeyd.Errorf(passkeyd.EUNAUTHORIZED,
			"The passkey you chose belongs to a different account than %s. Choose the passkey for that email, or clear the email field to sign in with any passkey.", ch.Email)
	}

	scope := passkeyd.ScopeFull
	sess, token := s.startSession(r, owner, scope, stored.ID)
	in := &passkeyd.SignIn{
		Use: passkeyd.CredentialUse{
			CredentialID:      stored.CredentialID,
			PreviousSignCount: stored.SignCount,
			SignCount:         verified.Authenticator.SignCount,
			BackupEligible:    assertedFlags.HasBackupEligible(),
			BackupState:       assertedFlags.HasBackupState(),
			UserVerified:      assertedFlags.HasUserVerified(),
			UsedAt:            now,
		},
		Session: sess,
		Events:  []*passkeyd.Event{newEvent(passkeyd.EventLoginSucceeded, "")},
	}
	if beChanged {
		in.Events = append(in.Events, newEvent(passkeyd.EventBackupEligibleChanged, flagChange("backup eligible", stored.BackupEligible)))
		s.log.InfoContext(r.Context(), "passkey backup eligibility changed", "event", passkeyd.EventBackupEligibleChanged, "user_id", owner.ID,
			"passkey_id", stored.ID, "backup_eligible", !stored.BackupEligible)
	}
	if assertedFlags.HasBackupState() != stored.BackupState {
		in.Events = append(in.Events, newEvent(passkeyd.EventBackupStateChanged, flagChange("synced", stored.BackupState)))
	}
	if old := passkeyd.SessionFromContext(ctx); old != nil {
		in.ReplacesSession = old.ID
	}
	if err := s.store.CompleteSignIn(ctx, in); err != nil {
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
			// The counter moved since we read it: another sign-in with
			// the same counter value (a replayed or cloned assertion, or
			// the same one sent twice) won. Refused like any failed
			// verification.
			s.recordEvent(ctx, newEvent(passkeyd.EventLoginFailed, "sign-in counter already used"))
			s.log.InfoContext(r.Context(), "sign-in failed", "event", passkeyd.EventLoginFailed, "user_id", owner.ID, "passkey_id", stored.ID,
				"client_ip", s.clientIP(r), "reason", "counter_race")
			return nil, "", "", errLoginFailed
		}
		return nil, "", "", err
	}
	s.log.InfoContext(r.Context(), "signed in", "event", passkeyd.EventLoginSucceeded, "user_id", owner.ID, "passkey_id", stored.ID, "client_ip", s.clientIP(r))
	return owner, token, aaguid.Name(stored.AAGUID), nil
}

func flagChange(name string, was bool) string {
	if was {
		return name + ": yes → no"
	}
	return name + ": no → yes"
}

// recordEvent writes to the security log; a failure there must not turn a
// refused sign-in into a 500, so it is only logged.
func (s *Server) recordEvent(ctx context.Context, ev *passkeyd.Event) {
	if err := s.store.RecordEvent(ctx, ev); err != nil {
		s.log.WarnContext(ctx, "security log write failed", "event_type", ev.Type, "err", err)
	}
}

// handleLogout destroys the session server-side; the old cookie is useless
// afterwards even if kept.
func (s *Server) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := readBody(w, r); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if sess := passkeyd.SessionFromContext(r.Context()); sess != nil {
			if err := s.store.DeleteSession(r.Context(), sess.ID); err != nil {
				writeError(w, r, s.log, err)
				return
			}
			s.recordEvent(r.Context(), &passkeyd.Event{UserID: sess.UserID, Type: passkeyd.EventLogout, IP: s.clientIP(r),
				UserAgent: truncate(r.UserAgent(), 256), CreatedAt: s.now()})
		}
		s.setCookie(w, s.cookies.session, "", -1)
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleMe answers with the signed-in user, or 401.
func (s *Server) handleMe() http.Handler {
	type response struct {
		User userJSON `json:"user"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := passkeyd.UserFromContext(r.Context())
		if u == nil {
			writeError(w, r, s.log, errNotSignedIn)
			return
		}
		encode(w, http.StatusOK, response{User: userJSON{ID: u.ID, Email: u.Email}})
	})
}
