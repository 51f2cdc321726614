package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/passkeyd/passkeyd"
)

// RunOIDC runs the suite of passkeyd.OIDCStore, the OpenID Connect
// provider's storage, as named subtests. open is as for Run; the store it
// returns must implement passkeyd.OIDCStore too.
func RunOIDC(t *testing.T, open func(t *testing.T) passkeyd.Store) {
	openOIDC := func(t *testing.T) oidcStore {
		s := open(t)
		o, ok := s.(passkeyd.OIDCStore)
		if !ok {
			t.Fatalf("%T does not implement passkeyd.OIDCStore", s)
		}
		return oidcStore{s, o}
	}
	t.Run("Client", func(t *testing.T) { testOIDCClient(t, openOIDC(t)) })
	t.Run("CodeRedeemedOnce", func(t *testing.T) { testOIDCCode(t, openOIDC(t)) })
	t.Run("IssueCode", func(t *testing.T) { testOIDCIssueCode(t, openOIDC(t)) })
	t.Run("CodeRace", func(t *testing.T) {
		s := openOIDC(t)
		OIDCCodeRace(t, s, s)
	})
	t.Run("RefreshRotation", func(t *testing.T) { testOIDCRefresh(t, openOIDC(t)) })
	t.Run("Consent", func(t *testing.T) { testOIDCConsent(t, openOIDC(t)) })
	t.Run("RequestDeleted", func(t *testing.T) { testOIDCRequestDeleted(t, openOIDC(t)) })
	t.Run("CodeTokensWithRedemption", func(t *testing.T) { testOIDCCodeTokens(t, openOIDC(t)) })
	t.Run("Keys", func(t *testing.T) { testOIDCKeys(t, openOIDC(t)) })
	t.Run("KeyRace", func(t *testing.T) {
		s := openOIDC(t)
		OIDCKeyRace(t, s, s)
	})
	t.Run("DeleteExpired", func(t *testing.T) { testOIDCDeleteExpired(t, openOIDC(t)) })
	t.Run("GrantsFollowAccount", func(t *testing.T) { testOIDCGrantsFollowAccount(t, openOIDC) })
}

type oidcStore struct {
	passkeyd.Store
	passkeyd.OIDCStore
}

func newOIDCClient() *passkeyd.OIDCClient {
	return &passkeyd.OIDCClient{
		ID:                     randomID("cli"),
		Name:                   "Grafana",
		SecretHash:             "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		RedirectURIs:           []string{"https://grafana.example.com/login/generic_oauth", "http://127.0.0.1/callback"},
		PostLogoutRedirectURIs: []string{"https://grafana.example.com/"},
		Scopes:                 []string{"openid", "email", "profile", "offline_access"},
		IDTokenAlg:             "RS256",
		AccessTokenTTL:         5 * time.Minute,
		IDTokenTTL:             time.Hour,
		RefreshTokenTTL:        30 * 24 * time.Hour,
		AllowedUsers:           []string{"alice@example.com", "@example.org"},
		CreatedAt:              t0,
		UpdatedAt:              t0,
	}
}

func mustCreateOIDCClient(t testing.TB, s passkeyd.OIDCStore) *passkeyd.OIDCClient {
	t.Helper()
	c := newOIDCClient()
	if err := s.CreateOIDCClient(t.Context(), c, nil); err != nil {
		t.Fatalf("CreateOIDCClient: %v", err)
	}
	return c
}

// appEvent is an administrator's event of a change to client c, which
// the store records with the change.
func appEvent(c *passkeyd.OIDCClient, typ string) *passkeyd.Event {
	ev := passkeyd.NewEvent(t0, passkeyd.Actor{IP: "192.0.2.9", UserAgent: "console", AdminID: "admin-1", AdminName: "admin@example.com"},
		"", typ, "", "app "+c.Name)
	ev.ClientID = c.ID
	return ev
}

// appEventTypes lists the types of the events of no account that name
// the client, newest first.
func appEventTypes(t testing.TB, s passkeyd.Store, clientID string) []string {
	t.Helper()
	events, err := s.ListEvents(t.Context(), "", 0, 1000)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	var types []string
	for _, e := range events {
		if e.ClientID == clientID {
			types = append(types, e.Type)
		}
	}
	return types
}

