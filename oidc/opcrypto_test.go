package oidc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"

	"github.com/passkeyd/passkeyd/oidc"
)

// TestOpValuesSealedOnce (issue 22): the codes and access tokens op hands
// out are sealed with one AES-GCM operation each, not a JWE with a fresh
// content key (op's default, which cost about 4 % of an app sign-in);
// they open only under their key and unaltered, and values op's default
// sealed before an upgrade still open.
func TestOpValuesSealedOnce(t *testing.T) {
	var key, other [32]byte
	copy(key[:], "the tokens key of this test.....")
	copy(other[:], "another key, of another secret..")
	c, err := oidc.NewOpCrypto(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := c.Encrypt("token-id:subject")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, ".") {
		t.Errorf("sealed %q: a JWE, want one sealed value", sealed)
	}
	if again, _ := c.Encrypt("token-id:subject"); again == sealed {
		t.Error("the same value sealed twice gives the same string: no fresh nonce")
	}
	if got, err := c.Decrypt(sealed); err != nil || got != "token-id:subject" {
		t.Errorf("Decrypt = %q, %v", got, err)
	}
	jwe, err := op.NewAES256GCMCrypto(key, "").Encrypt("old-id:subject") // as op sealed before
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Decrypt(jwe); err != nil || got != "old-id:subject" {
		t.Errorf("a value op's default sealed: Decrypt = %q, %v", got, err)
	}
	otherCrypto, _ := oidc.NewOpCrypto(other)
	tampered := []byte(sealed)
	tampered[len(tampered)-3] ^= 1
	for name, v := range map[string]string{
		"tampered": string(tampered), "under another key": mustEncrypt(t, otherCrypto, "token-id:subject"),
		"truncated": sealed[:10], "empty": "", "not base64": "!!!", "JWE under another key": mustEncrypt(t, op.NewAES256GCMCrypto(other, ""), "x:y"),
	} {
		if got, err := c.Decrypt(v); err == nil {
			t.Errorf("%s: Decrypt = %q, want an error", name, got)
		}
	}

	// Through the provider: the code and the access token are such values,
	// and the access token opens at userinfo.
	s := startInProcess(t)
	p := s.provider(t)
	conf := s.config(p, "app", appRedirect, oauth2.AuthStyleInHeader)
	verifier := oauth2.GenerateVerifier()
	back, _ := s.authorize(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	code := back.Query().Get("code")
	if code == "" || strings.Contains(code, ".") {
		t.Fatalf("code %q: want one sealed value", code)
	}
	tok, err := conf.Exchange(s.rpContext(t), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok.AccessToken, ".") {
		t.Errorf("access token %q: a JWE, want one sealed value", tok.AccessToken)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.issuer+"/oidc/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if res, body := s.do(t, req); res.StatusCode != http.StatusOK || !strings.Contains(body, s.userID) {
		t.Errorf("userinfo: %d %s", res.StatusCode, body)
	}
}

func mustEncrypt(t *testing.T, c op.Crypto, s string) string {
	t.Helper()
	v, err := c.Encrypt(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
