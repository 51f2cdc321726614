package passkeyd

import "time"

// SessionScope limits what a login session may do.
type SessionScope string

const (
	// ScopeFull is an ordinary signed-in session.
	ScopeFull SessionScope = "full"
	// ScopeRecovery is a session opened by a recovery link or code: it may
	// only register a new passkey for its account.
	ScopeRecovery SessionScope = "recovery"
)

// Session is a login session. The browser holds a random token in an
// HttpOnly cookie; the store keeps only a keyed hash of it (ID), so a copy
// of the database cannot be turned into working cookies.
type Session struct {
	ID              string
	UserID          string
	Scope           SessionScope
	CredentialID    string // API ID of the passkey that signed in, if any
	UserAgent       string
	IP              string
	CreatedAt       time.Time
	LastSeenAt      time.Time
	AuthenticatedAt time.Time // last passkey verification, for step-up
	IdleExpiresAt   time.Time // LastSeenAt + idle timeout
	ExpiresAt       time.Time // absolute limit, never extended
}

// SignIn is everything a successful passkey sign-in writes, in one
// transaction: the credential's new counter and flags, the new session, the
// session it replaces (a fresh ID at every sign-in) and the events.
type SignIn struct {
	Challenge       UsedChallenge
	Use             CredentialUse
	Session         *Session
	ReplacesSession string // ID of the browser's previous session, if any
	Events          []*Event
}
