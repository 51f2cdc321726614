package web

import (
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/keypolicy"
)

// credentialParameters are the algorithms offered at registration, in
// order of preference: ES256 (nearly every authenticator), EdDSA, ES384
// and ES512 (some security keys), PS256 (some TPMs and Windows Hello) and
// RS256 (Windows Hello, older keys). internal/keypolicy holds each new key
// to this list.
var credentialParameters = []protocol.CredentialParameter{
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
