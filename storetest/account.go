package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/passkeyd/passkeyd"
)

// testAccount covers passkeyd.AccountStore: every method, the rule that a
// user's ID reaches only that user's rows, the last-way-in rule, and the
// single-use guarantees under races.
func testAccount(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("ListUsers", func(t *testing.T) { testListUsers(t, open) })
	t.Run("VerifyEmail", func(t *testing.T) { testVerifyEmail(t, open) })
	t.Run("ChangeEmail", func(t *testing.T) { testChangeEmail(t, open) })
	t.Run("SetProfile", func(t *testing.T) { testSetProfile(t, open) })
	t.Run("SetUserDisabled", func(t *testing.T) { testSetUserDisabled(t, open) })
	t.Run("DeleteUser", func(t *testing.T) { testDeleteUser(t, open) })
	t.Run("RenameCredential", func(t *testing.T) { testRenameCredential(t, open) })
	t.Run("DeleteCredential", func(t *testing.T) { testDeleteCredential(t, open) })
	t.Run("Sessions", func(t *testing.T) { testAccountSessions(t, open) })
	t.Run("Token", func(t *testing.T) { testToken(t, open) })
	t.Run("RecoveryCodes", func(t *testing.T) { testRecoveryCodes(t, open) })
	t.Run("Scoping", func(t *testing.T) { testScoping(t, open) })
	t.Run("Links", func(t *testing.T) { testLinks(t, open) })
	t.Run("DeleteCredentialEndsSessions", func(t *testing.T) { testDeleteCredentialEndsSessions(t, open) })
}

// newToken returns an emailed token of userID for purpose, created at t0
// and valid for an hour, not yet stored.
func newToken(userID string, purpose passkeyd.TokenPurpose) *passkeyd.Token {
	return &passkeyd.Token{
		ID:        randomID("tok"),
		UserID:    userID,
		Purpose:   purpose,
		Email:     "Link@Example.com",
		CreatedAt: t0,
		ExpiresAt: t0.Add(time.Hour),
	}
}

// newCodes returns n unused recovery codes of userID, created at t0.
func newCodes(userID string, n int) []*passkeyd.RecoveryCode {
	codes := make([]*passkeyd.RecoveryCode, n)
	for i := range codes {
		codes[i] = &passkeyd.RecoveryCode{
			ID:        strings.ToLower(rand8()),
			UserID:    userID,
			Hash:      "$argon2id$v=19$m=19456,t=2,p=1$" + randomID("salt") + "$" + randomID("hash"),
			CreatedAt: t0,
		}
	}
	return codes
}

// rand8 returns 8 random characters, the length of a code's public part.
func rand8() string { return randomID("")[1:9] }

// mustSaveCodes gives userID a new set of n recovery codes.
func mustSaveCodes(t testing.TB, s passkeyd.Store, userID string, n int) []*passkeyd.RecoveryCode {
	t.Helper()
	codes := newCodes(userID, n)
	ev := &passkeyd.Event{UserID: userID, Type: passkeyd.EventRecoveryCodesGenerated, CreatedAt: t0}
	if err := s.ReplaceRecoveryCodes(t.Context(), userID, codes, ev); err != nil {
		t.Fatalf("ReplaceRecoveryCodes: %v", err)
	}
	return codes
}

// userState is everything of one user that the store keeps, for checking
// that a refused call changed nothing.
type userState struct {
	User        *passkeyd.User
	Credentials []*passkeyd.Credential
	Sessions    []*passkeyd.Session
	Codes       int
	Events      []*passkeyd.Event
}

// snapshot reads userID's state, with the sessions valid at now.
func snapshot(t testing.TB, s passkeyd.Store, userID string, now time.Time) *userState {
	t.Helper()
	ctx := t.Context()
	var st userState
	var err error
	if st.User, err = s.FindUserByID(ctx, userID); err != nil {
		t.Fatalf("FindUserByID: %v", err)
	}
	if st.Credentials, err = s.ListCredentials(ctx, userID); err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	if st.Sessions, err = s.ListSessions(ctx, userID, now); err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if st.Codes, err = s.CountRecoveryCodes(ctx, userID); err != nil {
		t.Fatalf("CountRecoveryCodes: %v", err)
	}
	if st.Events, err = s.ListEvents(ctx, userID, 0, 1000); err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	return &st
}

// wantUnchanged fails the test if userID's state differs from before.
func wantUnchanged(t testing.TB, s passkeyd.Store, before *userState, now time.Time, what string) {
	t.Helper()
	after := snapshot(t, s, before.User.ID, now)
	if diff := cmp.Diff(before, after, cmpOpts...); diff != "" {
		t.Errorf("%s changed %s's data (-before +after):\n%s", what, before.User.Email, diff)
	}
}

// sessionIDs lists the IDs of sessions.
func sessionIDs(sessions []*passkeyd.Session) []string {
	var ids []string
	for _, s := range sessions {
		ids = append(ids, s.ID)
	}
	return ids
}

func testListUsers(t *testing.T, open func(*testing.T) passkeyd.Store) {
	s := open(t)
	ctx := t.Context()
	// Stored in an order that is not the email-key order, in mixed case.
	emails := []string{"Dora@example.com", "bob@example.com", "eve@example.com", "Alice@Example.com", "carol@example.com"}
	byKey := map[string]*passkeyd.User{}
	for _, e := range emails {
		u, _ := mustCreateUser(t, s, e)
		byKey[passkeyd.EmailKey(e)] = u
	}
	wantOrder := []string{"alice@example.com", "bob@example.com", "carol@example.com", "dora@example.com", "eve@example.com"}

	var got []*passkeyd.User
	after := ""
	for page := 0; ; page++ {
		if page > len(emails) {
			t.Fatalf("ListUsers did not reach the end after %d pages", page)
		}
		list, err := s.ListUsers(ctx, after, 2)
		if err != nil {
			t.Fatalf("ListUsers(%q, 2): %v", after, err)
		}
		if len(list) > 2 {
			t.Fatalf("ListUsers(%q, 2) returned %d users", after, len(list))
		}
		if len(list) == 0 {
			break
		}
		got = append(got, list...)
		after = passkeyd.EmailKey(list[len(list)-1].Email)
	}
	var want []*passkeyd.User
	for _, k := range wantOrder {
		want = append(want, byKey[k])
	}
	if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
		t.Errorf("ListUsers pages, by email key (-want +got):\n%s", diff)
	}

	all, err := s.ListUsers(ctx, "", 100)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if diff := cmp.Diff(want, all, cmpOpts...); diff != "" {
		t.Errorf("ListUsers in one page (-want +got):\n%s", diff)
	}
	// After a key that no user has: from the next one.
	list, err := s.ListUsers(ctx, "bz", 1)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if len(list) != 1 || list[0].ID != byKey["carol@example.com"].ID {
		t.Errorf("ListUsers(\"bz\", 1) = %v, want carol", list)
	}
	list, err = s.ListUsers(ctx, "eve@example.com", 10)
	if err != nil || len(list) != 0 {
		t.Errorf("ListUsers after the last = %d users, %v; want none", len(list), err)
	}
}

