package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/aaguid"
	"github.com/passkeyd/passkeyd/internal/ceremony"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/httpjson"
	"github.com/passkeyd/passkeyd/internal/keyedhash"
)

// errSignUpByEmail refuses a direct sign-up when SignUpEmailFirst is on:
// it would tell whether the address has an account.
var errSignUpByEmail = &reasonError{passkeyd.Errorf(passkeyd.EFORBIDDEN,
	"New accounts here start with your email address: use Sign up, then open the link we email you."), "sign_up_by_email"}

var errEmailTaken = passkeyd.Errorf(passkeyd.ECONFLICT,
	"An account with this email already exists. Sign in with its passkey, or use \"Lost your passkey?\" to get back into it.")

// handleRegisterBegin answers with creation options. Signed out, it is a
// sign-up: the account is only described in the sealed state and
// written when the response verifies. Signed in, the passkey is for the
// signed-in account, whatever email the body names.
func (s *Server) handleRegisterBegin(w http.ResponseWriter, r *http.Request) error {
	type request struct {
		Email string `json:"email"`
		// Mediation "conditional" asks for conditional create (automatic
		// passkey upgrade): the browser makes a passkey without a prompt.
		// Only for a user who has just proved who they are.
		Mediation string `json:"mediation"`
	}
	var req request
	if err := httpjson.Decode(w, r, &req); err != nil {
		return err
	}
	st, wu, err := registrationAccount(r, s.store, s.cfg.SignUpMode, req.Email)
	if err != nil {
		return err
	}
	mediation := protocol.MediationDefault
	switch req.Mediation {
	case "":
	case "conditional":
		if st.SignedInUserID == "" {
			return passkeyd.Errorf(passkeyd.EINVALID, "Conditional create is only for a signed-in user.")
		}
		mediation = protocol.MediationConditional
	default:
		return passkeyd.Errorf(passkeyd.EINVALID, "mediation must be empty or \"conditional\".")
	}
	return s.beginRegistration(w, r, st, wu, mediation)
}