func testOIDCClient(t *testing.T, s oidcStore) {
	ctx := t.Context()
	c := newOIDCClient()
	created := appEvent(c, passkeyd.EventAppCreated)
	if err := s.CreateOIDCClient(ctx, c, created); err != nil {
		t.Fatalf("CreateOIDCClient: %v", err)
	}
	got, err := s.FindOIDCClient(ctx, c.ID)
	if err != nil {
		t.Fatalf("FindOIDCClient: %v", err)
	}
	if diff := cmp.Diff(c, got, cmpOpts...); diff != "" {
		t.Errorf("FindOIDCClient mismatch (-want +got):\n%s", diff)
	}
	// The event is written with the client, whole.
	events, err := s.ListEvents(ctx, "", 0, 10)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	if len(events) != 1 || created.ID == 0 {
		t.Fatalf("events after CreateOIDCClient: %+v (ID %d); want the app_created event", events, created.ID)
	}
	if diff := cmp.Diff(created, events[0], cmpOpts...); diff != "" {
		t.Errorf("the event of CreateOIDCClient (-want +got):\n%s", diff)
	}
	// A refused write records nothing.
	taken := newOIDCClientWithID(c.ID)
	wantCode(t, s.CreateOIDCClient(ctx, taken, appEvent(taken, passkeyd.EventAppCreated)), passkeyd.ECONFLICT, "CreateOIDCClient with a taken ID")
	if got, want := appEventTypes(t, s, c.ID), []string{passkeyd.EventAppCreated}; !cmp.Equal(got, want) {
		t.Errorf("events after the refused create: %v; want %v", got, want)
	}

	// SaveOIDCClient replaces the settings and keeps CreatedAt.
	changed := *c
	changed.Name, changed.Public, changed.SecretHash, changed.Trusted = "Grafana 2", true, "", true
	changed.AllowUnverifiedEmail = true
	changed.RedirectURIs = []string{"https://other.example.com/cb"}
	changed.CreatedAt, changed.UpdatedAt = t0.Add(time.Hour), t0.Add(time.Hour)
	if err := s.SaveOIDCClient(ctx, &changed, appEvent(c, passkeyd.EventAppUpdated)); err != nil {
		t.Fatalf("SaveOIDCClient: %v", err)
	}
	got, err = s.FindOIDCClient(ctx, c.ID)
	if err != nil {
		t.Fatalf("FindOIDCClient: %v", err)
	}
	changed.CreatedAt = t0
	if diff := cmp.Diff(&changed, got, cmpOpts...); diff != "" {
		t.Errorf("after SaveOIDCClient (-want +got):\n%s", diff)
	}
	// No event (nil) is allowed.
	if err := s.SaveOIDCClient(ctx, &changed, nil); err != nil {
		t.Fatalf("SaveOIDCClient without an event: %v", err)
	}
	list, err := s.ListOIDCClients(ctx)
	if err != nil || len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("ListOIDCClients = %v, %v; want the one client", list, err)
	}
	if err := s.DeleteOIDCClient(ctx, c.ID, appEvent(c, passkeyd.EventAppDeleted)); err != nil {
		t.Fatalf("DeleteOIDCClient: %v", err)
	}
	_, err = s.FindOIDCClient(ctx, c.ID)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCClient after delete")
	wantCode(t, s.DeleteOIDCClient(ctx, c.ID, appEvent(c, passkeyd.EventAppDeleted)), passkeyd.ENOTFOUND, "second DeleteOIDCClient")
	// Its events stay, one per change made.
	if got, want := appEventTypes(t, s, c.ID), []string{passkeyd.EventAppDeleted, passkeyd.EventAppUpdated, passkeyd.EventAppCreated}; !cmp.Equal(got, want) {
		t.Errorf("the client's events: %v; want %v", got, want)
	}
}

func newOIDCClientWithID(id string) *passkeyd.OIDCClient {
	c := newOIDCClient()
	c.ID = id
	return c
}

func newOIDCAuthRequest(clientID string) *passkeyd.OIDCAuthRequest {
	return &passkeyd.OIDCAuthRequest{
		ID:                  randomID("ar"),
		ClientID:            clientID,
		RedirectURI:         "https://grafana.example.com/login/generic_oauth",
		Scopes:              []string{"openid", "email"},
		State:               "st",
		Nonce:               "nn",
		ResponseType:        "code",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Prompt:              []string{"login"},
		MaxAge:              -1,
		LoginHint:           "alice@example.com",
		BrowserHash:         "browser-hash",
		HintSubject:         "user-named-by-the-hint",
		CreatedAt:           t0,
		ExpiresAt:           t0.Add(10 * time.Minute),
	}
}

// mustIssueCode stores a request of a new client and user, completes it
// and gives it a code, and returns the request and the code's hash.
func mustIssueCode(t testing.TB, s oidcStore) (*passkeyd.OIDCAuthRequest, string) {
	t.Helper()
	ctx := t.Context()
	c := mustCreateOIDCClient(t, s)
	u, _ := mustCreateUser(t, s, randomID("u")+"@example.com")
	r := newOIDCAuthRequest(c.ID)
	if err := s.SaveOIDCAuthRequest(ctx, r); err != nil {
		t.Fatalf("SaveOIDCAuthRequest: %v", err)
	}
	code := randomID("code")
	if err := s.IssueOIDCCode(ctx, &passkeyd.OIDCCodeIssue{RequestID: r.ID, UserID: u.ID, AuthTime: t0, AMR: []string{"hwk", "user"},
		CodeHash: code, CodeExpiresAt: t0.Add(2 * time.Minute)}, nil, t0.Add(time.Minute)); err != nil {
		t.Fatalf("IssueOIDCCode: %v", err)
	}
	r.UserID, r.AuthTime, r.AMR, r.Done = u.ID, t0, []string{"hwk", "user"}, true
	r.CodeHash, r.CodeExpiresAt = code, t0.Add(2*time.Minute)
	return r, code
}