func testVerifyEmail(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, _ := mustCreateUser(t, s, "Alice@Example.com")
		at := t0.Add(time.Hour)
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventEmailVerified, Detail: u.Email, CreatedAt: at}
		// The address as the link was sent, whatever its case.
		if err := s.VerifyEmail(ctx, u.ID, "alice@example.COM", at, ev); err != nil {
			t.Fatalf("VerifyEmail: %v", err)
		}
		got, err := s.FindUserByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("FindUserByID: %v", err)
		}
		want := *u
		want.EmailVerifiedAt, want.UpdatedAt = at, at
		if diff := cmp.Diff(&want, got, cmpOpts...); diff != "" {
			t.Errorf("user after VerifyEmail (-want +got):\n%s", diff)
		}
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventEmailVerified, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})

	// A link sent to an address the account no longer has verifies nothing.
	t.Run("ErrOtherAddress", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		before := snapshot(t, s, u.ID, t0)
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventEmailVerified, CreatedAt: t0}
		wantCode(t, s.VerifyEmail(t.Context(), u.ID, "old-alice@example.com", t0.Add(time.Hour), ev),
			passkeyd.ENOTFOUND, "VerifyEmail of another address")
		wantUnchanged(t, s, before, t0, "VerifyEmail of another address")
	})

	t.Run("ErrUnknownUser", func(t *testing.T) {
		s := open(t)
		ev := &passkeyd.Event{Type: passkeyd.EventEmailVerified, CreatedAt: t0}
		wantCode(t, s.VerifyEmail(t.Context(), randomID("usr"), "alice@example.com", t0, ev),
			passkeyd.ENOTFOUND, "VerifyEmail of an unknown user")
	})
}

func testChangeEmail(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, _ := mustCreateUser(t, s, "alice@example.com")
		at := t0.Add(time.Hour)
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventEmailChanged, Detail: "to Alice@New.example", CreatedAt: at}
		if err := s.ChangeEmail(ctx, u.ID, "  Alice@New.example ", at, ev); err != nil {
			t.Fatalf("ChangeEmail: %v", err)
		}
		want := *u
		want.Email, want.EmailVerifiedAt, want.UpdatedAt = "Alice@New.example", at, at
		got, err := s.FindUserByEmail(ctx, "alice@new.example")
		if err != nil {
			t.Fatalf("FindUserByEmail(new address): %v", err)
		}
		if diff := cmp.Diff(&want, got, cmpOpts...); diff != "" {
			t.Errorf("user after ChangeEmail (-want +got):\n%s", diff)
		}
		_, err = s.FindUserByEmail(ctx, "alice@example.com")
		wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByEmail(old address)")
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventEmailChanged, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
		// The old address is free for a new account.
		mustCreateUser(t, s, "alice@example.com")
	})

	// Changing only the case of one's own address is no conflict.
	t.Run("OwnAddressOtherCase", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		if err := s.ChangeEmail(t.Context(), u.ID, "ALICE@example.com", t0.Add(time.Hour), nil); err != nil {
			t.Fatalf("ChangeEmail to the same address in capitals: %v", err)
		}
		got, err := s.FindUserByID(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("FindUserByID: %v", err)
		}
		if got.Email != "ALICE@example.com" {
			t.Errorf("Email = %q, want %q", got.Email, "ALICE@example.com")
		}
	})

	t.Run("ErrTaken", func(t *testing.T) {
		s := open(t)
		alice, _ := mustCreateUser(t, s, "alice@example.com")
		bob, _ := mustCreateUser(t, s, "Bob@Example.com")
		beforeAlice, beforeBob := snapshot(t, s, alice.ID, t0), snapshot(t, s, bob.ID, t0)
		ev := &passkeyd.Event{UserID: alice.ID, Type: passkeyd.EventEmailChanged, CreatedAt: t0}
		wantCode(t, s.ChangeEmail(t.Context(), alice.ID, "bOB@example.com", t0.Add(time.Hour), ev),
			passkeyd.ECONFLICT, "ChangeEmail to another account's address in other case")
		wantUnchanged(t, s, beforeAlice, t0, "a refused ChangeEmail")
		wantUnchanged(t, s, beforeBob, t0, "a refused ChangeEmail")
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		before := snapshot(t, s, u.ID, t0)
		for _, email := range []string{"", "not an address", "Alice <alice@new.example>"} {
			wantCode(t, s.ChangeEmail(t.Context(), u.ID, email, t0, nil), passkeyd.EINVALID, fmt.Sprintf("ChangeEmail(%q)", email))
		}
		wantUnchanged(t, s, before, t0, "an invalid ChangeEmail")
	})

	t.Run("ErrUnknownUser", func(t *testing.T) {
		s := open(t)
		wantCode(t, s.ChangeEmail(t.Context(), randomID("usr"), "new@example.com", t0, nil),
			passkeyd.ENOTFOUND, "ChangeEmail of an unknown user")
		_, err := s.FindUserByEmail(t.Context(), "new@example.com")
		wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByEmail after a refused ChangeEmail")
	})
}

