// Package apikey makes and checks the keys scripts use to call the
// console's JSON API (/api/admin/), so the shell (passkeyd api-keys add)
// and the console make them the same way and the store keeps only a hash.
package apikey

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/keyedhash"
)

// Prefix begins every key, so a key found in a log or a repository is
// recognisable as passkeyd's (secret scanners match on it).
const Prefix = "pkd_"

// secretLen is the length of base64url (unpadded) of 32 bytes.
const secretLen = 43

// New returns a new key, "pkd_" followed by 32 random bytes base64url-encoded,
// and its hash, the only thing to store.
func New() (key, hash string) {
	key = Prefix + keyedhash.NewToken()
	return key, Hash(key)
}

// Hash is the hex SHA-256 of the whole key (as passkeyd.APIKey keeps it):
// the key is 256 random bits, so a fast unsalted hash leaves nothing to
// guess and lets the store find a key by its hash.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Valid reports whether key has the shape New gives, so a malformed
// Authorization header is refused without a database lookup.
func Valid(key string) bool {
	if len(key) != len(Prefix)+secretLen || key[:len(Prefix)] != Prefix {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(key[len(Prefix):])
	return err == nil && len(b) == 32
}

// MaxName is the longest name of a key.
const MaxName = 64

// ValidateName checks a key's name (what it is for: "terraform",
// "backup script") and returns it trimmed: 1 to 64 printable characters.
func ValidateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", passkeyd.Errorf(passkeyd.EINVALID, "Please name the API key (what it is for).")
	}
	if utf8.RuneCountInString(name) > MaxName {
		return "", passkeyd.Errorf(passkeyd.EINVALID, "An API key's name is at most %d characters.", MaxName)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return "", passkeyd.Errorf(passkeyd.EINVALID, "An API key's name may hold only printable characters.")
	}
	return name, nil
}
