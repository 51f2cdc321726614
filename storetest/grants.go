package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/passkeyd/passkeyd"
)

// testOIDCGrantsFollowAccount: what ends an account's sessions because it
// may be in the wrong hands (a recovery, a takeover, disabling, deleting a
// passkey) ends its app grants in the same transaction: tokens, consents,
// and requests it completed with their codes. Another account's grants
// stay. A new client secret ends the client's tokens for everyone.
func testOIDCGrantsFollowAccount(t *testing.T, open func(t *testing.T) oidcStore) {
	type fixture struct {
		s                    oidcStore
		client               *passkeyd.OIDCClient
		alice, bob           *passkeyd.User
		aliceCred, bobCred   *passkeyd.Credential
		aliceGrant, bobGrant *appGrant
	}
	setup := func(t *testing.T) *fixture {
		s := open(t)
		f := &fixture{s: s, client: mustCreateOIDCClient(t, s)}
		f.alice, f.aliceCred = mustCreateUser(t, s, "alice@example.com")
		f.bob, f.bobCred = mustCreateUser(t, s, "bob@example.com")
		f.aliceGrant = mustGrant(t, s, f.client.ID, f.alice, f.aliceCred)
		f.bobGrant = mustGrant(t, s, f.client.ID, f.bob, f.bobCred)
		return f
	}
	ended := func(t *testing.T, f *fixture, what string) {
		t.Helper()
		f.aliceGrant.wantGone(t, f.s, "alice's grant after "+what)
		f.bobGrant.wantLive(t, f.s, "bob's grant after alice's "+what)
	}

	t.Run("Recovery", func(t *testing.T) {
		f := setup(t)
		codes := mustSaveCodes(t, f.s, f.alice.ID, 1)
		if err := useCode(t.Context(), f.s, f.alice.ID, codes[0].ID, t0); err != nil {
			t.Fatalf("StartRecovery with a code: %v", err)
		}
		ended(t, f, "a recovery")
	})

	t.Run("Takeover", func(t *testing.T) {
		f := setup(t)
		link := newToken(f.alice.ID, passkeyd.TokenTakeover)
		link.Email = f.alice.Email
		if err := f.s.SaveToken(t.Context(), link); err != nil {
			t.Fatalf("SaveToken: %v", err)
		}
		if _, err := f.s.StartRecovery(t.Context(), &passkeyd.Recovery{TokenID: link.ID, Takeover: true, Session: recoverySession(t0), At: t0}); err != nil {
			t.Fatalf("StartRecovery(takeover): %v", err)
		}
		ended(t, f, "a takeover")
	})

	t.Run("EmailChangeCancelled", func(t *testing.T) {
		f := setup(t)
		link := newToken(f.alice.ID, passkeyd.TokenCancelEmailChange)
		link.Email = f.alice.Email
		if err := f.s.SaveToken(t.Context(), link); err != nil {
			t.Fatalf("SaveToken: %v", err)
		}
		if _, err := f.s.CancelEmailChange(t.Context(), link.ID, t0, nil); err != nil {
			t.Fatalf("CancelEmailChange: %v", err)
		}
		ended(t, f, "a cancelled email change")
	})

	t.Run("DisabledStaysEnded", func(t *testing.T) {
		f := setup(t)
		if err := f.s.SetUserDisabled(t.Context(), f.alice.ID, true, nil); err != nil {
			t.Fatalf("SetUserDisabled(true): %v", err)
		}
		ended(t, f, "disabling")
		if err := f.s.SetUserDisabled(t.Context(), f.alice.ID, false, nil); err != nil {
			t.Fatalf("SetUserDisabled(false): %v", err)
		}
		ended(t, f, "re-enabling")
	})

	t.Run("PasskeyDeleted", func(t *testing.T) {
		f := setup(t)
		other := newCredential(f.alice.ID, t0)
		if err := f.s.AddCredential(t.Context(), other, nil); err != nil {
			t.Fatalf("AddCredential: %v", err)
		}
		second := mustCreateOIDCClient(t, f.s)
		kept := mustGrant(t, f.s, second.ID, f.alice, other)
		if err := f.s.DeleteCredential(t.Context(), f.alice.ID, f.aliceCred.ID, nil); err != nil {
			t.Fatalf("DeleteCredential: %v", err)
		}
		ended(t, f, "its passkey was deleted")
		kept.wantLive(t, f.s, "a grant made with the other passkey")
	})

	t.Run("SignOutEverywhereKeepsApps", func(t *testing.T) {
		f := setup(t)
		if _, err := f.s.DeleteOtherSessions(t.Context(), f.alice.ID, "", nil); err != nil {
			t.Fatalf("DeleteOtherSessions: %v", err)
		}
		f.aliceGrant.wantLive(t, f.s, "alice's grant after signing out everywhere")
	})

	t.Run("SecretRotated", func(t *testing.T) {
		f := setup(t)
		other := mustCreateOIDCClient(t, f.s)
		kept := mustGrant(t, f.s, other.ID, f.alice, f.aliceCred)
		same := *f.client
		same.Name = "Grafana renamed"
		if err := f.s.SaveOIDCClient(t.Context(), &same, nil); err != nil {
			t.Fatalf("SaveOIDCClient (same secret): %v", err)
		}
		f.aliceGrant.wantLive(t, f.s, "a grant after a change that keeps the secret")
		rotated := same
		rotated.SecretHash = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
		if err := f.s.SaveOIDCClient(t.Context(), &rotated, nil); err != nil {
			t.Fatalf("SaveOIDCClient (new secret): %v", err)
		}
		for _, g := range []*appGrant{f.aliceGrant, f.bobGrant} {
			g.wantTokensGone(t, f.s, "a token after the client's secret was rotated")
			if _, err := f.s.FindOIDCConsent(t.Context(), g.userID, g.clientID); err != nil {
				t.Errorf("a consent after the client's secret was rotated: %v, want it kept", err)
			}
		}
		kept.wantLive(t, f.s, "another client's grant after a rotation")
	})

	// A refresh token rotated while the account is disabled (or recovered,
	// or taken over: the same deletes) leaves no token behind, whichever
	// commits first, on any number of instances: either the rotation finds
	// its token gone, or the grants' deletes see the token it wrote.
	t.Run("RaceWithRefresh", func(t *testing.T) {
		s := open(t)
		client := mustCreateOIDCClient(t, s)
		now := t0.Add(2 * time.Minute)
		for range 25 {
			u, cred := mustCreateUser(t, s, randomID("u")+"@example.com")
			g := mustGrant(t, s, client.ID, u, cred)
			next := newOIDCToken(passkeyd.OIDCRefreshToken, &passkeyd.OIDCAuthRequest{ID: g.requestID, ClientID: client.ID, UserID: u.ID}, now)
			errs := race(2, func(i int) error {
				if i == 0 {
					_, err := s.RotateOIDCRefreshToken(t.Context(), g.refresh, now, next)
					return err
				}
				return s.SetUserDisabled(t.Context(), u.ID, true, nil)
			})
			if errs[1] != nil {
				t.Fatalf("SetUserDisabled: %v", errs[1])
			}
			if _, err := s.FindOIDCRefreshToken(t.Context(), next.ID, now); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
				t.Fatalf("the refresh token a racing rotation wrote survived disabling the account (rotation: %v; find: %v)", errs[0], err)
			}
		}
	})

	t.Run("ConnectedApps", func(t *testing.T) {
		f := setup(t)
		ctx := t.Context()
		// A trusted client holding a refresh token and no consent (granted
		// before trusted apps' consents were recorded) is listed too.
		trusted := newOIDCClient()
		trusted.Name, trusted.Trusted = "Wiki", true
		if err := f.s.CreateOIDCClient(ctx, trusted, nil); err != nil {
			t.Fatalf("CreateOIDCClient: %v", err)
		}
		r := newOIDCAuthRequest(trusted.ID)
		r.UserID = f.alice.ID
		refresh := newOIDCToken(passkeyd.OIDCRefreshToken, r, t0.Add(3*time.Hour))
		if err := f.s.CreateOIDCTokens(ctx, refresh); err != nil {
			t.Fatalf("CreateOIDCTokens: %v", err)
		}
		now := t0.Add(3 * time.Hour)
		list, err := f.s.ListOIDCConnectedApps(ctx, f.alice.ID, now)
		if err != nil {
			t.Fatalf("ListOIDCConnectedApps: %v", err)
		}
		want := []*passkeyd.OIDCConnectedApp{
			{ClientID: trusted.ID, ClientName: "Wiki", Trusted: true, Scopes: refresh.Scopes, CreatedAt: refresh.CreatedAt, LastUsedAt: refresh.CreatedAt},
			{ClientID: f.client.ID, ClientName: "Grafana", Scopes: []string{"openid", "email"}, CreatedAt: t0, LastUsedAt: t0.Add(time.Minute)},
		}
		if diff := cmp.Diff(want, list, cmpOpts...); diff != "" {
			t.Errorf("ListOIDCConnectedApps (-want +got):\n%s", diff)
		}
		// Revoking the trusted app (no consent, a token) ends its token.
		if err := f.s.RevokeOIDCConsent(ctx, f.alice.ID, trusted.ID, nil); err != nil {
			t.Fatalf("RevokeOIDCConsent of a token-only app: %v", err)
		}
		list, err = f.s.ListOIDCConnectedApps(ctx, f.alice.ID, now)
		if err != nil || len(list) != 1 || list[0].ClientID != f.client.ID {
			t.Errorf("ListOIDCConnectedApps after revoking the trusted app = %+v, %v; want only %s", list, err, f.client.ID)
		}
		list, err = f.s.ListOIDCConnectedApps(ctx, f.bob.ID, now)
		if err != nil || len(list) != 1 || list[0].ClientID != f.client.ID {
			t.Errorf("bob's ListOIDCConnectedApps = %+v, %v; want his one app", list, err)
		}
	})
}

