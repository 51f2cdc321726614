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
			bobRecovery, bobChange := saveLink(t, s, bob, passkeyd.TokenRecovery), saveLink(t, s, bob, passkeyd.TokenChangeEmail)
			if err := act(t, s, alice, keep); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, tok := range []*passkeyd.Token{recovery, change} {
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