// testOIDCRequestDeleted: a request not completed can be ended; one with
// a code cannot (its code is redeemed or expires).
func testOIDCRequestDeleted(t *testing.T, s oidcStore) {
	ctx := t.Context()
	c := mustCreateOIDCClient(t, s)
	r := newOIDCAuthRequest(c.ID)
	if err := s.SaveOIDCAuthRequest(ctx, r); err != nil {
		t.Fatalf("SaveOIDCAuthRequest: %v", err)
	}
	if got, err := s.FindOIDCAuthRequest(ctx, r.ID, t0); err != nil || got.BrowserHash != r.BrowserHash {
		t.Fatalf("FindOIDCAuthRequest = %+v, %v; want it with its browser hash", got, err)
	}
	if err := s.DeleteOIDCAuthRequest(ctx, r.ID); err != nil {
		t.Fatalf("DeleteOIDCAuthRequest: %v", err)
	}
	_, err := s.FindOIDCAuthRequest(ctx, r.ID, t0)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCAuthRequest after DeleteOIDCAuthRequest")
	wantCode(t, s.IssueOIDCCode(ctx, &passkeyd.OIDCCodeIssue{RequestID: r.ID, UserID: "someone", CodeHash: randomID("code"), CodeExpiresAt: t0.Add(time.Minute)}, nil, t0),
		passkeyd.ENOTFOUND, "IssueOIDCCode after DeleteOIDCAuthRequest")
	wantCode(t, s.DeleteOIDCAuthRequest(ctx, r.ID), passkeyd.ENOTFOUND, "second DeleteOIDCAuthRequest")
	done, _ := mustIssueCode(t, s)
	wantCode(t, s.DeleteOIDCAuthRequest(ctx, done.ID), passkeyd.ENOTFOUND, "DeleteOIDCAuthRequest of a request with a code")
}

// testOIDCIssueCode: IssueOIDCCode completes a request, gives it its code
// and records the event in one transaction: all of it or, when any part
// fails, none; a request yields one code.
func testOIDCIssueCode(t *testing.T, s oidcStore) {
	ctx := t.Context()
	c := mustCreateOIDCClient(t, s)
	u, _ := mustCreateUser(t, s, randomID("u")+"@example.com")
	r := newOIDCAuthRequest(c.ID)
	if err := s.SaveOIDCAuthRequest(ctx, r); err != nil {
		t.Fatalf("SaveOIDCAuthRequest: %v", err)
	}
	events := func() int {
		t.Helper()
		list, err := s.ListEvents(ctx, u.ID, 0, 100)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		n := 0
		for _, e := range list {
			if e.Type == passkeyd.EventOIDCSignIn {
				n++
			}
		}
		return n
	}
	issue := &passkeyd.OIDCCodeIssue{RequestID: r.ID, UserID: u.ID, CredentialID: "cred-1", AuthTime: t0,
		AMR: []string{"pop", "mfa"}, CodeHash: randomID("code"), CodeExpiresAt: t0.Add(2 * time.Minute)}
	now := t0.Add(time.Minute)

	// An event that cannot be stored takes the completion and the code with it.
	broken := passkeyd.NewEvent(now, passkeyd.Actor{}, u.ID, "", "", "Test App")
	if err := s.IssueOIDCCode(ctx, issue, broken, now); err == nil {
		t.Fatal("IssueOIDCCode with an event without a type succeeded")
	}
	if got, err := s.FindOIDCAuthRequest(ctx, r.ID, now); err != nil || got.Done || got.CodeHash != "" || got.UserID != "" {
		t.Fatalf("after a failed IssueOIDCCode the request is %+v, %v; want it as it was", got, err)
	}
	if _, err := s.FindOIDCCode(ctx, issue.CodeHash, now); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
		t.Fatalf("FindOIDCCode after a failed IssueOIDCCode: %v, want ENOTFOUND", err)
	}

	ev := passkeyd.NewEvent(now, passkeyd.Actor{}, u.ID, passkeyd.EventOIDCSignIn, "cred-1", "Test App")
	if err := s.IssueOIDCCode(ctx, issue, ev, now); err != nil {
		t.Fatalf("IssueOIDCCode: %v", err)
	}
	want := *r
	want.UserID, want.CredentialID, want.AuthTime, want.AMR, want.Done = u.ID, "cred-1", t0, []string{"pop", "mfa"}, true
	want.CodeHash, want.CodeExpiresAt = issue.CodeHash, issue.CodeExpiresAt
	got, err := s.FindOIDCCode(ctx, issue.CodeHash, now)
	if err != nil {
		t.Fatalf("FindOIDCCode: %v", err)
	}
	if diff := cmp.Diff(&want, got, cmpOpts...); diff != "" {
		t.Errorf("FindOIDCCode after IssueOIDCCode mismatch (-want +got):\n%s", diff)
	}
	if n := events(); n != 1 {
		t.Errorf("%d %s events after IssueOIDCCode, want 1", n, passkeyd.EventOIDCSignIn)
	}

	again := *issue
	again.CodeHash = randomID("code")
	wantCode(t, s.IssueOIDCCode(ctx, &again, passkeyd.NewEvent(now, passkeyd.Actor{}, u.ID, passkeyd.EventOIDCSignIn, "", "Test App"), now),
		passkeyd.ENOTFOUND, "a second IssueOIDCCode for one request")
	if n := events(); n != 1 {
		t.Errorf("%d %s events after a refused IssueOIDCCode, want 1", n, passkeyd.EventOIDCSignIn)
	}
	expired := newOIDCAuthRequest(c.ID)
	if err := s.SaveOIDCAuthRequest(ctx, expired); err != nil {
		t.Fatalf("SaveOIDCAuthRequest: %v", err)
	}
	late := *issue
	late.RequestID, late.CodeHash = expired.ID, randomID("code")
	wantCode(t, s.IssueOIDCCode(ctx, &late, nil, expired.ExpiresAt), passkeyd.ENOTFOUND, "IssueOIDCCode for an expired request")
}

