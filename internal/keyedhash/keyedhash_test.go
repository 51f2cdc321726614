package keyedhash

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

// Sum is HMAC-SHA-256 of "purpose\x00value" under its own key, whichever
// key the pooled MAC last had.
func TestSumUnderEachKey(t *testing.T) {
	a, b := Key("first secret, 32 bytes long....."), Key("second secret, another key......")
	want := func(k Key, purpose, value string) string {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(purpose + "\x00" + value))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	for _, c := range []struct {
		k              Key
		purpose, value string
	}{{a, "session", "x"}, {a, "session", "x"}, {b, "session", "x"}, {a, "challenge", "y"}, {b, "challenge", "y"}} {
		if got := c.k.Sum(c.purpose, c.value); got != want(c.k, c.purpose, c.value) {
			t.Errorf("Sum(%q, %q) under %q = %s, want %s", c.purpose, c.value, c.k, got, want(c.k, c.purpose, c.value))
		}
	}
}

// Sum reuses its keyed MAC and buffers (issue 22): the result string is
// all it allocates, not a new HMAC (about ten objects) each time.
func TestSumReusesItsMAC(t *testing.T) {
	k := Key("a server secret of 32 bytes.....")
	k.Sum("warm", "up")
	if n := testing.AllocsPerRun(100, func() { k.Sum("session", "token") }); n > 1 {
		t.Errorf("Sum allocates %.0f objects per call, want at most 1", n)
	}
}