func testSetUserDisabled(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, aliceCred := mustCreateUser(t, s, "alice@example.com")
		bob, bobCred := mustCreateUser(t, s, "bob@example.com")
		a1, a2, b1 := newSession(alice, aliceCred, t0), newSession(alice, aliceCred, t0), newSession(bob, bobCred, t0)
		for _, ss := range []struct {
			c *passkeyd.Credential
			s *passkeyd.Session
		}{{aliceCred, a1}, {aliceCred, a2}, {bobCred, b1}} {
			mustSignIn(t, s, ss.c, ss.s)
		}

		ev := &passkeyd.Event{UserID: alice.ID, Type: passkeyd.EventSessionRevoked, Detail: "disabled by an operator", CreatedAt: t0}
		if err := s.SetUserDisabled(ctx, alice.ID, true, ev); err != nil {
			t.Fatalf("SetUserDisabled(true): %v", err)
		}
		got, err := s.FindUserByID(ctx, alice.ID)
		if err != nil {
			t.Fatalf("FindUserByID: %v", err)
		}
		if !got.Disabled {
			t.Errorf("Disabled = false after SetUserDisabled(true)")
		}
		for _, ss := range []*passkeyd.Session{a1, a2} {
			_, _, err := s.FindSession(ctx, ss.ID, t0)
			wantCode(t, err, passkeyd.ENOTFOUND, "FindSession of a disabled user")
		}
		if list, err := s.ListSessions(ctx, alice.ID, t0); err != nil || len(list) != 0 {
			t.Errorf("ListSessions of a disabled user = %d, %v; want none", len(list), err)
		}
		if _, _, err := s.FindSession(ctx, b1.ID, t0); err != nil {
			t.Errorf("another user's session ended: %v", err)
		}
		if got, want := eventTypes(t, s, alice.ID), []string{passkeyd.EventSessionRevoked, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
		if got, err := s.FindUserByID(ctx, bob.ID); err != nil || got.Disabled {
			t.Errorf("the other user: Disabled = %v, %v; want false", got != nil && got.Disabled, err)
		}

		if err := s.SetUserDisabled(ctx, alice.ID, false, nil); err != nil {
			t.Fatalf("SetUserDisabled(false): %v", err)
		}
		got, err = s.FindUserByID(ctx, alice.ID)
		if err != nil {
			t.Fatalf("FindUserByID: %v", err)
		}
		if got.Disabled {
			t.Errorf("Disabled = true after SetUserDisabled(false)")
		}
		// Re-enabling brings no session back; signing in works again.
		_, _, err = s.FindSession(ctx, a1.ID, t0)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession after re-enabling")
		mustSignIn(t, s, aliceCred, newSession(alice, aliceCred, t0))
	})

	t.Run("ErrUnknownUser", func(t *testing.T) {
		s := open(t)
		ev := &passkeyd.Event{Type: passkeyd.EventSessionRevoked, CreatedAt: t0}
		wantCode(t, s.SetUserDisabled(t.Context(), randomID("usr"), true, ev), passkeyd.ENOTFOUND, "SetUserDisabled of an unknown user")
	})
}

func testDeleteUser(t *testing.T, open func(*testing.T) passkeyd.Store) {
	s := open(t)
	ctx := t.Context()
	alice, aliceCred := mustCreateUser(t, s, "alice@example.com")
	second := newCredential(alice.ID, t0.Add(time.Minute))
	if err := s.AddCredential(ctx, second, &passkeyd.Event{UserID: alice.ID, Type: passkeyd.EventPasskeyAdded, CreatedAt: t0}); err != nil {
		t.Fatalf("AddCredential: %v", err)
	}
	session := newSession(alice, aliceCred, t0)
	mustSignIn(t, s, aliceCred, session)
	token := newToken(alice.ID, passkeyd.TokenRecovery)
	if err := s.SaveToken(ctx, token); err != nil {
		t.Fatalf("SaveToken: %v", err)
	}
	codes := mustSaveCodes(t, s, alice.ID, 3)

	bob, bobCred := mustCreateUser(t, s, "bob@example.com")
	bobSession := newSession(bob, bobCred, t0)
	mustSignIn(t, s, bobCred, bobSession)
	bobToken := newToken(bob.ID, passkeyd.TokenRecovery)
	if err := s.SaveToken(ctx, bobToken); err != nil {
		t.Fatalf("SaveToken: %v", err)
	}
	mustSaveCodes(t, s, bob.ID, 2)
	beforeBob := snapshot(t, s, bob.ID, t0)
	aliceEvents := eventTypes(t, s, alice.ID)

	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}

	_, err := s.FindUserByID(ctx, alice.ID)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByID(deleted)")
	_, err = s.FindUserByEmail(ctx, alice.Email)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByEmail(deleted)")
	for _, c := range []*passkeyd.Credential{aliceCred, second} {
		_, _, err := s.FindCredential(ctx, c.CredentialID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindCredential of a deleted user")
	}
	if list, err := s.ListCredentials(ctx, alice.ID); err != nil || len(list) != 0 {
		t.Errorf("ListCredentials of a deleted user = %d, %v; want none", len(list), err)
	}
	_, _, err = s.FindSession(ctx, session.ID, t0)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindSession of a deleted user")
	if list, err := s.ListSessions(ctx, alice.ID, t0); err != nil || len(list) != 0 {
		t.Errorf("ListSessions of a deleted user = %d, %v; want none", len(list), err)
	}
	_, err = s.TakeToken(ctx, token.ID, token.Purpose, t0)
	wantCode(t, err, passkeyd.ENOTFOUND, "TakeToken of a deleted user")
	for _, c := range codes {
		_, err := s.FindRecoveryCode(ctx, alice.ID, c.ID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindRecoveryCode of a deleted user")
	}
	if n, err := s.CountRecoveryCodes(ctx, alice.ID); err != nil || n != 0 {
		t.Errorf("CountRecoveryCodes of a deleted user = %d, %v; want 0", n, err)
	}
	if n, err := s.CountActiveSessions(ctx, t0); err != nil || n != 1 {
		t.Errorf("CountActiveSessions = %d, %v; want 1 (Bob's)", n, err)
	}
	// The security log stays.
	if got := eventTypes(t, s, alice.ID); !cmp.Equal(got, aliceEvents) {
		t.Errorf("events after DeleteUser %v, want them kept: %v", got, aliceEvents)
	}
	wantUnchanged(t, s, beforeBob, t0, "deleting another user")
	if _, err := s.TakeToken(ctx, bobToken.ID, bobToken.Purpose, t0); err != nil {
		t.Errorf("another user's token is gone: %v", err)
	}

	wantCode(t, s.DeleteUser(ctx, alice.ID), passkeyd.ENOTFOUND, "DeleteUser again")
	// The address and the passkey can be registered again.
	again, c := newUser("alice@example.com")
	c.CredentialID = aliceCred.CredentialID
	if err := s.CreateUser(ctx, again, c, nil); err != nil {
		t.Errorf("CreateUser with the deleted user's address and passkey: %v", err)
	}
}

func testRenameCredential(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := mustCreateUser(t, s, "alice@example.com")
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventPasskeyRenamed, CredentialID: c.ID, Detail: "Work laptop", CreatedAt: t0}
		name := "Work laptop – Ünïcode 🔑"
		if err := s.RenameCredential(ctx, u.ID, c.ID, name, ev); err != nil {
			t.Fatalf("RenameCredential: %v", err)
		}
		got, _, err := s.FindCredential(ctx, c.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		want := *c
		want.Name = name
		if diff := cmp.Diff(&want, got, append(cmpOpts, cmpopts.IgnoreFields(passkeyd.Credential{}, "UpdatedAt"))...); diff != "" {
			t.Errorf("credential after RenameCredential (-want +got):\n%s", diff)
		}
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventPasskeyRenamed, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		u, c := mustCreateUser(t, s, "alice@example.com")
		before := snapshot(t, s, u.ID, t0)
		for _, name := range []string{"", strings.Repeat("x", passkeyd.MaxCredentialNameLength+1)} {
			wantCode(t, s.RenameCredential(t.Context(), u.ID, c.ID, name, nil), passkeyd.EINVALID,
				fmt.Sprintf("RenameCredential to %d characters", len(name)))
		}
		wantUnchanged(t, s, before, t0, "an invalid RenameCredential")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		before := snapshot(t, s, u.ID, t0)
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventPasskeyRenamed, CreatedAt: t0}
		wantCode(t, s.RenameCredential(t.Context(), u.ID, randomID("pk"), "x", ev), passkeyd.ENOTFOUND, "RenameCredential of an unknown passkey")
		wantUnchanged(t, s, before, t0, "RenameCredential of an unknown passkey")
	})
}