func testOIDCCode(t *testing.T, s oidcStore) {
	ctx := t.Context()
	r, code := mustIssueCode(t, s)
	got, err := s.FindOIDCAuthRequest(ctx, r.ID, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("FindOIDCAuthRequest: %v", err)
	}
	if diff := cmp.Diff(r, got, cmpOpts...); diff != "" {
		t.Errorf("FindOIDCAuthRequest mismatch (-want +got):\n%s", diff)
	}
	wantCode(t, s.IssueOIDCCode(ctx, &passkeyd.OIDCCodeIssue{RequestID: r.ID, UserID: "someone", CodeHash: randomID("code"),
		CodeExpiresAt: t0.Add(time.Hour)}, nil, t0), passkeyd.ENOTFOUND, "a second code for one request")

	_, err = s.FindOIDCCode(ctx, code, t0.Add(2*time.Minute))
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCCode when expired")
	_, err = s.FindOIDCCode(ctx, randomID("code"), t0)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCCode of an unknown code")
	found, err := s.FindOIDCCode(ctx, code, t0.Add(time.Minute))
	if err != nil || found.ID != r.ID || !found.CodeRedeemedAt.IsZero() {
		t.Fatalf("FindOIDCCode = %+v, %v; want request %s, not redeemed", found, err, r.ID)
	}
	_, err = s.RedeemOIDCCode(ctx, code, t0.Add(2*time.Minute))
	wantCode(t, err, passkeyd.ENOTFOUND, "RedeemOIDCCode when expired")
	_, err = s.RedeemOIDCCode(ctx, randomID("code"), t0)
	wantCode(t, err, passkeyd.ENOTFOUND, "RedeemOIDCCode of an unknown code")

	got, err = s.RedeemOIDCCode(ctx, code, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("RedeemOIDCCode: %v", err)
	}
	if got.ID != r.ID || got.UserID != r.UserID || got.CodeRedeemedAt.IsZero() {
		t.Errorf("RedeemOIDCCode = %+v, want request %s redeemed", got, r.ID)
	}
	again, err := s.RedeemOIDCCode(ctx, code, t0.Add(time.Minute))
	wantCode(t, err, passkeyd.ECONFLICT, "second RedeemOIDCCode")
	if again == nil || again.ID != r.ID {
		t.Errorf("second RedeemOIDCCode returned %+v, want the request, so its grant can be revoked", again)
	}
	// A redeemed code is still found, even once expired, so that its
	// second presentation is recognised.
	found, err = s.FindOIDCCode(ctx, code, t0.Add(5*time.Minute))
	if err != nil || found.ID != r.ID || found.CodeRedeemedAt.IsZero() {
		t.Errorf("FindOIDCCode of a redeemed code = %+v, %v; want request %s, redeemed", found, err, r.ID)
	}

	// An unfinished request expires.
	unfinished := newOIDCAuthRequest(r.ClientID)
	if err := s.SaveOIDCAuthRequest(ctx, unfinished); err != nil {
		t.Fatalf("SaveOIDCAuthRequest: %v", err)
	}
	_, err = s.FindOIDCAuthRequest(ctx, unfinished.ID, unfinished.ExpiresAt)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCAuthRequest when expired")
}

