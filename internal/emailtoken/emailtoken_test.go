package emailtoken_test

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
	"github.com/passkeyd/passkeyd/internal/testclock"
	"github.com/passkeyd/passkeyd/sqlite"
)

// TestIssueTakeOnce: a token is stored under its keyed hash, opens its
// page's link, is taken once, only for its purpose and only under the
// secret it was issued with, and not after it expired.
func TestIssueTakeOnce(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "file:"+filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := testclock.New(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	secret := []byte(strings.Repeat("k", 32))
	tokens := emailtoken.New(store, secret, "https://id.example.com", clock.Now)

	token, err := tokens.Issue(ctx, passkeyd.TokenSignUp, "", "new@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	link, err := url.Parse(tokens.Link(passkeyd.TokenSignUp, token))
	if err != nil || link.Host != "id.example.com" || link.Path != "/signup" || link.Query().Get("token") != token {
		t.Fatalf("link %v: %v", link, err)
	}
	if tokens.ID(passkeyd.TokenSignUp, token) == token || tokens.ID(passkeyd.TokenSignUp, token) == tokens.ID(passkeyd.TokenRecovery, token) {
		t.Fatal("the ID is the token itself, or the same for two purposes")
	}
	other := emailtoken.New(store, []byte(strings.Repeat("o", 32)), "https://id.example.com", clock.Now)
	for name, take := range map[string]func() (*passkeyd.Token, error){
		"another purpose": func() (*passkeyd.Token, error) { return tokens.Take(ctx, passkeyd.TokenRecovery, token) },
		"another secret":  func() (*passkeyd.Token, error) { return other.Take(ctx, passkeyd.TokenSignUp, token) },
		"too long": func() (*passkeyd.Token, error) {
			return tokens.Take(ctx, passkeyd.TokenSignUp, strings.Repeat("a", 101))
		},
	} {
		if _, err := take(); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			t.Errorf("%s: %v, want ENOTFOUND", name, err)
		}
	}
	got, err := tokens.Take(ctx, passkeyd.TokenSignUp, token)
	if err != nil || got.Email != "new@example.com" || got.Purpose != passkeyd.TokenSignUp {
		t.Fatalf("Take: %+v, %v", got, err)
	}
	if _, err := tokens.Take(ctx, passkeyd.TokenSignUp, token); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
		t.Fatalf("second Take: %v, want ENOTFOUND", err)
	}

	late, err := tokens.Issue(ctx, passkeyd.TokenSignUp, "", "late@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour + time.Second)
	if _, err := tokens.Take(ctx, passkeyd.TokenSignUp, late); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
		t.Fatalf("Take after expiry: %v, want ENOTFOUND", err)
	}
}

// TestRecoveryPurpose: an account whose address was never confirmed gets
// a takeover link, one with a confirmed address a recovery link.
func TestRecoveryPurpose(t *testing.T) {
	confirmed := &passkeyd.User{Email: "ada@example.com", EmailVerifiedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	if got := emailtoken.RecoveryPurpose(confirmed); got != passkeyd.TokenRecovery {
		t.Errorf("confirmed address: %s, want %s", got, passkeyd.TokenRecovery)
	}
	if got := emailtoken.RecoveryPurpose(&passkeyd.User{Email: "eve@example.com"}); got != passkeyd.TokenTakeover {
		t.Errorf("address never confirmed: %s, want %s", got, passkeyd.TokenTakeover)
	}
}
