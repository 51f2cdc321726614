package ceremony_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/ceremony"
	"github.com/passkeyd/passkeyd/internal/softauthn"
)

const origin = "https://example.com"

func newWebAuthn(t *testing.T) *webauthn.WebAuthn {
	t.Helper()
	wa, err := webauthn.New(&webauthn.Config{RPID: "example.com", RPDisplayName: "Example", RPOrigins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	return wa
}

// register makes a real passkey for owner with a and returns it as stored.
func register(t *testing.T, wa *webauthn.WebAuthn, a *softauthn.Authenticator, owner *passkeyd.User) *passkeyd.Credential {
	t.Helper()
	u := &ceremony.User{Handle: owner.Handle, Name: owner.Email}
	creation, sd, err := wa.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := json.Marshal(creation.Response)
	body, _, err := a.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := wa.CreateCredential(u, *sd, parsed)
	if err != nil {
		t.Fatal(err)
	}
	return &passkeyd.Credential{ID: "p1", UserID: owner.ID, CredentialID: cred.ID, PublicKey: cred.PublicKey, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, UserVerified: cred.Flags.UserVerified}
}

// signIn runs a discoverable sign-in with a up to the verification step.
func signIn(t *testing.T, wa *webauthn.WebAuthn, a *softauthn.Authenticator, owner *passkeyd.User, stored *passkeyd.Credential) (*ceremony.Assertion, error) {
	t.Helper()
	assertion, sd, err := wa.BeginDiscoverableLogin()
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := json.Marshal(assertion.Response)
	body, err := a.Get(opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		t.Fatal(err)
	}
	return ceremony.VerifySignIn(wa, *sd, parsed, owner, stored)
}

func TestVerifySignIn(t *testing.T) {
	wa := newWebAuthn(t)
	owner := &passkeyd.User{ID: "u1", Email: "ada@example.com", Handle: bytes.Repeat([]byte{7}, 32)}

	t.Run("OK", func(t *testing.T) {
		a := softauthn.New("example.com", origin)
		stored := register(t, wa, a, owner)
		got, err := signIn(t, wa, a, owner, stored)
		if err != nil {
			t.Fatal(err)
		}
		if got.BackupEligibleChanged || got.BackupStateChanged || got.CloneWarning {
			t.Errorf("unchanged passkey reported as changed: %+v", got)
		}
		if err := got.Refusal(owner, "ADA@example.com"); err != nil {
			t.Errorf("refused: %v", err)
		}
	})
	t.Run("BackupEligibleFlipAccepted", func(t *testing.T) {
		a := softauthn.New("example.com", origin)
		stored := register(t, wa, a, owner)
		stored.BackupEligible, stored.BackupState = false, false // stored before the provider synced it
		got, err := signIn(t, wa, a, owner, stored)
		if err != nil {
			t.Fatalf("go-webauthn's backup-eligible check not relaxed: %v", err)
		}
		if !got.BackupEligibleChanged || !got.BackupStateChanged || !got.BackupEligible {
			t.Errorf("flag change not reported: %+v", got)
		}
		now := time.Now()
		in := got.Commit(passkeyd.UsedChallenge{ID: "c"}, stored, &passkeyd.Session{ID: "s"}, "old", now, func(typ, detail string) *passkeyd.Event {
			return &passkeyd.Event{Type: typ, Detail: detail}
		})
		var types []string
		for _, e := range in.Events {
			types = append(types, e.Type+" "+e.Detail)
		}
		want := []string{passkeyd.EventLoginSucceeded + " ", passkeyd.EventBackupEligibleChanged + " backup eligible: no → yes", passkeyd.EventBackupStateChanged + " synced: no → yes"}
		if len(types) != len(want) {
			t.Fatalf("events %q, want %q", types, want)
		}
		for i := range want {
			if types[i] != want[i] {
				t.Errorf("event %d = %q, want %q", i, types[i], want[i])
			}
		}
		if in.Use.PreviousSignCount != stored.SignCount || in.ReplacesSession != "old" || !in.Use.BackupEligible || in.Use.UsedAt != now || !bytes.Equal(in.Use.CredentialID, stored.CredentialID) {
			t.Errorf("commit %+v", in)
		}
	})
	t.Run("ErrOtherOwner", func(t *testing.T) {
		a := softauthn.New("example.com", origin)
		stored := register(t, wa, a, owner)
		other := &passkeyd.User{ID: "u2", Email: "bob@example.com", Handle: bytes.Repeat([]byte{8}, 32)}
		if _, err := signIn(t, wa, a, other, stored); err == nil {
			t.Fatal("a passkey verified for a user who does not own it")
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		a := softauthn.New("example.com", origin)
		stored := register(t, wa, a, owner)
		stored.PublicKey = register(t, wa, softauthn.New("example.com", origin), owner).PublicKey
		if _, err := signIn(t, wa, a, owner, stored); err == nil {
			t.Fatal("an assertion verified under another passkey's public key")
		}
	})
}

func TestRefusal(t *testing.T) {
	owner := &passkeyd.User{Email: "ada@example.com"}
	if err := (&ceremony.Assertion{CloneWarning: true}).Refusal(owner, ""); !errors.Is(err, ceremony.ErrCloned) {
		t.Errorf("clone warning: %v", err)
	}
	if err := (&ceremony.Assertion{}).Refusal(&passkeyd.User{Disabled: true}, ""); !errors.Is(err, ceremony.ErrDisabled) {
		t.Errorf("disabled: %v", err)
	}
	if got, want := passkeyd.ErrorCode((&ceremony.Assertion{}).Refusal(owner, "bob@example.com")), passkeyd.EUNAUTHORIZED; got != want {
		t.Errorf("other email: code %q, want %q", got, want)
	}
}
