package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/passkeyd/passkeyd"
)

// testLinks: emailed links and recovery codes are single-use ways in; a
// newer link, a change of address and anything that ends other sessions
// leave the older ones useless, and spending one opens the recovery
// session in the same transaction.
func testLinks(t *testing.T, open func(*testing.T) passkeyd.Store) {
	// saveLink stores a link of purpose for u, sent to u's address.
	saveLink := func(t *testing.T, s passkeyd.Store, u *passkeyd.User, purpose passkeyd.TokenPurpose) *passkeyd.Token {
		t.Helper()
		tok := newToken(u.ID, purpose)
		tok.Email = u.Email
		if err := s.SaveToken(t.Context(), tok); err != nil {
			t.Fatalf("SaveToken(%s): %v", purpose, err)
		}
		return tok
	}
	// linkWorks reports whether tok can still be taken, taking it.
	linkWorks := func(t *testing.T, s passkeyd.Store, tok *passkeyd.Token) bool {
		t.Helper()
		_, err := s.TakeToken(t.Context(), tok.ID, tok.Purpose, t0)
		switch passkeyd.ErrorCode(err) {
		case "":
			return true
		case passkeyd.ENOTFOUND:
			return false
		}
		t.Fatalf("TakeToken: %v", err)
		return false
	}
	recoverWithLink := func(t *testing.T, s passkeyd.Store, tok *passkeyd.Token, session *passkeyd.Session) (*passkeyd.User, error) {
		return s.StartRecovery(t.Context(), &passkeyd.Recovery{TokenID: tok.ID, Session: session, At: t0,
			Event: &passkeyd.Event{Type: passkeyd.EventRecoveryUsed, CreatedAt: t0}})
	}

	t.Run("NewLinkEndsOlder", func(t *testing.T) {
		s := open(t)
		alice, _ := mustCreateUser(t, s, "alice@example.com")
		bob, _ := mustCreateUser(t, s, "bob@example.com")
		for _, purpose := range []passkeyd.TokenPurpose{passkeyd.TokenRecovery, passkeyd.TokenChangeEmail, passkeyd.TokenVerifyEmail} {
			older := saveLink(t, s, alice, purpose)
			bobs := saveLink(t, s, bob, purpose)
			var others []*passkeyd.Token // alice's links of the other purposes
			for _, p := range []passkeyd.TokenPurpose{passkeyd.TokenRecovery, passkeyd.TokenChangeEmail, passkeyd.TokenVerifyEmail} {
				if p != purpose {
					others = append(others, saveLink(t, s, alice, p))
				}
			}
			newer := saveLink(t, s, alice, purpose)
			if linkWorks(t, s, older) {
				t.Errorf("%s: the older link still works after a newer one was sent", purpose)
			}
			if !linkWorks(t, s, newer) {
				t.Errorf("%s: the newer link does not work", purpose)
			}
			if !linkWorks(t, s, bobs) {
				t.Errorf("%s: another user's link ended", purpose)
			}
			for _, o := range others {
				if !linkWorks(t, s, o) {
					t.Errorf("%s: alice's %s link ended", purpose, o.Purpose)
				}
			}
		}
	})

	// Each of these ends every pending recovery and email-change link of
	// the account, in its own transaction; other accounts' links stay.
	for name, act := range map[string]func(t *testing.T, s passkeyd.Store, u *passkeyd.User, keep *passkeyd.Session) error{
		"DeleteOtherSessions": func(t *testing.T, s passkeyd.Store, u *passkeyd.User, keep *passkeyd.Session) error {
			_, err := s.DeleteOtherSessions(t.Context(), u.ID, keep.ID, &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventSessionRevoked, CreatedAt: t0})
			return err
		},
		"DeleteOtherSessionsNoneToEnd": func(t *testing.T, s passkeyd.Store, u *passkeyd.User, keep *passkeyd.Session) error {
			if _, err := s.DeleteOtherSessions(t.Context(), u.ID, keep.ID, nil); err != nil {
				return err
			}
			// Again, with no other session left: the links still go.
			_, err := s.DeleteOtherSessions(t.Context(), u.ID, keep.ID, nil)
			return err
		},
		"SetUserDisabled": func(t *testing.T, s passkeyd.Store, u *passkeyd.User, _ *passkeyd.Session) error {
			return s.SetUserDisabled(t.Context(), u.ID, true, nil)
		},
		"ChangeEmail": func(t *testing.T, s passkeyd.Store, u *passkeyd.User, _ *passkeyd.Session) error {
			return s.ChangeEmail(t.Context(), u.ID, "alice.new@example.com", t0, nil)
		},
		"StartRecoveryWithCode": func(t *testing.T, s passkeyd.Store, u *passkeyd.User, _ *passkeyd.Session) error {
			codes := mustSaveCodes(t, s, u.ID, 1)
			return useCode(t.Context(), s, u.ID, codes[0].ID, t0)
		},
	} {
		t.Run(name+"EndsLinks", func(t *testing.T) {
			s := open(t)
			alice, aliceCred := mustCreateUser(t, s, "alice@example.com")
			keep := newSession(alice, aliceCred, t0)
			mustSignIn(t, s, aliceCred, keep)
			mustSignIn(t, s, aliceCred, newSession(alice, aliceCred, t0))
			bob, _ := mustCreateUser(t, s, "bob@example.com")
			recovery, change := saveLink(t, s, alice, passkeyd.TokenRecovery), saveLink(t, s, alice, passkeyd.TokenChangeEmail)
			cancel := saveLink(t, s, alice, passkeyd.TokenCancelEmailChange)
			bobRecovery, bobChange := saveLink(t, s, bob, passkeyd.TokenRecovery), saveLink(t, s, bob, passkeyd.TokenChangeEmail)
			if err := act(t, s, alice, keep); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, tok := range []*passkeyd.Token{recovery, change, cancel} {
				if linkWorks(t, s, tok) {
					t.Errorf("alice's %s link still works after %s", tok.Purpose, name)
				}
			}
			for _, tok := range []*passkeyd.Token{bobRecovery, bobChange} {
				if !linkWorks(t, s, tok) {
					t.Errorf("bob's %s link ended by %s of alice", tok.Purpose, name)
				}
			}
		})
	}

	t.Run("StartRecoveryWithLink", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, aliceCred := mustCreateUser(t, s, "Alice@Example.com")
		old := newSession(alice, aliceCred, t0)
		mustSignIn(t, s, aliceCred, old)
		tok := newToken(alice.ID, passkeyd.TokenRecovery)
		tok.Email = "ALICE@example.com" // the address compares without regard to case
		if err := s.SaveToken(ctx, tok); err != nil {
			t.Fatalf("SaveToken: %v", err)
		}
		change := saveLink(t, s, alice, passkeyd.TokenChangeEmail)
		session := recoverySession(t0)
		u, err := recoverWithLink(t, s, tok, session)
		if err != nil {
			t.Fatalf("StartRecovery: %v", err)
		}
		if u.ID != alice.ID || session.UserID != alice.ID {
			t.Errorf("StartRecovery opened a session of %q for %q, want alice's", session.UserID, u.ID)
		}
		got, err := s.ListSessions(ctx, alice.ID, t0)
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		if diff := cmp.Diff([]string{session.ID}, sessionIDs(got)); diff != "" {
			t.Errorf("sessions after recovery: only the recovery session (-want +got):\n%s", diff)
		}
		if linkWorks(t, s, change) {
			t.Errorf("the email-change link still works after a recovery")
		}
		_, err = recoverWithLink(t, s, tok, recoverySession(t0))
		wantCode(t, err, passkeyd.ENOTFOUND, "StartRecovery with a used link")
		expired := saveLink(t, s, alice, passkeyd.TokenRecovery)
		_, err = s.StartRecovery(ctx, &passkeyd.Recovery{TokenID: expired.ID, Session: recoverySession(t0), At: expired.ExpiresAt})
		wantCode(t, err, passkeyd.ENOTFOUND, "StartRecovery with an expired link")
		_, err = recoverWithLink(t, s, &passkeyd.Token{ID: randomID("tok")}, recoverySession(t0))
		wantCode(t, err, passkeyd.ENOTFOUND, "StartRecovery with an unknown link")
		verify := saveLink(t, s, alice, passkeyd.TokenVerifyEmail)
		_, err = recoverWithLink(t, s, verify, recoverySession(t0))
		wantCode(t, err, passkeyd.ENOTFOUND, "StartRecovery with an email-verification link")
	})

	// The cancel link sent to the current address ends the pending change
	// link and the account's sessions (the one that asked for the change
	// among them), no other link, and is logged.
	t.Run("CancelEmailChange", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, aliceCred := mustCreateUser(t, s, "alice@example.com")
		bob, bobCred := mustCreateUser(t, s, "bob@example.com")
		asked := newSession(alice, aliceCred, t0)
		mustSignIn(t, s, aliceCred, asked)
		bobSession := newSession(bob, bobCred, t0)
		mustSignIn(t, s, bobCred, bobSession)
		change, cancel := saveLink(t, s, alice, passkeyd.TokenChangeEmail), saveLink(t, s, alice, passkeyd.TokenCancelEmailChange)
		recovery := saveLink(t, s, alice, passkeyd.TokenRecovery)
		bobChange := saveLink(t, s, bob, passkeyd.TokenChangeEmail)
		ev := &passkeyd.Event{Type: passkeyd.EventEmailChangeCancelled, CreatedAt: t0}
		u, err := s.CancelEmailChange(ctx, cancel.ID, t0, ev)
		if err != nil {
			t.Fatalf("CancelEmailChange: %v", err)
		}
		if u.ID != alice.ID || ev.UserID != alice.ID {
			t.Errorf("CancelEmailChange returned user %q, event of %q; want alice's", u.ID, ev.UserID)
		}
		if linkWorks(t, s, change) {
			t.Errorf("the email-change link still works after it was cancelled")
		}
		if !linkWorks(t, s, recovery) {
			t.Errorf("cancelling an email change ended the recovery link")
		}
		if !linkWorks(t, s, bobChange) {
			t.Errorf("cancelling alice's email change ended bob's")
		}
		if _, _, err := s.FindSession(ctx, asked.ID, t0); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			t.Errorf("the session that asked for the change after the cancel: %v; want ENOTFOUND", err)
		}
		if _, _, err := s.FindSession(ctx, bobSession.ID, t0); err != nil {
			t.Errorf("bob's session after alice's cancel: %v", err)
		}
		events, err := s.ListEvents(ctx, alice.ID, 0, 10)
		if err != nil || len(events) == 0 || events[0].Type != passkeyd.EventEmailChangeCancelled {
			t.Errorf("newest event after a cancel: %v, %v; want %s", events, err, passkeyd.EventEmailChangeCancelled)
		}
		_, err = s.CancelEmailChange(ctx, cancel.ID, t0, nil)
		wantCode(t, err, passkeyd.ENOTFOUND, "CancelEmailChange with a used link")
		expired := saveLink(t, s, alice, passkeyd.TokenCancelEmailChange)
		_, err = s.CancelEmailChange(ctx, expired.ID, expired.ExpiresAt, nil)
		wantCode(t, err, passkeyd.ENOTFOUND, "CancelEmailChange with an expired link")
		wrongKind := saveLink(t, s, alice, passkeyd.TokenChangeEmail)
		_, err = s.CancelEmailChange(ctx, wrongKind.ID, t0, nil)
		wantCode(t, err, passkeyd.ENOTFOUND, "CancelEmailChange with an email-change link")
	})

	// A takeover link gives an unconfirmed account to the owner of its
	// address: confirmed, with no passkey, recovery code, session or link
	// of whoever created it left.
	t.Run("Takeover", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, aliceCred := mustCreateUser(t, s, "alice@example.com") // signed up by someone else
		second := newCredential(alice.ID, t0.Add(time.Minute))
		if err := s.AddCredential(ctx, second, nil); err != nil {
			t.Fatalf("AddCredential: %v", err)
		}
		keep := newSession(alice, aliceCred, t0)
		mustSignIn(t, s, aliceCred, keep)
		codes := mustSaveCodes(t, s, alice.ID, 2)
		bob, bobCred := mustCreateUser(t, s, "bob@example.com")
		bobSession := newSession(bob, bobCred, t0)
		mustSignIn(t, s, bobCred, bobSession)
		takeover := saveLink(t, s, alice, passkeyd.TokenTakeover)
		verify := saveLink(t, s, alice, passkeyd.TokenVerifyEmail)

		// Whoever holds the account cannot end the takeover link.
		if _, err := s.DeleteOtherSessions(ctx, alice.ID, keep.ID, nil); err != nil {
			t.Fatalf("DeleteOtherSessions: %v", err)
		}
		if err := useCode(ctx, s, alice.ID, codes[0].ID, t0); err != nil {
			t.Fatalf("StartRecovery with a code: %v", err)
		}
		change := saveLink(t, s, alice, passkeyd.TokenChangeEmail)

		// Not a recovery link, and a recovery link is not a takeover link.
		_, err := recoverWithLink(t, s, takeover, recoverySession(t0))
		wantCode(t, err, passkeyd.ENOTFOUND, "StartRecovery(not takeover) with a takeover link")
		recovery := saveLink(t, s, alice, passkeyd.TokenRecovery)
		_, err = s.StartRecovery(ctx, &passkeyd.Recovery{TokenID: recovery.ID, Takeover: true, Session: recoverySession(t0), At: t0})
		wantCode(t, err, passkeyd.ENOTFOUND, "StartRecovery(takeover) with a recovery link")

		at := takeover.ExpiresAt.Add(-time.Millisecond) // its last moment
		session := recoverySession(at)
		ev := &passkeyd.Event{Type: passkeyd.EventAccountTakenOver, CreatedAt: at}
		u, err := s.StartRecovery(ctx, &passkeyd.Recovery{TokenID: takeover.ID, Takeover: true, Session: session, Event: ev, At: at})
		if err != nil {
			t.Fatalf("StartRecovery(takeover): %v", err)
		}
		if u.ID != alice.ID || !u.EmailVerifiedAt.Equal(at) {
			t.Errorf("StartRecovery(takeover) returned %q verified at %v, want alice's verified at %v", u.ID, u.EmailVerifiedAt, at)
		}
		stored, err := s.FindUserByID(ctx, alice.ID)
		if err != nil || !stored.EmailVerifiedAt.Equal(at) {
			t.Errorf("stored account after the takeover: verified at %v (%v), want %v", stored.EmailVerifiedAt, err, at)
		}
		creds, err := s.ListCredentials(ctx, alice.ID)
		if err != nil || len(creds) != 0 {
			t.Errorf("passkeys after the takeover: %d (%v), want none", len(creds), err)
		}
		if n, err := s.CountRecoveryCodes(ctx, alice.ID); err != nil || n != 0 {
			t.Errorf("recovery codes after the takeover: %d (%v), want none", n, err)
		}
		sessions, err := s.ListSessions(ctx, alice.ID, at)
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		if diff := cmp.Diff([]string{session.ID}, sessionIDs(sessions)); diff != "" {
			t.Errorf("sessions after the takeover: only the recovery session (-want +got):\n%s", diff)
		}
		for _, tok := range []*passkeyd.Token{verify, change, takeover} {
			if linkWorks(t, s, tok) {
				t.Errorf("alice's %s link still works after the takeover", tok.Purpose)
			}
		}
		events, err := s.ListEvents(ctx, alice.ID, 0, 10)
		if err != nil || len(events) == 0 || events[0].Type != passkeyd.EventAccountTakenOver {
			t.Errorf("newest event after the takeover: %v, %v; want %s", events, err, passkeyd.EventAccountTakenOver)
		}
		if _, _, err := s.FindSession(ctx, bobSession.ID, at); err != nil {
			t.Errorf("bob's session ended by alice's takeover: %v", err)
		}
		if bobCreds, err := s.ListCredentials(ctx, bob.ID); err != nil || len(bobCreds) != 1 {
			t.Errorf("bob's passkeys after alice's takeover: %d (%v), want 1", len(bobCreds), err)
		}
	})

	// A takeover link sent to an address the account no longer has does
	// nothing.
	t.Run("TakeoverErrOldAddress", func(t *testing.T) {
		s := open(t)
		alice, _ := mustCreateUser(t, s, "alice@example.com")
		tok := newToken(alice.ID, passkeyd.TokenTakeover)
		tok.Email = "alice.old@example.com"
		if err := s.SaveToken(t.Context(), tok); err != nil {
			t.Fatalf("SaveToken: %v", err)
		}
		before := snapshot(t, s, alice.ID, t0)
		_, err := s.StartRecovery(t.Context(), &passkeyd.Recovery{TokenID: tok.ID, Takeover: true, Session: recoverySession(t0), At: t0})
		wantCode(t, err, passkeyd.EINVALID, "StartRecovery(takeover) with a link sent to an old address")
		wantUnchanged(t, s, before, t0, "a refused takeover")
	})

	// A link sent to an address that is no longer the account's does not
	// open it, and nothing is written.
	t.Run("StartRecoveryErrOldAddress", func(t *testing.T) {
		s := open(t)
		alice, aliceCred := mustCreateUser(t, s, "alice@example.com")
		mustSignIn(t, s, aliceCred, newSession(alice, aliceCred, t0))
		tok := newToken(alice.ID, passkeyd.TokenRecovery)
		tok.Email = "alice.old@example.com"
		if err := s.SaveToken(t.Context(), tok); err != nil {
			t.Fatalf("SaveToken: %v", err)
		}
		before := snapshot(t, s, alice.ID, t0)
		_, err := recoverWithLink(t, s, tok, recoverySession(t0))
		wantCode(t, err, passkeyd.EINVALID, "StartRecovery with a link sent to an old address")
		wantUnchanged(t, s, before, t0, "a refused recovery")
	})

	t.Run("StartRecoveryErrDisabled", func(t *testing.T) {
		s := open(t)
		alice, _ := mustCreateUser(t, s, "alice@example.com")
		codes := mustSaveCodes(t, s, alice.ID, 2)
		if err := s.SetUserDisabled(t.Context(), alice.ID, true, nil); err != nil {
			t.Fatalf("SetUserDisabled: %v", err)
		}
		before := snapshot(t, s, alice.ID, t0)
		wantCode(t, useCode(t.Context(), s, alice.ID, codes[0].ID, t0), passkeyd.EFORBIDDEN, "StartRecovery of a disabled account")
		wantUnchanged(t, s, before, t0, "a refused recovery")
	})

	// Spending the code or link and opening the session are one
	// transaction: when the session cannot be stored, the code or link
	// stays unused.
	t.Run("StartRecoveryAtomic", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, aliceCred := mustCreateUser(t, s, "alice@example.com")
		mustSignIn(t, s, aliceCred, newSession(alice, aliceCred, t0))
		bob, bobCred := mustCreateUser(t, s, "bob@example.com")
		bobSession := newSession(bob, bobCred, t0)
		mustSignIn(t, s, bobCred, bobSession)
		codes := mustSaveCodes(t, s, alice.ID, 1)
		tok := saveLink(t, s, alice, passkeyd.TokenRecovery)
		before := snapshot(t, s, alice.ID, t0)

		clash := recoverySession(t0)
		clash.ID = bobSession.ID // taken: the insert fails
		_, err := s.StartRecovery(ctx, &passkeyd.Recovery{UserID: alice.ID, CodeID: codes[0].ID, Session: clash, At: t0})
		wantCode(t, err, passkeyd.ECONFLICT, "StartRecovery(code) with a session that cannot be stored")
		_, err = recoverWithLink(t, s, tok, clash)
		wantCode(t, err, passkeyd.ECONFLICT, "StartRecovery(link) with a session that cannot be stored")
		wantUnchanged(t, s, before, t0, "a failed recovery")
		if !linkWorks(t, s, tok) {
			t.Errorf("the link was spent by a recovery that failed")
		}
		if err := useCode(ctx, s, alice.ID, codes[0].ID, t0); err != nil {
			t.Errorf("the code was spent by a recovery that failed: %v", err)
		}
	})

	// Concurrent regenerations of one user's codes leave one set, not
	// the union of several.
	t.Run("ReplaceRecoveryCodesConcurrent", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		const n, rounds = 8, 5
		for round := range rounds {
			sets := make([][]*passkeyd.RecoveryCode, n)
			for i := range sets {
				sets[i] = newCodes(u.ID, 10)
			}
			errs := race(n, func(i int) error {
				return s.ReplaceRecoveryCodes(t.Context(), u.ID, sets[i], nil)
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: ReplaceRecoveryCodes %d: %v", round, i, err)
				}
			}
			if got, err := s.CountRecoveryCodes(t.Context(), u.ID); err != nil || got != 10 {
				t.Fatalf("round %d: CountRecoveryCodes = %d, %v; want 10 (one set)", round, got, err)
			}
			// And the set left is whole: one of the sets written.
			whole := 0
			for _, set := range sets {
				found := 0
				for _, c := range set {
					if _, err := s.FindRecoveryCode(t.Context(), u.ID, c.ID); err == nil {
						found++
					}
				}
				if found == len(set) {
					whole++
				}
			}
			if whole != 1 {
				t.Fatalf("round %d: %d whole sets left, want 1", round, whole)
			}
		}
	})
}

