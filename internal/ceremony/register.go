package ceremony

import (
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/aaguid"
	"github.com/passkeyd/passkeyd/internal/keypolicy"
)

// VerifyRegistration is the verification of a registration: go-webauthn
// verifies the parsed response for the account u under the session data
// of the challenge it answers, then the new key must fit what the
// ceremony offered. It returns the passkey to store for userID, not yet
// written, named after its provider (userAgent helps guess it). Its
// errors' messages are safe to show; their causes are for the logs.
func VerifyRegistration(wa *webauthn.WebAuthn, sd webauthn.SessionData, parsed *protocol.ParsedCredentialCreationData,
	u *User, userID, userAgent string, now time.Time) (*passkeyd.Credential, error) {
	cred, err := wa.CreateCredential(u, sd, parsed)
	if err != nil {
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "The new passkey could not be verified. Please try again.", err)
	}
	if err := checkCredentialKey(cred.PublicKey, sd.CredParams); err != nil {
		return nil, err
	}
	transports := transportStrings(parsed.Raw.AttestationResponse.Transports)
	return &passkeyd.Credential{
		ID:                uuid.NewString(),
		UserID:            userID,
		CredentialID:      cred.ID,
		PublicKey:         cred.PublicKey,
		SignCount:         cred.Authenticator.SignCount,
		Transports:        transports,
		AAGUID:            cred.Authenticator.AAGUID,
		AttestationFormat: cred.AttestationFormat,
		AttestationType:   cred.AttestationType,
		BackupEligible:    cred.Flags.BackupEligible,
		BackupState:       cred.Flags.BackupState,
		UserVerified:      cred.Flags.UserVerified,
		Attachment:        string(cred.Authenticator.Attachment),
		Name: defaultPasskeyName(cred.Authenticator.AAGUID, aaguid.Hint{
			Transports: transports, Attachment: string(cred.Authenticator.Attachment),
			BackupEligible: cred.Flags.BackupEligible, UserAgent: userAgent}, now),
		CreatedAt: now,
		UpdatedAt: now,
	}, nil
}

// defaultPasskeyName is the provider's name ("iCloud Keychain", "YubiKey 5
// Series") when the AAGUID or the hint tells it, else "Passkey" and the date.
func defaultPasskeyName(id []byte, h aaguid.Hint, now time.Time) string {
	if name, err := passkeyd.ValidateCredentialName(aaguid.Guess(id, h)); err == nil {
		return name
	}
	return "Passkey " + now.UTC().Format("2 Jan 2006")
}

// transportStrings keeps the transports a client reported, bounded: they
// are the client's to choose.
func transportStrings(ts []string) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		if t != "" && len(t) <= 32 && len(out) < 8 {
			out = append(out, t)
		}
	}
	return out
}

// CredentialParameters are the algorithms offered at registration, in
// order of preference: ES256 (nearly every authenticator), EdDSA, ES384
// and ES512 (some security keys), PS256 (some TPMs and Windows Hello) and
// RS256 (Windows Hello, older keys). internal/keypolicy holds each new key
// to this list.
var CredentialParameters = []protocol.CredentialParameter{
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES256},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgEdDSA},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES384},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES512},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgPS256},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgRS256},
}

// checkCredentialKey refuses a verified credential whose public key does
// not fit what the ceremony offered (go-webauthn does not parse the key of
// an attestation "none" registration).
func checkCredentialKey(coseKey []byte, offered []protocol.CredentialParameter) error {
	algs := make([]webauthncose.COSEAlgorithmIdentifier, 0, len(offered))
	for _, p := range offered {
		algs = append(algs, p.Algorithm)
	}
	if err := keypolicy.Check(coseKey, algs); err != nil {
		return passkeyd.WrapError(passkeyd.EINVALID,
			"This passkey's key type is not supported. Please try another passkey provider.", err)
	}
	return nil
}
