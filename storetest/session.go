package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/passkeyd/passkeyd"
)

func testCompleteSignIn(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		old := newSession(u, c, t0)
		mustSignIn(t, s, c, old)

		at := t0.Add(10 * time.Minute)
		session := newSession(u, c, at)
		events := []*passkeyd.Event{
			{UserID: u.ID, Type: passkeyd.EventLoginSucceeded, CredentialID: c.ID, IP: session.IP, UserAgent: session.UserAgent, CreatedAt: at},
			{UserID: u.ID, Type: passkeyd.EventBackupStateChanged, CredentialID: c.ID, Detail: "synced", CreatedAt: at},
		}
		in := &passkeyd.SignIn{
			Challenge: newUsedChallenge(),
			Use: passkeyd.CredentialUse{
				CredentialID:      c.CredentialID,
				PreviousSignCount: 0,
				SignCount:         7,
				BackupEligible:    true,
				BackupState:       true,
				UserVerified:      true,
				UsedAt:            at,
			},
			Session:         session,
			ReplacesSession: old.ID,
			Events:          events,
		}
		if err := s.CompleteSignIn(ctx, in); err != nil {
			t.Fatalf("CompleteSignIn: %v", err)
		}

		got, _, err := s.FindCredential(ctx, c.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		want := *c
		want.SignCount, want.BackupEligible, want.BackupState, want.UserVerified = 7, true, true, true
		want.LastUsedAt, want.UpdatedAt = at, at
		if diff := cmp.Diff(&want, got, cmpOpts...); diff != "" {
			t.Errorf("credential after sign-in (-want +got):\n%s", diff)
		}

		gotSession, owner, err := s.FindSession(ctx, session.ID, at.Add(time.Minute))
		if err != nil {
			t.Fatalf("FindSession(new): %v", err)
		}
		if diff := cmp.Diff(session, gotSession, cmpOpts...); diff != "" {
			t.Errorf("session mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(u, owner, cmpOpts...); diff != "" {
			t.Errorf("session user mismatch (-want +got):\n%s", diff)
		}
		_, _, err = s.FindSession(ctx, old.ID, at.Add(time.Minute))
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession(replaced session)")

		gotEvents, err := s.ListEvents(ctx, u.ID, 0, 2)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		wantEvents := []*passkeyd.Event{events[1], events[0]} // newest first
		if diff := cmp.Diff(wantEvents, gotEvents, cmpopts.IgnoreFields(passkeyd.Event{}, "ID")); diff != "" {
			t.Errorf("events mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrUnknownCredential", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		old := newSession(u, c, t0)
		mustSignIn(t, s, c, old)
		before, _, err := s.FindCredential(ctx, c.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}

		at := t0.Add(time.Minute)
		session := newSession(u, c, at)
		in := &passkeyd.SignIn{
			Challenge:       newUsedChallenge(),
			Use:             passkeyd.CredentialUse{CredentialID: randomBytes(16), SignCount: 9, UsedAt: at},
			Session:         session,
			ReplacesSession: old.ID,
			Events:          []*passkeyd.Event{{UserID: u.ID, Type: passkeyd.EventLoginSucceeded, CreatedAt: at}},
		}
		wantCode(t, s.CompleteSignIn(ctx, in), passkeyd.ENOTFOUND, "CompleteSignIn with an unknown credential")

		// Nothing was written.
		_, _, err = s.FindSession(ctx, session.ID, at)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession(refused session)")
		if _, _, err := s.FindSession(ctx, old.ID, at); err != nil {
			t.Errorf("the session to replace is gone: %v", err)
		}
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
		after, _, err := s.FindCredential(ctx, c.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if diff := cmp.Diff(before, after, cmpOpts...); diff != "" {
			t.Errorf("the user's passkey changed (-before +after):\n%s", diff)
		}
	})

	// Sign-ins verified against one stored counter value, all at once (a
	// replayed or cloned assertion sent many times): exactly one is
	// written, on any number of connections; the others are refused and
	// write nothing.
	t.Run("ConcurrentSameCounter", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		mustSignIn(t, s, c, newSession(u, c, t0), 5) // the stored counter is 5
		const n = 100
		sessions := make([]*passkeyd.Session, n)
		challenges := make([]passkeyd.UsedChallenge, n)
		errs := race(n, func(i int) error {
			at := t0.Add(time.Duration(i+1) * time.Minute)
			sessions[i] = newSession(u, c, at)
			challenges[i] = newUsedChallenge()
			return s.CompleteSignIn(ctx, &passkeyd.SignIn{
				Challenge: challenges[i],
				Use:       passkeyd.CredentialUse{CredentialID: c.CredentialID, PreviousSignCount: 5, SignCount: 6, UserVerified: true, UsedAt: at},
				Session:   sessions[i],
				Events:    []*passkeyd.Event{{UserID: u.ID, Type: passkeyd.EventLoginSucceeded, CredentialID: c.ID, CreatedAt: at}},
			})
		})
		if got := countCodes(errs); got[""] != 1 || got[passkeyd.ECONFLICT] != n-1 {
			t.Fatalf("error codes %v, want exactly one success and %d ECONFLICT", got, n-1)
		}
		got, _, err := s.FindCredential(ctx, c.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if got.SignCount != 6 {
			t.Errorf("SignCount = %d, want 6", got.SignCount)
		}
		stored := 0
		for _, session := range sessions {
			if _, _, err := s.FindSession(ctx, session.ID, session.CreatedAt); err == nil {
				stored++
			}
		}
		if stored != 1 {
			t.Errorf("%d of the racing sessions were stored, want 1", stored)
		}
		if got, want := len(eventTypes(t, s, u.ID)), 2; got != want { // user_created, one login_succeeded
			t.Errorf("%d events, want %d", got, want)
		}
		// A refused sign-in wrote nothing, not even its used challenge,
		// though it inserted that before the counter check refused it (on
		// SQLite, in a savepoint of a transaction shared with the others).
		for i, err := range errs {
			if err == nil {
				continue
			}
			retry := newSession(u, c, t0.Add(time.Hour))
			if err := s.CompleteSignIn(ctx, &passkeyd.SignIn{Challenge: challenges[i], Session: retry,
				Use: passkeyd.CredentialUse{CredentialID: c.CredentialID, PreviousSignCount: 6, SignCount: 7, UsedAt: t0.Add(time.Hour)}}); err != nil {
				t.Errorf("the challenge of refused sign-in %d was kept: %v", i, err)
			}
			break
		}
	})

	// A passkey whose counter stays 0 (synced passkeys) has nothing to
	// compare: parallel sign-ins with it (a user with several tabs) all
	// pass, and the latest use is kept whatever order they commit in.
	t.Run("ConcurrentCounterZero", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		const n = 100
		sessions := make([]*passkeyd.Session, n)
		errs := race(n, func(i int) error {
			at := t0.Add(time.Duration(i+1) * time.Minute)
			sessions[i] = newSession(u, c, at)
			return s.CompleteSignIn(ctx, &passkeyd.SignIn{
				Challenge: newUsedChallenge(),
				Use:       passkeyd.CredentialUse{CredentialID: c.CredentialID, UserVerified: true, BackupEligible: true, BackupState: true, UsedAt: at},
				Session:   sessions[i],
				Events:    []*passkeyd.Event{{UserID: u.ID, Type: passkeyd.EventLoginSucceeded, CredentialID: c.ID, CreatedAt: at}},
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("sign-in %d: %v", i, err)
			}
		}
		got, _, err := s.FindCredential(ctx, c.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if got.SignCount != 0 {
			t.Errorf("SignCount = %d, want 0", got.SignCount)
		}
		if want := t0.Add(n * time.Minute); !got.LastUsedAt.Equal(want) {
			t.Errorf("LastUsedAt = %v, want %v (the latest written)", got.LastUsedAt, want)
		}
		for i, session := range sessions {
			if _, _, err := s.FindSession(ctx, session.ID, session.CreatedAt); err != nil {
				t.Errorf("FindSession(session %d): %v", i, err)
			}
		}
	})

	// A counter that moved since the verification read it is refused even
	// without a race, and nothing is written.
	t.Run("ErrCounterMoved", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		mustSignIn(t, s, c, newSession(u, c, t0), 9)
		session := newSession(u, c, t0.Add(time.Minute))
		err := s.CompleteSignIn(ctx, &passkeyd.SignIn{
			Challenge: newUsedChallenge(),
			Use:       passkeyd.CredentialUse{CredentialID: c.CredentialID, PreviousSignCount: 5, SignCount: 10, UsedAt: t0.Add(time.Minute)},
			Session:   session,
		})
		wantCode(t, err, passkeyd.ECONFLICT, "CompleteSignIn against an old counter")
		_, _, err = s.FindSession(ctx, session.ID, t0.Add(time.Minute))
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession(refused session)")
		if got, _, err := s.FindCredential(ctx, c.CredentialID); err != nil || got.SignCount != 9 {
			t.Errorf("after a refused sign-in: counter %v, %v; want 9", got.SignCount, err)
		}
	})
}

func testSession(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("Expiry", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		session := newSession(u, c, t0) // idle until t0+1h, valid until t0+24h
		mustSignIn(t, s, c, session)

		for _, tc := range []struct {
			now   time.Time
			found bool
		}{
			{t0, true},
			{session.IdleExpiresAt.Add(-time.Millisecond), true},
			{session.IdleExpiresAt, false},
			{session.ExpiresAt, false},
		} {
			_, _, err := s.FindSession(ctx, session.ID, tc.now)
			want := passkeyd.ENOTFOUND
			if tc.found {
				want = ""
			}
			wantCode(t, err, want, fmt.Sprintf("FindSession at %v", tc.now))
		}

		// Activity pushes the idle limit but never the absolute one.
		lastSeen := t0.Add(50 * time.Minute)
		if err := s.TouchSession(ctx, session.ID, lastSeen, session.ExpiresAt.Add(time.Hour)); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		got, _, err := s.FindSession(ctx, session.ID, t0.Add(2*time.Hour))
		if err != nil {
			t.Fatalf("FindSession after TouchSession: %v", err)
		}
		want := *session
		want.LastSeenAt, want.IdleExpiresAt = lastSeen, session.ExpiresAt.Add(time.Hour)
		if diff := cmp.Diff(&want, got, cmpOpts...); diff != "" {
			t.Errorf("session after TouchSession (-want +got):\n%s", diff)
		}
		if _, _, err := s.FindSession(ctx, session.ID, session.ExpiresAt.Add(-time.Millisecond)); err != nil {
			t.Errorf("FindSession a millisecond before ExpiresAt: %v", err)
		}
		_, _, err = s.FindSession(ctx, session.ID, session.ExpiresAt)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession at ExpiresAt")
	})

	t.Run("TouchErrNotFound", func(t *testing.T) {
		s := open(t)
		wantCode(t, s.TouchSession(t.Context(), randomID("ses"), t0, t0.Add(time.Hour)), passkeyd.ENOTFOUND, "TouchSession(unknown)")
	})

	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		session, other := newSession(u, c, t0), newSession(u, c, t0)
		mustSignIn(t, s, c, session)
		mustSignIn(t, s, c, other)
		for i := range 2 { // deleting twice is not an error
			if err := s.DeleteSession(ctx, session.ID); err != nil {
				t.Fatalf("DeleteSession #%d: %v", i+1, err)
			}
		}
		if err := s.DeleteSession(ctx, randomID("ses")); err != nil {
			t.Fatalf("DeleteSession(unknown): %v", err)
		}
		_, _, err := s.FindSession(ctx, session.ID, t0)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession(deleted)")
		if _, _, err := s.FindSession(ctx, other.ID, t0); err != nil {
			t.Errorf("FindSession(another session of the user): %v", err)
		}
	})
}

func testDeleteExpired(t *testing.T, open func(*testing.T) passkeyd.Store) {
	s := open(t)
	ctx := t.Context()
	u, c := mustCreateUser(t, s, "alice@example.com")

	past := t0.Add(-2 * time.Hour)
	absolute, idle, live := newSession(u, c, past), newSession(u, c, past), newSession(u, c, past)
	absolute.ExpiresAt, absolute.IdleExpiresAt = t0, t0.Add(time.Hour)
	idle.IdleExpiresAt = t0
	live.IdleExpiresAt = t0.Add(time.Minute)
	for _, session := range []*passkeyd.Session{absolute, idle, live} {
		mustSignIn(t, s, c, session)
	}
	// Two used challenges: one whose record may go, one that must stay.
	expiredChallenge, liveChallenge := newUsedChallenge(), newUsedChallenge()
	expiredChallenge.ExpiresAt = t0
	for _, ch := range []passkeyd.UsedChallenge{expiredChallenge, liveChallenge} {
		if err := s.CompleteSignIn(ctx, &passkeyd.SignIn{Challenge: ch,
			Use: passkeyd.CredentialUse{CredentialID: c.CredentialID, PreviousSignCount: c.SignCount, SignCount: c.SignCount, UsedAt: past}, Session: newSession(u, c, t0)}); err != nil {
			t.Fatalf("CompleteSignIn: %v", err)
		}
	}

	n, err := s.DeleteExpired(ctx, t0)
	if err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	if n != 3 {
		t.Errorf("DeleteExpired removed %d rows, want 3 (a used challenge and two sessions)", n)
	}
	// Looked up at a time they were still valid, the expired ones are gone.
	earlier := past.Add(time.Minute)
	for _, session := range []*passkeyd.Session{absolute, idle} {
		_, _, err := s.FindSession(ctx, session.ID, earlier)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession(expired session) after DeleteExpired")
	}
	if _, _, err := s.FindSession(ctx, live.ID, t0); err != nil {
		t.Errorf("FindSession(live session): %v", err)
	}
	if n, err := s.DeleteExpired(ctx, t0); err != nil || n != 0 {
		t.Errorf("DeleteExpired again = %d, %v; want 0, nil", n, err)
	}
	// The expired record is gone (its challenge could complete again, but
	// its ceremony has expired); the live one still refuses a replay.
	if err := s.CompleteSignIn(ctx, &passkeyd.SignIn{Challenge: expiredChallenge,
		Use: passkeyd.CredentialUse{CredentialID: c.CredentialID, UsedAt: t0}, Session: newSession(u, c, t0)}); err != nil {
		t.Errorf("CompleteSignIn(pruned challenge): %v", err)
	}
	wantChallengeUsed(t, s.CompleteSignIn(ctx, &passkeyd.SignIn{Challenge: liveChallenge,
		Use: passkeyd.CredentialUse{CredentialID: c.CredentialID, UsedAt: t0}, Session: newSession(u, c, t0)}),
		"CompleteSignIn(live used challenge) after DeleteExpired")
}