func testDeleteCredential(t *testing.T, open func(*testing.T) passkeyd.Store) {
	deleted := func(u *passkeyd.User, c *passkeyd.Credential) *passkeyd.Event {
		return &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventPasskeyDeleted, CredentialID: c.ID, CreatedAt: t0.Add(time.Hour)}
	}
	addSecond := func(t *testing.T, s passkeyd.Store, u *passkeyd.User) *passkeyd.Credential {
		t.Helper()
		c := newCredential(u.ID, t0.Add(time.Minute))
		if err := s.AddCredential(t.Context(), c, nil); err != nil {
			t.Fatalf("AddCredential: %v", err)
		}
		return c
	}

	t.Run("OK", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, first := mustCreateUser(t, s, "alice@example.com")
		second := addSecond(t, s, u)
		if err := s.DeleteCredential(ctx, u.ID, first.ID, deleted(u, first)); err != nil {
			t.Fatalf("DeleteCredential: %v", err)
		}
		_, _, err := s.FindCredential(ctx, first.CredentialID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindCredential(deleted)")
		list, err := s.ListCredentials(ctx, u.ID)
		if err != nil {
			t.Fatalf("ListCredentials: %v", err)
		}
		if diff := cmp.Diff([]*passkeyd.Credential{second}, list, cmpOpts...); diff != "" {
			t.Errorf("passkeys left (-want +got):\n%s", diff)
		}
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventPasskeyDeleted, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
		wantCode(t, s.DeleteCredential(ctx, u.ID, first.ID, nil), passkeyd.ENOTFOUND, "DeleteCredential again")
	})

	// The last passkey of an account with nothing else to get back in
	// with stays, and nothing is written.
	t.Run("ErrLastWayIn", func(t *testing.T) {
		s := open(t)
		u, first := mustCreateUser(t, s, "alice@example.com")
		second := addSecond(t, s, u)
		if err := s.DeleteCredential(t.Context(), u.ID, second.ID, deleted(u, second)); err != nil {
			t.Fatalf("DeleteCredential(one of two): %v", err)
		}
		before := snapshot(t, s, u.ID, t0)
		wantCode(t, s.DeleteCredential(t.Context(), u.ID, first.ID, deleted(u, first)), passkeyd.ECONFLICT, "DeleteCredential(the last)")
		wantUnchanged(t, s, before, t0, "a refused DeleteCredential")

		// Used recovery codes are no way in either.
		codes := mustSaveCodes(t, s, u.ID, 2)
		for _, c := range codes {
			if err := useCode(t.Context(), s, u.ID, c.ID, t0); err != nil {
				t.Fatalf("useCode: %v", err)
			}
		}
		before = snapshot(t, s, u.ID, t0)
		wantCode(t, s.DeleteCredential(t.Context(), u.ID, first.ID, deleted(u, first)), passkeyd.ECONFLICT,
			"DeleteCredential(the last, with only used recovery codes)")
		wantUnchanged(t, s, before, t0, "a refused DeleteCredential")
	})

	t.Run("LastWithVerifiedEmail", func(t *testing.T) {
		s := open(t)
		u, c := mustCreateUser(t, s, "alice@example.com")
		if err := s.VerifyEmail(t.Context(), u.ID, u.Email, t0, nil); err != nil {
			t.Fatalf("VerifyEmail: %v", err)
		}
		if err := s.DeleteCredential(t.Context(), u.ID, c.ID, deleted(u, c)); err != nil {
			t.Fatalf("DeleteCredential(the last, with a verified email): %v", err)
		}
		if list, err := s.ListCredentials(t.Context(), u.ID); err != nil || len(list) != 0 {
			t.Errorf("ListCredentials = %d, %v; want none", len(list), err)
		}
	})

	t.Run("LastWithRecoveryCode", func(t *testing.T) {
		s := open(t)
		u, c := mustCreateUser(t, s, "alice@example.com")
		codes := mustSaveCodes(t, s, u.ID, 3)
		for _, code := range codes[:2] {
			if err := useCode(t.Context(), s, u.ID, code.ID, t0); err != nil {
				t.Fatalf("useCode: %v", err)
			}
		}
		// One unused code is enough.
		if err := s.DeleteCredential(t.Context(), u.ID, c.ID, deleted(u, c)); err != nil {
			t.Fatalf("DeleteCredential(the last, with an unused recovery code): %v", err)
		}
		if list, err := s.ListCredentials(t.Context(), u.ID); err != nil || len(list) != 0 {
			t.Errorf("ListCredentials = %d, %v; want none", len(list), err)
		}
	})

	// Two deletes of a user's last two passkeys at once, with no other way
	// in: exactly one may succeed, whatever the isolation level. Several
	// rounds, so that the transactions really overlap.
	t.Run("RaceLastTwo", func(t *testing.T) {
		s := open(t)
		for round := range 10 {
			u, first := mustCreateUser(t, s, fmt.Sprintf("user%d@example.com", round))
			second := addSecond(t, s, u)
			pair := []*passkeyd.Credential{first, second}
			errs := race(2, func(i int) error {
				return s.DeleteCredential(t.Context(), u.ID, pair[i].ID, deleted(u, pair[i]))
			})
			if got := countCodes(errs); got[""] != 1 || got[passkeyd.ECONFLICT] != 1 {
				t.Fatalf("round %d: error codes %v (%v), want one success and one ECONFLICT", round, got, errs)
			}
			list, err := s.ListCredentials(t.Context(), u.ID)
			if err != nil {
				t.Fatalf("ListCredentials: %v", err)
			}
			if len(list) != 1 {
				t.Fatalf("round %d: %d passkeys left, want 1", round, len(list))
			}
			if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventPasskeyDeleted, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
				t.Errorf("round %d: events %v, want %v", round, got, want)
			}
		}
	})

	// With a verified email both may go at once.
	t.Run("RaceWithVerifiedEmail", func(t *testing.T) {
		s := open(t)
		u, first := mustCreateUser(t, s, "alice@example.com")
		second := addSecond(t, s, u)
		if err := s.VerifyEmail(t.Context(), u.ID, u.Email, t0, nil); err != nil {
			t.Fatalf("VerifyEmail: %v", err)
		}
		pair := []*passkeyd.Credential{first, second}
		errs := race(2, func(i int) error { return s.DeleteCredential(t.Context(), u.ID, pair[i].ID, nil) })
		for i, err := range errs {
			if err != nil {
				t.Errorf("DeleteCredential %d: %v", i, err)
			}
		}
	})
}

