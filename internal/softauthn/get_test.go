package softauthn

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"
)

type testUser struct {
	handle []byte
	creds  []webauthn.Credential
}

func (u *testUser) WebAuthnID() []byte                         { return u.handle }
func (u *testUser) WebAuthnName() string                       { return "a@example.com" }
func (u *testUser) WebAuthnDisplayName() string                { return "a@example.com" }
func (u *testUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// TestGetVerifies: the assertions Get writes pass go-webauthn's checks
// (client data, RP ID hash, flags, counter, signature), for the ES256 keys
// and for a key of NewKey, with options bare or wrapped in "publicKey",
// listing the credential or not.
func TestGetVerifies(t *testing.T) {
	const origin = "http://localhost:8080"
	wa, err := webauthn.New(&webauthn.Config{RPID: "localhost", RPDisplayName: "test", RPOrigins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		newKey func() (*Key, error)
	}{
		{"ES256", nil},
		{"RS256", func() (*Key, error) { return NewRSAKey(2048, webauthncose.AlgRS256) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := New("localhost", origin)
			a.NewKey, a.Counting = tc.newKey, true
			u := &testUser{handle: bytes.Repeat([]byte{7}, 32)}
			creation, sd, err := wa.BeginRegistration(u)
			if err != nil {
				t.Fatal(err)
			}
			opts, _ := json.Marshal(creation.Response)
			att, _, err := a.Create(opts)
			if err != nil {
				t.Fatal(err)
			}
			parsedAtt, err := protocol.ParseCredentialCreationResponseBytes(att)
			if err != nil {
				t.Fatal(err)
			}
			cred, err := wa.CreateCredential(u, *sd, parsedAtt)
			if err != nil {
				t.Fatal(err)
			}
			u.creds = []webauthn.Credential{*cred}

			for i, wrapped := range []bool{false, true} {
				// Discoverable (no allowCredentials), then naming the user.
				request, lsd, err := wa.BeginDiscoverableLogin()
				if wrapped {
					request, lsd, err = wa.BeginLogin(u)
				}
				if err != nil {
					t.Fatal(err)
				}
				opts, _ := json.Marshal(request.Response)
				if wrapped {
					opts, _ = json.Marshal(request) // {"publicKey": ...}
				}
				assertion, err := a.Get(opts, nil)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				parsed, err := protocol.ParseCredentialRequestResponseBytes(assertion)
				if err != nil {
					t.Fatalf("parse %s: %v", assertion, err)
				}
				var got *webauthn.Credential
				if wrapped {
					got, err = wa.ValidateLogin(u, *lsd, parsed)
				} else {
					_, got, err = wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return u, nil }, *lsd, parsed)
				}
				if err != nil {
					t.Fatalf("go-webauthn refused the assertion: %v\n%s", err, assertion)
				}
				if want := uint32(i + 1); got.Authenticator.SignCount != want {
					t.Errorf("sign count %d, want %d", got.Authenticator.SignCount, want)
				}
				u.creds[0].Authenticator.SignCount = got.Authenticator.SignCount
			}
		})
	}
}
