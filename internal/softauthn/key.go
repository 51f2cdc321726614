package softauthn

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/descope/virtualwebauthn"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Key is a credential key other than virtualwebauthn's ES256 ones: its
// COSE public key exactly as the authenticator reports it, and, when the
// test needs sign-ins, a signer. Set Authenticator.NewKey to use one.
type Key struct {
	COSE []byte
	// Sign signs authenticatorData || SHA-256(clientDataJSON); nil: the key
	// can register (attestation "none" needs no signature) but not sign in.
	Sign func(message []byte) ([]byte, error)
}

// NewRSAKey returns a real RSA key of bits bits whose COSE key names alg:
// webauthncose.AlgPS256 (RSASSA-PSS, as some Windows and TPM
// authenticators use) or AlgRS256 (PKCS #1 v1.5).
func NewRSAKey(bits int, alg webauthncose.COSEAlgorithmIdentifier) (*Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	cose, err := webauthncbor.Marshal(webauthncose.RSAPublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.RSAKey), Algorithm: int64(alg)},
		Modulus:       priv.N.Bytes(),
		Exponent:      []byte{1, 0, 1},
	})
	if err != nil {
		return nil, err
	}
	sign := func(message []byte) ([]byte, error) {
		digest := sha256.Sum256(message)
		switch alg {
		case webauthncose.AlgPS256:
			return rsa.SignPSS(rand.Reader, priv, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		case webauthncose.AlgRS256:
			return rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
		}
		return nil, fmt.Errorf("softauthn: cannot sign with RSA algorithm %s", alg)
	}
	return &Key{COSE: cose, Sign: sign}, nil
}

// PublicOnlyKey is a key given as COSE bytes only, to register keys an
// honest authenticator would not make (a mislabelled or oversized key).
func PublicOnlyKey(cose []byte) *Key { return &Key{COSE: cose} }

// createWithKey answers creation options with attestation "none" for a
// credential with key k.
func (a *Authenticator) createWithKey(opts *virtualwebauthn.AttestationOptions, handle []byte, k *Key) ([]byte, *Credential, error) {
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	clientDataJSON, err := a.clientDataJSON("webauthn.create", opts.Challenge)
	if err != nil {
		return nil, nil, err
	}
	authData := a.authenticatorData(attestedCredentialFlag, 0)
	authData = append(authData, make([]byte, 16)...) // AAGUID: zeros, as for attestation "none"
	authData = append(authData, byte(len(id)>>8), byte(len(id)))
	authData = append(authData, id...)
	authData = append(authData, k.COSE...)
	attestation, err := webauthncbor.Marshal(struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}{"none", map[string]any{}, authData})
	if err != nil {
		return nil, nil, err
	}
	enc := base64.RawURLEncoding.EncodeToString
	body, err := json.Marshal(map[string]any{
		"id": enc(id), "rawId": enc(id), "type": "public-key", "authenticatorAttachment": "platform",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": enc(clientDataJSON), "attestationObject": enc(attestation),
			"transports": a.Transports},
	})
	if err != nil {
		return nil, nil, err
	}
	c := &Credential{ID: id, UserHandle: handle, key: k}
	a.credentials = append(a.credentials, c)
	return body, c, nil
}

const attestedCredentialFlag = 0x40

// authenticatorData is rpIdHash, flags and counter, with the flags this
// authenticator is scripted to report.
func (a *Authenticator) authenticatorData(extraFlags byte, counter uint32) []byte {
	rpIDHash := sha256.Sum256([]byte(a.RP.ID))
	flags := extraFlags
	if !a.UserNotPresent {
		flags |= 0x01
	}
	if !a.UserNotVerified {
		flags |= 0x04
	}
	if a.BackupEligible {
		flags |= 0x08
	}
	if a.BackupState {
		flags |= 0x10
	}
	out := append([]byte(nil), rpIDHash[:]...)
	return append(out, flags, byte(counter>>24), byte(counter>>16), byte(counter>>8), byte(counter))
}
