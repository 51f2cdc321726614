package passkeyd

import (
	"context"
	"time"
)

// Store is everything passkeyd keeps. The sqlite and postgres packages
// implement it; a host application may bring its own. Every method returns
// *Error codes as documented, never a driver's error type, and every method
// that writes more than one row does so in one transaction.
//
// The storetest package holds the suite an implementation must pass.
type Store interface {
	UserStore
	CredentialStore
	SessionStore
	EventStore
	AccountStore

	// DeleteExpired removes used-challenge records, sessions and links that
	// expired before now.
	// It is safe to run on every instance at once.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
	// Ping reports whether the database answers (EUNAVAILABLE if not).
	Ping(ctx context.Context) error
	Close() error
}

// UserStore keeps accounts.
type UserStore interface {
	// CreateUser stores a new account together with its first passkey, in
	// one transaction, so an account never exists without a way in.
	// ECONFLICT if the email (case-insensitively) or the credential ID is
	// taken.
	CreateUser(ctx context.Context, u *User, first *Credential, ev *Event) error
	// CompleteRegistration writes a verified registration in one
	// transaction: the record that its challenge is used, the new account
	// (if r.User is set) and its passkey, the events, and r.Session if set
	// (replacing r.ReplacesSession if set). ErrChallengeUsed if the
	// challenge completed a ceremony already; ECONFLICT if the email or the
	// credential ID is taken; ENOTFOUND if r.User is nil and the account
	// does not exist, or r.ReplacesSession does not; nothing is written then.
	CompleteRegistration(ctx context.Context, r *Registration) error
	// FindUserByID returns ENOTFOUND if there is no such user.
	FindUserByID(ctx context.Context, id string) (*User, error)
	// FindUserByEmail looks up by EmailKey(email); ENOTFOUND if none.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
}

// CredentialStore keeps passkeys.
type CredentialStore interface {
	// AddCredential adds a passkey to an existing account. ECONFLICT if the
	// credential ID is registered already (to anyone), ENOTFOUND if the
	// user does not exist.
	AddCredential(ctx context.Context, c *Credential, ev *Event) error
	// FindCredential returns a passkey by the authenticator's credential ID,
	// with its owner. ENOTFOUND if unknown.
	FindCredential(ctx context.Context, credentialID []byte) (*Credential, *User, error)
	// ListCredentials returns a user's passkeys, oldest first.
	ListCredentials(ctx context.Context, userID string) ([]*Credential, error)
	// FlagCredentialCloned marks a passkey as possibly cloned and records
	// ev, in one transaction that also records that the ceremony whose
	// assertion showed it is used (used). ErrChallengeUsed if that
	// ceremony completed already: the same response sent twice (a retry,
	// a double submit) reads the counter its first sending wrote and looks
	// like a copy, but is none; nothing is written then.
	FlagCredentialCloned(ctx context.Context, used UsedChallenge, credentialID []byte, ev *Event) error
}

// SessionStore keeps login sessions.
type SessionStore interface {
	// CompleteSignIn writes a successful sign-in in one transaction: the
	// record that its challenge is used, the credential's counter, flags
	// and last use, the new session, the removal of the session it
	// replaces, and the events. ErrChallengeUsed if the challenge completed
	// a ceremony already. ENOTFOUND if the
	// credential disappeared meanwhile. ECONFLICT if its stored counter is
	// no longer s.Use.PreviousSignCount: the counter update is a
	// compare-and-set, so of parallel sign-ins verified against one counter
	// value exactly one passes (a counter that stays 0, as synced passkeys'
	// do, never conflicts). Either way nothing is written.
	CompleteSignIn(ctx context.Context, s *SignIn) error
	// FindSession returns a session that has not expired at now, and its
	// user. ENOTFOUND otherwise.
	FindSession(ctx context.Context, id string, now time.Time) (*Session, *User, error)
	// TouchSession records activity: LastSeenAt and a new IdleExpiresAt.
	TouchSession(ctx context.Context, id string, lastSeen, idleExpires time.Time) error
	// DeleteSession ends a session. Deleting a missing session is not an
	// error.
	DeleteSession(ctx context.Context, id string) error
}

// EventStore keeps the security log.
type EventStore interface {
	// RecordEvent appends to the security log.
	RecordEvent(ctx context.Context, e *Event) error
	// ListEvents returns a user's events, newest first, with IDs below
	// before (0: from the newest), at most limit.
	ListEvents(ctx context.Context, userID string, before int64, limit int) ([]*Event, error)
}
