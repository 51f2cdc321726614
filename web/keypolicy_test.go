package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"math/big"
	"net/http"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/passkeyd/passkeyd/internal/softauthn"
)

// registerWithKey runs a sign-up whose new passkey has the COSE key made
// by newKey, and returns the verify-registration answer.
func registerWithKey(t *testing.T, e *env, email string, newKey func() (*softauthn.Key, error)) *softauthn.Response {
	t.Helper()
	b, a := e.browser(), e.authenticator()
	a.NewKey = newKey
	res, err := b.PostJSON(context.Background(), "/api/passkeys/generate-registration-options", map[string]string{"email": email})
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("options: %v %v", err, res)
	}
	att, _, err := a.Create(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return e.post(t, b, "/api/passkeys/verify-registration", att)
}

func TestRegistrationRefusesKeyWhoseAlgDoesNotFit(t *testing.T) {
	e := newEnv(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// A P-256 key that says RS256: offered, so go-webauthn lets it through.
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgRS256)},
		Curve:         int64(webauthncose.P256),
		XCoord:        priv.X.FillBytes(make([]byte, 32)),
		YCoord:        priv.Y.FillBytes(make([]byte, 32)),
	})
	if err != nil {
		t.Fatal(err)
	}
	res := registerWithKey(t, e, "mismatch@example.com", func() (*softauthn.Key, error) { return softauthn.PublicOnlyKey(cose), nil })
	wantError(t, res, http.StatusBadRequest, "not supported")
	e.noUser(t, "mismatch@example.com")
}

func TestRegistrationRefusesHugeRSAKey(t *testing.T) {
	e := newEnv(t)
	// A 16,384-bit modulus: only its size matters (a real key of this size
	// takes minutes to generate).
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 16383))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, 16383, 1).SetBit(n, 0, 1)
	cose, err := webauthncbor.Marshal(webauthncose.RSAPublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.RSAKey), Algorithm: int64(webauthncose.AlgRS256)},
		Modulus:       n.Bytes(), Exponent: []byte{1, 0, 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := registerWithKey(t, e, "huge@example.com", func() (*softauthn.Key, error) { return softauthn.PublicOnlyKey(cose), nil })
	wantError(t, res, http.StatusBadRequest, "not supported")
	e.noUser(t, "huge@example.com")
}

func TestRegistrationOffersAndAcceptsPS256(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	res, err := b.PostJSON(context.Background(), "/api/passkeys/generate-registration-options", map[string]string{"email": "pss@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var opts struct {
		PubKeyCredParams []struct{ Alg int } `json:"pubKeyCredParams"`
	}
	if err := json.Unmarshal(res.Body, &opts); err != nil {
		t.Fatal(err)
	}
	offered := map[int]bool{}
	for _, p := range opts.PubKeyCredParams {
		offered[p.Alg] = true
	}
	for _, alg := range []int{-7, -8, -35, -36, -37, -257} {
		if !offered[alg] {
			t.Errorf("alg %d not offered; offered %v", alg, opts.PubKeyCredParams)
		}
	}

	a := e.authenticator()
	a.NewKey = func() (*softauthn.Key, error) { return softauthn.NewRSAKey(2048, webauthncose.AlgPS256) }
	e.signUp(t, e.browser(), a, "pss@example.com")
	e.signIn(t, e.browser(), a, "", nil) // the stored key verifies a PS256 signature
}

// A signed-in user adding a passkey is held to the same policy: the
// refused key is not added to the account.
func TestAddPasskeyRefusesHugeRSAKey(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "adder@example.com")
	e.signIn(t, b, a, "", nil)
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 8191))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, 8191, 1).SetBit(n, 0, 1)
	cose, err := webauthncbor.Marshal(webauthncose.RSAPublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.RSAKey), Algorithm: int64(webauthncose.AlgPS256)},
		Modulus:       n.Bytes(), Exponent: []byte{1, 0, 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	key := e.authenticator()
	key.NewKey = func() (*softauthn.Key, error) { return softauthn.PublicOnlyKey(cose), nil }
	_, err = b.Register(context.Background(), key, "")
	wantRefused(t, err)
	if got := len(e.credentials(t, "adder@example.com")); got != 1 {
		t.Fatalf("the account has %d passkeys after a refused 8,192-bit key, want 1", got)
	}
}
