// Package softauthn is a software authenticator and a scripted browser for
// tests and the load tool: it makes passkeys, answers WebAuthn options with
// real signatures (through github.com/descope/virtualwebauthn), and runs
// whole ceremonies against a passkeyd server over HTTP.
package softauthn

import (
	"bytes"
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
	key        *Key // when made by Authenticator.NewKey
}

// allowed reports whether the options' allowCredentials name c.
func (c *Credential) allowed(opts *virtualwebauthn.AssertionOptions) bool {
	if c.key == nil {
		return c.vc.IsAllowedForAssertion(*opts)
	}
	return slices.Contains(opts.AllowCredentials, c.EncodedID())
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
	vc := newEC2Credential()
	auth := virtualwebauthn.NewAuthenticatorWithOptions(a.options(handle))
	body := virtualwebauthn.CreateAttestationResponse(a.RP, auth, vc, *opts)
	body, err = addFields(body, map[string]any{"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{}},
		map[string]any{"transports": a.Transports})
	if err != nil {
		return nil, nil, err
	}
	c := &Credential{ID: vc.ID, UserHandle: handle, vc: vc}
	a.credentials = append(a.credentials, c)
	return []byte(body), c, nil
}

// Get answers PublicKeyCredentialRequestOptionsJSON with an
// AuthenticationResponseJSON signed by pick, or, when pick is nil, by the
// first held passkey the options allow (any, for a discoverable request).
func (a *Authenticator) Get(optionsJSON []byte, pick *Credential) ([]byte, error) {
	opts, err := virtualwebauthn.ParseAssertionOptions(string(optionsJSON))
	if err != nil {
		return nil, fmt.Errorf("softauthn: parse request options: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := pick
	if c == nil {
		for _, x := range a.credentials {
			if len(opts.AllowCredentials) == 0 || x.allowed(opts) {
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
	if c.key != nil {
		return a.assertWithKey(opts, c)
	}
	c.vc.Counter = c.Counter
	auth := virtualwebauthn.NewAuthenticatorWithOptions(a.options(c.UserHandle))
	body := virtualwebauthn.CreateAssertionResponse(a.RP, auth, c.vc, *opts)
	body, err = addFields(body, map[string]any{"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{}}, nil)
	return []byte(body), err
}

// newEC2Credential works around a virtualwebauthn flake: it encodes P-256
// coordinates unpadded, which go-webauthn (rightly) rejects for about 1 key
// in 100. Keys whose x and y are both 32 bytes are kept.
func newEC2Credential() virtualwebauthn.Credential {
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k := c.Key.AttestationData()
		if bytes.Contains(k, []byte{0x21, 0x58, 0x20}) && bytes.Contains(k, []byte{0x22, 0x58, 0x20}) {
			return c
		}
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
