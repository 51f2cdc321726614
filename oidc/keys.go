package oidc

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passkeyd/passkeyd"
)

// secrets holds the keys derived from the session secret, one per use, so
// that no two uses ever share key material.
type secrets struct {
	seal   cipher.AEAD // seals signing keys in the database
	tokens [32]byte    // the op package's AES key for codes and access tokens
	hash   []byte      // HMAC key for code and refresh-token hashes
	macs   sync.Pool   // of HMAC-SHA-256 under hash (keyedHash)
}

func deriveSecrets(secret []byte) (*secrets, error) {
	derive := func(info string) ([]byte, error) {
		return hkdf.Key(sha256.New, secret, nil, "passkeyd oidc "+info, 32)
	}
	sealKey, err := derive("signing-key seal v1")
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	tokens, err := derive("tokens v1")
	if err != nil {
		return nil, err
	}
	hash, err := derive("hash v1")
	if err != nil {
		return nil, err
	}
	s := &secrets{seal: aead, hash: hash}
	copy(s.tokens[:], tokens)
	return s, nil
}

// keyedHash is how codes and refresh tokens are stored. Its HMACs are
// reused (macs): hmac.New costs two SHA-256 states and the padded key, and
// an app sign-in hashes a value or two in every step.
func (s *secrets) keyedHash(purpose, value string) string {
	m, ok := s.macs.Get().(hash.Hash)
	if ok {
		m.Reset()
	} else {
		m = hmac.New(sha256.New, s.hash)
	}
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	h := base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0]))
	s.macs.Put(m)
	return h
}

// sealKey encrypts a PKCS #8 private key, bound to its key ID and
// algorithm (the AEAD's additional data), so a sealed key cannot be moved
// to another row.
func (s *secrets) sealKey(id, alg string, pkcs8 []byte) []byte {
	nonce := make([]byte, s.seal.NonceSize())
	rand.Read(nonce)
	return s.seal.Seal(nonce, nonce, pkcs8, []byte(id+"\x00"+alg))
}

func (s *secrets) openKey(k *passkeyd.OIDCKey) ([]byte, error) {
	n := s.seal.NonceSize()
	if len(k.PrivateKey) < n {
		return nil, errors.New("sealed key too short")
	}
	return s.seal.Open(nil, k.PrivateKey[:n], k.PrivateKey[n:], []byte(k.ID+"\x00"+k.Algorithm))
}

// generateKey makes a new signing key of alg, sealed for the store.
func (s *secrets) generateKey(alg string, now time.Time) (*passkeyd.OIDCKey, error) {
	var key crypto.Signer
	var err error
	switch alg {
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("unknown algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	id := base64.RawURLEncoding.EncodeToString(randomBytes(12))
	return &passkeyd.OIDCKey{ID: id, Algorithm: alg, PrivateKey: s.sealKey(id, alg, pkcs8), CreatedAt: now}, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (Go 1.24+)
	return b
}

// signingKey is a stored key, opened: op.SigningKey for signing and op.Key
// (its public half) for JWKS.
type signingKey struct {
	id       string
	alg      jose.SignatureAlgorithm
	private  crypto.Signer
	signFrom time.Time // published before then, signing from then on
	retireAt time.Time
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.private }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return p.k.alg }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.k.private.Public() }

var _ op.SigningKey = (*signingKey)(nil)
var _ op.Key = publicKey{}

// keyring opens stored keys once each: a key never changes under its ID.
type keyring struct {
	mu     sync.Mutex
	opened map[string]crypto.Signer
	// ensuring makes this instance's requests that find no signing key
	// take turns making one (EnsureKeys).
	ensuring sync.Mutex
}

