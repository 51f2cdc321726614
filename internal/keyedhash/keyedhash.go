// Package keyedhash is how passkeyd stores the secrets it hands out
// (session cookies, emailed tokens, used challenges): only their keyed hash,
// so a copy of the database opens nothing.
package keyedhash

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// Key is the server secret the hashes are keyed with.
type Key []byte

// Sum is HMAC-SHA-256 of value under k, with a purpose label so a hash of
// one kind never matches another, base64url-encoded.
func (k Key) Sum(purpose, value string) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// NewToken returns 32 random bytes, base64url-encoded: a secret to hand out.
func NewToken() string {
	return base64.RawURLEncoding.EncodeToString(RandomBytes(32))
}

// RandomBytes returns n bytes from crypto/rand.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}