// OIDCCodeRace issues a code through a and has several callers redeem it at
// once, each with the tokens it would grant, half through a and half
// through b (two instances on one database, or one store twice): exactly
// one may succeed. Each loser then revokes the code's grant, as the
// provider does when a code comes back, and that must end the winner's
// tokens whichever order they ran in: they were stored with the
// redemption, not after it.
func OIDCCodeRace(t *testing.T, a, b passkeyd.Store) {
	sa, sb := asOIDC(t, a), asOIDC(t, b)
	r, code := mustIssueCode(t, sa)
	const n = 8
	now := t0.Add(time.Minute)
	tokens := make([][]*passkeyd.OIDCToken, n)
	for i := range tokens {
		tokens[i] = []*passkeyd.OIDCToken{newOIDCToken(passkeyd.OIDCAccessToken, r, now), newOIDCToken(passkeyd.OIDCRefreshToken, r, now)}
	}
	errs := race(n, func(i int) error {
		s := sa
		if i%2 == 1 {
			s = sb
		}
		got, err := s.RedeemOIDCCode(t.Context(), code, now, tokens[i]...)
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
			if got == nil || got.ID != r.ID {
				return fmt.Errorf("a losing redemption returned %+v, not the code's request", got)
			}
			if _, err := s.RevokeOIDCGrant(t.Context(), got.ID); err != nil {
				return err
			}
		}
		return err
	})
	if got := countCodes(errs); got[""] != 1 || got[passkeyd.ECONFLICT] != n-1 {
		t.Fatalf("racing redemptions: %v (%v), want exactly one success and %d conflicts", got, errs, n-1)
	}
	for i := range tokens {
		for _, tok := range tokens[i] {
			if _, err := sa.FindOIDCRefreshToken(t.Context(), tok.ID, now); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
				t.Errorf("redemption %d (error %v): its %s token is stored after the code was used twice (error %v)", i, errs[i], tok.Kind, err)
			}
			if _, err := sa.FindOIDCToken(t.Context(), tok.ID, passkeyd.OIDCAccessToken, now); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
				t.Errorf("redemption %d (error %v): its %s token works after the code was used twice (error %v)", i, errs[i], tok.Kind, err)
			}
		}
	}
}

// testOIDCCodeTokens: the tokens of a code are stored in the redemption's
// transaction: a loser stores none, and tokens that cannot be stored leave
// the code unredeemed.
func testOIDCCodeTokens(t *testing.T, s oidcStore) {
	ctx := t.Context()
	r, code := mustIssueCode(t, s)
	now := t0.Add(time.Minute)
	broken := newOIDCToken(passkeyd.OIDCAccessToken, r, now)
	broken.UserID = "nobody" // not a user: the insert fails
	_, err := s.RedeemOIDCCode(ctx, code, now, newOIDCToken(passkeyd.OIDCRefreshToken, r, now), broken)
	if err == nil {
		t.Fatal("RedeemOIDCCode stored a token of an unknown user")
	}
	if found, err := s.FindOIDCCode(ctx, code, now); err != nil || !found.CodeRedeemedAt.IsZero() {
		t.Fatalf("after a redemption whose tokens failed: FindOIDCCode = %+v, %v; want the code not redeemed", found, err)
	}
	access, refresh := newOIDCToken(passkeyd.OIDCAccessToken, r, now), newOIDCToken(passkeyd.OIDCRefreshToken, r, now)
	if _, err := s.RedeemOIDCCode(ctx, code, now, access, refresh); err != nil {
		t.Fatalf("RedeemOIDCCode: %v", err)
	}
	if _, err := s.FindOIDCToken(ctx, access.ID, passkeyd.OIDCAccessToken, now); err != nil {
		t.Errorf("the redemption's access token: %v", err)
	}
	late := newOIDCToken(passkeyd.OIDCAccessToken, r, now)
	again, err := s.RedeemOIDCCode(ctx, code, now, late)
	wantCode(t, err, passkeyd.ECONFLICT, "second RedeemOIDCCode")
	_, err = s.FindOIDCToken(ctx, late.ID, passkeyd.OIDCAccessToken, now)
	wantCode(t, err, passkeyd.ENOTFOUND, "the token of a losing redemption")
	if n, err := s.RevokeOIDCGrant(ctx, again.ID); err != nil || n != 2 {
		t.Errorf("RevokeOIDCGrant after the reuse = %d, %v; want the winner's 2 tokens", n, err)
	}
	_, err = s.FindOIDCRefreshToken(ctx, refresh.ID, now)
	wantCode(t, err, passkeyd.ENOTFOUND, "the winner's refresh token after the reuse")
}

// OIDCCodeOnOtherInstance issues a code through a and redeems it through b.
func OIDCCodeOnOtherInstance(t *testing.T, a, b passkeyd.Store) {
	r, code := mustIssueCode(t, asOIDC(t, a))
	got, err := asOIDC(t, b).RedeemOIDCCode(t.Context(), code, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("RedeemOIDCCode on the other instance: %v", err)
	}
	if got.ID != r.ID {
		t.Errorf("redeemed request %s, want %s", got.ID, r.ID)
	}
}

func asOIDC(t testing.TB, s passkeyd.Store) oidcStore {
	t.Helper()
	o, ok := s.(passkeyd.OIDCStore)
	if !ok {
		t.Fatalf("%T does not implement passkeyd.OIDCStore", s)
	}
	return oidcStore{s, o}
}

func newOIDCToken(kind passkeyd.OIDCTokenKind, r *passkeyd.OIDCAuthRequest, created time.Time) *passkeyd.OIDCToken {
	return &passkeyd.OIDCToken{
		ID:        randomID(string(kind)),
		Kind:      kind,
		GrantID:   r.ID,
		ClientID:  r.ClientID,
		UserID:    r.UserID,
		Scopes:    []string{"openid", "offline_access"},
		Audience:  []string{r.ClientID},
		AuthTime:  r.AuthTime,
		AMR:       []string{"hwk", "user"},
		CreatedAt: created,
		ExpiresAt: created.Add(time.Hour),
	}
}