func testAccountSessions(t *testing.T, open func(*testing.T) passkeyd.Store) {
	// alice has three live sessions, seen at different times, and two
	// expired ones; bob has one.
	type fixture struct {
		s                  passkeyd.Store
		alice, bob         *passkeyd.User
		aliceCred, bobCred *passkeyd.Credential
		live               []*passkeyd.Session // newest first
		bobSession         *passkeyd.Session
	}
	now := t0.Add(30 * time.Minute)
	setup := func(t *testing.T) *fixture {
		t.Helper()
		f := &fixture{s: open(t)}
		f.alice, f.aliceCred = mustCreateUser(t, f.s, "alice@example.com")
		f.bob, f.bobCred = mustCreateUser(t, f.s, "bob@example.com")
		for i := range 3 {
			f.live = append([]*passkeyd.Session{newSession(f.alice, f.aliceCred, t0.Add(time.Duration(i)*time.Minute))}, f.live...)
		}
		f.live[1].UserAgent, f.live[1].IP = "Safari on iPhone", "2001:db8::1"
		idle := newSession(f.alice, f.aliceCred, t0.Add(-2*time.Hour)) // idle since t0-1h
		absolute := newSession(f.alice, f.aliceCred, t0)
		absolute.ExpiresAt = now
		for _, ss := range append([]*passkeyd.Session{idle, absolute}, f.live...) {
			mustSignIn(t, f.s, f.aliceCred, ss)
		}
		f.bobSession = newSession(f.bob, f.bobCred, t0)
		mustSignIn(t, f.s, f.bobCred, f.bobSession)
		return f
	}

	t.Run("List", func(t *testing.T) {
		f := setup(t)
		got, err := f.s.ListSessions(t.Context(), f.alice.ID, now)
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		if diff := cmp.Diff(f.live, got, cmpOpts...); diff != "" {
			t.Errorf("ListSessions: live sessions, newest first (-want +got):\n%s", diff)
		}
		if got, err := f.s.ListSessions(t.Context(), randomID("usr"), now); err != nil || len(got) != 0 {
			t.Errorf("ListSessions(unknown user) = %d, %v; want none", len(got), err)
		}
	})

	t.Run("CountActive", func(t *testing.T) {
		f := setup(t)
		// At t0, alice's three live sessions, the one that expires at now
		// and bob's; at now, alice's three and bob's.
		for _, tc := range []struct {
			at   time.Time
			want int64
		}{{t0, 5}, {now, 4}, {t0.Add(25 * time.Hour), 0}} {
			if n, err := f.s.CountActiveSessions(t.Context(), tc.at); err != nil || n != tc.want {
				t.Errorf("CountActiveSessions(%v) = %d, %v; want %d", tc.at, n, err, tc.want)
			}
		}
	})

	t.Run("DeleteUserSession", func(t *testing.T) {
		f := setup(t)
		ctx := t.Context()
		ev := &passkeyd.Event{UserID: f.alice.ID, Type: passkeyd.EventSessionRevoked, Detail: "Safari on iPhone", CreatedAt: now}
		if err := f.s.DeleteUserSession(ctx, f.alice.ID, f.live[1].ID, ev); err != nil {
			t.Fatalf("DeleteUserSession: %v", err)
		}
		got, err := f.s.ListSessions(ctx, f.alice.ID, now)
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		if want := []string{f.live[0].ID, f.live[2].ID}; !cmp.Equal(sessionIDs(got), want) {
			t.Errorf("sessions left %v, want %v", sessionIDs(got), want)
		}
		if got, want := eventTypes(t, f.s, f.alice.ID)[0], passkeyd.EventSessionRevoked; got != want {
			t.Errorf("newest event %q, want %q", got, want)
		}
		before := snapshot(t, f.s, f.alice.ID, now)
		wantCode(t, f.s.DeleteUserSession(ctx, f.alice.ID, f.live[1].ID, ev), passkeyd.ENOTFOUND, "DeleteUserSession again")
		wantUnchanged(t, f.s, before, now, "DeleteUserSession of a deleted session")
	})

	t.Run("DeleteOtherSessions", func(t *testing.T) {
		f := setup(t)
		ctx := t.Context()
		keep := f.live[0]
		ev := &passkeyd.Event{UserID: f.alice.ID, Type: passkeyd.EventSessionRevoked, Detail: "signed out everywhere else", CreatedAt: now}
		n, err := f.s.DeleteOtherSessions(ctx, f.alice.ID, keep.ID, ev)
		if err != nil {
			t.Fatalf("DeleteOtherSessions: %v", err)
		}
		if n != 4 { // two live, two expired
			t.Errorf("DeleteOtherSessions ended %d sessions, want 4", n)
		}
		got, err := f.s.ListSessions(ctx, f.alice.ID, t0)
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		if want := []string{keep.ID}; !cmp.Equal(sessionIDs(got), want) {
			t.Errorf("sessions left %v, want %v", sessionIDs(got), want)
		}
		if _, _, err := f.s.FindSession(ctx, f.bobSession.ID, now); err != nil {
			t.Errorf("another user's session ended: %v", err)
		}
		events := eventTypes(t, f.s, f.alice.ID)
		// Again: nothing to end, and no event for nothing.
		if n, err := f.s.DeleteOtherSessions(ctx, f.alice.ID, keep.ID, ev); err != nil || n != 0 {
			t.Errorf("DeleteOtherSessions again = %d, %v; want 0, nil", n, err)
		}
		if got := eventTypes(t, f.s, f.alice.ID); !cmp.Equal(got, events) {
			t.Errorf("events %v, want %v: nothing ended, nothing recorded", got, events)
		}
		// "" keeps none.
		if n, err := f.s.DeleteOtherSessions(ctx, f.alice.ID, "", ev); err != nil || n != 1 {
			t.Errorf("DeleteOtherSessions(keep none) = %d, %v; want 1, nil", n, err)
		}
		if got, err := f.s.ListSessions(ctx, f.alice.ID, t0); err != nil || len(got) != 0 {
			t.Errorf("ListSessions after ending all = %d, %v; want none", len(got), err)
		}
		// Another user's session ID as the one to keep keeps nothing of
		// bob's from ending, nor ends any of bob's.
		if n, err := f.s.DeleteOtherSessions(ctx, f.alice.ID, f.bobSession.ID, ev); err != nil || n != 0 {
			t.Errorf("DeleteOtherSessions(keep bob's) = %d, %v; want 0, nil", n, err)
		}
		if _, _, err := f.s.FindSession(ctx, f.bobSession.ID, now); err != nil {
			t.Errorf("another user's session ended: %v", err)
		}
	})

	t.Run("ReplaceSession", func(t *testing.T) {
		f := setup(t)
		ctx := t.Context()
		old := f.live[0]
		fresh := newSession(f.alice, f.aliceCred, now)
		if err := f.s.ReplaceSession(ctx, old.ID, fresh); err != nil {
			t.Fatalf("ReplaceSession: %v", err)
		}
		_, _, err := f.s.FindSession(ctx, old.ID, now)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession(replaced)")
		got, _, err := f.s.FindSession(ctx, fresh.ID, now)
		if err != nil {
			t.Fatalf("FindSession(replacement): %v", err)
		}
		if diff := cmp.Diff(fresh, got, cmpOpts...); diff != "" {
			t.Errorf("replacement session (-want +got):\n%s", diff)
		}

		// Unknown old ID: nothing stored.
		orphan := newSession(f.alice, f.aliceCred, now)
		wantCode(t, f.s.ReplaceSession(ctx, randomID("ses"), orphan), passkeyd.ENOTFOUND, "ReplaceSession of an unknown session")
		_, _, err = f.s.FindSession(ctx, orphan.ID, now)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindSession(refused replacement)")
	})

	t.Run("StartRecovery", func(t *testing.T) {
		f := setup(t)
		ctx := t.Context()
		link := newToken(f.alice.ID, passkeyd.TokenRecovery)
		link.Email = f.alice.Email
		if err := f.s.SaveToken(ctx, link); err != nil {
			t.Fatalf("SaveToken: %v", err)
		}
		recovery := recoverySession(now)
		ev := &passkeyd.Event{Type: passkeyd.EventRecoveryUsed, Detail: "email link", CreatedAt: now}
		u, err := f.s.StartRecovery(ctx, &passkeyd.Recovery{TokenID: link.ID, Session: recovery, Event: ev, At: now})
		if err != nil {
			t.Fatalf("StartRecovery: %v", err)
		}
		if diff := cmp.Diff(f.alice, u, cmpOpts...); diff != "" {
			t.Errorf("StartRecovery's user (-want +got):\n%s", diff)
		}
		if recovery.UserID != f.alice.ID || ev.UserID != f.alice.ID {
			t.Errorf("session and event of user %q and %q, want the link's, %q", recovery.UserID, ev.UserID, f.alice.ID)
		}
		got, err := f.s.ListSessions(ctx, f.alice.ID, t0)
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		if diff := cmp.Diff([]*passkeyd.Session{recovery}, got, cmpOpts...); diff != "" {
			t.Errorf("sessions after StartRecovery: only the recovery one (-want +got):\n%s", diff)
		}
		if _, _, err := f.s.FindSession(ctx, f.bobSession.ID, now); err != nil {
			t.Errorf("another user's session ended: %v", err)
		}
		if got, want := eventTypes(t, f.s, f.alice.ID)[0], passkeyd.EventRecoveryUsed; got != want {
			t.Errorf("newest event %q, want %q", got, want)
		}

		// A recovery session that finishes becomes a full one, with a new ID.
		full := newSession(f.alice, f.aliceCred, now.Add(time.Minute))
		if err := f.s.ReplaceSession(ctx, recovery.ID, full); err != nil {
			t.Fatalf("ReplaceSession(recovery → full): %v", err)
		}
		if got, err := f.s.ListSessions(ctx, f.alice.ID, now); err != nil || !cmp.Equal(sessionIDs(got), []string{full.ID}) {
			t.Errorf("sessions after ReplaceSession = %v, %v; want [%s]", sessionIDs(got), err, full.ID)
		}
	})
}

