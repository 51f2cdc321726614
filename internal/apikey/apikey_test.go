package apikey

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd"
)

func TestNew(t *testing.T) {
	key, hash := New()
	if !strings.HasPrefix(key, "pkd_") || len(key) != 4+43 {
		t.Fatalf("key %q: want pkd_ and 43 characters", key)
	}
	if !Valid(key) {
		t.Errorf("Valid(%q) = false for a new key", key)
	}
	sum := sha256.Sum256([]byte(key))
	if want := hex.EncodeToString(sum[:]); hash != want || Hash(key) != want {
		t.Errorf("hash %q, Hash %q; want SHA-256 hex of the whole key %q", hash, Hash(key), want)
	}
	if other, _ := New(); other == key {
		t.Error("two new keys are equal")
	}
}

func TestValid(t *testing.T) {
	key, _ := New()
	for _, bad := range []string{
		"",
		"pkd_",
		key[4:],                                // no prefix
		"pkx_" + key[4:],                       // wrong prefix
		key[:len(key)-1],                       // short
		key + "A",                              // long
		key[:len(key)-1] + "!",                 // not base64url
		"pkd_" + strings.Repeat("A", 42) + "B", // trailing bits set: not what New makes
	} {
		if Valid(bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}

func TestValidateName(t *testing.T) {
	if got, err := ValidateName("  terraform  "); err != nil || got != "terraform" {
		t.Errorf("ValidateName(terraform) = %q, %v", got, err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", MaxName+1), "bell\a", "new\nline", "\xff"} {
		if _, err := ValidateName(bad); passkeyd.ErrorCode(err) != passkeyd.EINVALID {
			t.Errorf("ValidateName(%q) = %v, want EINVALID", bad, err)
		}
	}
}
