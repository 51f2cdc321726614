package passkeyd

import (
	"context"
	"time"
)

// TokenPurpose says what an emailed link may do.
type TokenPurpose string

const (
	// TokenVerifyEmail confirms that the account's address is the user's.
	TokenVerifyEmail TokenPurpose = "verify_email"
	// TokenRecovery opens a recovery session that may register a passkey.
	TokenRecovery TokenPurpose = "recovery"
	// TokenChangeEmail confirms a new address before it replaces the old.
	TokenChangeEmail TokenPurpose = "change_email"
)

// Token is a single-use secret sent by email. The link holds the secret;
// the store keeps only its keyed hash (ID), and TakeToken consumes it.
type Token struct {
	ID        string
	UserID    string
	Purpose   TokenPurpose
	Email     string // the address the link was sent to
	CreatedAt time.Time
	ExpiresAt time.Time
}

// RecoveryCode is one of a set of one-time codes shown once to the user.
// A code reads "ID-SECRET": the ID finds the row, the secret is checked
// against Hash, made by a password-hashing function.
type RecoveryCode struct {
	ID        string
	UserID    string
	Hash      string
	CreatedAt time.Time
	UsedAt    time.Time // zero while unused
}

// AccountStore keeps what account management needs beyond sign-in. Every
// method taking a userID acts only on that user's rows: another user's
// passkey or session ID is ENOTFOUND and changes nothing.
type AccountStore interface {
	// ListUsers returns users ordered by EmailKey, after the given key, at
	// most limit.
	ListUsers(ctx context.Context, afterEmailKey string, limit int) ([]*User, error)
	// VerifyEmail marks the account's address verified, if it is still
	// email (ENOTFOUND otherwise), and records ev.
	VerifyEmail(ctx context.Context, userID, email string, at time.Time, ev *Event) error
	// ChangeEmail replaces the account's address with a verified new one.
	// ECONFLICT if another account has it.
	ChangeEmail(ctx context.Context, userID, newEmail string, at time.Time, ev *Event) error
	// SetUserDisabled disables (deleting all sessions) or re-enables a user.
	SetUserDisabled(ctx context.Context, userID string, disabled bool, ev *Event) error
	// DeleteUser deletes a user and everything of theirs but the security log.
	DeleteUser(ctx context.Context, userID string) error

	// RenameCredential sets a passkey's friendly name.
	RenameCredential(ctx context.Context, userID, id, name string, ev *Event) error
	// DeleteCredential deletes a passkey. It refuses with ECONFLICT to
	// delete the account's last passkey unless the account has another
	// way back in: a verified email or an unused recovery code. The check
	// and the delete are one transaction.
	DeleteCredential(ctx context.Context, userID, id string, ev *Event) error

	// ListSessions returns the user's unexpired sessions, newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// DeleteUserSession ends one of the user's sessions.
	DeleteUserSession(ctx context.Context, userID, id string, ev *Event) error
	// DeleteOtherSessions ends all the user's sessions but keepID ("" for
	// all) and returns how many ended.
	DeleteOtherSessions(ctx context.Context, userID, keepID string, ev *Event) (int64, error)
	// ReplaceSession deletes oldID and stores s, in one transaction (a
	// recovery session becoming a full one gets a fresh ID). ENOTFOUND if
	// oldID is not a session of s's user.
	ReplaceSession(ctx context.Context, oldID string, s *Session) error
	// StartRecoverySession ends every session of s's user, stores s (a
	// recovery session) and records ev, in one transaction.
	StartRecoverySession(ctx context.Context, s *Session, ev *Event) error
	// CountActiveSessions counts unexpired sessions, for metrics.
	CountActiveSessions(ctx context.Context, now time.Time) (int64, error)

	// SaveToken stores an emailed token until its ExpiresAt.
	SaveToken(ctx context.Context, t *Token) error
	// TakeToken atomically deletes and returns an unexpired token of this
	// purpose: exactly once; ENOTFOUND afterwards, when expired, or for
	// another purpose.
	TakeToken(ctx context.Context, id string, purpose TokenPurpose, now time.Time) (*Token, error)

	// ReplaceRecoveryCodes stores a new set of codes for the user,
	// deleting the old set, and records ev.
	ReplaceRecoveryCodes(ctx context.Context, userID string, codes []*RecoveryCode, ev *Event) error
	// FindRecoveryCode returns an unused code of the user, ENOTFOUND if none.
	FindRecoveryCode(ctx context.Context, userID, id string) (*RecoveryCode, error)
	// UseRecoveryCode marks an unused code used, atomically: of several
	// racing callers exactly one succeeds, the others get ENOTFOUND.
	UseRecoveryCode(ctx context.Context, userID, id string, at time.Time) error
	// CountRecoveryCodes counts the user's unused codes.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
}