// testDeleteCredentialEndsSessions: a deleted passkey's sessions end with
// it; the account's other sessions stay.
func testDeleteCredentialEndsSessions(t *testing.T, open func(*testing.T) passkeyd.Store) {
	s := open(t)
	ctx := t.Context()
	alice, first := mustCreateUser(t, s, "alice@example.com")
	second := newCredential(alice.ID, t0.Add(time.Minute))
	if err := s.AddCredential(ctx, second, nil); err != nil {
		t.Fatalf("AddCredential: %v", err)
	}
	bob, bobCred := mustCreateUser(t, s, "bob@example.com")
	var withFirst, withSecond []*passkeyd.Session
	for i := range 2 {
		a, b := newSession(alice, first, t0.Add(time.Duration(i)*time.Minute)), newSession(alice, second, t0)
		mustSignIn(t, s, first, a)
		mustSignIn(t, s, second, b)
		withFirst, withSecond = append(withFirst, a), append(withSecond, b)
	}
	bobSession := newSession(bob, bobCred, t0)
	mustSignIn(t, s, bobCred, bobSession)

	if err := s.DeleteCredential(ctx, alice.ID, first.ID, nil); err != nil {
		t.Fatalf("DeleteCredential: %v", err)
	}
	for i, ss := range withFirst {
		_, _, err := s.FindSession(ctx, ss.ID, t0)
		wantCode(t, err, passkeyd.ENOTFOUND, fmt.Sprintf("FindSession(session %d of the deleted passkey)", i))
	}
	for i, ss := range append(withSecond, bobSession) {
		if _, _, err := s.FindSession(ctx, ss.ID, t0); err != nil {
			t.Errorf("session %d of another passkey ended: %v", i, err)
		}
	}
}