func testToken(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("TakeOnce", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, _ := mustCreateUser(t, s, "alice@example.com")
		for _, purpose := range []passkeyd.TokenPurpose{passkeyd.TokenVerifyEmail, passkeyd.TokenRecovery, passkeyd.TokenChangeEmail} {
			tok := newToken(u.ID, purpose)
			if err := s.SaveToken(ctx, tok); err != nil {
				t.Fatalf("SaveToken(%s): %v", purpose, err)
			}
			got, err := s.TakeToken(ctx, tok.ID, purpose, t0.Add(time.Minute))
			if err != nil {
				t.Fatalf("TakeToken(%s): %v", purpose, err)
			}
			if diff := cmp.Diff(tok, got, cmpOpts...); diff != "" {
				t.Errorf("TakeToken(%s) (-want +got):\n%s", purpose, diff)
			}
			_, err = s.TakeToken(ctx, tok.ID, purpose, t0.Add(time.Minute))
			wantCode(t, err, passkeyd.ENOTFOUND, "second TakeToken")
		}
	})

	t.Run("WrongPurpose", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, _ := mustCreateUser(t, s, "alice@example.com")
		tok := newToken(u.ID, passkeyd.TokenVerifyEmail)
		if err := s.SaveToken(ctx, tok); err != nil {
			t.Fatalf("SaveToken: %v", err)
		}
		for _, p := range []passkeyd.TokenPurpose{passkeyd.TokenRecovery, passkeyd.TokenChangeEmail} {
			_, err := s.TakeToken(ctx, tok.ID, p, t0)
			wantCode(t, err, passkeyd.ENOTFOUND, fmt.Sprintf("TakeToken of a %s token as %s", tok.Purpose, p))
		}
		// The wrong purpose did not use it up.
		if _, err := s.TakeToken(ctx, tok.ID, tok.Purpose, t0); err != nil {
			t.Fatalf("TakeToken with its purpose: %v", err)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, _ := mustCreateUser(t, s, "alice@example.com")
		tok := newToken(u.ID, passkeyd.TokenRecovery)
		if err := s.SaveToken(ctx, tok); err != nil {
			t.Fatalf("SaveToken: %v", err)
		}
		_, err := s.TakeToken(ctx, tok.ID, tok.Purpose, tok.ExpiresAt)
		wantCode(t, err, passkeyd.ENOTFOUND, "TakeToken at ExpiresAt")
		if _, err := s.TakeToken(ctx, tok.ID, tok.Purpose, tok.ExpiresAt.Add(-time.Millisecond)); err != nil {
			t.Fatalf("TakeToken a millisecond before ExpiresAt: %v", err)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		for name, mod := range map[string]func(*passkeyd.Token){
			"NoID":      func(k *passkeyd.Token) { k.ID = "" },
			"NoUser":    func(k *passkeyd.Token) { k.UserID = "" },
			"NoPurpose": func(k *passkeyd.Token) { k.Purpose = "" },
			"NoExpiry":  func(k *passkeyd.Token) { k.ExpiresAt = time.Time{} },
		} {
			tok := newToken(u.ID, passkeyd.TokenRecovery)
			mod(tok)
			wantCode(t, s.SaveToken(t.Context(), tok), passkeyd.EINVALID, "SaveToken "+name)
		}
	})

	// A sign-up link belongs to no account: it is for an address that has
	// none yet. It is single-use, and a newer one to the same address ends
	// the older.
	t.Run("SignUp", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		signUpToken := func(email string) *passkeyd.Token {
			tok := newToken("", passkeyd.TokenSignUp)
			tok.Email = email
			if err := s.SaveToken(ctx, tok); err != nil {
				t.Fatalf("SaveToken(sign-up to %s): %v", email, err)
			}
			return tok
		}
		older, other := signUpToken("new@example.com"), signUpToken("other@example.com")
		newer := signUpToken("new@example.com")
		_, err := s.TakeToken(ctx, older.ID, passkeyd.TokenSignUp, t0)
		wantCode(t, err, passkeyd.ENOTFOUND, "TakeToken of a sign-up link after a newer one to the same address")
		got, err := s.TakeToken(ctx, newer.ID, passkeyd.TokenSignUp, t0)
		if err != nil {
			t.Fatalf("TakeToken(newer sign-up link): %v", err)
		}
		if diff := cmp.Diff(newer, got, cmpOpts...); diff != "" {
			t.Errorf("TakeToken(sign-up) (-want +got):\n%s", diff)
		}
		_, err = s.TakeToken(ctx, newer.ID, passkeyd.TokenSignUp, t0)
		wantCode(t, err, passkeyd.ENOTFOUND, "second TakeToken of a sign-up link")
		if _, err := s.TakeToken(ctx, other.ID, passkeyd.TokenSignUp, t0); err != nil {
			t.Errorf("TakeToken(sign-up link to another address): %v", err)
		}

		u, _ := mustCreateUser(t, s, "alice@example.com")
		withUser := newToken(u.ID, passkeyd.TokenSignUp)
		wantCode(t, s.SaveToken(ctx, withUser), passkeyd.EINVALID, "SaveToken of a sign-up token with a user")
		noEmail := newToken("", passkeyd.TokenSignUp)
		noEmail.Email = ""
		wantCode(t, s.SaveToken(ctx, noEmail), passkeyd.EINVALID, "SaveToken of a sign-up token without an address")

		expired := signUpToken("late@example.com")
		if _, err := s.DeleteExpired(ctx, expired.ExpiresAt); err != nil {
			t.Fatalf("DeleteExpired: %v", err)
		}
		_, err = s.TakeToken(ctx, expired.ID, passkeyd.TokenSignUp, t0)
		wantCode(t, err, passkeyd.ENOTFOUND, "TakeToken of an expired sign-up link after DeleteExpired")
	})

	// Ten clicks on one link at once: exactly one goes through.
	t.Run("Race", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		const rounds, n = 5, 10
		for round := range rounds {
			tok := newToken(u.ID, passkeyd.TokenRecovery)
			if err := s.SaveToken(t.Context(), tok); err != nil {
				t.Fatalf("SaveToken: %v", err)
			}
			won := make([]*passkeyd.Token, n)
			errs := race(n, func(i int) error {
				var err error
				won[i], err = s.TakeToken(t.Context(), tok.ID, tok.Purpose, t0)
				return err
			})
			if got := countCodes(errs); got[""] != 1 || got[passkeyd.ENOTFOUND] != n-1 {
				t.Fatalf("round %d: error codes %v, want exactly one winner and %d ENOTFOUND", round, got, n-1)
			}
			for i, err := range errs {
				if err == nil && (won[i] == nil || won[i].ID != tok.ID || won[i].UserID != u.ID) {
					t.Errorf("round %d: the winner got %+v, want the token", round, won[i])
				}
			}
		}
	})

	// DeleteExpired removes expired tokens too, and only those.
	t.Run("DeleteExpired", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, _ := mustCreateUser(t, s, "alice@example.com")
		expired, live := newToken(u.ID, passkeyd.TokenRecovery), newToken(u.ID, passkeyd.TokenVerifyEmail)
		expired.ExpiresAt = t0.Add(time.Minute)
		live.ExpiresAt = t0.Add(time.Minute + time.Millisecond)
		for _, tok := range []*passkeyd.Token{expired, live} {
			if err := s.SaveToken(ctx, tok); err != nil {
				t.Fatalf("SaveToken: %v", err)
			}
		}
		n, err := s.DeleteExpired(ctx, t0.Add(time.Minute))
		if err != nil {
			t.Fatalf("DeleteExpired: %v", err)
		}
		if n != 1 {
			t.Errorf("DeleteExpired removed %d rows, want 1 (the expired token)", n)
		}
		// Gone even when asked at a time it was valid.
		_, err = s.TakeToken(ctx, expired.ID, expired.Purpose, t0)
		wantCode(t, err, passkeyd.ENOTFOUND, "TakeToken(expired token) after DeleteExpired")
		if _, err := s.TakeToken(ctx, live.ID, live.Purpose, t0); err != nil {
			t.Errorf("TakeToken(live token) after DeleteExpired: %v", err)
		}
	})
}

