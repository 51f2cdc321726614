//go:build unix

// Package sign measures one ID-token signature of each algorithm the
// provider offers, as scripts/bench measures one P-256 verification: the
// CPU time per operation (cpu-ns/op, from getrusage), which stays true when
// other processes share the machine. scripts/bench runs it in the same run
// as the oidc load, to state the signature's share of an app sign-in.
//
//	go test -run '^$' -bench IDTokenSignature -cpu 1 ./bench/sign/
package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zcrypto "github.com/zitadel/oidc/v3/pkg/crypto"
)

// idToken is an ID token's claims of the size passkeyd's have: sub, the
// email claims, name, nonce, auth_time, amr, at_hash.
const idToken = `{"iss":"http://localhost:8080","sub":"01JEXAMPLE0000000000000000","aud":["load-RS256"],` +
	`"exp":1765000000,"iat":1764996400,"auth_time":1764996399,"nonce":"GbrHea_iaL2IN3HzeAMlaMaK-SEaQAGUea1uHaiVuhk",` +
	`"amr":["pop","mfa"],"azp":"load-RS256","at_hash":"fK7cdwd1JeF7rzQ-xXOBMA","email":"load-k4sm4k3h-1@example.com",` +
	`"email_verified":false,"name":"load-k4sm4k3h-1","preferred_username":"load-k4sm4k3h-1"}`

// BenchmarkIDTokenSignature signs an ID token's payload as the provider
// does (zitadel/oidc's crypto.SignPayload through a go-jose signer), with
// a key of each algorithm made as oidc/keys.go makes them: RSA-2048,
// P-256, Ed25519.
func BenchmarkIDTokenSignature(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []struct {
		alg jose.SignatureAlgorithm
		key crypto.Signer
	}{{jose.RS256, rsaKey}, {jose.ES256, ecKey}, {jose.EdDSA, edKey}} {
		b.Run(string(k.alg), func(b *testing.B) {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key},
				(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "key-1"))
			if err != nil {
				b.Fatal(err)
			}
			payload := []byte(idToken)
			b.ReportAllocs()
			n, start := 0, processCPU()
			for b.Loop() {
				n++
				jwt, err := zcrypto.SignPayload(payload, signer)
				if err != nil || strings.Count(jwt, ".") != 2 {
					b.Fatalf("sign: %v", err)
				}
			}
			if cpu := processCPU() - start; n > 0 && cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
			}
		})
	}
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
