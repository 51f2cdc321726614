// Package ceremony holds the WebAuthn rules of passkeyd that are not HTTP:
// how an account and its passkeys are handed to go-webauthn; the two
// steps of a sign-in — verify the assertion (all verification is
// go-webauthn's), then build the one write that commits it; and the
// verification of a registration, which yields the passkey to store.
package ceremony

import (
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
)

// User adapts an account to go-webauthn's User interface.
type User struct {
	Handle      []byte
	Name        string
	Credentials []webauthn.Credential
}

func (u *User) WebAuthnID() []byte                         { return u.Handle }
func (u *User) WebAuthnName() string                       { return u.Name }
func (u *User) WebAuthnDisplayName() string                { return u.Name }
func (u *User) WebAuthnCredentials() []webauthn.Credential { return u.Credentials }

// WebAuthnCredential gives go-webauthn what it checks a sign-in against.
func WebAuthnCredential(c *passkeyd.Credential) webauthn.Credential {
	var flags protocol.AuthenticatorFlags
	if c.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	transports := make([]protocol.AuthenticatorTransport, len(c.Transports))
	for i, t := range c.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:                c.CredentialID,
		PublicKey:         c.PublicKey,
		AttestationType:   c.AttestationType,
		AttestationFormat: c.AttestationFormat,
		Transport:         transports,
		Flags:             webauthn.NewCredentialFlags(flags | protocol.FlagUserPresent),
		Authenticator: webauthn.Authenticator{
			AAGUID:     c.AAGUID,
			SignCount:  c.SignCount,
			Attachment: protocol.AuthenticatorAttachment(c.Attachment),
		},
	}
}
