package passkeyd

import "time"

// Event types of the security log. They are stable: operators alert on them
// and they appear in the logs under the key "event".
const (
	EventUserCreated            = "user_created"
	EventPasskeyAdded           = "passkey_added"
	EventPasskeyRenamed         = "passkey_renamed"
	EventProfileChanged         = "profile_changed" // the name or username apps receive
	EventPasskeyDeleted         = "passkey_deleted"
	EventLoginSucceeded         = "login_succeeded"
	EventLoginFailed            = "login_failed"
	EventCloneWarning           = "clone_warning"
	EventBackupEligibleChanged  = "backup_eligibility_changed"
	EventBackupStateChanged     = "backup_state_changed"
	EventLogout                 = "logout"
	EventSessionRevoked         = "session_revoked"
	EventRecoveryUsed           = "recovery_used"
	EventEmailChanged           = "email_changed"
	EventEmailVerified          = "email_verified"
	EventRecoveryCodesGenerated = "recovery_codes_generated"
	EventRecoveryLinkIssued     = "recovery_link_issued" // by an operator (passkeyd users recovery-link)
	EventEmailChangeRequested   = "email_change_requested"
	EventEmailChangeCancelled   = "email_change_cancelled" // through the link sent to the current address
	EventAccountTakenOver       = "account_taken_over"     // by the owner of an address nobody had confirmed
)

// Event is one entry of an account's security log.
type Event struct {
	ID           int64
	UserID       string
	Type         string
	CredentialID string // API ID of the passkey involved, if any
	IP           string
	UserAgent    string
	Detail       string // short, human-readable, never a secret
	ClientID     string // the app involved, if any (OpenID Connect client ID)
	// AdminID and AdminName say which administrator made it happen through
	// the console or its API: the administrator's user ID and email, or
	// "apikey:" + the key's ID and the key's name; both empty when the
	// account holder (or the shell's operator) did.
	AdminID   string
	AdminName string
	CreatedAt time.Time
}

// Actor is who made an event happen: a browser (its client address and
// User-Agent), or an operator at the command line (neither); through the
// console, also the administrator (Event.AdminID, Event.AdminName).
type Actor struct {
	IP        string
	UserAgent string
	AdminID   string
	AdminName string
}

// maxUserAgent bounds the User-Agent an event keeps: it is the client's to choose.
const maxUserAgent = 256

// NewEvent returns an entry for the security log of the account userID
// (credentialID: the API ID of the passkey involved, "" for none). Every
// event passkeyd records is made here.
func NewEvent(at time.Time, by Actor, userID, typ, credentialID, detail string) *Event {
	ua := by.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return &Event{UserID: userID, Type: typ, CredentialID: credentialID, IP: by.IP, UserAgent: ua, Detail: detail,
		AdminID: by.AdminID, AdminName: by.AdminName, CreatedAt: at}
}