func testRecoveryCodes(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("Use", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, _ := mustCreateUser(t, s, "alice@example.com")
		codes := mustSaveCodes(t, s, u.ID, 10)
		if n, err := s.CountRecoveryCodes(ctx, u.ID); err != nil || n != 10 {
			t.Fatalf("CountRecoveryCodes = %d, %v; want 10", n, err)
		}
		for _, c := range codes {
			got, err := s.FindRecoveryCode(ctx, u.ID, c.ID)
			if err != nil {
				t.Fatalf("FindRecoveryCode: %v", err)
			}
			if diff := cmp.Diff(c, got, cmpOpts...); diff != "" {
				t.Errorf("FindRecoveryCode (-want +got):\n%s", diff)
			}
		}
		if got, want := eventTypes(t, s, u.ID), []string{passkeyd.EventRecoveryCodesGenerated, passkeyd.EventUserCreated}; !cmp.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}

		if err := useCode(ctx, s, u.ID, codes[3].ID, t0.Add(time.Hour)); err != nil {
			t.Fatalf("useCode: %v", err)
		}
		_, err := s.FindRecoveryCode(ctx, u.ID, codes[3].ID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindRecoveryCode(used)")
		wantCode(t, useCode(ctx, s, u.ID, codes[3].ID, t0.Add(time.Hour)), passkeyd.ENOTFOUND, "useCode again")
		wantCode(t, useCode(ctx, s, u.ID, "nosuchid", t0), passkeyd.ENOTFOUND, "useCode(unknown)")
		if n, err := s.CountRecoveryCodes(ctx, u.ID); err != nil || n != 9 {
			t.Errorf("CountRecoveryCodes after one use = %d, %v; want 9", n, err)
		}
		if _, err := s.FindRecoveryCode(ctx, u.ID, codes[4].ID); err != nil {
			t.Errorf("FindRecoveryCode(another code): %v", err)
		}
	})

	t.Run("ReplaceInvalidatesOld", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, _ := mustCreateUser(t, s, "alice@example.com")
		old := mustSaveCodes(t, s, u.ID, 10)
		if err := useCode(ctx, s, u.ID, old[0].ID, t0); err != nil {
			t.Fatalf("useCode: %v", err)
		}
		fresh := mustSaveCodes(t, s, u.ID, 8)
		for _, c := range old {
			_, err := s.FindRecoveryCode(ctx, u.ID, c.ID)
			wantCode(t, err, passkeyd.ENOTFOUND, "FindRecoveryCode(old set)")
			wantCode(t, useCode(ctx, s, u.ID, c.ID, t0), passkeyd.ENOTFOUND, "useCode(old set)")
		}
		if n, err := s.CountRecoveryCodes(ctx, u.ID); err != nil || n != len(fresh) {
			t.Errorf("CountRecoveryCodes = %d, %v; want %d", n, err, len(fresh))
		}
		for _, c := range fresh {
			if _, err := s.FindRecoveryCode(ctx, u.ID, c.ID); err != nil {
				t.Errorf("FindRecoveryCode(new set): %v", err)
			}
		}
		// An empty set removes every code.
		if err := s.ReplaceRecoveryCodes(ctx, u.ID, nil, nil); err != nil {
			t.Fatalf("ReplaceRecoveryCodes(none): %v", err)
		}
		if n, err := s.CountRecoveryCodes(ctx, u.ID); err != nil || n != 0 {
			t.Errorf("CountRecoveryCodes after an empty set = %d, %v; want 0", n, err)
		}
	})

	// Two users may hold codes with the same public part: each is the
	// user's own.
	t.Run("SameIDTwoUsers", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, _ := mustCreateUser(t, s, "alice@example.com")
		bob, _ := mustCreateUser(t, s, "bob@example.com")
		ac, bc := newCodes(alice.ID, 1), newCodes(bob.ID, 1)
		bc[0].ID = ac[0].ID
		if err := s.ReplaceRecoveryCodes(ctx, alice.ID, ac, nil); err != nil {
			t.Fatalf("ReplaceRecoveryCodes(alice): %v", err)
		}
		if err := s.ReplaceRecoveryCodes(ctx, bob.ID, bc, nil); err != nil {
			t.Fatalf("ReplaceRecoveryCodes(bob): %v", err)
		}
		if err := useCode(ctx, s, alice.ID, ac[0].ID, t0); err != nil {
			t.Fatalf("useCode(alice): %v", err)
		}
		got, err := s.FindRecoveryCode(ctx, bob.ID, bc[0].ID)
		if err != nil {
			t.Fatalf("FindRecoveryCode(bob) after alice used hers: %v", err)
		}
		if diff := cmp.Diff(bc[0], got, cmpOpts...); diff != "" {
			t.Errorf("bob's code (-want +got):\n%s", diff)
		}
	})

	t.Run("Race", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "alice@example.com")
		codes := mustSaveCodes(t, s, u.ID, 5)
		const n = 10
		for round, c := range codes {
			errs := race(n, func(int) error { return useCode(t.Context(), s, u.ID, c.ID, t0) })
			if got := countCodes(errs); got[""] != 1 || got[passkeyd.ENOTFOUND] != n-1 {
				t.Fatalf("round %d: error codes %v, want exactly one success and %d ENOTFOUND", round, got, n-1)
			}
		}
		if n, err := s.CountRecoveryCodes(t.Context(), u.ID); err != nil || n != 0 {
			t.Errorf("CountRecoveryCodes = %d, %v; want 0", n, err)
		}
	})
}

