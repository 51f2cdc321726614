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
	// TokenSignUp lets the holder of an address without an account create
	// one (sign-up by email link). It belongs to no account: its UserID
	// is empty, and Email is the address it was sent to.
	TokenSignUp TokenPurpose = "sign_up"
	// TokenCancelEmailChange, sent to the current address when a change is
	// asked for, ends the pending TokenChangeEmail link.
	TokenCancelEmailChange TokenPurpose = "cancel_email_change"
	// TokenTakeover is the recovery link of an account whose address was
	// never confirmed: whoever created the account may not own the
	// address, so using it confirms the address and removes every passkey
	// and recovery code before opening the recovery session.
	TokenTakeover TokenPurpose = "takeover"
)

// Token is a single-use secret sent by email. The link holds the secret;
// the store keeps only its keyed hash (ID), and TakeToken consumes it.
type Token struct {
	ID        string
	UserID    string // empty for TokenSignUp and TokenAdminSetup, and only for them
	Purpose   TokenPurpose
	Email     string // the address the link was sent to
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Recovery is what opening a recovery session spends and writes, in one
// transaction (AccountStore.StartRecovery): the way in, either an emailed
// recovery link (TokenID) or a recovery code (UserID and CodeID), and the
// session and event to store.
type Recovery struct {
	TokenID string // keyed hash of a recovery link's secret; the link's user is the account
	// Takeover: TokenID is a TokenTakeover link. The recovery also confirms
	// the address it was sent to and removes every passkey and recovery
	// code of the account (they were registered by whoever created the
	// account, who may not own the address), and its administrator's role
	// and API keys (given to that person).
	Takeover bool
	UserID   string // with CodeID: the account whose recovery code is used
	CodeID   string // an unused recovery code of UserID, its secret already checked
	Session  *Session
	Event    *Event
	At       time.Time // the link must not have expired at At; the code is marked used at At
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
	// ChangeEmail replaces the account's address with a verified new one
	// and ends every pending recovery and email-change link of the
	// account, in one transaction. ECONFLICT if another account has it.
	ChangeEmail(ctx context.Context, userID, newEmail string, at time.Time, ev *Event) error
	// SetUserDisabled disables or re-enables a user. Disabling ends every
	// session, every pending recovery and email-change link and every app
	// grant of the account (OpenID Connect tokens, consents and requests
	// in progress) and the API keys that belong to it (ConsoleStore), in
	// the same transaction: re-enabling revives none. ECONFLICT if it would
	// disable the last enabled administrator.
	SetUserDisabled(ctx context.Context, userID string, disabled bool, ev *Event) error
	// DeleteUser deletes a user and everything of theirs but the security
	// log. ECONFLICT if it is the last enabled administrator.
	DeleteUser(ctx context.Context, userID string) error

	// SetProfile sets the account's display name and username ("" for
	// unset), validated (ValidateDisplayName, ValidateUsername), and
	// records ev. ECONFLICT if another account has the username.
	SetProfile(ctx context.Context, userID, displayName, username string, ev *Event) error

	// RenameCredential sets a passkey's friendly name.
	RenameCredential(ctx context.Context, userID, id, name string, ev *Event) error
	// DeleteCredential deletes a passkey and ends every session signed in
	// with it (the caller's own included: a passkey removed because it may
	// be stolen must not leave its sessions open), and the app grants made
	// in those sessions (the OpenID Connect tokens, consents and requests
	// that record the passkey). It refuses with
	// ECONFLICT to delete the account's last passkey unless the account
	// has another way back in: a verified email or an unused recovery
	// code. The check and the deletes are one transaction.
	DeleteCredential(ctx context.Context, userID, id string, ev *Event) error

	// ListSessions returns the user's unexpired sessions, newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// DeleteUserSession ends one of the user's sessions.
	DeleteUserSession(ctx context.Context, userID, id string, ev *Event) error
	// DeleteOtherSessions ends all the user's sessions but keepID ("" for
	// all), and every pending recovery and email-change link of the
	// account, in one transaction, and returns how many sessions ended.
	DeleteOtherSessions(ctx context.Context, userID, keepID string, ev *Event) (int64, error)
	// ReplaceSession deletes oldID and stores s, in one transaction (a
	// recovery session becoming a full one gets a fresh ID). ENOTFOUND if
	// oldID is not a session of s's user.
	ReplaceSession(ctx context.Context, oldID string, s *Session) error
	// StartRecovery opens a recovery session, in one transaction: it
	// takes the link's token or marks the recovery code used, ends every
	// session, every pending recovery and email-change link and every app
	// grant (OpenID Connect tokens, consents, requests in progress and
	// their codes) of the account (with r.Takeover: confirms the address, deletes every
	// passkey, recovery code and pending link of the account, and takes
	// its administrator's role and API keys, even the last
	// administrator's), stores r.Session and records r.Event (both get the
	// account's user ID), and returns the account. ENOTFOUND if the link
	// is unknown, used or expired, or the code unknown or used;
	// EFORBIDDEN if the account is disabled; EINVALID if the link was
	// sent to an address that is no longer the account's. On error
	// nothing is written: the link or code stays as it was.
	StartRecovery(ctx context.Context, r *Recovery) (*User, error)
	// CancelEmailChange spends a TokenCancelEmailChange link and ends the
	// account's pending email-change link, every session of the account
	// and every app grant (OpenID Connect tokens, consents, requests in
	// progress), and records ev (which gets the account's user ID), in one
	// transaction: the change was asked for in a session the address's
	// owner disowns. Other links stay. It returns the account.
	// ENOTFOUND if the link is unknown, used or expired.
	CancelEmailChange(ctx context.Context, tokenID string, at time.Time, ev *Event) (*User, error)
	// CountActiveSessions counts unexpired sessions, for metrics.
	CountActiveSessions(ctx context.Context, now time.Time) (int64, error)

	// SaveToken stores an emailed token until its ExpiresAt, and ends the
	// account's earlier tokens of the same purpose, in one transaction:
	// only the newest link of each kind works. A TokenSignUp, which has no
	// account, ends the earlier sign-up tokens sent to the same Email; a
	// TokenAdminSetup, which has neither account nor Email, every earlier one.
	SaveToken(ctx context.Context, t *Token) error
	// TakeToken atomically deletes and returns an unexpired token of this
	// purpose: exactly once; ENOTFOUND afterwards, when expired, or for
	// another purpose.
	TakeToken(ctx context.Context, id string, purpose TokenPurpose, now time.Time) (*Token, error)

	// ReplaceRecoveryCodes stores a new set of codes for the user,
	// deleting the old set, and records ev. Of concurrent calls for one
	// user, the last to commit leaves its set and only its set.
	ReplaceRecoveryCodes(ctx context.Context, userID string, codes []*RecoveryCode, ev *Event) error
	// FindRecoveryCode returns an unused code of the user, ENOTFOUND if
	// none. StartRecovery spends it: of several racing callers exactly one
	// succeeds.
	FindRecoveryCode(ctx context.Context, userID, id string) (*RecoveryCode, error)
	// CountRecoveryCodes counts the user's unused codes.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
}
