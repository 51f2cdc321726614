package passkeyd

import "time"

// CeremonyKind says which WebAuthn ceremony a challenge was issued for, so
// that a registration response can never finish a sign-in or the reverse.
type CeremonyKind string

const (
	CeremonyRegistration   CeremonyKind = "registration"
	CeremonyAuthentication CeremonyKind = "authentication"
	// CeremonyEmailSignUp is the registration of a new account whose
	// address an emailed sign-up link proved: the account is created with
	// its address confirmed, and the browser signed in. Its own kind, so
	// that no other registration can finish as one.
	CeremonyEmailSignUp CeremonyKind = "email_sign_up"
)

// UsedChallenge makes a ceremony single-use. The ceremony's state does not
// live in the store (the web package seals it into the browser's ceremony
// cookie); what the store keeps is the record that a challenge was used,
// written in the same transaction as the sign-in or registration it
// completed, under a unique key. Of two attempts to complete one ceremony,
// on any number of instances, exactly one commits.
type UsedChallenge struct {
	ID string // keyed hash of the challenge
	// ExpiresAt is when the record may be deleted: after the ceremony can
	// no longer be completed anyway.
	ExpiresAt time.Time
}

// ErrChallengeUsed is the stores' answer when a sign-in or registration
// names a challenge that completed a ceremony already: a replay, or the
// same response sent twice. Nothing is written.
var ErrChallengeUsed = Errorf(EINVALID,
	"This passkey request has expired or was already used. Please start again.")

// Registration is a verified new passkey, written in one transaction by
// CompleteRegistration: with a new account (User set), or for an existing
// one (User nil). Session, if set, is a session it opens: for an account
// made from a sign-up link, or the full session that replaces the recovery
// session ReplacesSession.
type Registration struct {
	Challenge       UsedChallenge
	User            *User
	Credential      *Credential
	Events          []*Event
	Session         *Session
	ReplacesSession string
}
