package web

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
)

// TestUsedChallengeIDsSortByExpiry: the records of used challenges are
// named so that they sort by the ceremony's expiry (their inserts land on
// the table's last pages), and a challenge always gets the same name.
func TestUsedChallengeIDsSortByExpiry(t *testing.T) {
	expiries := []int64{0, 15, 1_800_000_000_000, 1_800_000_000_001, 1_800_000_060_000, 1<<47 - 1}
	var ids []string
	for _, x := range expiries {
		id := usedChallengeID(x, "hash")
		if len(id) != len("000000000000.hash") {
			t.Errorf("usedChallengeID(%d) = %q: want 12 digits, a dot and the hash", x, id)
		}
		if again := usedChallengeID(x, "hash"); again != id {
			t.Errorf("usedChallengeID(%d) = %q, then %q", x, id, again)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("IDs %q do not sort in the order of their expiries", ids)
	}
	if usedChallengeID(15, "a") == usedChallengeID(15, "b") {
		t.Error("two challenges with one expiry share a name")
	}
}

// TestStateSealedByV1IsNotOpened: a state sealed before the used
// challenges' names changed is not opened (its ceremony starts again), so
// a ceremony completed under its old name cannot complete again under its
// new one. One sealed by this version is.
func TestStateSealedByV1IsNotOpened(t *testing.T) {
	sc, err := newStateCookies([]byte("a-session-secret-of-at-least-32-chars"), cookieJar{state: "pk_state"},
		Config{Now: time.Now, ChallengeTimeout: time.Minute, RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st := &sealedState{Kind: passkeyd.CeremonyAuthentication, Challenge: "challenge", ExpiresAt: time.Now().Add(time.Minute).UnixMilli()}
	sd := &webauthn.SessionData{Challenge: "challenge"}
	value, err := sc.seal(st, sd)
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.open(value); got == nil || got.Challenge != "challenge" {
		t.Fatalf("open(seal(state)) = %+v; want the state", got)
	}

	plain, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, sc.aead.NonceSize())
	sealed := sc.aead.Seal(nonce, nonce, plain, []byte("passkeyd ceremony v1"))
	v1 := strconv.FormatInt(st.ExpiresAt, 36) + ":" + base64.RawURLEncoding.EncodeToString(sealed)
	if got := sc.open(v1); got != nil {
		t.Errorf("a state sealed by v1 was opened: %+v", got)
	}
}
