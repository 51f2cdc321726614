package storetest

import (
	"testing"

	"github.com/passkeyd/passkeyd"
)

// testSetProfile: the name and username apps receive under the profile
// scope. Usernames are unique among accounts that set one; unset ("") is
// not a username, so any number of accounts have none.
func testSetProfile(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("SetAndUnset", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, _ := mustCreateUser(t, s, "alice@example.com")
		bob, _ := mustCreateUser(t, s, "bob@example.com")
		ev := &passkeyd.Event{UserID: alice.ID, Type: passkeyd.EventProfileChanged, Detail: "name: Alice Liddell, username: wonderland", CreatedAt: t0}
		if err := s.SetProfile(ctx, alice.ID, "  Alice Liddell ", "wonderland", ev); err != nil {
			t.Fatalf("SetProfile: %v", err)
		}
		if types := eventTypes(t, s, alice.ID); len(types) == 0 || types[0] != passkeyd.EventProfileChanged {
			t.Errorf("events %v: want SetProfile's event first", types)
		}
		got, err := s.FindUserByID(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != "Alice Liddell" || got.Username != "wonderland" {
			t.Errorf("after SetProfile: name %q, username %q; want Alice Liddell, wonderland", got.DisplayName, got.Username)
		}
		if byEmail, err := s.FindUserByEmail(ctx, "alice@example.com"); err != nil || byEmail.Username != "wonderland" {
			t.Errorf("FindUserByEmail: %+v, %v; want the username", byEmail, err)
		}

		// Taken: refused, and bob keeps what he had.
		refused := &passkeyd.Event{UserID: bob.ID, Type: passkeyd.EventProfileChanged, CreatedAt: t0}
		if err := s.SetProfile(ctx, bob.ID, "Bob", "wonderland", refused); passkeyd.ErrorCode(err) != passkeyd.ECONFLICT {
			t.Errorf("SetProfile with alice's username: %v, want ECONFLICT", err)
		}
		if types := eventTypes(t, s, bob.ID); len(types) == 0 || types[0] == passkeyd.EventProfileChanged {
			t.Errorf("bob's events %v: a refused SetProfile recorded its event", types)
		}
		if got, _ := s.FindUserByID(ctx, bob.ID); got.Username != "" || got.DisplayName != "Test User" {
			t.Errorf("bob after a refused SetProfile: %q, %q; want unchanged", got.DisplayName, got.Username)
		}
		// Setting one's own username again is no conflict.
		if err := s.SetProfile(ctx, alice.ID, "Alice", "wonderland", nil); err != nil {
			t.Errorf("SetProfile keeping the username: %v", err)
		}
		for _, bad := range []string{"Wonderland", "ab", "alice@example.com", "a b c", "ümlaut", string(make([]byte, 33))} {
			if err := s.SetProfile(ctx, bob.ID, "Bob", bad, nil); passkeyd.ErrorCode(err) != passkeyd.EINVALID {
				t.Errorf("SetProfile(username %q): %v, want EINVALID", bad, err)
			}
		}
		if err := s.SetProfile(ctx, bob.ID, "Bob\u202e", "", nil); passkeyd.ErrorCode(err) != passkeyd.EINVALID {
			t.Errorf("SetProfile with a bidi control in the name: %v, want EINVALID", err)
		}

		// Unset: both accounts without a username at once.
		for _, u := range []*passkeyd.User{alice, bob} {
			if err := s.SetProfile(ctx, u.ID, "", "", nil); err != nil {
				t.Fatalf("SetProfile(unset) %s: %v", u.Email, err)
			}
			if got, _ := s.FindUserByID(ctx, u.ID); got.DisplayName != "" || got.Username != "" {
				t.Errorf("%s after unsetting: %q, %q", u.Email, got.DisplayName, got.Username)
			}
		}
		// The released username can be taken.
		if err := s.SetProfile(ctx, bob.ID, "", "wonderland", nil); err != nil {
			t.Errorf("SetProfile with a released username: %v", err)
		}
		wantCode(t, s.SetProfile(ctx, "no-such-user", "X", "", nil), passkeyd.ENOTFOUND, "SetProfile(unknown user)")
	})

	// Accounts racing for one username, on as many connections: one gets it.
	t.Run("ConcurrentSameUsername", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const n = 8
		users := make([]*passkeyd.User, n)
		for i := range users {
			users[i], _ = mustCreateUser(t, s, randomID("u")+"@example.com")
		}
		errs := race(n, func(i int) error { return s.SetProfile(ctx, users[i].ID, "", "contested", nil) })
		won := 0
		for i, err := range errs {
			switch passkeyd.ErrorCode(err) {
			case "":
				won++
			case passkeyd.ECONFLICT:
			default:
				t.Errorf("SetProfile %d: %v, want nil or ECONFLICT", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d accounts got one username, want exactly 1", won)
		}
	})
}
