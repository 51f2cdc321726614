package ceremony_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/ceremony"
	"github.com/passkeyd/passkeyd/internal/softauthn"
)

// createResponse runs a registration with a up to the verification step.
func createResponse(t *testing.T, wa *webauthn.WebAuthn, a *softauthn.Authenticator, u *ceremony.User) (*webauthn.SessionData, *protocol.ParsedCredentialCreationData) {
	t.Helper()
	creation, sd, err := wa.BeginRegistration(u, webauthn.WithCredentialParameters(ceremony.CredentialParameters))
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
	return sd, parsed
}

func TestVerifyRegistration(t *testing.T) {
	wa := newWebAuthn(t)
	u := &ceremony.User{Handle: bytes.Repeat([]byte{7}, 32), Name: "ada@example.com"}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

	t.Run("OK", func(t *testing.T) {
		sd, parsed := createResponse(t, wa, softauthn.New("example.com", origin), u)
		c, err := ceremony.VerifyRegistration(wa, *sd, parsed, u, "u1", "Mozilla/5.0", now)
		if err != nil {
			t.Fatal(err)
		}
		if c.UserID != "u1" || c.ID == "" || len(c.CredentialID) == 0 || len(c.PublicKey) == 0 || c.Name == "" ||
			!c.CreatedAt.Equal(now) || !c.UpdatedAt.Equal(now) {
			t.Fatalf("credential %+v", c)
		}
	})
	t.Run("another challenge", func(t *testing.T) {
		a := softauthn.New("example.com", origin)
		_, parsed := createResponse(t, wa, a, u)
		other, _ := createResponse(t, wa, a, u)
		if _, err := ceremony.VerifyRegistration(wa, *other, parsed, u, "u1", "", now); passkeyd.ErrorCode(err) != passkeyd.EINVALID {
			t.Fatalf("err = %v, want EINVALID", err)
		}
	})
	t.Run("key type not offered", func(t *testing.T) {
		a := softauthn.New("example.com", origin)
		a.NewKey = func() (*softauthn.Key, error) { return softauthn.NewRSAKey(1024, webauthncose.AlgRS256) }
		sd, parsed := createResponse(t, wa, a, u)
		_, err := ceremony.VerifyRegistration(wa, *sd, parsed, u, "u1", "", now)
		if passkeyd.ErrorCode(err) != passkeyd.EINVALID || !strings.Contains(passkeyd.ErrorMessage(err), "key type is not supported") {
			t.Fatalf("err = %v, want the key type refused", err)
		}
	})
}
