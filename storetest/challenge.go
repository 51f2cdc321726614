package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
)

// newUsedChallenge returns the single-use record of a new ceremony.
func newUsedChallenge() passkeyd.UsedChallenge {
	return passkeyd.UsedChallenge{ID: randomID("chl"), ExpiresAt: t0.Add(time.Hour)}
}

// wantChallengeUsed fails the test unless err is ErrChallengeUsed.
func wantChallengeUsed(t testing.TB, err error, what string) {
	t.Helper()
	if !errors.Is(err, passkeyd.ErrChallengeUsed) {
		t.Fatalf("%s: %v, want ErrChallengeUsed", what, err)
	}
}

// testUsedChallenge: a ceremony completes once. The record of its
// challenge is written by the transaction that completes the sign-in or
// registration, so a second completion is refused and writes nothing.
func testUsedChallenge(t *testing.T, open func(*testing.T) passkeyd.Store) {
	signIn := func(u *passkeyd.User, c *passkeyd.Credential, ch passkeyd.UsedChallenge, at time.Time) *passkeyd.SignIn {
		return &passkeyd.SignIn{
			Challenge: ch,
			Use:       passkeyd.CredentialUse{CredentialID: c.CredentialID, UserVerified: true, UsedAt: at},
			Session:   newSession(u, c, at),
			Events:    []*passkeyd.Event{{UserID: u.ID, Type: passkeyd.EventLoginSucceeded, CredentialID: c.ID, CreatedAt: at}},
		}
	}

	// A passkey whose counter stays 0 has no counter to catch a replay:
	// only the used challenge does.
	t.Run("SignInReplay", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		ch := newUsedChallenge()
		if err := s.CompleteSignIn(ctx, signIn(u, c, ch, t0)); err != nil {
			t.Fatalf("CompleteSignIn: %v", err)
		}
		again := signIn(u, c, ch, t0.Add(time.Minute))
		wantChallengeUsed(t, s.CompleteSignIn(ctx, again), "CompleteSignIn with a used challenge")
		_, _, err := s.FindSession(ctx, again.Session.ID, t0.Add(time.Minute))
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession(refused session)")
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventLoginSucceeded, passkeyd.EventUserCreated}; !slicesEqual(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
		// Another challenge signs in.
		if err := s.CompleteSignIn(ctx, signIn(u, c, newUsedChallenge(), t0.Add(2*time.Minute))); err != nil {
			t.Errorf("CompleteSignIn with a new challenge: %v", err)
		}
	})

	t.Run("MissingChallenge", func(t *testing.T) {
		s := open(t)
		u, c := mustCreateUser(t, s, "alice@example.com")
		in := signIn(u, c, passkeyd.UsedChallenge{}, t0)
		wantCode(t, s.CompleteSignIn(t.Context(), in), passkeyd.EINVALID, "CompleteSignIn without a challenge")
	})

	// Many sign-ins completing one ceremony at once, on as many
	// connections (on PostgreSQL, as many instances would): exactly one
	// commits, with a counter that cannot tell them apart.
	t.Run("ConcurrentSignIns", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		ch := newUsedChallenge()
		const n = 100
		ins := make([]*passkeyd.SignIn, n)
		for i := range ins {
			ins[i] = signIn(u, c, ch, t0.Add(time.Duration(i+1)*time.Second))
		}
		errs := race(n, func(i int) error { return s.CompleteSignIn(ctx, ins[i]) })
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, passkeyd.ErrChallengeUsed):
				t.Errorf("sign-in %d: %v, want nil or ErrChallengeUsed", i, err)
			}
		}
		if won != 1 {
			t.Fatalf("%d sign-ins completed one ceremony, want exactly 1", won)
		}
		stored := 0
		for _, in := range ins {
			if _, _, err := s.FindSession(ctx, in.Session.ID, in.Session.CreatedAt); err == nil {
				stored++
			}
		}
		if stored != 1 {
			t.Errorf("%d of the racing sessions were stored, want 1", stored)
		}
	})

	t.Run("Registration", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := newUser("alice@example.com")
		ch := newUsedChallenge()
		reg := &passkeyd.Registration{Challenge: ch, User: u, Credential: c,
			Events: []*passkeyd.Event{{UserID: u.ID, Type: passkeyd.EventUserCreated, CredentialID: c.ID, CreatedAt: t0}}}
		if err := s.CompleteRegistration(ctx, reg); err != nil {
			t.Fatalf("CompleteRegistration: %v", err)
		}
		if _, _, err := s.FindCredential(ctx, c.CredentialID); err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		// The same ceremony again, for another account: refused, nothing written.
		u2, c2 := newUser("bob@example.com")
		wantChallengeUsed(t, s.CompleteRegistration(ctx, &passkeyd.Registration{Challenge: ch, User: u2, Credential: c2}),
			"CompleteRegistration with a used challenge")
		_, err := s.FindUserByEmail(ctx, "bob@example.com")
		wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByEmail(refused account)")
		// A registration's challenge cannot then complete a sign-in either.
		wantChallengeUsed(t, s.CompleteSignIn(ctx, signIn(u, c, ch, t0.Add(time.Minute))),
			"CompleteSignIn with a registration's used challenge")

		// A passkey for the existing account, from a recovery session,
		// which becomes a full session in the same transaction.
		recovery := recoverySession(t0)
		recovery.UserID = u.ID
		if err := s.CompleteSignIn(ctx, &passkeyd.SignIn{Challenge: newUsedChallenge(),
			Use: passkeyd.CredentialUse{CredentialID: c.CredentialID, UsedAt: t0}, Session: recovery}); err != nil {
			t.Fatalf("CompleteSignIn(recovery session stand-in): %v", err)
		}
		added := newCredential(u.ID, t0.Add(time.Minute))
		full := newSession(u, added, t0.Add(time.Minute))
		if err := s.CompleteRegistration(ctx, &passkeyd.Registration{Challenge: newUsedChallenge(), Credential: added,
			Session: full, ReplacesSession: recovery.ID}); err != nil {
			t.Fatalf("CompleteRegistration(recovery): %v", err)
		}
		_, _, err = s.FindSession(ctx, recovery.ID, t0.Add(time.Minute))
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession(replaced recovery session)")
		if _, _, err := s.FindSession(ctx, full.ID, t0.Add(time.Minute)); err != nil {
			t.Errorf("FindSession(full session): %v", err)
		}
		// A replaced session that is gone: nothing is written.
		other := newCredential(u.ID, t0.Add(2*time.Minute))
		err = s.CompleteRegistration(ctx, &passkeyd.Registration{Challenge: newUsedChallenge(), Credential: other,
			Session: newSession(u, other, t0.Add(2*time.Minute)), ReplacesSession: recovery.ID})
		wantCode(t, err, passkeyd.ENOTFOUND, "CompleteRegistration replacing a missing session")
		_, _, err = s.FindCredential(ctx, other.CredentialID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindCredential(refused passkey)")
	})

	t.Run("ConcurrentRegistrations", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, _ := mustCreateUser(t, s, "alice@example.com")
		ch := newUsedChallenge()
		const n = 50
		creds := make([]*passkeyd.Credential, n)
		for i := range creds {
			creds[i] = newCredential(u.ID, t0)
		}
		errs := race(n, func(i int) error {
			return s.CompleteRegistration(ctx, &passkeyd.Registration{Challenge: ch, Credential: creds[i]})
		})
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, passkeyd.ErrChallengeUsed):
				t.Errorf("registration %d: %v, want nil or ErrChallengeUsed", i, err)
			}
		}
		if won != 1 {
			t.Fatalf("%d registrations completed one ceremony, want exactly 1", won)
		}
		list, err := s.ListCredentials(ctx, u.ID)
		if err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		if len(list) != 2 {
			t.Errorf("%d passkeys, want 2 (the first and the one registration)", len(list))
		}
	})
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