func testOIDCRefresh(t *testing.T, s oidcStore) {
	ctx := t.Context()
	r, _ := mustIssueCode(t, s)
	access := newOIDCToken(passkeyd.OIDCAccessToken, r, t0)
	first := newOIDCToken(passkeyd.OIDCRefreshToken, r, t0)
	if err := s.CreateOIDCTokens(ctx, access, first); err != nil {
		t.Fatalf("CreateOIDCTokens: %v", err)
	}
	got, err := s.FindOIDCToken(ctx, access.ID, passkeyd.OIDCAccessToken, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("FindOIDCToken: %v", err)
	}
	if diff := cmp.Diff(access, got, cmpOpts...); diff != "" {
		t.Errorf("FindOIDCToken mismatch (-want +got):\n%s", diff)
	}
	_, err = s.FindOIDCToken(ctx, access.ID, passkeyd.OIDCRefreshToken, t0.Add(time.Minute))
	wantCode(t, err, passkeyd.ENOTFOUND, "an access token found as a refresh token")
	client, err := s.FindOIDCClient(ctx, r.ClientID)
	if err != nil || !client.LastUsedAt.Equal(t0) {
		t.Errorf("client last used %v (%v), want %v", client.LastUsedAt, err, t0)
	}

	// Racing rotations of one refresh token: exactly one wins.
	now := t0.Add(time.Minute)
	const n = 4
	next := make([]*passkeyd.OIDCToken, n)
	for i := range next {
		next[i] = newOIDCToken(passkeyd.OIDCRefreshToken, r, now)
	}
	errs := race(n, func(i int) error {
		_, err := s.RotateOIDCRefreshToken(ctx, first.ID, now, next[i])
		return err
	})
	if got := countCodes(errs); got[""] != 1 || got[passkeyd.ECONFLICT] != n-1 {
		t.Fatalf("racing rotations: %v, want one success and %d conflicts", got, n-1)
	}
	var current *passkeyd.OIDCToken
	for i, err := range errs {
		if err == nil {
			current = next[i]
		} else if _, err := s.FindOIDCRefreshToken(ctx, next[i].ID, now); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			t.Errorf("a losing rotation stored its new token (error %v)", err)
		}
	}
	_, err = s.FindOIDCToken(ctx, first.ID, passkeyd.OIDCRefreshToken, now)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCToken of a rotated refresh token")
	used, err := s.FindOIDCRefreshToken(ctx, first.ID, now)
	if err != nil || used.UsedAt.IsZero() {
		t.Fatalf("FindOIDCRefreshToken of the rotated token = %+v, %v; want it marked used", used, err)
	}

	// Reuse of the old token: ECONFLICT with the token, so the caller
	// revokes the grant, which ends the current token too.
	reused, err := s.RotateOIDCRefreshToken(ctx, first.ID, now, newOIDCToken(passkeyd.OIDCRefreshToken, r, now))
	wantCode(t, err, passkeyd.ECONFLICT, "rotating a used refresh token")
	if reused == nil || reused.GrantID != r.ID {
		t.Fatalf("RotateOIDCRefreshToken on reuse returned %+v, want the used token", reused)
	}
	nRevoked, err := s.RevokeOIDCGrant(ctx, reused.GrantID)
	if err != nil || nRevoked != 3 {
		t.Errorf("RevokeOIDCGrant = %d, %v; want 3 (the access token and both refresh tokens)", nRevoked, err)
	}
	_, err = s.FindOIDCToken(ctx, current.ID, passkeyd.OIDCRefreshToken, now)
	wantCode(t, err, passkeyd.ENOTFOUND, "the current refresh token after its family was revoked")
	_, err = s.RotateOIDCRefreshToken(ctx, randomID("refresh"), now)
	wantCode(t, err, passkeyd.ENOTFOUND, "rotating an unknown refresh token")

	// An expired token cannot be rotated.
	late := newOIDCToken(passkeyd.OIDCRefreshToken, r, t0)
	if err := s.CreateOIDCTokens(ctx, late); err != nil {
		t.Fatalf("CreateOIDCTokens: %v", err)
	}
	_, err = s.RotateOIDCRefreshToken(ctx, late.ID, late.ExpiresAt)
	if code := passkeyd.ErrorCode(err); code == "" {
		t.Errorf("rotating an expired refresh token succeeded")
	}
	if err := s.DeleteOIDCToken(ctx, late.ID); err != nil {
		t.Fatalf("DeleteOIDCToken: %v", err)
	}
	_, err = s.FindOIDCRefreshToken(ctx, late.ID, t0)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCRefreshToken after DeleteOIDCToken")
}

