package keypolicy_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/passkeyd/passkeyd/internal/keypolicy"
)

var all = []webauthncose.COSEAlgorithmIdentifier{
	webauthncose.AlgES256, webauthncose.AlgEdDSA, webauthncose.AlgES384, webauthncose.AlgES512,
	webauthncose.AlgPS256, webauthncose.AlgRS256,
}

func mustCBOR(t *testing.T, v any) []byte {
	t.Helper()
	b, err := webauthncbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ec2Key(t *testing.T, curve elliptic.Curve, crv webauthncose.COSEEllipticCurve, alg webauthncose.COSEAlgorithmIdentifier) []byte {
	t.Helper()
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	size := (curve.Params().BitSize + 7) / 8
	return mustCBOR(t, webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(alg)},
		Curve:         int64(crv),
		XCoord:        priv.X.FillBytes(make([]byte, size)),
		YCoord:        priv.Y.FillBytes(make([]byte, size)),
	})
}

// rsaKey is an RSA COSE key with a random odd modulus of exactly bits
// bits: the policy looks at the size, and generating a real 16,384-bit key
// takes minutes.
func rsaKey(t *testing.T, bits int, alg webauthncose.COSEAlgorithmIdentifier, exponent []byte) []byte {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, bits-1, 1).SetBit(n, 0, 1)
	return mustCBOR(t, webauthncose.RSAPublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.RSAKey), Algorithm: int64(alg)},
		Modulus:       n.Bytes(), Exponent: exponent,
	})
}

func okpKey(t *testing.T, alg webauthncose.COSEAlgorithmIdentifier) []byte {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return mustCBOR(t, webauthncose.OKPPublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.OctetKey), Algorithm: int64(alg)},
		Curve:         int64(webauthncose.Ed25519), XCoord: pub,
	})
}

func TestCheck(t *testing.T) {
	f4 := []byte{1, 0, 1}
	tests := []struct {
		name    string
		key     []byte
		offered []webauthncose.COSEAlgorithmIdentifier
		ok      bool
	}{
		{"ES256 on P-256", ec2Key(t, elliptic.P256(), webauthncose.P256, webauthncose.AlgES256), all, true},
		{"ES384 on P-384", ec2Key(t, elliptic.P384(), webauthncose.P384, webauthncose.AlgES384), all, true},
		{"ES512 on P-521", ec2Key(t, elliptic.P521(), webauthncose.P521, webauthncose.AlgES512), all, true},
		{"EdDSA", okpKey(t, webauthncose.AlgEdDSA), all, true},
		{"RS256 2048", rsaKey(t, 2048, webauthncose.AlgRS256, f4), all, true},
		{"PS256 4096", rsaKey(t, 4096, webauthncose.AlgPS256, f4), all, true},

		{"P-256 key saying RS256", ec2Key(t, elliptic.P256(), webauthncose.P256, webauthncose.AlgRS256), all, false},
		{"P-256 key saying ES384", ec2Key(t, elliptic.P256(), webauthncose.P256, webauthncose.AlgES384), all, false},
		{"RSA key saying ES256", rsaKey(t, 2048, webauthncose.AlgES256, f4), all, false},
		{"RSA key saying EdDSA", rsaKey(t, 2048, webauthncose.AlgEdDSA, f4), all, false},
		{"OKP key saying ES256", okpKey(t, webauthncose.AlgES256), all, false},
		{"RSA 16384", rsaKey(t, 16384, webauthncose.AlgRS256, f4), all, false},
		{"RSA 4097", rsaKey(t, 4097, webauthncose.AlgRS256, f4), all, false},
		{"RSA 1024", rsaKey(t, 1024, webauthncose.AlgRS256, f4), all, false},
		{"RSA exponent 1", rsaKey(t, 2048, webauthncose.AlgRS256, []byte{1}), all, false},
		{"ES384 not offered", ec2Key(t, elliptic.P384(), webauthncose.P384, webauthncose.AlgES384),
			[]webauthncose.COSEAlgorithmIdentifier{webauthncose.AlgES256}, false},
		{"PS256 not offered", rsaKey(t, 2048, webauthncose.AlgPS256, f4),
			[]webauthncose.COSEAlgorithmIdentifier{webauthncose.AlgRS256}, false},
		{"not CBOR", []byte("nonsense"), all, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := keypolicy.Check(tt.key, tt.offered)
			if tt.ok && err != nil {
				t.Fatalf("Check: %v, want accepted", err)
			}
			if !tt.ok && !errors.Is(err, keypolicy.ErrRefused) {
				t.Fatalf("Check: %v, want ErrRefused", err)
			}
		})
	}
}