// testScoping: each method taking a user ID, given another user's passkey,
// session or code, answers ENOTFOUND and changes nothing of either user.
func testScoping(t *testing.T, open func(*testing.T) passkeyd.Store) {
	s := open(t)
	ctx := t.Context()
	alice, aliceCred := mustCreateUser(t, s, "alice@example.com")
	aliceSession := newSession(alice, aliceCred, t0)
	mustSignIn(t, s, aliceCred, aliceSession)
	aliceCodes := mustSaveCodes(t, s, alice.ID, 2)
	// Alice could delete her passkey herself: she has codes.
	bob, bobCred := mustCreateUser(t, s, "bob@example.com")
	bobSession := newSession(bob, bobCred, t0)
	mustSignIn(t, s, bobCred, bobSession)
	mustSaveCodes(t, s, bob.ID, 2)
	if err := s.VerifyEmail(ctx, bob.ID, bob.Email, t0, nil); err != nil {
		t.Fatalf("VerifyEmail: %v", err)
	}
	beforeAlice, beforeBob := snapshot(t, s, alice.ID, t0), snapshot(t, s, bob.ID, t0)

	ev := func(typ string) *passkeyd.Event { return &passkeyd.Event{UserID: bob.ID, Type: typ, CreatedAt: t0} }
	steal := newSession(bob, bobCred, t0)
	for what, err := range map[string]error{
		"RenameCredential(bob, alice's passkey)":  s.RenameCredential(ctx, bob.ID, aliceCred.ID, "mine", ev(passkeyd.EventPasskeyRenamed)),
		"DeleteCredential(bob, alice's passkey)":  s.DeleteCredential(ctx, bob.ID, aliceCred.ID, ev(passkeyd.EventPasskeyDeleted)),
		"DeleteUserSession(bob, alice's session)": s.DeleteUserSession(ctx, bob.ID, aliceSession.ID, ev(passkeyd.EventSessionRevoked)),
		"ReplaceSession(alice's session, bob's)":  s.ReplaceSession(ctx, aliceSession.ID, steal),
		"useCode(bob, alice's code)":              useCode(ctx, s, bob.ID, aliceCodes[0].ID, t0),
		"FindRecoveryCode(bob, alice's code)": func() error {
			_, err := s.FindRecoveryCode(ctx, bob.ID, aliceCodes[1].ID)
			return err
		}(),
	} {
		wantCode(t, err, passkeyd.ENOTFOUND, what)
	}
	_, _, err := s.FindSession(ctx, steal.ID, t0)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindSession of the refused replacement")
	wantUnchanged(t, s, beforeAlice, t0, "bob's calls")
	wantUnchanged(t, s, beforeBob, t0, "bob's refused calls")
}
