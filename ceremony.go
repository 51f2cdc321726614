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

// Challenge is the server-side half of a ceremony in progress. It is stored
// between the options request and the verify request, bound to the browser
// that asked for it, and taken (read and deleted atomically) exactly once.
type Challenge struct {
	ID      string // keyed hash of the challenge sent to the browser
	Binding string // keyed hash of the browser's ceremony cookie
	Kind    CeremonyKind
	// SessionData is go-webauthn's webauthn.SessionData, JSON-encoded and
	// kept verbatim: dropping any field breaks the ceremony.
	SessionData []byte
	// Registration: the account the passkey is for. For a sign-up UserID,
	// Email and Handle describe an account that does not exist yet and is
	// created only when the response verifies. SignedInUserID is set when a
	// signed-in user adds a passkey to their own account.
	UserID         string
	Email          string
	Handle         []byte
	SignedInUserID string
	// SessionID is the login session the ceremony was started in, if any.
	// A step-up sign-in or a recovery registration applies to it.
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
}
