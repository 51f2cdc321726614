package passkeyd

import (
	"encoding/base64"
	"time"
)

// Credential is a passkey registered to a user: the public key and what the
// authenticator told us about itself. go-webauthn's verdicts are stored
// field by field so that the next sign-in can be checked against them.
type Credential struct {
	ID                string // public, stable ID used by the API (/api/passkeys/{id})
	UserID            string
	CredentialID      []byte // the authenticator's credential ID (rawId)
	PublicKey         []byte // COSE_Key
	SignCount         uint32
	Transports        []string // as the browser reported them, "hybrid" included
	AAGUID            []byte   // 16 bytes; all zero when the authenticator hides its model
	AttestationFormat string   // "none", "packed", ...
	AttestationType   string
	BackupEligible    bool // BE: the key may be synced (decided at creation by the provider)
	BackupState       bool // BS: the key is synced now
	UserVerified      bool // UV at the last ceremony
	Attachment        string
	Name              string // friendly name shown on the dashboard
	CloneWarning      bool   // a sign counter went backwards: possibly cloned
	CreatedAt         time.Time
	LastUsedAt        time.Time // zero if never used to sign in
	UpdatedAt         time.Time
}

// EncodeCredentialID returns the base64url form of a credential ID, as the
// browser sends it in "id".
func EncodeCredentialID(id []byte) string {
	return base64.RawURLEncoding.EncodeToString(id)
}

// Validate reports whether c can be stored.
func (c *Credential) Validate() error {
	switch {
	case c.ID == "":
		return Errorf(EINVALID, "Credential ID required.")
	case c.UserID == "":
		return Errorf(EINVALID, "Credential user required.")
	case len(c.CredentialID) == 0 || len(c.CredentialID) > 1023:
		return Errorf(EINVALID, "Credential ID must be 1 to 1023 bytes.")
	case len(c.PublicKey) == 0:
		return Errorf(EINVALID, "Credential public key required.")
	case len(c.Name) > MaxCredentialNameLength:
		return Errorf(EINVALID, "A passkey name may have at most %d characters.", MaxCredentialNameLength)
	}
	return nil
}

// MaxCredentialNameLength bounds friendly names.
const MaxCredentialNameLength = 100

// CredentialUse is what a successful sign-in writes back to a credential:
// the library's updated counter and flags (BS and UV may change; BE may
// change too, see the security model in the README) and the time of use.
type CredentialUse struct {
	CredentialID []byte
	// PreviousSignCount is the stored counter the sign-in was verified
	// against. The store writes SignCount only while the counter is still
	// this value, so that of parallel sign-ins carrying one counter value
	// exactly one passes.
	PreviousSignCount uint32
	SignCount         uint32
	BackupEligible    bool
	BackupState       bool
	UserVerified      bool
	UsedAt            time.Time
}