// beginRegistration answers with the creation options of a registration
// for wu, described in st, and seals the ceremony into the cookie.
func (s *Server) beginRegistration(w http.ResponseWriter, r *http.Request, st *sealedState, wu *ceremony.User, mediation protocol.CredentialMediationRequirement) error {
	creation, sd, err := s.wa.BeginMediatedRegistration(wu, mediation,
		webauthn.WithExclusions(webauthn.Credentials(wu.Credentials).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithCredentialParameters(ceremony.CredentialParameters),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
	)
	if err != nil {
		return err
	}
	if err := s.states.begin(w, r, st, sd); err != nil {
		return err
	}
	s.metrics.started("registration")
	httpjson.Write(w, http.StatusOK, creation.Response)
	return nil
}

// registrationAccount decides whose passkey this will be: the signed-in
// account's, or, under mode SignUpOpen, a new account's for email. A
// signed-in caller was checked for a recent passkey verification by
// s.freshIfSignedIn (routes.go).
func registrationAccount(r *http.Request, store passkeyd.Store, mode SignUpMode, email string) (*sealedState, *ceremony.User, error) {
	ctx := r.Context()
	if u := passkeyd.UserFromContext(ctx); u != nil {
		if email != "" && passkeyd.EmailKey(email) != passkeyd.EmailKey(u.Email) {
			return nil, nil, passkeyd.Errorf(passkeyd.EINVALID,
				"You are signed in as %s. Sign out first to create another account.", u.Email)
		}
		creds, err := store.ListCredentials(ctx, u.ID)
		if err != nil {
			return nil, nil, err
		}
		wu := &ceremony.User{Handle: u.Handle, Name: u.Email}
		for _, c := range creds {
			wu.Credentials = append(wu.Credentials, ceremony.WebAuthnCredential(c))
		}
		st := &sealedState{Kind: passkeyd.CeremonyRegistration, UserID: u.ID, Email: u.Email, Handle: u.Handle, SignedInUserID: u.ID}
		return st, wu, nil
	}

	if mode == SignUpEmailFirst {
		return nil, nil, errSignUpByEmail
	}
	email, err := passkeyd.ValidateEmail(email)
	if err != nil {
		return nil, nil, err
	}
	switch _, err := store.FindUserByEmail(ctx, email); passkeyd.ErrorCode(err) {
	case "":
		return nil, nil, errEmailTaken
	case passkeyd.ENOTFOUND:
	default:
		return nil, nil, err
	}
	handle := keyedhash.RandomBytes(32)
	st := &sealedState{Kind: passkeyd.CeremonyRegistration, UserID: uuid.NewString(), Email: email, Handle: handle}
	return st, &ceremony.User{Handle: handle, Name: email}, nil
}

// registered answers a verified registration.
type registered struct {
	Verified bool `json:"verified"`
	// SignedIn: a recovery session became a full one, or a sign-up link's
	// account was made and signed in.
	SignedIn bool `json:"signedIn,omitempty"`
}

// handleRegisterFinish verifies the new passkey and only then writes it:
// with a new account in one transaction, or to the signed-in account. It
// returns the new passkey's provider name.
func (s *Server) handleRegisterFinish(w http.ResponseWriter, r *http.Request) (string, error) {
	ctx := r.Context()
	body, err := httpjson.ReadBody(w, r)
	if err != nil {
		return "", err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return "", parseError(err)
	}
	kind := passkeyd.CeremonyRegistration
	if s.cfg.SignUpMode == SignUpEmailFirst && passkeyd.UserFromContext(ctx) == nil {
		kind = passkeyd.CeremonyEmailSignUp // signed out, only a sign-up link starts a registration
	}
	ch, sd, used, err := s.states.finish(r, kind, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return "", err
	}
	if err := s.origins.checkClient(parsed.Response.CollectedClientData.Origin); err != nil {
		return "", err
	}
	now := s.cfg.Now()
	c, err := ceremony.VerifyRegistration(s.wa, *sd, parsed, &ceremony.User{Handle: ch.Handle, Name: ch.Email}, ch.UserID, r.UserAgent(), now)
	if err != nil {
		s.log.InfoContext(r.Context(), "passkey registration failed", "event", "registration_failed", "client_ip", clientIP(r), "reason", protocolDetail(err))
		return "", err
	}
	ev := s.events.new(r, ch.UserID, passkeyd.EventPasskeyAdded, c.ID, c.Name) // addPasskey may still number the name

	if ch.SignedInUserID != "" {
		return s.addPasskey(w, r, ch, used, c, ev)
	}
	// No display name: it goes to apps as the name claim, and the address
	// must reach an app only under the email scope. The user sets one on
	// the dashboard. (The passkey prompt shows the address: see ceremony.User.)
	u := &passkeyd.User{ID: ch.UserID, Email: ch.Email, Handle: ch.Handle, CreatedAt: now, UpdatedAt: now}
	byLink := ch.Kind == passkeyd.CeremonyEmailSignUp
	if byLink {
		u.EmailVerifiedAt = now // the emailed link proved the address
	}
	reg := &passkeyd.Registration{Challenge: used, User: u, Credential: c, Events: []*passkeyd.Event{ev}}
	var token string
	if byLink {
		// The account is made with its address confirmed and the browser
		// signed in with the passkey just verified, in one transaction.
		reg.Events = append(reg.Events, s.events.new(r, u.ID, passkeyd.EventEmailVerified, "", u.Email))
		reg.Session, token = s.sessions.start(r, u, passkeyd.ScopeFull, c.ID)
	}
	err = s.store.CompleteRegistration(ctx, reg)
	if errors.Is(err, passkeyd.ErrChallengeUsed) {
		return "", errNoCeremony
	}
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
		if _, ferr := s.store.FindUserByEmail(ctx, ch.Email); ferr == nil {
			return "", errEmailTaken
		}
		return "", passkeyd.WrapError(passkeyd.ECONFLICT, "This passkey is already registered.", err)
	}
	if err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "account created", "event", passkeyd.EventUserCreated, "user_id", u.ID, "passkey_id", c.ID, "client_ip", clientIP(r))
	s.states.end(w, ch)
	if byLink {
		s.cookies.set(w, s.cookies.session, token, s.cfg.SessionMaxAge)
		httpjson.Write(w, http.StatusOK, registered{Verified: true, SignedIn: true})
		return aaguid.Name(c.AAGUID), nil
	}
	if token, err := s.tokens.Issue(ctx, passkeyd.TokenVerifyEmail, u.ID, u.Email, s.cfg.EmailLinkTTL); err != nil {
		s.log.WarnContext(ctx, "verification token not saved", "err", err) // the user can ask again from the dashboard
	} else {
		s.mail.verification(u, token)
	}
	httpjson.Write(w, http.StatusOK, registered{Verified: true})
	return aaguid.Name(c.AAGUID), nil
}

