package web_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd/internal/softauthn"
)

// BenchmarkVerifyP256 is the cost of the one thing a sign-in cannot do
// without: checking an ES256 signature. It is the unit of the CPU targets
// in BENCHMARKS.md.
//
//   - VerifyASN1 is crypto/ecdsa's P-256 verification of a DER signature:
//     the ceiling, what a verification costs at best.
//   - BigInt is crypto/ecdsa.Verify with big.Int coordinates and r, s, as
//     go-webauthn calls it.
//   - COSE is go-webauthn's whole path from the stored COSE key:
//     webauthncose.ParsePublicKey, then VerifySignature (SHA-256, DER
//     parsing and its canonical-encoding check, ecdsa.Verify).
func BenchmarkVerifyP256(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	// What an authenticator signs: authenticatorData (37 bytes) followed
	// by the SHA-256 of clientDataJSON.
	signed := make([]byte, 37+32)
	_, _ = rand.Read(signed)
	digest := sha256.Sum256(signed)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &rs); err != nil {
		b.Fatal(err)
	}
	point, err := key.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		b.Fatal(err)
	}
	x, y := point[1:33], point[33:]
	cose := coseKey(b, x, y)

	b.Run("VerifyASN1", func(b *testing.B) {
		b.ReportAllocs()
		var cpu cpuMeter
		n := 0
		cpu.start()
		for b.Loop() {
			n++
			if !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
				b.Fatal("signature does not verify")
			}
		}
		cpu.stop()
		cpu.report(b, n)
	})
	b.Run("BigInt", func(b *testing.B) {
		b.ReportAllocs()
		var cpu cpuMeter
		n := 0
		cpu.start()
		for b.Loop() {
			n++
			// The deprecated big.Int fields are what is measured here.
			//lint:ignore SA1019 go-webauthn builds its key this way
			pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
			if !ecdsa.Verify(pub, digest[:], rs.R, rs.S) {
				b.Fatal("signature does not verify")
			}
		}
		cpu.stop()
		cpu.report(b, n)
	})
	b.Run("COSE", func(b *testing.B) {
		b.ReportAllocs()
		var cpu cpuMeter
		n := 0
		cpu.start()
		for b.Loop() {
			n++
			pk, err := webauthncose.ParsePublicKey(cose)
			if err != nil {
				b.Fatal(err)
			}
			ok, err := webauthncose.VerifySignature(pk, signed, sig)
			if err != nil || !ok {
				b.Fatalf("signature does not verify: %v", err)
			}
		}
		cpu.stop()
		cpu.report(b, n)
	})
}

// coseKey encodes an ES256 public key as a COSE_Key, as an authenticator
// does at registration: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
func coseKey(b *testing.B, x, y []byte) []byte {
	var buf bytes.Buffer
	buf.Write([]byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20})
	buf.Write(x)
	buf.Write([]byte{0x22, 0x58, 0x20})
	buf.Write(y)
	if _, err := webauthncose.ParsePublicKey(buf.Bytes()); err != nil {
		b.Fatalf("COSE key: %v", err)
	}
	return buf.Bytes()
}

// BenchmarkVerifyAssertion is go-webauthn's whole verification of a
// sign-in response, without HTTP or a database: parsing the JSON
// (Parse) and checking it (Validate: client data, RP ID hash, flags,
// counter, the signature).
func BenchmarkVerifyAssertion(b *testing.B) {
	const origin = "http://localhost:8080"
	wa, err := webauthn.New(&webauthn.Config{RPID: "localhost", RPDisplayName: "bench", RPOrigins: []string{origin}})
	if err != nil {
		b.Fatal(err)
	}
	a := softauthn.New("localhost", origin)
	handle := bytes.Repeat([]byte{7}, 32)
	u := &benchWebAuthnUser{handle: handle}

	creation, sd, err := wa.BeginRegistration(u)
	if err != nil {
		b.Fatal(err)
	}
	opts, _ := json.Marshal(creation.Response)
	att, _, err := a.Create(opts)
	if err != nil {
		b.Fatal(err)
	}
	parsedAtt, err := protocol.ParseCredentialCreationResponseBytes(att)
	if err != nil {
		b.Fatal(err)
	}
	cred, err := wa.CreateCredential(u, *sd, parsedAtt)
	if err != nil {
		b.Fatal(err)
	}
	u.creds = []webauthn.Credential{*cred}

	assertionOpts, lsd, err := wa.BeginDiscoverableLogin()
	if err != nil {
		b.Fatal(err)
	}
	opts, _ = json.Marshal(assertionOpts.Response)
	assertion, err := a.Get(opts, nil)
	if err != nil {
		b.Fatal(err)
	}
	handler := func(rawID, userHandle []byte) (webauthn.User, error) { return u, nil }

	b.Run("Parse", func(b *testing.B) {
		b.ReportAllocs()
		var cpu cpuMeter
		n := 0
		cpu.start()
		for b.Loop() {
			n++
			if _, err := protocol.ParseCredentialRequestResponseBytes(assertion); err != nil {
				b.Fatal(err)
			}
		}
		cpu.stop()
		cpu.report(b, n)
	})
	parsed, err := protocol.ParseCredentialRequestResponseBytes(assertion)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Validate", func(b *testing.B) {
		b.ReportAllocs()
		var cpu cpuMeter
		n := 0
		cpu.start()
		for b.Loop() {
			n++
			if _, _, err := wa.ValidatePasskeyLogin(handler, *lsd, parsed); err != nil {
				b.Fatal(err)
			}
		}
		cpu.stop()
		cpu.report(b, n)
	})
}

type benchWebAuthnUser struct {
	handle []byte
	creds  []webauthn.Credential
}

func (u *benchWebAuthnUser) WebAuthnID() []byte                         { return u.handle }
func (u *benchWebAuthnUser) WebAuthnName() string                       { return "bench@example.com" }
func (u *benchWebAuthnUser) WebAuthnDisplayName() string                { return "bench@example.com" }
func (u *benchWebAuthnUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }
