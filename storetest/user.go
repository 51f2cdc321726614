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

func testCreateUser(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := newUser("Alice@Example.com")
		ev := &passkeyd.Event{
			UserID: u.ID, Type: passkeyd.EventUserCreated, CredentialID: c.ID,
			IP: "192.0.2.1", UserAgent: "storetest", Detail: "signed up", CreatedAt: t0,
		}
		if err := s.CreateUser(ctx, u, c, ev); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}

		got, err := s.FindUserByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("FindUserByID: %v", err)
		}
		if diff := cmp.Diff(u, got, cmpOpts...); diff != "" {
			t.Errorf("FindUserByID mismatch (-want +got):\n%s", diff)
		}
		gotCred, owner, err := s.FindCredential(ctx, c.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if diff := cmp.Diff(c, gotCred, cmpOpts...); diff != "" {
			t.Errorf("FindCredential mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(u, owner, cmpOpts...); diff != "" {
			t.Errorf("FindCredential owner mismatch (-want +got):\n%s", diff)
		}
		events, err := s.ListEvents(ctx, u.ID, 0, 10)
		if err != nil {
			t.Fatalf("ListEvents: %v", err)
		}
		if diff := cmp.Diff([]*passkeyd.Event{ev}, events, cmpopts.IgnoreFields(passkeyd.Event{}, "ID")); diff != "" {
			t.Errorf("events mismatch (-want +got):\n%s", diff)
		}
		if len(events) == 1 && events[0].ID <= 0 {
			t.Errorf("event ID = %d, want > 0", events[0].ID)
		}
	})

	t.Run("ErrEmailTaken", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, _ := mustCreateUser(t, s, "Alice@Example.com")

		u, c := newUser("alice@example.com")
		ev := &passkeyd.Event{UserID: u.ID, Type: passkeyd.EventUserCreated, CreatedAt: t0}
		wantCode(t, s.CreateUser(ctx, u, c, ev), passkeyd.ECONFLICT, "CreateUser with the same email in another case")

		// Nothing of the second account was written.
		_, err := s.FindUserByID(ctx, u.ID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByID of the refused user")
		_, _, err = s.FindCredential(ctx, c.CredentialID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindCredential of the refused user's passkey")
		if got := eventTypes(t, s, u.ID); len(got) != 0 {
			t.Errorf("refused user has events %v, want none", got)
		}
		found, err := s.FindUserByEmail(ctx, "ALICE@example.com")
		if err != nil {
			t.Fatalf("FindUserByEmail: %v", err)
		}
		if found.ID != alice.ID {
			t.Errorf("FindUserByEmail found %s, want the first account %s", found.ID, alice.ID)
		}
	})

	t.Run("ErrCredentialTaken", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		alice, aliceCred := mustCreateUser(t, s, "alice@example.com")

		u, c := newUser("bob@example.com")
		c.CredentialID = aliceCred.CredentialID
		wantCode(t, s.CreateUser(ctx, u, c, nil), passkeyd.ECONFLICT, "CreateUser with a taken credential ID")

		// The user was not created without its passkey.
		_, err := s.FindUserByID(ctx, u.ID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByID of the refused user")
		_, err = s.FindUserByEmail(ctx, "bob@example.com")
		wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByEmail of the refused user")
		_, owner, err := s.FindCredential(ctx, aliceCred.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if owner.ID != alice.ID {
			t.Errorf("passkey owner = %s, want %s", owner.ID, alice.ID)
		}
		// The email is still free.
		mustCreateUser(t, s, "bob@example.com")
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		u, c := newUser("not an email")
		wantCode(t, s.CreateUser(ctx, u, c, nil), passkeyd.EINVALID, "CreateUser with a bad email")
		u, c = newUser("carol@example.com")
		c.UserID = randomID("usr")
		wantCode(t, s.CreateUser(ctx, u, c, nil), passkeyd.EINVALID, "CreateUser with another user's passkey")
		_, err := s.FindUserByID(ctx, u.ID)
		wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByID of the refused user")
	})

	t.Run("ConcurrentSameEmail", func(t *testing.T) {
		s := open(t)
		const n = 10
		users := make([]*passkeyd.User, n)
		errs := race(n, func(i int) error {
			// Dave@example.com, dAve@example.com, ...: one address.
			email := []byte("dave.dave@example.com")
			email[i] = strings.ToUpper(string(email[i]))[0]
			u, c := newUser(string(email))
			users[i] = u
			return s.CreateUser(t.Context(), u, c, nil)
		})
		if got := countCodes(errs); got[""] != 1 || got[passkeyd.ECONFLICT] != n-1 {
			t.Fatalf("error codes %v, want one success and %d conflicts", got, n-1)
		}
		for i, err := range errs {
			_, ferr := s.FindUserByID(t.Context(), users[i].ID)
			if err == nil && ferr != nil {
				t.Errorf("winner %d not found: %v", i, ferr)
			}
			if err != nil {
				wantCode(t, ferr, passkeyd.ENOTFOUND, fmt.Sprintf("FindUserByID of loser %d", i))
			}
		}
	})
}

func testFindUser(t *testing.T, open func(*testing.T) passkeyd.Store) {
	t.Run("ByEmailIgnoresCaseAndSpace", func(t *testing.T) {
		s := open(t)
		u, _ := mustCreateUser(t, s, "Erin.Smith@Example.com")
		for _, email := range []string{"Erin.Smith@Example.com", "erin.smith@example.com", "  ERIN.SMITH@EXAMPLE.COM "} {
			got, err := s.FindUserByEmail(t.Context(), email)
			if err != nil {
				t.Fatalf("FindUserByEmail(%q): %v", email, err)
			}
			if got.ID != u.ID || got.Email != "Erin.Smith@Example.com" {
				t.Errorf("FindUserByEmail(%q) = %s <%s>, want %s <Erin.Smith@Example.com>", email, got.ID, got.Email, u.ID)
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, "frank@example.com")
		_, err := s.FindUserByID(t.Context(), randomID("usr"))
		wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByID(unknown)")
		_, err = s.FindUserByEmail(t.Context(), "grace@example.com")
		wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByEmail(unknown)")
		_, _, err = s.FindCredential(t.Context(), randomBytes(16))
		wantCode(t, err, passkeyd.ENOTFOUND, "FindCredential(unknown)")
	})
}

// testRoundTrip stores every field with values that are easy to lose (zero
// bytes, the largest counter, times in another zone, the "hybrid"
// transport) and expects them back exactly, to the millisecond.
func testRoundTrip(t *testing.T, open func(*testing.T) passkeyd.Store) {
	s := open(t)
	ctx := t.Context()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := func(ms int64) time.Time { return time.UnixMilli(1748779200123 + ms).In(zone) }

	u := &passkeyd.User{
		ID:              randomID("usr"),
		Email:           "Zoë.Ünicode@Example.com",
		DisplayName:     "Zoë «Test» O'Brien",
		Handle:          append([]byte{0, 0, 255, 0}, randomBytes(28)...),
		EmailVerifiedAt: at(1),
		Disabled:        true,
		CreatedAt:       at(0),
		UpdatedAt:       at(2),
	}
	full := &passkeyd.Credential{
		ID:                randomID("pk"),
		UserID:            u.ID,
		CredentialID:      append([]byte{0}, randomBytes(63)...),
		PublicKey:         append([]byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x00}, randomBytes(70)...),
		SignCount:         4294967295,
		Transports:        []string{"usb", "nfc", "ble", "smart-card", "internal", "hybrid"},
		AAGUID:            []byte{0xea, 0x9b, 0x8d, 0x66, 0x4d, 0x01, 0x1d, 0x21, 0x3c, 0xe4, 0xb6, 0xb4, 0x8c, 0xb5, 0x75, 0xd4},
		AttestationFormat: "packed",
		AttestationType:   "basic_full",
		BackupEligible:    true,
		BackupState:       true,
		UserVerified:      true,
		Attachment:        "cross-platform",
		Name:              "YubiKey 5 «bureau»",
		CloneWarning:      true,
		CreatedAt:         at(0),
		LastUsedAt:        at(999),
		UpdatedAt:         at(1000),
	}
	// The other extreme: every optional field zero.
	bare := &passkeyd.Credential{
		ID:           randomID("pk"),
		UserID:       u.ID,
		CredentialID: randomBytes(1),
		PublicKey:    randomBytes(1),
		CreatedAt:    at(5000),
		UpdatedAt:    at(5000),
	}
	if err := s.CreateUser(ctx, u, full, nil); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.AddCredential(ctx, bare, nil); err != nil {
		t.Fatalf("AddCredential: %v", err)
	}

	gotUser, err := s.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("FindUserByID: %v", err)
	}
	if diff := cmp.Diff(u, gotUser, cmpOpts...); diff != "" {
		t.Errorf("user mismatch (-want +got):\n%s", diff)
	}
	for _, want := range []*passkeyd.Credential{full, bare} {
		got, owner, err := s.FindCredential(ctx, want.CredentialID)
		if err != nil {
			t.Fatalf("FindCredential: %v", err)
		}
		if diff := cmp.Diff(want, got, cmpOpts...); diff != "" {
			t.Errorf("credential mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(u, owner, cmpOpts...); diff != "" {
			t.Errorf("owner mismatch (-want +got):\n%s", diff)
		}
	}
	list, err := s.ListCredentials(ctx, u.ID)
	if err != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	if diff := cmp.Diff([]*passkeyd.Credential{full, bare}, list, cmpOpts...); diff != "" {
		t.Errorf("ListCredentials mismatch (-want +got):\n%s", diff)
	}
}
