package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/passkeyd/passkeyd"
)

// newChallenge returns a challenge of kind, created at t0 and expiring five
// minutes later, not yet stored.
func newChallenge(kind passkeyd.CeremonyKind) *passkeyd.Challenge {
	return &passkeyd.Challenge{
		ID:             randomID("chl"),
		Binding:        randomID("bnd"),
		Kind:           kind,
		SessionData:    []byte(`{"challenge":"` + randomID("") + `","user_id":"AAEC","expires":"0001-01-01T00:00:00Z","userVerification":"preferred"}`),
		UserID:         randomID("usr"),
		Email:          "Signup@Example.com",
		Handle:         append([]byte{0}, randomBytes(31)...),
		SignedInUserID: randomID("usr"),
		SessionID:      randomID("ses"),
		CreatedAt:      t0,
		ExpiresAt:      t0.Add(5 * time.Minute),
	}
}

func testChallenge(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("TakeOnce", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		c := newChallenge(passkeyd.CeremonyRegistration)
		if err := s.SaveChallenge(ctx, c); err != nil {
			t.Fatalf("SaveChallenge: %v", err)
		}
		got, err := s.TakeChallenge(ctx, c.ID, c.Binding, c.Kind, t0.Add(time.Minute))
		if err != nil {
			t.Fatalf("TakeChallenge: %v", err)
		}
		if diff := cmp.Diff(c, got, cmpOpts...); diff != "" {
			t.Errorf("TakeChallenge mismatch (-want +got):\n%s", diff)
		}
		_, err = s.TakeChallenge(ctx, c.ID, c.Binding, c.Kind, t0.Add(time.Minute))
		wantCode(t, err, passkeyd.ENOTFOUND, "second TakeChallenge")
	})

	t.Run("WrongBindingOrKind", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		c := newChallenge(passkeyd.CeremonyAuthentication)
		c.UserID, c.Email, c.Handle, c.SignedInUserID, c.SessionID = "", "", nil, "", ""
		if err := s.SaveChallenge(ctx, c); err != nil {
			t.Fatalf("SaveChallenge: %v", err)
		}
		now := t0.Add(time.Minute)
		_, err := s.TakeChallenge(ctx, c.ID, randomID("bnd"), c.Kind, now)
		wantCode(t, err, passkeyd.ENOTFOUND, "TakeChallenge with another browser's binding")
		_, err = s.TakeChallenge(ctx, c.ID, c.Binding, passkeyd.CeremonyRegistration, now)
		wantCode(t, err, passkeyd.ENOTFOUND, "TakeChallenge for the other ceremony")
		_, err = s.TakeChallenge(ctx, randomID("chl"), c.Binding, c.Kind, now)
		wantCode(t, err, passkeyd.ENOTFOUND, "TakeChallenge of an unknown ID")

		// The failed attempts did not use it up.
		got, err := s.TakeChallenge(ctx, c.ID, c.Binding, c.Kind, now)
		if err != nil {
			t.Fatalf("TakeChallenge by its browser: %v", err)
		}
		if diff := cmp.Diff(c, got, cmpOpts...); diff != "" {
			t.Errorf("TakeChallenge mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		c := newChallenge(passkeyd.CeremonyAuthentication)
		if err := s.SaveChallenge(ctx, c); err != nil {
			t.Fatalf("SaveChallenge: %v", err)
		}
		_, err := s.TakeChallenge(ctx, c.ID, c.Binding, c.Kind, c.ExpiresAt)
		wantCode(t, err, passkeyd.ENOTFOUND, "TakeChallenge at ExpiresAt")
		_, err = s.TakeChallenge(ctx, c.ID, c.Binding, c.Kind, c.ExpiresAt.Add(time.Hour))
		wantCode(t, err, passkeyd.ENOTFOUND, "TakeChallenge after ExpiresAt")
		if _, err := s.TakeChallenge(ctx, c.ID, c.Binding, c.Kind, c.ExpiresAt.Add(-time.Millisecond)); err != nil {
			t.Fatalf("TakeChallenge a millisecond before ExpiresAt: %v", err)
		}
	})

	// Many callers take one challenge at once: exactly one gets it. Several
	// rounds, so that a store with a connection pool has warm connections
	// and the callers really overlap.
	t.Run("Race", func(t *testing.T) {
		s := open(t)
		const rounds, n = 10, 20
		for round := range rounds {
			c := newChallenge(passkeyd.CeremonyAuthentication)
			if err := s.SaveChallenge(t.Context(), c); err != nil {
				t.Fatalf("SaveChallenge: %v", err)
			}
			won := make([]*passkeyd.Challenge, n)
			errs := race(n, func(i int) error {
				var err error
				won[i], err = s.TakeChallenge(t.Context(), c.ID, c.Binding, c.Kind, t0.Add(time.Minute))
				return err
			})
			if got := countCodes(errs); got[""] != 1 || got[passkeyd.ENOTFOUND] != n-1 {
				t.Fatalf("round %d: error codes %v, want exactly one winner and %d ENOTFOUND", round, got, n-1)
			}
			for i, err := range errs {
				if err == nil && (won[i] == nil || won[i].ID != c.ID) {
					t.Errorf("round %d: the winner got %+v, want the challenge", round, won[i])
				}
			}
		}
	})

	t.Run("ErrDuplicateID", func(t *testing.T) {
		s := open(t)
		c := newChallenge(passkeyd.CeremonyRegistration)
		if err := s.SaveChallenge(t.Context(), c); err != nil {
			t.Fatalf("SaveChallenge: %v", err)
		}
		again := newChallenge(passkeyd.CeremonyRegistration)
		again.ID = c.ID
		wantCode(t, s.SaveChallenge(t.Context(), again), passkeyd.ECONFLICT, "SaveChallenge with a taken ID")
		got, err := s.TakeChallenge(t.Context(), c.ID, c.Binding, c.Kind, t0)
		if err != nil {
			t.Fatalf("TakeChallenge: %v", err)
		}
		if diff := cmp.Diff(c, got, cmpOpts...); diff != "" {
			t.Errorf("the first challenge was overwritten (-want +got):\n%s", diff)
		}
	})
}
