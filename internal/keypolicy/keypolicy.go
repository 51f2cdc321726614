// Package keypolicy decides which credential public keys passkeyd stores.
//
// go-webauthn checks that a new credential's "alg" is among the offered
// pubKeyCredParams, but with attestation "none" it never parses the key:
// an EC2 P-256 key labelled RS256, or a 16,384-bit RSA key (which makes
// every later sign-in with it expensive), would be stored as is. Check
// parses the COSE key with go-webauthn's webauthncose package and holds it
// to what was offered and to sane sizes.
package keypolicy

import (
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// RSA modulus bounds, in bits. Below 2048 is breakable; above 4096 no
// authenticator goes, and every verification costs the server more.
const (
	MinRSABits = 2048
	MaxRSABits = 4096
)

// ecCurves is the curve each EC2 algorithm requires (RFC 9053, WebAuthn
// §5.8.5); an EC2 key's curve must be its algorithm's.
var ecCurves = map[webauthncose.COSEAlgorithmIdentifier]webauthncose.COSEEllipticCurve{
	webauthncose.AlgES256: webauthncose.P256,
	webauthncose.AlgES384: webauthncose.P384,
	webauthncose.AlgES512: webauthncose.P521,
}

// rsaAlgorithms are the RSA signature algorithms an RSA key may name.
var rsaAlgorithms = []webauthncose.COSEAlgorithmIdentifier{
	webauthncose.AlgRS256, webauthncose.AlgRS384, webauthncose.AlgRS512,
	webauthncose.AlgPS256, webauthncose.AlgPS384, webauthncose.AlgPS512,
}

// okpAlgorithms are the algorithms an OKP (Ed25519) key may name.
var okpAlgorithms = []webauthncose.COSEAlgorithmIdentifier{webauthncose.AlgEdDSA, webauthncose.AlgEd25519}

// ErrRefused wraps every refusal, so callers can tell a refused key from a
// bug.
var ErrRefused = errors.New("credential public key refused")

// Check reports why the COSE public key coseKey may not be stored, or nil.
// offered are the algorithms of the options' pubKeyCredParams: the key's
// "alg" must be one of them and fit its key type and curve, and an RSA
// modulus must have between MinRSABits and MaxRSABits bits.
func Check(coseKey []byte, offered []webauthncose.COSEAlgorithmIdentifier) error {
	parsed, err := webauthncose.ParsePublicKey(coseKey)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrRefused, err)
	}
	var alg webauthncose.COSEAlgorithmIdentifier
	switch k := parsed.(type) {
	case webauthncose.EC2PublicKeyData:
		alg = webauthncose.COSEAlgorithmIdentifier(k.Algorithm)
		curve, ok := ecCurves[alg]
		if !ok {
			return fmt.Errorf("%w: an EC2 key may not use algorithm %s", ErrRefused, alg)
		}
		if webauthncose.COSEEllipticCurve(k.Curve) != curve {
			return fmt.Errorf("%w: algorithm %s needs curve %s, the key is on %s", ErrRefused, alg, curve, webauthncose.COSEEllipticCurve(k.Curve))
		}
	case webauthncose.RSAPublicKeyData:
		alg = webauthncose.COSEAlgorithmIdentifier(k.Algorithm)
		if !slices.Contains(rsaAlgorithms, alg) {
			return fmt.Errorf("%w: an RSA key may not use algorithm %s", ErrRefused, alg)
		}
		if bits := new(big.Int).SetBytes(k.Modulus).BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return fmt.Errorf("%w: RSA key of %d bits (allowed: %d to %d)", ErrRefused, bits, MinRSABits, MaxRSABits)
		}
		e, err := webauthncose.ParseRSAPublicKeyDataExponent(&k)
		if err != nil || e < 3 || e%2 == 0 {
			return fmt.Errorf("%w: RSA key with an unusable public exponent", ErrRefused)
		}
	case webauthncose.OKPPublicKeyData:
		alg = webauthncose.COSEAlgorithmIdentifier(k.Algorithm)
		if !slices.Contains(okpAlgorithms, alg) {
			return fmt.Errorf("%w: an OKP key may not use algorithm %s", ErrRefused, alg)
		}
	default:
		return fmt.Errorf("%w: key type %T is not supported", ErrRefused, parsed)
	}
	if !slices.Contains(offered, alg) {
		return fmt.Errorf("%w: algorithm %s was not offered", ErrRefused, alg)
	}
	return nil
}
