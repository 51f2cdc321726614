package passkeyd

import (
	"context"
	"strings"
	"time"
)

// What the administrator's console (package console) and the shell's admin
// subcommands keep beyond accounts and apps: who administers, groups of
// people that apps admit and name in the groups claim, API keys for
// automation, and the queries behind the console's pages.

// Event types of administration. Each is recorded with the administrator
// (or API key) that acted in Event.AdminID and Event.AdminName.
const (
	EventAdminGranted     = "admin_granted"
	EventAdminRevoked     = "admin_revoked"
	EventUserDisabled     = "user_disabled"
	EventUserEnabled      = "user_enabled"
	EventUserDeleted      = "user_deleted"
	EventSessionsEnded    = "sessions_ended" // every session of the account, by an administrator
	EventGroupCreated     = "group_created"
	EventGroupRenamed     = "group_renamed"
	EventGroupDeleted     = "group_deleted"
	EventGroupMemberAdded = "group_member_added"
	EventGroupMemberGone  = "group_member_removed"
	EventAppCreated       = "app_created"
	EventAppUpdated       = "app_updated"
	EventAppSecretRotated = "app_secret_rotated"
	EventAppDeleted       = "app_deleted"
	EventAPIKeyCreated    = "api_key_created"
	EventAPIKeyRevoked    = "api_key_revoked"
)

// TokenAdminSetup is the one-time link printed at start while no account
// is an administrator: the account that opens it, signed in with a passkey,
// becomes the first administrator. Like TokenSignUp it belongs to no
// account (UserID and Email are empty); a new one ends the earlier one.
const TokenAdminSetup TokenPurpose = "admin_setup"

