// Package softauthn is a software authenticator and a scripted browser for
// tests and the load tool: it makes passkeys (ES256 ones through
// github.com/descope/virtualwebauthn), answers WebAuthn options with real
// signatures, and runs whole ceremonies against a passkeyd server over
// HTTP.
package softauthn

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/descope/virtualwebauthn"
)

// Credential is a passkey held by an Authenticator.
type Credential struct {
	ID         []byte
	UserHandle []byte
	Counter    uint32
	vc         virtualwebauthn.Credential
	// signer is vc's private key, parsed once: virtualwebauthn parses its
	// PKCS #8 bytes again at every signature.
	signer *ecdsa.PrivateKey
	key    *Key // when made by Authenticator.NewKey
}

// allowed reports whether allowCredentials names c.
func (c *Credential) allowed(allow []requestCredential) bool {
	id := c.EncodedID()
	return slices.ContainsFunc(allow, func(r requestCredential) bool { return r.ID == id })
}

// sign signs authenticatorData || SHA-256(clientDataJSON) with c's key.
func (c *Credential) sign(message []byte) ([]byte, error) {
	if c.key != nil {
		if c.key.Sign == nil {
			return nil, errors.New("softauthn: this key cannot sign")
		}
		return c.key.Sign(message)
	}
	// Deterministic ECDSA (RFC 6979): as valid to the server as a random
	// nonce, and its HMAC-SHA-256 nonce costs the load tool a quarter less
	// CPU per signature than the hedged nonce of ecdsa.SignASN1
	// (HMAC-SHA-512 and fresh randomness). The message differs at every
	// ceremony (its challenge), so no two signatures repeat.
	digest := sha256.Sum256(message)
	return c.signer.Sign(nil, digest[:], crypto.SHA256)
}

// EncodedID is the credential ID as browsers send it.
func (c *Credential) EncodedID() string { return base64.RawURLEncoding.EncodeToString(c.ID) }

// Authenticator is a software passkey provider for one relying party. Its
// fields say how it answers; change them between ceremonies to script
// behaviour (a provider flipping its backup flags, a failed verification).
type Authenticator struct {
	RP              virtualwebauthn.RelyingParty
	BackupEligible  bool
	BackupState     bool
	UserNotVerified bool
	UserNotPresent  bool
	// Counting makes the sign counter increase at every sign-in, as
	// security keys do; synced passkeys keep it at 0.
	Counting bool
	// Transports are reported at registration, as browsers do.
	Transports []string
	// NewKey, when set, makes the key of each new passkey (registered with
	// attestation "none"); nil: an ES256 key from virtualwebauthn.
	NewKey func() (*Key, error)

	mu          sync.Mutex
	credentials []*Credential
}

// ErrExcluded is returned by Create when the options exclude a credential
// this authenticator holds (the browser's InvalidStateError).
var ErrExcluded = errors.New("softauthn: authenticator already holds an excluded credential")

// ErrNoCredential is returned by Get when no held credential fits.
var ErrNoCredential = errors.New("softauthn: no matching credential")

// New returns an authenticator for rpID used from origin, reporting the
// "internal" transport and synced (backed-up) passkeys, like a phone's
// platform authenticator.
func New(rpID, origin string) *Authenticator {
	return &Authenticator{
		RP:             virtualwebauthn.RelyingParty{ID: rpID, Name: rpID, Origin: origin},
		BackupEligible: true,
		BackupState:    true,
		Transports:     []string{"internal", "hybrid"},
	}
}

// Credentials returns the held passkeys.
func (a *Authenticator) Credentials() []*Credential {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*Credential(nil), a.credentials...)
}

// Forget removes a passkey from the authenticator (the user deleted it on
// their device).
func (a *Authenticator) Forget(c *Credential) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, x := range a.credentials {
		if x == c {
			a.credentials = append(a.credentials[:i], a.credentials[i+1:]...)
			return
		}
	}
}

func (a *Authenticator) options(handle []byte) virtualwebauthn.AuthenticatorOptions {
	return virtualwebauthn.AuthenticatorOptions{
		UserHandle:      handle,
		UserNotPresent:  a.UserNotPresent,
		UserNotVerified: a.UserNotVerified,
		BackupEligible:  a.BackupEligible,
		BackupState:     a.BackupState,
	}
}

