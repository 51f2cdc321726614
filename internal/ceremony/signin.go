package ceremony

import (
	"bytes"
	"errors"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
)

// Refusals of a verified assertion. Their messages are safe to show.
var (
	ErrCloned = passkeyd.Errorf(passkeyd.EFORBIDDEN,
		"This passkey was refused because it may have been copied (its sign-in counter went backwards). Use another passkey, and remove this one from your account.")
	ErrDisabled = passkeyd.Errorf(passkeyd.EFORBIDDEN, "This account is disabled.")
)

// errUserHandle: the assertion names another user than the passkey's owner.
var errUserHandle = errors.New("user handle does not match the passkey's owner")

// Assertion is a sign-in response that go-webauthn verified against the
// stored passkey: what the authenticator reported, and how it differs from
// what is stored.
type Assertion struct {
	SignCount      uint32
	BackupEligible bool
	BackupState    bool
	UserVerified   bool
	// CloneWarning: the sign counter did not increase (go-webauthn's check).
	CloneWarning bool
	// BackupEligibleChanged and BackupStateChanged: the flags differ from
	// the stored ones.
	BackupEligibleChanged bool
	BackupStateChanged    bool
}

// VerifySignIn is the first step of a sign-in: go-webauthn verifies the
// parsed assertion against the stored passkey of owner, under the session
// data of the challenge it answers. An error means the assertion does not
// verify; its detail is for the logs only.
//
// go-webauthn refuses a sign-in whose backup-eligible flag differs from the
// stored one (go-webauthn#335). Providers do flip it (iCloud Keychain 0→1,
// some password managers both ways), and refusing locks real people out for
// no security gain, so the new value is accepted and reported in
// BackupEligibleChanged for the caller to store and log.
func VerifySignIn(wa *webauthn.WebAuthn, sd webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData,
	owner *passkeyd.User, stored *passkeyd.Credential) (*Assertion, error) {
	cred := WebAuthnCredential(stored)
	flags := parsed.Response.AuthenticatorData.Flags
	a := &Assertion{
		BackupEligible:        flags.HasBackupEligible(),
		BackupState:           flags.HasBackupState(),
		UserVerified:          flags.HasUserVerified(),
		BackupEligibleChanged: flags.HasBackupEligible() != stored.BackupEligible,
		BackupStateChanged:    flags.HasBackupState() != stored.BackupState,
	}
	if a.BackupEligibleChanged {
		cred.Flags = webauthn.NewCredentialFlags(cred.Flags.ProtocolValue() ^ protocol.FlagBackupEligible)
	}
	u := &User{Handle: owner.Handle, Name: owner.Email, Credentials: []webauthn.Credential{cred}}
	findUser := func(rawID, userHandle []byte) (webauthn.User, error) {
		if !bytes.Equal(userHandle, owner.Handle) {
			return nil, errUserHandle
		}
		return u, nil
	}
	_, verified, err := wa.ValidatePasskeyLogin(findUser, sd, parsed)
	if err != nil {
		return nil, err
	}
	a.SignCount = verified.Authenticator.SignCount
	a.CloneWarning = verified.Authenticator.CloneWarning
	return a, nil
}

// Refusal says why a verified assertion must still not sign owner in: a
// possibly cloned passkey, a disabled account, or a passkey of another
// account than the email the user typed (typedEmail, "" for none). Only
// after verification may that last be said: before, it would answer "does
// this passkey belong to that email?" for anyone holding a credential ID.
func (a *Assertion) Refusal(owner *passkeyd.User, typedEmail string) error {
	switch {
	case a.CloneWarning:
		return ErrCloned
	case owner.Disabled:
		return ErrDisabled
	case typedEmail != "" && passkeyd.EmailKey(typedEmail) != passkeyd.EmailKey(owner.Email):
		return passkeyd.Errorf(passkeyd.EUNAUTHORIZED,
			"The passkey you chose belongs to a different account than %s. Choose the passkey for that email, or clear the email field to sign in with any passkey.", typedEmail)
	}
	return nil
}

// Commit is the second step: the one write that completes a verified
// sign-in — the record that its challenge is used (used), the passkey's
// new counter and flags, the new session, and the security-log entries
// (event makes one about this sign-in). replaces is the ID of the
// browser's previous session, "" for none.
func (a *Assertion) Commit(used passkeyd.UsedChallenge, stored *passkeyd.Credential, sess *passkeyd.Session, replaces string, now time.Time,
	event func(typ, detail string) *passkeyd.Event) *passkeyd.SignIn {
	in := &passkeyd.SignIn{
		Challenge: used,
		Use: passkeyd.CredentialUse{
			CredentialID: stored.CredentialID,
			// The store writes the new counter only over the one verified
			// against, so two sign-ins with one counter value cannot both win.
			PreviousSignCount: stored.SignCount,
			SignCount:         a.SignCount,
			BackupEligible:    a.BackupEligible,
			BackupState:       a.BackupState,
			UserVerified:      a.UserVerified,
			UsedAt:            now,
		},
		Session:         sess,
		ReplacesSession: replaces,
		Events:          []*passkeyd.Event{event(passkeyd.EventLoginSucceeded, "")},
	}
	if a.BackupEligibleChanged {
		in.Events = append(in.Events, event(passkeyd.EventBackupEligibleChanged, flagChange("backup eligible", stored.BackupEligible)))
	}
	if a.BackupStateChanged {
		in.Events = append(in.Events, event(passkeyd.EventBackupStateChanged, flagChange("synced", stored.BackupState)))
	}
	return in
}

func flagChange(name string, was bool) string {
	if was {
		return name + ": yes → no"
	}
	return name + ": no → yes"
}