// Group is a named set of accounts. Apps may admit only the members of
// given groups (OIDCClient.AllowedGroups) and receive the names of the
// user's groups in the groups claim.
type Group struct {
	ID          string
	Name        string // unique without regard to case (ValidateGroupName)
	MemberCount int    // filled in by ListGroups and FindGroup
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// APIKey lets a script call the console's JSON API (/api/admin/) as an
// administrator would. The key reads "pkd_" + secret; the store keeps only
// the SHA-256 of the whole key (Hash, hex): keys are 256 random bits, so a
// fast hash leaves nothing to guess.
type APIKey struct {
	ID        string
	Name      string
	Hash      string
	CreatedBy string // the administrator's email, or "shell" for passkeyd api-keys add
	// CreatedByID is the user ID of the administrator the key belongs to:
	// who made it, or the owner of the key it was made with; "" for a key
	// made at the shell. The key ends when they stop being an
	// administrator (see ConsoleStore).
	CreatedByID string
	CreatedAt   time.Time
	LastUsedAt  time.Time // zero until first used
}

// UserSummary is a row of the console's people list.
type UserSummary struct {
	User
	Admin        bool
	Passkeys     int
	LastSignInAt time.Time // the last use of any of the account's passkeys; zero if never
}

// UserQuery selects the console's people list: accounts whose email,
// display name or username contains Search (case-insensitively; "" for
// all), the most recent sign-in first (never-signed-in accounts last, newest
// first), Offset rows skipped, at most Limit.
type UserQuery struct {
	Search string
	Offset int
	Limit  int
}

// AuditQuery selects the audit log: every account's and app's events,
// newest first, with IDs below Before (0: from the newest), at most Limit,
// and only those matching each filter that is set.
type AuditQuery struct {
	Type     string
	UserID   string // the account the event is about, or the administrator who acted
	ClientID string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	Before   int64
	Limit    int
}

// DayCount is one day (UTC) of the overview's sign-in chart.
type DayCount struct {
	Day       time.Time // midnight UTC
	Succeeded int
	Failed    int
}

// Overview is what the console's first page shows.
type Overview struct {
	Accounts       int
	ActiveAccounts int        // signed in (a passkey used) since Since
	SignIns        []DayCount // one per day from Since to now, oldest first, days without any included
	Apps           []AppSignIns
}

// AppSignIns counts an app's sign-ins (EventOIDCSignIn) since Overview's Since.
type AppSignIns struct {
	ClientID string
	Name     string
	SignIns  int
}

// ConsoleStore keeps what the console and the admin subcommands need. The
// sqlite and postgres stores implement it; storetest.RunConsole is its
// suite. Every method that writes records its event in the same
// transaction.
type ConsoleStore interface {
	// IsAdmin reports whether the account is an administrator.
	IsAdmin(ctx context.Context, userID string) (bool, error)
	// CountAdmins counts administrators whose accounts are not disabled.
	CountAdmins(ctx context.Context) (int, error)
	// SetAdmin grants or revokes the administrator role. ECONFLICT when it
	// would leave no enabled administrator; ENOTFOUND for an unknown user.
	// Revoking it also deletes the API keys that belong to the account
	// (APIKey.CreatedByID), with an EventAPIKeyRevoked for each, in the same
	// transaction; so do disabling the account, deleting it and its
	// takeover (AccountStore.SetUserDisabled, DeleteUser, DeleteAccount,
	// StartRecovery).
	SetAdmin(ctx context.Context, userID string, admin bool, ev *Event) error
	// ClaimAdminSetup spends the TokenAdminSetup link tokenID and makes
	// userID an administrator, in one transaction. ENOTFOUND if the link
	// is unknown, used or expired at now; ECONFLICT (and the link is kept)
	// if an enabled administrator exists already.
	ClaimAdminSetup(ctx context.Context, tokenID, userID string, now time.Time, ev *Event) error

	// SearchUsers returns a page of the people list and how many accounts
	// match in all.
	SearchUsers(ctx context.Context, q UserQuery) ([]*UserSummary, int, error)
	// LastSignIns returns, for each user ID given, when a passkey of the
	// account was last used (absent if never).
	LastSignIns(ctx context.Context, userIDs ...string) (map[string]time.Time, error)
	// Overview counts accounts, those active since since, sign-ins per UTC
	// day since since (EventLoginSucceeded and EventLoginFailed, and the
	// failures of sign-ins that named no account), and each app's sign-ins.
	Overview(ctx context.Context, since, now time.Time) (*Overview, error)
	// ListAuditEvents reads the audit log.
	ListAuditEvents(ctx context.Context, q AuditQuery) ([]*Event, error)

	// DeleteAccount deletes an account and everything of theirs but the
	// security log (their API keys included), and records ev, in one
	// transaction. ECONFLICT if it is the last enabled administrator.
	DeleteAccount(ctx context.Context, userID string, ev *Event) error

	// CreateGroup stores g (ID, Name, CreatedAt set by the caller).
	// ECONFLICT if the name is taken.
	CreateGroup(ctx context.Context, g *Group, ev *Event) error
	// RenameGroup renames; apps that admit the group keep admitting it.
	// ECONFLICT if the name is taken, ENOTFOUND if unknown.
	RenameGroup(ctx context.Context, id, name string, ev *Event) error
	// DeleteGroup deletes a group with its memberships. ECONFLICT while an
	// app admits the group (OIDCClient.AllowedGroups): deleting it must not
	// open the app to everyone, nor lock everyone out unnoticed; ENOTFOUND
	// if unknown.
	DeleteGroup(ctx context.Context, id string, ev *Event) error
	// FindGroup finds a group by ID or, failing that, by name
	// (case-insensitively). ENOTFOUND if neither.
	FindGroup(ctx context.Context, idOrName string) (*Group, error)
	// ListGroups returns every group, by name, with member counts.
	ListGroups(ctx context.Context) ([]*Group, error)
	// AddGroupMember adds the account to the group (adding a member twice
	// is not an error). ENOTFOUND if either is unknown.
	AddGroupMember(ctx context.Context, groupID, userID string, ev *Event) error
	// RemoveGroupMember removes the account from the group (not an error
	// if it was no member).
	RemoveGroupMember(ctx context.Context, groupID, userID string, ev *Event) error
	// ListGroupMembers returns the group's members, by email.
	ListGroupMembers(ctx context.Context, groupID string) ([]*User, error)
	// ListUserGroups returns the account's groups, by name.
	ListUserGroups(ctx context.Context, userID string) ([]*Group, error)

	// CreateAPIKey stores k. ECONFLICT if the name is taken.
	CreateAPIKey(ctx context.Context, k *APIKey, ev *Event) error
	// FindAPIKey returns the key with this hash and records its use at
	// now (LastUsedAt). ENOTFOUND if unknown or revoked.
	FindAPIKey(ctx context.Context, hash string, now time.Time) (*APIKey, error)
	// ListAPIKeys returns every key, by name.
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeAPIKey deletes a key. ENOTFOUND if unknown.
	RevokeAPIKey(ctx context.Context, id string, ev *Event) error
}

// MaxGroupName is the longest group name.
const MaxGroupName = 64

// ValidateGroupName checks a group's name and returns it trimmed: 1 to 64
// letters, digits, '.', '_' or '-'. Apps receive it in the groups claim and
// operators type it in flags (oauth2-proxy's --allowed-group, Grafana's
// role_attribute_path), where spaces and quotes would need escaping.
func ValidateGroupName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Errorf(EINVALID, "Please enter a group name.")
	}
	if len(name) > MaxGroupName {
		return "", Errorf(EINVALID, "A group name is at most %d characters.", MaxGroupName)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return "", Errorf(EINVALID, "A group name may hold only letters, digits, '.', '_' and '-'.")
		}
	}
	return name, nil
}