// Create answers PublicKeyCredentialCreationOptionsJSON with a
// RegistrationResponseJSON for a new passkey, which it keeps.
func (a *Authenticator) Create(optionsJSON []byte) ([]byte, *Credential, error) {
	opts, err := virtualwebauthn.ParseAttestationOptions(string(optionsJSON))
	if err != nil {
		return nil, nil, fmt.Errorf("softauthn: parse creation options: %w", err)
	}
	handle := []byte(opts.UserID) // already decoded from base64url
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.credentials {
		if c.key == nil && c.vc.IsExcludedForAttestation(*opts) {
			return nil, nil, ErrExcluded
		}
	}
	if a.NewKey != nil {
		k, err := a.NewKey()
		if err != nil {
			return nil, nil, fmt.Errorf("softauthn: new key: %w", err)
		}
		return a.createWithKey(opts, handle, k)
	}
	vc, signer, err := newEC2Credential()
	if err != nil {
		return nil, nil, err
	}
	auth := virtualwebauthn.NewAuthenticatorWithOptions(a.options(handle))
	body := virtualwebauthn.CreateAttestationResponse(a.RP, auth, vc, *opts)
	body, err = addFields(body, map[string]any{"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{}},
		map[string]any{"transports": a.Transports})
	if err != nil {
		return nil, nil, err
	}
	c := &Credential{ID: vc.ID, UserHandle: handle, vc: vc, signer: signer}
	a.credentials = append(a.credentials, c)
	return []byte(body), c, nil
}

// Get answers PublicKeyCredentialRequestOptionsJSON with an
// AuthenticationResponseJSON signed by pick, or, when pick is nil, by the
// first held passkey the options allow (any, for a discoverable request).
func (a *Authenticator) Get(optionsJSON []byte, pick *Credential) ([]byte, error) {
	var opts requestOptions
	if err := json.Unmarshal(optionsJSON, &opts); err != nil {
		return nil, fmt.Errorf("softauthn: parse request options: %w", err)
	}
	if opts.PublicKey != nil {
		opts = *opts.PublicKey
	}
	if opts.Challenge == "" {
		return nil, errors.New("softauthn: parse request options: no challenge")
	}
	challenge, err := base64.RawURLEncoding.DecodeString(opts.Challenge)
	if err != nil {
		return nil, fmt.Errorf("softauthn: parse request options: challenge: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := pick
	if c == nil {
		for _, x := range a.credentials {
			if len(opts.AllowCredentials) == 0 || x.allowed(opts.AllowCredentials) {
				c = x
				break
			}
		}
	}
	if c == nil {
		return nil, ErrNoCredential
	}
	if a.Counting {
		c.Counter++
	}
	return a.assert(challenge, c)
}

// requestOptions is what Get reads of PublicKeyCredentialRequestOptionsJSON,
// bare or wrapped in "publicKey".
type requestOptions struct {
	Challenge        string              `json:"challenge"`
	AllowCredentials []requestCredential `json:"allowCredentials"`
	PublicKey        *requestOptions     `json:"publicKey"`
}

type requestCredential struct {
	ID string `json:"id"`
}

// assert signs an assertion of challenge with credential c and returns
// it as AuthenticationResponseJSON. The JSON is written directly: every
// value but the origin is base64url or a constant, which need no escaping,
// and the load tool calls this for every sign-in.
func (a *Authenticator) assert(challenge []byte, c *Credential) ([]byte, error) {
	clientDataJSON, err := a.clientDataJSON("webauthn.get", challenge)
	if err != nil {
		return nil, err
	}
	authData := a.authenticatorData(0, c.Counter)
	clientDataHash := sha256.Sum256(clientDataJSON)
	sig, err := c.sign(append(authData[:len(authData):len(authData)], clientDataHash[:]...))
	if err != nil {
		return nil, err
	}
	enc := base64.RawURLEncoding
	out := make([]byte, 0, 320+enc.EncodedLen(len(c.ID))*2+enc.EncodedLen(len(clientDataJSON)+len(authData)+len(sig)+len(c.UserHandle)))
	out = append(out, `{"id":"`...)
	out = enc.AppendEncode(out, c.ID)
	out = append(out, `","rawId":"`...)
	out = enc.AppendEncode(out, c.ID)
	out = append(out, `","type":"public-key","authenticatorAttachment":"platform","clientExtensionResults":{},"response":{"clientDataJSON":"`...)
	out = enc.AppendEncode(out, clientDataJSON)
	out = append(out, `","authenticatorData":"`...)
	out = enc.AppendEncode(out, authData)
	out = append(out, `","signature":"`...)
	out = enc.AppendEncode(out, sig)
	if len(c.UserHandle) > 0 {
		out = append(out, `","userHandle":"`...)
		out = enc.AppendEncode(out, c.UserHandle)
	}
	return append(out, `"}}`...), nil
}

// clientDataJSON is what a browser signs into every response:
// CollectedClientData for ceremony type typ ("webauthn.create" or
// "webauthn.get").
func (a *Authenticator) clientDataJSON(typ string, challenge []byte) ([]byte, error) {
	origin, err := json.Marshal(a.RP.Origin)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 80+base64.RawURLEncoding.EncodedLen(len(challenge))+len(origin))
	out = append(out, `{"type":"`...)
	out = append(out, typ...)
	out = append(out, `","challenge":"`...)
	out = base64.RawURLEncoding.AppendEncode(out, challenge)
	out = append(out, `","origin":`...)
	out = append(out, origin...)
	return append(out, `,"crossOrigin":false}`...), nil
}

// newEC2Credential returns a new ES256 credential and its private key.
// It works around a virtualwebauthn flake: it encodes P-256 coordinates
// unpadded, which go-webauthn (rightly) rejects for about 1 key in 100.
// Keys whose x and y are both 32 bytes are kept.
func newEC2Credential() (virtualwebauthn.Credential, *ecdsa.PrivateKey, error) {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k := c.Key.AttestationData()
		if !bytes.Contains(k, []byte{0x21, 0x58, 0x20}) || !bytes.Contains(k, []byte{0x22, 0x58, 0x20}) {
			continue
		}
		priv, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			return c, nil, fmt.Errorf("softauthn: parse new key: %w", err)
		}
		ecdsaKey, ok := priv.(*ecdsa.PrivateKey)
		if !ok {
			return c, nil, fmt.Errorf("softauthn: new key is a %T, not ECDSA", priv)
		}
		return c, ecdsaKey, nil
	}
}

// addFields adds members to a response JSON object and to its "response"
// member: what browsers send and virtualwebauthn leaves out.
func addFields(body string, top, response map[string]any) (string, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return "", err
	}
	for k, v := range top {
		m[k] = v
	}
	if inner, ok := m["response"].(map[string]any); ok {
		for k, v := range response {
			inner[k] = v
		}
	}
	out, err := json.Marshal(m)
	return string(out), err
}