func testOIDCConsent(t *testing.T, s oidcStore) {
	ctx := t.Context()
	r, _ := mustIssueCode(t, s)
	_, err := s.FindOIDCConsent(ctx, r.UserID, r.ClientID)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCConsent before consent")
	if err := s.SaveOIDCConsent(ctx, &passkeyd.OIDCConsent{UserID: r.UserID, ClientID: r.ClientID, Scopes: []string{"openid", "email"}, CreatedAt: t0}); err != nil {
		t.Fatalf("SaveOIDCConsent: %v", err)
	}
	if err := s.SaveOIDCConsent(ctx, &passkeyd.OIDCConsent{UserID: r.UserID, ClientID: r.ClientID, Scopes: []string{"email", "offline_access"}, CreatedAt: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("SaveOIDCConsent (wider): %v", err)
	}
	got, err := s.FindOIDCConsent(ctx, r.UserID, r.ClientID)
	if err != nil {
		t.Fatalf("FindOIDCConsent: %v", err)
	}
	want := &passkeyd.OIDCConsent{UserID: r.UserID, ClientID: r.ClientID, ClientName: "Grafana", Scopes: []string{"openid", "email", "offline_access"}, CreatedAt: t0}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("FindOIDCConsent mismatch (-want +got):\n%s", diff)
	}
	refresh := newOIDCToken(passkeyd.OIDCRefreshToken, r, t0.Add(2*time.Hour))
	if err := s.CreateOIDCTokens(ctx, refresh); err != nil {
		t.Fatalf("CreateOIDCTokens: %v", err)
	}
	list, err := s.ListOIDCConnectedApps(ctx, r.UserID, t0.Add(2*time.Hour))
	if err != nil || len(list) != 1 || !list[0].LastUsedAt.Equal(t0.Add(2*time.Hour)) || !cmp.Equal(list[0].Scopes, want.Scopes) {
		t.Fatalf("ListOIDCConnectedApps = %+v, %v; want one app with the consent's scopes, last used when the token was made", list, err)
	}
	ev := &passkeyd.Event{UserID: r.UserID, Type: passkeyd.EventOIDCAppRevoked, Detail: "Grafana", CreatedAt: t0}
	if err := s.RevokeOIDCConsent(ctx, r.UserID, r.ClientID, ev); err != nil {
		t.Fatalf("RevokeOIDCConsent: %v", err)
	}
	_, err = s.FindOIDCRefreshToken(ctx, refresh.ID, t0.Add(2*time.Hour))
	wantCode(t, err, passkeyd.ENOTFOUND, "a refresh token after its consent was revoked")
	wantCode(t, s.RevokeOIDCConsent(ctx, r.UserID, r.ClientID, nil), passkeyd.ENOTFOUND, "second RevokeOIDCConsent")
	if got := eventTypes(t, s, r.UserID); len(got) == 0 || got[0] != passkeyd.EventOIDCAppRevoked {
		t.Errorf("events %v, want %s first", got, passkeyd.EventOIDCAppRevoked)
	}
}

func testOIDCKeys(t *testing.T, s oidcStore) {
	ctx := t.Context()
	rs := &passkeyd.OIDCKey{ID: randomID("k"), Algorithm: "RS256", PrivateKey: randomBytes(40), CreatedAt: t0, Generation: 1}
	es := &passkeyd.OIDCKey{ID: randomID("k"), Algorithm: "ES256", PrivateKey: randomBytes(40), CreatedAt: t0, Generation: 1}
	for _, k := range []*passkeyd.OIDCKey{rs, es} {
		if err := s.AddOIDCKey(ctx, k, t0); err != nil {
			t.Fatalf("AddOIDCKey: %v", err)
		}
	}
	next := &passkeyd.OIDCKey{ID: randomID("k"), Algorithm: "RS256", PrivateKey: randomBytes(40), CreatedAt: t0.Add(time.Hour), SignFrom: t0.Add(90 * time.Minute), Generation: 2}
	// A key of a generation stored already is refused, and retires nothing.
	twin := *next
	twin.ID, twin.Generation = randomID("k"), 1
	wantCode(t, s.AddOIDCKey(ctx, &twin, t0), passkeyd.ECONFLICT, "AddOIDCKey of a generation stored already")
	noGeneration := *next
	noGeneration.ID, noGeneration.Generation = randomID("k"), 0
	wantCode(t, s.AddOIDCKey(ctx, &noGeneration, t0), passkeyd.EINVALID, "AddOIDCKey without a generation")
	if err := s.AddOIDCKey(ctx, next, t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("AddOIDCKey: %v", err)
	}
	keys, err := s.ListOIDCKeys(ctx, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("ListOIDCKeys: %v", err)
	}
	rsRetiring := *rs
	rsRetiring.RetireAt = t0.Add(2 * time.Hour)
	if diff := cmp.Diff([]*passkeyd.OIDCKey{next, es, &rsRetiring}, keys, cmpOpts...); diff != "" && cmp.Diff([]*passkeyd.OIDCKey{next, &rsRetiring, es}, keys, cmpOpts...) != "" {
		t.Errorf("ListOIDCKeys while rotating (-want +got):\n%s", diff)
	}
	keys, err = s.ListOIDCKeys(ctx, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("ListOIDCKeys: %v", err)
	}
	if diff := cmp.Diff([]*passkeyd.OIDCKey{next, es}, keys, cmpOpts...); diff != "" {
		t.Errorf("ListOIDCKeys after the old key retired (-want +got):\n%s", diff)
	}

	// A key added with an earlier retirement for the others (a leaked key
	// replaced at once) brings forward the retirement of those already
	// retiring later, and never postpones one.
	now := t0.Add(3 * time.Hour)
	later := &passkeyd.OIDCKey{ID: randomID("k"), Algorithm: "RS256", PrivateKey: randomBytes(40), CreatedAt: now, SignFrom: now.Add(time.Hour), Generation: 3}
	if err := s.AddOIDCKey(ctx, later, now.Add(3*time.Hour)); err != nil {
		t.Fatalf("AddOIDCKey: %v", err)
	}
	leaked := &passkeyd.OIDCKey{ID: randomID("k"), Algorithm: "RS256", PrivateKey: randomBytes(40), CreatedAt: now, SignFrom: now, Generation: 4}
	if err := s.AddOIDCKey(ctx, leaked, now); err != nil {
		t.Fatalf("AddOIDCKey: %v", err)
	}
	keys, err = s.ListOIDCKeys(ctx, now)
	if err != nil {
		t.Fatalf("ListOIDCKeys: %v", err)
	}
	var rsIDs []string
	for _, k := range keys {
		if k.Algorithm == "RS256" {
			rsIDs = append(rsIDs, k.ID)
		}
	}
	if len(rsIDs) != 1 || rsIDs[0] != leaked.ID {
		t.Errorf("RS256 keys after a replacement that retires the others now: %v, want only %s", rsIDs, leaked.ID)
	}
}

