// Package keyedhash is how passkeyd stores the secrets it hands out
// (session cookies, emailed tokens, used challenges): only their keyed hash,
// so a copy of the database opens nothing.
package keyedhash

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"sync"
)

// Key is the server secret the hashes are keyed with.
type Key []byte

// Sum is HMAC-SHA-256 of value under k, with a purpose label so a hash of
// one kind never matches another, base64url-encoded.
func (k Key) Sum(purpose, value string) string {
	m := getMAC(k)
	m.in = append(append(append(m.in[:0], purpose...), 0), value...)
	m.mac.Write(m.in)
	var out [43]byte // base64url of 32 bytes, unpadded
	base64.RawURLEncoding.Encode(out[:], m.mac.Sum(m.sum[:0]))
	if cap(m.in) <= 1<<10 {
		macs.Put(m)
	}
	return string(out[:])
}

// keyedMAC is an HMAC keyed with key, kept for reuse with its buffers:
// hmac.New costs two SHA-256 states and the padded key, ~1 KB, and every
// request hashes a secret or two under the one server secret.
type keyedMAC struct {
	key []byte
	mac hash.Hash
	in  []byte // purpose, 0, value
	sum [sha256.Size]byte
}

var macs sync.Pool

// getMAC returns an HMAC under k, reset: from the pool when the one there
// has the same key (always, in a server with one secret).
func getMAC(k Key) *keyedMAC {
	if m, ok := macs.Get().(*keyedMAC); ok && bytes.Equal(m.key, k) {
		m.mac.Reset()
		return m
	}
	return &keyedMAC{key: bytes.Clone(k), mac: hmac.New(sha256.New, k)}
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