// appGrant is what an app holds of a user: a consent, an access and a
// refresh token, and a request completed with a code not yet redeemed.
type appGrant struct {
	userID, clientID                 string
	access, refresh, requestID, code string
}

// mustGrant gives client a grant of u made in a session of cred's, at t0
// (the consent) and t0+1m (the tokens and the pending code).
func mustGrant(t testing.TB, s oidcStore, clientID string, u *passkeyd.User, cred *passkeyd.Credential) *appGrant {
	t.Helper()
	ctx := t.Context()
	if err := s.SaveOIDCConsent(ctx, &passkeyd.OIDCConsent{UserID: u.ID, ClientID: clientID, Scopes: []string{"openid", "email"},
		CredentialID: cred.ID, CreatedAt: t0}); err != nil {
		t.Fatalf("SaveOIDCConsent: %v", err)
	}
	done := newOIDCAuthRequest(clientID)
	done.UserID, done.CredentialID, done.AuthTime = u.ID, cred.ID, t0
	access := newOIDCToken(passkeyd.OIDCAccessToken, done, t0.Add(time.Minute))
	refresh := newOIDCToken(passkeyd.OIDCRefreshToken, done, t0.Add(time.Minute))
	access.CredentialID, refresh.CredentialID = cred.ID, cred.ID
	if err := s.CreateOIDCTokens(ctx, access, refresh); err != nil {
		t.Fatalf("CreateOIDCTokens: %v", err)
	}
	pending := newOIDCAuthRequest(clientID)
	if err := s.SaveOIDCAuthRequest(ctx, pending); err != nil {
		t.Fatalf("SaveOIDCAuthRequest: %v", err)
	}
	code := randomID("code")
	if err := s.IssueOIDCCode(ctx, &passkeyd.OIDCCodeIssue{RequestID: pending.ID, UserID: u.ID, CredentialID: cred.ID, AuthTime: t0,
		AMR: []string{"pop", "mfa"}, CodeHash: code, CodeExpiresAt: t0.Add(5 * time.Minute)}, nil, t0); err != nil {
		t.Fatalf("IssueOIDCCode: %v", err)
	}
	got, err := s.FindOIDCRefreshToken(ctx, refresh.ID, t0)
	if err != nil || got.CredentialID != cred.ID {
		t.Fatalf("FindOIDCRefreshToken = %+v, %v; want it with the passkey it was made with", got, err)
	}
	if r, err := s.FindOIDCAuthRequest(ctx, pending.ID, t0); err != nil || r.CredentialID != cred.ID {
		t.Fatalf("FindOIDCAuthRequest = %+v, %v; want it with the passkey it was completed with", r, err)
	}
	return &appGrant{userID: u.ID, clientID: clientID, access: access.ID, refresh: refresh.ID, requestID: pending.ID, code: code}
}