// OIDCKeyRace has several callers store the first key of an algorithm at
// once, half through a and half through b, as requests on instances that
// all found no key do: exactly one key is stored.
func OIDCKeyRace(t *testing.T, a, b passkeyd.Store) {
	sa, sb := asOIDC(t, a), asOIDC(t, b)
	const n = 16
	keys := make([]*passkeyd.OIDCKey, n)
	for i := range keys {
		keys[i] = &passkeyd.OIDCKey{ID: randomID("k"), Algorithm: "EdDSA", PrivateKey: randomBytes(40), CreatedAt: t0, Generation: 1}
	}
	errs := race(n, func(i int) error {
		s := sa
		if i%2 == 1 {
			s = sb
		}
		return s.AddOIDCKey(t.Context(), keys[i], t0.Add(time.Hour))
	})
	if got := countCodes(errs); got[""] != 1 || got[passkeyd.ECONFLICT] != n-1 {
		t.Fatalf("racing first keys: %v (%v), want exactly one stored and %d conflicts", got, errs, n-1)
	}
	stored, err := sb.ListOIDCKeys(t.Context(), t0)
	if err != nil {
		t.Fatalf("ListOIDCKeys: %v", err)
	}
	for i, err := range errs {
		if err == nil && (len(stored) != 1 || stored[0].ID != keys[i].ID || !stored[0].RetireAt.IsZero()) {
			t.Errorf("keys after the race: %+v; want only the winner's, %s, current", stored, keys[i].ID)
		}
	}
}

func testOIDCDeleteExpired(t *testing.T, s oidcStore) {
	ctx := t.Context()
	r, _ := mustIssueCode(t, s)
	token := newOIDCToken(passkeyd.OIDCAccessToken, r, t0)
	if err := s.CreateOIDCTokens(ctx, token); err != nil {
		t.Fatalf("CreateOIDCTokens: %v", err)
	}
	old := &passkeyd.OIDCKey{ID: randomID("k"), Algorithm: "RS256", PrivateKey: randomBytes(40), CreatedAt: t0, Generation: 1}
	if err := s.AddOIDCKey(ctx, old, t0); err != nil {
		t.Fatalf("AddOIDCKey: %v", err)
	}
	if err := s.AddOIDCKey(ctx, &passkeyd.OIDCKey{ID: randomID("k"), Algorithm: "RS256", PrivateKey: randomBytes(40), CreatedAt: t0, Generation: 2}, t0.Add(time.Hour)); err != nil {
		t.Fatalf("AddOIDCKey: %v", err)
	}
	n, err := s.DeleteExpired(ctx, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	if n < 3 {
		t.Errorf("DeleteExpired removed %d rows, want at least the request, the token and the retired key", n)
	}
	_, err = s.FindOIDCAuthRequest(ctx, r.ID, t0)
	wantCode(t, err, passkeyd.ENOTFOUND, "the request after DeleteExpired")
	_, err = s.FindOIDCToken(ctx, token.ID, passkeyd.OIDCAccessToken, t0)
	wantCode(t, err, passkeyd.ENOTFOUND, "the token after DeleteExpired")
	keys, err := s.ListOIDCKeys(ctx, t0)
	if err != nil || len(keys) != 1 {
		t.Errorf("ListOIDCKeys after DeleteExpired = %d keys, %v; want the current one", len(keys), err)
	}
}