func (r *keyring) open(s *secrets, k *passkeyd.OIDCKey) (crypto.Signer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if signer, ok := r.opened[k.ID]; ok {
		return signer, nil
	}
	pkcs8, err := s.openKey(k)
	if err != nil {
		return nil, fmt.Errorf("open signing key %s: %w (was SESSION_SECRET changed?)", k.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("parse signing key %s: %w", k.ID, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %s: %T is not a signer", k.ID, parsed)
	}
	if r.opened == nil {
		r.opened = map[string]crypto.Signer{}
	}
	r.opened[k.ID] = signer
	return signer, nil
}

// keys returns the published keys (not retired), opened, newest first:
// those that sign and those that will. Keys sealed under another secret
// are skipped (and logged): they cannot sign here.
func (p *Provider) keys(ctx context.Context) ([]*signingKey, error) {
	stored, err := p.store.ListOIDCKeys(ctx, p.now())
	if err != nil {
		return nil, err
	}
	var keys []*signingKey
	for _, k := range stored {
		signer, err := p.ring.open(p.secrets, k)
		if err != nil {
			p.log.ErrorContext(ctx, "oidc signing key unusable", "key_id", k.ID, "error", err)
			continue
		}
		keys = append(keys, &signingKey{id: k.ID, alg: jose.SignatureAlgorithm(k.Algorithm), private: signer,
			signFrom: k.SignFrom, retireAt: k.RetireAt})
	}
	return keys, nil
}

// ErrSecretOpensNoKey: signing keys are stored, and the secret the
// provider was made with opens none of them, so it is not the secret the
// server runs with.
var ErrSecretOpensNoKey = errors.New("the secret opens none of the stored signing keys")

// CheckSecret returns ErrSecretOpensNoKey when keys are stored and none
// of the published ones opens under the provider's secret. A command that
// adds keys checks it first: keys sealed under another secret than the
// server's are useless to the server, and rotate-keys -now would withdraw
// the working ones.
func (p *Provider) CheckSecret(ctx context.Context) error {
	return checkSecret(ctx, p.store, p.secrets, p.now())
}

// CheckSecret is Provider.CheckSecret for a command that needs no
// provider but stores what the server must open under secret (passkeyd
// users recovery-link).
func CheckSecret(ctx context.Context, store passkeyd.OIDCStore, secret []byte, now time.Time) error {
	sec, err := deriveSecrets(secret)
	if err != nil {
		return err
	}
	return checkSecret(ctx, store, sec, now)
}

func checkSecret(ctx context.Context, store passkeyd.OIDCStore, sec *secrets, now time.Time) error {
	stored, err := store.ListOIDCKeys(ctx, now)
	if err != nil {
		return err
	}
	for _, k := range stored {
		if _, err := sec.openKey(k); err == nil {
			return nil
		}
	}
	if len(stored) > 0 {
		return ErrSecretOpensNoKey
	}
	return nil
}

// EnsureKeys generates a signing key for each algorithm that has none
// usable, as at first start; it signs at once, since no token names
// another key yet. Requests that find no key at the same time, on this
// instance or others, make one key between them: here they take turns,
// and across instances the store keeps one key per generation
// (passkeyd.OIDCKey.Generation), so the others find the winner's key.
func (p *Provider) EnsureKeys(ctx context.Context) error {
	p.ring.ensuring.Lock()
	defer p.ring.ensuring.Unlock()
	now := p.now()
	stored, err := p.store.ListOIDCKeys(ctx, now)
	if err != nil {
		return err
	}
	usable := map[string]bool{}
	newest := map[string]int64{} // the newest generation of each algorithm, usable or not
	for _, k := range stored {
		newest[k.Algorithm] = max(newest[k.Algorithm], k.Generation)
		if _, err := p.ring.open(p.secrets, k); err == nil {
			usable[k.Algorithm] = true
		}
	}
	for _, alg := range Algorithms {
		if usable[alg] {
			continue
		}
		longest, err := p.longestIDTokenTTL(ctx)
		if err != nil {
			return err
		}
		// Keys of alg that could not be opened: they may have signed tokens
		// still valid on other instances, so they stay published as long.
		err = p.addKey(ctx, alg, newest[alg]+1, now, now.Add(longest+clockSkew))
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
			continue // another instance stored this generation first: its key is the one
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// everyAlgorithm reports whether keys has a key of each algorithm. JWKS
// asked while the first keys are being made (by another request or
// instance) makes the missing ones, or waits for them, so that it is never
// answered with some of them only.
func everyAlgorithm(keys []*signingKey) bool {
	for _, alg := range Algorithms {
		if !slices.ContainsFunc(keys, func(k *signingKey) bool { return string(k.alg) == alg }) {
			return false
		}
	}
	return true
}

// clockSkew is added to every retirement time, for relying parties whose
// clocks run behind.
const clockSkew = time.Minute

// RotateKeys adds a new signing key for every algorithm, published in
// JWKS at once and signing after Config.KeyPublishDelay, so that relying
// parties that cache JWKS have fetched it before they see tokens it
// signed. Until then the current keys sign; they stay published until
// every ID token they may have signed has expired.
func (p *Provider) RotateKeys(ctx context.Context) error {
	longest, err := p.longestIDTokenTTL(ctx)
	if err != nil {
		return err
	}
	keys, err := p.keys(ctx)
	if err != nil {
		return err
	}
	newest, err := p.newestGenerations(ctx)
	if err != nil {
		return err
	}
	now := p.now()
	signFrom := now.Add(p.cfg.KeyPublishDelay)
	for _, alg := range Algorithms {
		// The current keys sign until signFrom; their tokens expire by
		// longest after that. A retirement already later (a longer ID token
		// lifetime when it was set) is kept.
		retire := signFrom.Add(longest + clockSkew)
		for _, k := range keys {
			if string(k.alg) == alg && k.retireAt.After(retire) {
				retire = k.retireAt
			}
		}
		if err := p.addKey(ctx, alg, newest[alg]+1, signFrom, retire); err != nil {
			return rotationError(err)
		}
	}
	return nil
}

// RotateKeysNow replaces every signing key at once, for a key that may
// have leaked: the new keys sign from now on and the old ones leave JWKS
// now, so that relying parties stop trusting tokens signed with them as
// soon as they fetch JWKS again. ID tokens signed before then stop
// verifying too; apps check an ID token when they receive it, so at worst
// a sign-in under way fails and is started again.
func (p *Provider) RotateKeysNow(ctx context.Context) error {
	newest, err := p.newestGenerations(ctx)
	if err != nil {
		return err
	}
	now := p.now()
	for _, alg := range Algorithms {
		if err := p.addKey(ctx, alg, newest[alg]+1, now, now); err != nil {
			return rotationError(err)
		}
	}
	return nil
}

// rotationError explains a rotation that lost to another one (or to an
// instance making the first keys) at the same time.
func rotationError(err error) error {
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
		return passkeyd.WrapError(passkeyd.ECONFLICT, "The signing keys changed while they were being rotated (another rotation, or the first keys being made); run it again if still needed.", err)
	}
	return err
}

// newestGenerations returns the newest key generation of each algorithm.
func (p *Provider) newestGenerations(ctx context.Context) (map[string]int64, error) {
	stored, err := p.store.ListOIDCKeys(ctx, p.now())
	if err != nil {
		return nil, err
	}
	newest := map[string]int64{}
	for _, k := range stored {
		newest[k.Algorithm] = max(newest[k.Algorithm], k.Generation)
	}
	return newest, nil
}

func (p *Provider) addKey(ctx context.Context, alg string, generation int64, signFrom, retireOthersAt time.Time) error {
	k, err := p.secrets.generateKey(alg, p.now())
	if err != nil {
		return err
	}
	k.SignFrom, k.Generation = signFrom, generation
	return p.store.AddOIDCKey(ctx, k, retireOthersAt)
}

func (p *Provider) longestIDTokenTTL(ctx context.Context) (time.Duration, error) {
	longest := p.cfg.IDTokenTTL
	clients, err := p.store.ListOIDCClients(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range clients {
		longest = max(longest, c.IDTokenTTL)
	}
	return longest, nil
}

// signingKeyFor returns the newest key of alg that signs now, generating
// the keys first if there are none (a host that never called EnsureKeys).
func (p *Provider) signingKeyFor(ctx context.Context, alg string) (*signingKey, error) {
	for range 2 {
		keys, err := p.keys(ctx)
		if err != nil {
			return nil, err
		}
		// The key that began signing last; of keys made together (two
		// instances at first start), the newest, which comes first.
		var signer *signingKey
		now := p.now()
		for _, k := range keys {
			if string(k.alg) == alg && !k.signFrom.After(now) && (signer == nil || k.signFrom.After(signer.signFrom)) {
				signer = k
			}
		}
		if signer != nil {
			return signer, nil
		}
		if err := p.EnsureKeys(ctx); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no usable %s signing key (run passkeyd oidc rotate-keys -now)", alg)
}