// The checks read at t0+2m, when everything of the grant is unexpired.

func (g *appGrant) wantTokensGone(t testing.TB, s oidcStore, what string) {
	t.Helper()
	now := t0.Add(2 * time.Minute)
	_, err := s.FindOIDCToken(t.Context(), g.access, passkeyd.OIDCAccessToken, now)
	wantCode(t, err, passkeyd.ENOTFOUND, what+": the access token")
	_, err = s.FindOIDCRefreshToken(t.Context(), g.refresh, now)
	wantCode(t, err, passkeyd.ENOTFOUND, what+": the refresh token")
	_, err = s.RedeemOIDCCode(t.Context(), g.code, now)
	wantCode(t, err, passkeyd.ENOTFOUND, what+": redeeming the pending code")
}

func (g *appGrant) wantGone(t testing.TB, s oidcStore, what string) {
	t.Helper()
	g.wantTokensGone(t, s, what)
	_, err := s.FindOIDCConsent(t.Context(), g.userID, g.clientID)
	wantCode(t, err, passkeyd.ENOTFOUND, what+": the consent")
	_, err = s.FindOIDCAuthRequest(t.Context(), g.requestID, t0.Add(2*time.Minute))
	wantCode(t, err, passkeyd.ENOTFOUND, what+": the completed request")
}

// wantLive checks without spending anything: the code is only looked up.
func (g *appGrant) wantLive(t testing.TB, s oidcStore, what string) {
	t.Helper()
	ctx, now := t.Context(), t0.Add(2*time.Minute)
	if _, err := s.FindOIDCToken(ctx, g.access, passkeyd.OIDCAccessToken, now); err != nil {
		t.Errorf("%s: the access token: %v", what, err)
	}
	if _, err := s.FindOIDCToken(ctx, g.refresh, passkeyd.OIDCRefreshToken, now); err != nil {
		t.Errorf("%s: the refresh token: %v", what, err)
	}
	if _, err := s.FindOIDCConsent(ctx, g.userID, g.clientID); err != nil {
		t.Errorf("%s: the consent: %v", what, err)
	}
	if _, err := s.FindOIDCAuthRequest(ctx, g.requestID, now); err != nil {
		t.Errorf("%s: the request with its code: %v", what, err)
	}
}
