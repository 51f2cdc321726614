package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/passkeyd/passkeyd"
)

func testCredential(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("Add", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, first := mustCreateUser(t, s, "alice@example.com")
		second := newCredential(u.ID, t0.Add(time.Minute))
		second.Transports = []string{"hybrid"}
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventPasskeyAdded, CredentialID: second.ID, CreatedAt: t0.Add(time.Minute)}
		if err := s.AddCredential(ctx, second, ev); err != nil {
			t.Fatalf("AddCredential: %v", err)
		}
		list, err := s.ListCredentials(ctx, u.ID)
		if err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		if diff := cmp.Diff([]*passkeyd.Credential{first, second}, list, cmpOpts...); diff != "" {
			t.Errorf("ListCredentials mismatch, oldest first (-want +got):\n%s", diff)
		}
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventPasskeyAdded, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})

	t.Run("ErrUnknownUser", func(t *testing.T) {
		s := open(t)
		c := newCredential(randomID("usr"), t0)
		wantCode(t, s.AddCredential(t.Context(), c, nil), passkeyd.ENOTFOUND, "AddCredential for an unknown user")
		_, _, err := s.FindCredential(t.Context(), c.CredentialID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindCredential of the refused passkey")
	})

	t.Run("ErrDuplicate", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, aliceCred := mustCreateUser(t, s, "alice@example.com")
		bob, _ := mustCreateUser(t, s, "bob@example.com")
		for _, owner := range []*passkeyd.User{alice, bob} {
			c := newCredential(owner.ID, t0.Add(time.Minute))
			c.CredentialID = aliceCred.CredentialID
			ev := &passkeyd.Event{UserID: owner.ID, Type: passkeyd.EventPasskeyAdded, CreatedAt: t0}
			wantCode(t, s.AddCredential(ctx, c, ev), passkeyd.ECONFLICT, "AddCredential with a registered credential ID")
			list, err := s.ListCredentials(ctx, owner.ID)
			if err != nil {
				t.Fatalf("ListCredentials: %v", err)
			}
			if len(list) != 1 {
				t.Errorf("%s has %d passkeys, want 1", owner.Email, len(list))
			}
			if got, want := eventTypes(t, s, owner.ID), []string{passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
				t.Errorf("events %v, want %v: the refused passkey's event must not be written", got, want)
			}
		}
	})

	t.Run("ConcurrentSameID", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		id := randomBytes(32)
		const n = 20
		errs := race(n, func(int) error {
			c := newCredential(u.ID, t0.Add(time.Minute))
			c.CredentialID = id
			return s.AddCredential(t.Context(), c, nil)
		})
		if got := countCodes(errs); got[""] != 1 || got[passkeyd.ECONFLICT] != n-1 {
			t.Fatalf("error codes %v, want one success and %d conflicts", got, n-1)
		}
		list, err := s.ListCredentials(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		if len(list) != 2 {
			t.Errorf("user has %d passkeys, want 2", len(list))
		}
	})

	t.Run("ListUnknownUser", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, "alice@example.com")
		list, err := s.ListCredentials(t.Context(), randomID("usr"))
		if err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		if len(list) != 0 {
			t.Errorf("ListCredentials(unknown) = %d passkeys, want none", len(list))
		}
	})

	t.Run("FlagCloned", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		other := newCredential(u.ID, t0.Add(time.Second))
		if err := s.AddCredential(ctx, other, nil); err != nil {
			t.Fatalf("AddCredential: %v", err)
		}
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventCloneWarning, CredentialID: c.ID, CreatedAt: t0.Add(time.Hour)}
		if err := s.FlagCredentialCloned(ctx, newUsedChallenge(), c.CredentialID, ev); err != nil {
			t.Fatalf("FlagCredentialCloned: %v", err)
		}
		got, _, err := s.FindCredential(ctx, c.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if !got.CloneWarning {
			t.Error("CloneWarning = false after FlagCredentialCloned")
		}
		if diff := cmp.Diff(c, got, append(cmpOpts, cmpopts.IgnoreFields(passkeyd.Credential{}, "CloneWarning", "UpdatedAt"))...); diff != "" {
			t.Errorf("FlagCredentialCloned changed more than the flag (-want +got):\n%s", diff)
		}
		got, _, err = s.FindCredential(ctx, other.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if got.CloneWarning {
			t.Error("another passkey of the user was flagged too")
		}
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventCloneWarning, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})

	t.Run("FlagClonedErrNotFound", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventCloneWarning, CreatedAt: t0}
		wantCode(t, s.FlagCredentialCloned(t.Context(), newUsedChallenge(), randomBytes(16), ev), passkeyd.ENOTFOUND, "FlagCredentialCloned(unknown)")
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})

	// The same sign-in response sent twice (a proxy's retry, a double
	// submit) verifies the second time against the counter the first one
	// wrote, so it looks like a copy. Its ceremony is used: that is the
	// answer, and the passkey is neither flagged nor logged as cloned.
	t.Run("FlagClonedAfterItsCeremonyCompleted", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		ch := newUsedChallenge()
		in := &passkeyd.SignIn{
			Challenge: ch,
			Use:       passkeyd.CredentialUse{CredentialID: c.CredentialID, SignCount: 1, UserVerified: true, UsedAt: t0},
			Session:   newSession(u, c, t0),
			Events:    []*passkeyd.Event{{UserID: u.ID, Type: passkeyd.EventLoginSucceeded, CredentialID: c.ID, CreatedAt: t0}},
		}
		if err := s.CompleteSignIn(ctx, in); err != nil {
			t.Fatalf("CompleteSignIn: %v", err)
		}
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventCloneWarning, CredentialID: c.ID, CreatedAt: t0.Add(time.Second)}
		wantChallengeUsed(t, s.FlagCredentialCloned(ctx, ch, c.CredentialID, ev), "FlagCredentialCloned with the sign-in's own challenge")
		got, _, err := s.FindCredential(ctx, c.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if got.CloneWarning {
			t.Error("passkey flagged by a response its ceremony had already completed")
		}
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventLoginSucceeded, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}

		// A refused copy spends its ceremony too: sent again, it is
		// answered as used, and flags and logs nothing twice.
		other := newUsedChallenge()
		if err := s.FlagCredentialCloned(ctx, other, c.CredentialID, ev); err != nil {
			t.Fatalf("FlagCredentialCloned: %v", err)
		}
		wantChallengeUsed(t, s.FlagCredentialCloned(ctx, other, c.CredentialID, ev), "FlagCredentialCloned twice with one challenge")
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventCloneWarning, passkeyd.EventLoginSucceeded, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})
}