// addPasskey adds a verified passkey to the signed-in account, and
// answers. A recovery session that did so becomes a full session, with a
// fresh ID.
func (s *Server) addPasskey(w http.ResponseWriter, r *http.Request, ch *sealedState, used passkeyd.UsedChallenge, c *passkeyd.Credential, ev *passkeyd.Event) (string, error) {
	ctx := r.Context()
	// The browser must still be signed in to the account the ceremony was
	// for: signing out (or in as someone else) in between voids it.
	u, sess := passkeyd.UserFromContext(ctx), passkeyd.SessionFromContext(ctx)
	if u == nil || u.ID != ch.SignedInUserID {
		return "", passkeyd.Errorf(passkeyd.EUNAUTHORIZED, "You were signed out before the passkey was saved. Please sign in and try again.")
	}
	// Two passkeys of one provider would share a default name; number the
	// newer so the dashboard tells them apart.
	existing, err := s.store.ListCredentials(ctx, u.ID)
	if err != nil {
		return "", err
	}
	c.Name = uniqueName(c.Name, existing)
	ev.Detail = c.Name
	reg := &passkeyd.Registration{Challenge: used, Credential: c, Events: []*passkeyd.Event{ev}}
	var token string
	if sess.Scope == passkeyd.ScopeRecovery {
		// In the same transaction, the recovery session becomes a full one.
		reg.Session, token = s.sessions.start(r, u, passkeyd.ScopeFull, c.ID)
		reg.ReplacesSession = sess.ID
	}
	if err := s.store.CompleteRegistration(ctx, reg); err != nil {
		if errors.Is(err, passkeyd.ErrChallengeUsed) {
			return "", errNoCeremony
		}
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
			return "", passkeyd.WrapError(passkeyd.ECONFLICT, "This passkey is already registered.", err)
		}
		return "", err
	}
	s.log.InfoContext(ctx, "passkey added", "event", passkeyd.EventPasskeyAdded, "user_id", u.ID, "passkey_id", c.ID, "client_ip", clientIP(r))
	s.states.end(w, ch)
	s.mail.notice(u.Email, emailtext.PasskeyAdded, c.Name)
	if reg.Session != nil {
		s.cookies.set(w, s.cookies.session, token, s.cfg.SessionMaxAge)
	}
	httpjson.Write(w, http.StatusOK, registered{Verified: true, SignedIn: reg.Session != nil})
	return aaguid.Name(c.AAGUID), nil
}

// uniqueName returns name, or name with the first free " 2", " 3", ...
// when a passkey of the account already has it.
func uniqueName(name string, existing []*passkeyd.Credential) string {
	taken := map[string]bool{}
	for _, c := range existing {
		taken[c.Name] = true
	}
	candidate := name
	for n := 2; taken[candidate]; n++ {
		candidate = fmt.Sprintf("%s %d", name, n)
	}
	return candidate
}
