package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/passkeyd/passkeyd"
)

// RunConsole runs the suite of passkeyd.ConsoleStore, the console's
// storage, as named subtests. open is as for Run; the store it returns
// must implement passkeyd.OIDCStore and passkeyd.ConsoleStore too.
func RunConsole(t *testing.T, open func(t *testing.T) passkeyd.Store) {
	openConsole := func(t *testing.T) consoleStore {
		s := open(t)
		o, ok := s.(passkeyd.OIDCStore)
		if !ok {
			t.Fatalf("%T does not implement passkeyd.OIDCStore", s)
		}
		c, ok := s.(passkeyd.ConsoleStore)
		if !ok {
			t.Fatalf("%T does not implement passkeyd.ConsoleStore", s)
		}
		return consoleStore{s, o, c}
	}
	t.Run("Admin", func(t *testing.T) { testConsoleAdmin(t, openConsole(t)) })
	t.Run("LastAdmin", func(t *testing.T) { testConsoleLastAdmin(t, openConsole(t)) })
	t.Run("LastAdminRace", func(t *testing.T) { testConsoleLastAdminRace(t, openConsole(t)) })
	t.Run("AdminSetup", func(t *testing.T) { testConsoleAdminSetup(t, openConsole(t)) })
	t.Run("DeleteAccount", func(t *testing.T) { testConsoleDeleteAccount(t, openConsole(t)) })
	t.Run("SearchUsers", func(t *testing.T) { testConsoleSearchUsers(t, openConsole(t)) })
	t.Run("Overview", func(t *testing.T) { testConsoleOverview(t, openConsole(t)) })
	t.Run("AuditEvents", func(t *testing.T) { testConsoleAuditEvents(t, openConsole(t)) })
	t.Run("Groups", func(t *testing.T) { testConsoleGroups(t, openConsole(t)) })
	t.Run("AppGroups", func(t *testing.T) { testConsoleAppGroups(t, openConsole(t)) })
	t.Run("APIKeys", func(t *testing.T) { testConsoleAPIKeys(t, openConsole(t)) })
	t.Run("KeysEndWithTheirAdministrator", func(t *testing.T) { testConsoleKeysEndWithTheirAdministrator(t, openConsole) })
}

type consoleStore struct {
	passkeyd.Store
	passkeyd.OIDCStore
	passkeyd.ConsoleStore
}

// adminEvent returns an event of typ about userID, made by the
// administrator admin through the console.
func adminEvent(admin *passkeyd.User, userID, typ string) *passkeyd.Event {
	return passkeyd.NewEvent(t0, passkeyd.Actor{IP: "192.0.2.9", UserAgent: "console", AdminID: admin.ID, AdminName: admin.Email},
		userID, typ, "", "")
}

// auditTypes lists the types of the events an administrator (or an
// account) is in, newest first.
func auditTypes(t testing.TB, s consoleStore, userID string) []string {
	t.Helper()
	events, err := s.ListAuditEvents(t.Context(), passkeyd.AuditQuery{UserID: userID, Limit: 1000})
	if err != nil {
		t.Fatalf("ListAuditEvents: %v", err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types
}

func mustSetAdmin(t testing.TB, s consoleStore, u *passkeyd.User) {
	t.Helper()
	if err := s.SetAdmin(t.Context(), u.ID, true, adminEvent(u, u.ID, passkeyd.EventAdminGranted)); err != nil {
		t.Fatalf("SetAdmin(%s): %v", u.Email, err)
	}
}

func wantAdmins(t testing.TB, s consoleStore, want int) {
	t.Helper()
	if n, err := s.CountAdmins(t.Context()); err != nil || n != want {
		t.Fatalf("CountAdmins = %d, %v; want %d", n, err, want)
	}
}

func testConsoleAdmin(t *testing.T, s consoleStore) {
	ctx := t.Context()
	alice, _ := mustCreateUser(t, s, "alice@example.com")
	if admin, err := s.IsAdmin(ctx, alice.ID); err != nil || admin {
		t.Fatalf("IsAdmin of a new account = %v, %v; want false", admin, err)
	}
	wantAdmins(t, s, 0)
	// With no administrator at all (a fresh installation), disabling an
	// account is no business of the last-administrator rule.
	bob, _ := mustCreateUser(t, s, "bob@example.com")
	if err := s.SetUserDisabled(ctx, bob.ID, true, nil); err != nil {
		t.Fatalf("SetUserDisabled with no administrator: %v", err)
	}

	mustSetAdmin(t, s, alice)
	if admin, err := s.IsAdmin(ctx, alice.ID); err != nil || !admin {
		t.Fatalf("IsAdmin after SetAdmin = %v, %v; want true", admin, err)
	}
	wantAdmins(t, s, 1)
	// A disabled administrator is an administrator, but not counted.
	mustSetAdmin(t, s, bob)
	wantAdmins(t, s, 1)
	if admin, err := s.IsAdmin(ctx, bob.ID); err != nil || !admin {
		t.Fatalf("IsAdmin of a disabled administrator = %v, %v; want true", admin, err)
	}
	// Revoking a disabled administrator leaves alice: allowed.
	if err := s.SetAdmin(ctx, bob.ID, false, adminEvent(alice, bob.ID, passkeyd.EventAdminRevoked)); err != nil {
		t.Fatalf("SetAdmin(bob, false): %v", err)
	}
	events, err := s.ListEvents(ctx, bob.ID, 0, 1)
	if err != nil || len(events) != 1 {
		t.Fatalf("ListEvents = %v, %v", events, err)
	}
	want := &passkeyd.Event{UserID: bob.ID, Type: passkeyd.EventAdminRevoked, IP: "192.0.2.9", UserAgent: "console",
		AdminID: alice.ID, AdminName: alice.Email, CreatedAt: t0}
	if diff := cmp.Diff(want, events[0], cmpopts.IgnoreFields(passkeyd.Event{}, "ID")); diff != "" {
		t.Errorf("the event of SetAdmin (-want +got):\n%s", diff)
	}

	unknown := randomID("usr")
	_, err = s.IsAdmin(ctx, unknown)
	wantCode(t, err, passkeyd.ENOTFOUND, "IsAdmin of an unknown account")
	wantCode(t, s.SetAdmin(ctx, unknown, true, nil), passkeyd.ENOTFOUND, "SetAdmin(true) of an unknown account")
	wantCode(t, s.SetAdmin(ctx, unknown, false, nil), passkeyd.ENOTFOUND, "SetAdmin(false) of an unknown account")
}

func testConsoleLastAdmin(t *testing.T, s consoleStore) {
	ctx := t.Context()
	alice, _ := mustCreateUser(t, s, "alice@example.com")
	bob, _ := mustCreateUser(t, s, "bob@example.com")
	mustSetAdmin(t, s, alice)
	before := auditTypes(t, s, alice.ID)

	refused := func(what string, err error) {
		t.Helper()
		wantCode(t, err, passkeyd.ECONFLICT, what+" of the last administrator")
		wantAdmins(t, s, 1)
		u, err := s.FindUserByID(ctx, alice.ID)
		if err != nil || u.Disabled {
			t.Fatalf("after the refused %s: %+v, %v; want alice enabled", what, u, err)
		}
		if got := auditTypes(t, s, alice.ID); !cmp.Equal(got, before) {
			t.Fatalf("after the refused %s: events %v; want %v (nothing recorded)", what, got, before)
		}
	}
	refused("SetAdmin(false)", s.SetAdmin(ctx, alice.ID, false, adminEvent(alice, alice.ID, passkeyd.EventAdminRevoked)))
	refused("SetUserDisabled", s.SetUserDisabled(ctx, alice.ID, true, adminEvent(alice, alice.ID, passkeyd.EventUserDisabled)))
	refused("DeleteAccount", s.DeleteAccount(ctx, alice.ID, adminEvent(alice, alice.ID, passkeyd.EventUserDeleted)))
	refused("DeleteUser", s.DeleteUser(ctx, alice.ID))

	// With a second administrator, each is allowed, once.
	mustSetAdmin(t, s, bob)
	if err := s.SetUserDisabled(ctx, alice.ID, true, nil); err != nil {
		t.Fatalf("SetUserDisabled with another administrator: %v", err)
	}
	wantAdmins(t, s, 1)
	wantCode(t, s.SetAdmin(ctx, bob.ID, false, nil), passkeyd.ECONFLICT, "SetAdmin(false) of bob, alice disabled")
	if err := s.SetUserDisabled(ctx, alice.ID, false, nil); err != nil {
		t.Fatalf("SetUserDisabled(false): %v", err)
	}
	wantAdmins(t, s, 2)
	if err := s.SetAdmin(ctx, bob.ID, false, nil); err != nil {
		t.Fatalf("SetAdmin(false) with another administrator: %v", err)
	}
	mustSetAdmin(t, s, bob)
	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatalf("DeleteUser with another administrator: %v", err)
	}
	wantAdmins(t, s, 1)
	wantCode(t, s.DeleteAccount(ctx, bob.ID, nil), passkeyd.ECONFLICT, "DeleteAccount of the last administrator")
	// Accounts that are not administrators come and go.
	carol, _ := mustCreateUser(t, s, "carol@example.com")
	if err := s.SetUserDisabled(ctx, carol.ID, true, nil); err != nil {
		t.Fatalf("SetUserDisabled of a non-administrator: %v", err)
	}
	if err := s.DeleteAccount(ctx, carol.ID, nil); err != nil {
		t.Fatalf("DeleteAccount of a non-administrator: %v", err)
	}
}

// testConsoleLastAdminRace: two administrators removed at once (on
// PostgreSQL, each transaction would otherwise count the other as still
// there): exactly one removal succeeds, and one administrator is left.
func testConsoleLastAdminRace(t *testing.T, s consoleStore) {
	ctx := t.Context()
	var left *passkeyd.User // the previous round's administrator
	for round := range 12 {
		a, _ := mustCreateUser(t, s, fmt.Sprintf("a%d@example.com", round))
		b, _ := mustCreateUser(t, s, fmt.Sprintf("b%d@example.com", round))
		mustSetAdmin(t, s, a)
		mustSetAdmin(t, s, b)
		if left != nil {
			if err := s.SetAdmin(ctx, left.ID, false, nil); err != nil {
				t.Fatalf("round %d: SetAdmin(false) of the previous round's administrator: %v", round, err)
			}
		}
		wantAdmins(t, s, 2)
		remove := []func(u *passkeyd.User) error{
			func(u *passkeyd.User) error { return s.SetAdmin(ctx, u.ID, false, nil) },
			func(u *passkeyd.User) error { return s.SetUserDisabled(ctx, u.ID, true, nil) },
			func(u *passkeyd.User) error { return s.DeleteAccount(ctx, u.ID, nil) },
		}
		errs := race(2, func(i int) error {
			if i == 0 {
				return remove[round%3](a)
			}
			return remove[(round/3)%3](b)
		})
		if got := countCodes(errs); got[""] != 1 || got[passkeyd.ECONFLICT] != 1 {
			t.Fatalf("round %d: two administrators removed at once: %v; want one success and one ECONFLICT", round, errs)
		}
		wantAdmins(t, s, 1)
		left = a
		if errs[0] == nil {
			left = b
		}
	}
}

func testConsoleAdminSetup(t *testing.T, s consoleStore) {
	ctx := t.Context()
	alice, _ := mustCreateUser(t, s, "alice@example.com")
	bob, _ := mustCreateUser(t, s, "bob@example.com")
	saveSetup := func(id string) {
		t.Helper()
		if err := s.SaveToken(ctx, &passkeyd.Token{ID: id, Purpose: passkeyd.TokenAdminSetup, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatalf("SaveToken(admin setup): %v", err)
		}
	}
	ev := func(u *passkeyd.User) *passkeyd.Event {
		return passkeyd.NewEvent(t0, passkeyd.Actor{IP: "192.0.2.9"}, u.ID, passkeyd.EventAdminGranted, "", "setup link")
	}
	saveSetup("setup-1")
	// A new link ends the earlier one (whatever address it names).
	if err := s.SaveToken(ctx, &passkeyd.Token{ID: "setup-2", Purpose: passkeyd.TokenAdminSetup, Email: "x@example.com", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("SaveToken(admin setup): %v", err)
	}
	wantCode(t, s.ClaimAdminSetup(ctx, "setup-1", alice.ID, t0, ev(alice)), passkeyd.ENOTFOUND, "ClaimAdminSetup with a replaced link")
	wantCode(t, s.ClaimAdminSetup(ctx, "unknown", alice.ID, t0, ev(alice)), passkeyd.ENOTFOUND, "ClaimAdminSetup with an unknown link")
	wantCode(t, s.ClaimAdminSetup(ctx, "setup-2", alice.ID, t0.Add(time.Hour), ev(alice)), passkeyd.ENOTFOUND, "ClaimAdminSetup with an expired link")
	wantCode(t, s.ClaimAdminSetup(ctx, "setup-2", randomID("usr"), t0, nil), passkeyd.ENOTFOUND, "ClaimAdminSetup for an unknown account")
	carol, _ := mustCreateUser(t, s, "carol@example.com")
	if err := s.SetUserDisabled(ctx, carol.ID, true, nil); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.ClaimAdminSetup(ctx, "setup-2", carol.ID, t0, nil), passkeyd.ENOTFOUND, "ClaimAdminSetup for a disabled account")
	wantAdmins(t, s, 0)
	// Another purpose's token is no setup link.
	if err := s.SaveToken(ctx, &passkeyd.Token{ID: "recovery", UserID: alice.ID, Purpose: passkeyd.TokenRecovery, Email: alice.Email, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.ClaimAdminSetup(ctx, "recovery", alice.ID, t0, nil), passkeyd.ENOTFOUND, "ClaimAdminSetup with a recovery link")

	if err := s.ClaimAdminSetup(ctx, "setup-2", alice.ID, t0.Add(time.Minute), ev(alice)); err != nil {
		t.Fatalf("ClaimAdminSetup: %v", err)
	}
	wantAdmins(t, s, 1)
	if got := eventTypes(t, s, alice.ID); got[0] != passkeyd.EventAdminGranted {
		t.Errorf("events after ClaimAdminSetup: %v; want %s first", got, passkeyd.EventAdminGranted)
	}
	wantCode(t, s.ClaimAdminSetup(ctx, "setup-2", bob.ID, t0.Add(time.Minute), ev(bob)), passkeyd.ENOTFOUND, "ClaimAdminSetup with a used link")

	// A link made while an administrator exists (say, printed by an
	// instance that started just before) is refused and kept.
	saveSetup("setup-3")
	wantCode(t, s.ClaimAdminSetup(ctx, "setup-3", bob.ID, t0, ev(bob)), passkeyd.ECONFLICT, "ClaimAdminSetup with an administrator")
	if admin, err := s.IsAdmin(ctx, bob.ID); err != nil || admin {
		t.Fatalf("IsAdmin(bob) after the refused claim = %v, %v; want false", admin, err)
	}
	if _, err := s.TakeToken(ctx, "setup-3", passkeyd.TokenAdminSetup, t0); err != nil {
		t.Errorf("the link after the refused claim: %v; want it kept", err)
	}
	wantCode(t, s.SaveToken(ctx, &passkeyd.Token{ID: "x", UserID: alice.ID, Purpose: passkeyd.TokenAdminSetup, ExpiresAt: t0.Add(time.Hour)}),
		passkeyd.EINVALID, "SaveToken(admin setup for an account)")
}

func testConsoleDeleteAccount(t *testing.T, s consoleStore) {
	ctx := t.Context()
	admin, _ := mustCreateUser(t, s, "admin@example.com")
	mustSetAdmin(t, s, admin)
	alice, c := mustCreateUser(t, s, "alice@example.com")
	mustSignIn(t, s, c, newSession(alice, c, t0))
	g := &passkeyd.Group{ID: randomID("grp"), Name: "ops", CreatedAt: t0}
	if err := s.CreateGroup(ctx, g, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroupMember(ctx, g.ID, alice.ID, nil); err != nil {
		t.Fatal(err)
	}
	client := mustCreateOIDCClient(t, s)
	if err := s.SaveOIDCConsent(ctx, &passkeyd.OIDCConsent{UserID: alice.ID, ClientID: client.ID, Scopes: []string{"openid"}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}

	if err := s.DeleteAccount(ctx, alice.ID, adminEvent(admin, alice.ID, passkeyd.EventUserDeleted)); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	_, err := s.FindUserByID(ctx, alice.ID)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindUserByID after DeleteAccount")
	if got, err := s.FindGroup(ctx, g.ID); err != nil || got.MemberCount != 0 {
		t.Errorf("the group after DeleteAccount: %+v, %v; want no members", got, err)
	}
	_, err = s.FindOIDCConsent(ctx, alice.ID, client.ID)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCConsent after DeleteAccount")
	// The security log stays, with the deletion in it.
	if got := eventTypes(t, s, alice.ID); len(got) < 2 || got[0] != passkeyd.EventUserDeleted {
		t.Errorf("events after DeleteAccount: %v; want %s first, and the earlier ones", got, passkeyd.EventUserDeleted)
	}
	wantCode(t, s.DeleteAccount(ctx, alice.ID, nil), passkeyd.ENOTFOUND, "second DeleteAccount")
}

func testConsoleSearchUsers(t *testing.T, s consoleStore) {
	ctx := t.Context()
	type person struct {
		email, name, username string
		created               time.Time
		signIns               []time.Time
	}
	people := []person{
		{"ada@example.com", "Ada Lovelace", "ada", t0, []time.Time{t0.Add(time.Hour), t0.Add(3 * time.Hour)}},
		{"Grace@Example.org", "Grace Hopper", "grace_h", t0.Add(time.Minute), []time.Time{t0.Add(2 * time.Hour)}},
		{"alan@example.net", "Alan 100% Turing!", "gracexh", t0.Add(2 * time.Minute), nil},
		{"edsger@example.com", "", "", t0.Add(3 * time.Minute), nil},
		{"barbara@example.com", "Barbara", "", t0.Add(4 * time.Minute), []time.Time{t0.Add(30 * time.Minute)}},
	}
	users := map[string]*passkeyd.User{}
	for _, p := range people {
		u, c := newUser(p.email)
		u.CreatedAt, u.UpdatedAt = p.created, p.created
		if err := s.CreateUser(ctx, u, c, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.SetProfile(ctx, u.ID, p.name, p.username, nil); err != nil {
			t.Fatal(err)
		}
		for _, at := range p.signIns {
			mustSignIn(t, s, c, newSession(u, c, at))
		}
		users[p.email] = u
	}
	// Ada has a second passkey, never used.
	if err := s.AddCredential(ctx, newCredential(users["ada@example.com"].ID, t0), nil); err != nil {
		t.Fatal(err)
	}
	mustSetAdmin(t, s, users["barbara@example.com"])

	search := func(q passkeyd.UserQuery) ([]string, int) {
		t.Helper()
		list, total, err := s.SearchUsers(ctx, q)
		if err != nil {
			t.Fatalf("SearchUsers(%+v): %v", q, err)
		}
		var emails []string
		for _, u := range list {
			emails = append(emails, u.Email)
		}
		return emails, total
	}
	// By last sign-in, then the never signed in, newest first.
	all := []string{"ada@example.com", "Grace@Example.org", "barbara@example.com", "edsger@example.com", "alan@example.net"}
	for _, tc := range []struct {
		q     passkeyd.UserQuery
		want  []string
		total int
	}{
		{passkeyd.UserQuery{Limit: 10}, all, 5},
		{passkeyd.UserQuery{Limit: 2}, all[:2], 5},
		{passkeyd.UserQuery{Offset: 2, Limit: 2}, all[2:4], 5},
		{passkeyd.UserQuery{Offset: 4, Limit: 2}, all[4:], 5},
		{passkeyd.UserQuery{Offset: 5, Limit: 2}, nil, 5},
		{passkeyd.UserQuery{Limit: 0}, nil, 5},
		{passkeyd.UserQuery{Search: "GRACE", Limit: 10}, []string{"Grace@Example.org", "alan@example.net"}, 2}, // email, name; username
		{passkeyd.UserQuery{Search: "example.com", Limit: 10}, []string{"ada@example.com", "barbara@example.com", "edsger@example.com"}, 3},
		{passkeyd.UserQuery{Search: "lovelace", Limit: 10}, []string{"ada@example.com"}, 1},
		{passkeyd.UserQuery{Search: "  turing ", Limit: 10}, []string{"alan@example.net"}, 1},
		// '_' and '%' match themselves, not any character.
		{passkeyd.UserQuery{Search: "grace_", Limit: 10}, []string{"Grace@Example.org"}, 1},
		{passkeyd.UserQuery{Search: "100%", Limit: 10}, []string{"alan@example.net"}, 1},
		{passkeyd.UserQuery{Search: "0% t", Limit: 10}, []string{"alan@example.net"}, 1},
		{passkeyd.UserQuery{Search: "%", Limit: 10}, []string{"alan@example.net"}, 1},
		{passkeyd.UserQuery{Search: "g!", Limit: 10}, []string{"alan@example.net"}, 1},
		{passkeyd.UserQuery{Search: `\`, Limit: 10}, nil, 0},
		{passkeyd.UserQuery{Search: "nobody", Limit: 10}, nil, 0},
	} {
		got, total := search(tc.q)
		if !cmp.Equal(got, tc.want, cmpOpts...) || total != tc.total {
			t.Errorf("SearchUsers(%+v) = %v, total %d; want %v, total %d", tc.q, got, total, tc.want, tc.total)
		}
	}

	list, _, err := s.SearchUsers(ctx, passkeyd.UserQuery{Search: "a", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	summaries := map[string]*passkeyd.UserSummary{}
	for _, u := range list {
		summaries[u.Email] = u
	}
	ada := summaries["ada@example.com"]
	if ada == nil || ada.ID != users["ada@example.com"].ID || ada.Passkeys != 2 || ada.Admin || !ada.LastSignInAt.Equal(t0.Add(3*time.Hour)) ||
		ada.DisplayName != "Ada Lovelace" || ada.Username != "ada" {
		t.Errorf("Ada's summary: %+v; want 2 passkeys, no administrator, last sign-in %v, and her profile", ada, t0.Add(3*time.Hour))
	}
	if b := summaries["barbara@example.com"]; b == nil || !b.Admin || b.Passkeys != 1 {
		t.Errorf("Barbara's summary: %+v; want an administrator with 1 passkey", b)
	}
	if e := summaries["edsger@example.com"]; e == nil || !e.LastSignInAt.IsZero() {
		t.Errorf("Edsger's summary: %+v; want no sign-in", e)
	}

	last, err := s.LastSignIns(ctx, users["ada@example.com"].ID, users["edsger@example.com"].ID, users["barbara@example.com"].ID, "unknown")
	if err != nil {
		t.Fatalf("LastSignIns: %v", err)
	}
	want := map[string]time.Time{users["ada@example.com"].ID: t0.Add(3 * time.Hour), users["barbara@example.com"].ID: t0.Add(30 * time.Minute)}
	if diff := cmp.Diff(want, last); diff != "" {
		t.Errorf("LastSignIns (-want +got):\n%s", diff)
	}
	if last, err := s.LastSignIns(ctx); err != nil || len(last) != 0 {
		t.Errorf("LastSignIns() = %v, %v; want none", last, err)
	}
}

func testConsoleOverview(t *testing.T, s consoleStore) {
	ctx := t.Context()
	now := t0                         // 2025-06-01 12:00 UTC
	since := now.Add(-48 * time.Hour) // 2025-05-30 12:00
	may30 := since.Truncate(24 * time.Hour)
	record := func(userID, typ, clientID string, at time.Time) {
		t.Helper()
		if err := s.RecordEvent(ctx, &passkeyd.Event{UserID: userID, Type: typ, ClientID: clientID, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	alice, ca := mustCreateUser(t, s, "alice@example.com")
	bob, cb := mustCreateUser(t, s, "bob@example.com")
	mustCreateUser(t, s, "carol@example.com")
	mustSignIn(t, s, ca, newSession(alice, ca, since.Add(time.Hour))) // active
	mustSignIn(t, s, cb, newSession(bob, cb, since.Add(-time.Hour)))  // before since
	// Alice's second passkey, used too: she counts once.
	ca2 := newCredential(alice.ID, t0)
	if err := s.AddCredential(ctx, ca2, nil); err != nil {
		t.Fatal(err)
	}
	mustSignIn(t, s, ca2, newSession(alice, ca2, now))

	grafana, wiki := newOIDCClient(), newOIDCClient()
	grafana.Name, wiki.Name = "Grafana", "Wiki"
	for _, c := range []*passkeyd.OIDCClient{grafana, wiki} {
		if err := s.CreateOIDCClient(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}

	record(alice.ID, passkeyd.EventLoginSucceeded, "", since.Add(-time.Minute)) // before since
	record(alice.ID, passkeyd.EventLoginSucceeded, "", since.Add(time.Hour))
	record(alice.ID, passkeyd.EventLoginFailed, "", may30.Add(30*time.Hour))
	record("", passkeyd.EventLoginFailed, "", may30.Add(50*time.Hour)) // a passkey of no account
	record(bob.ID, passkeyd.EventLoginSucceeded, "", now.Add(-time.Hour))
	record(bob.ID, passkeyd.EventLogout, "", now.Add(-time.Hour))
	record(alice.ID, passkeyd.EventOIDCSignIn, grafana.ID, since.Add(time.Hour))
	record(bob.ID, passkeyd.EventOIDCSignIn, grafana.ID, now)
	record(bob.ID, passkeyd.EventOIDCSignIn, grafana.ID, since.Add(-time.Hour))
	record(bob.ID, passkeyd.EventOIDCSignIn, "", now) // from before events named the app

	got, err := s.Overview(ctx, since, now)
	if err != nil {
		t.Fatalf("Overview: %v", err)
	}
	want := &passkeyd.Overview{
		Accounts:       3,
		ActiveAccounts: 1,
		SignIns: []passkeyd.DayCount{
			{Day: may30, Succeeded: 1},
			{Day: may30.Add(24 * time.Hour), Failed: 1},
			{Day: may30.Add(48 * time.Hour), Succeeded: 1, Failed: 1},
		},
		Apps: []passkeyd.AppSignIns{{ClientID: grafana.ID, Name: "Grafana", SignIns: 2}, {ClientID: wiki.ID, Name: "Wiki"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Overview (-want +got):\n%s", diff)
	}
}

func testConsoleAuditEvents(t *testing.T, s consoleStore) {
	ctx := t.Context()
	admin, _ := mustCreateUser(t, s, "admin@example.com")
	alice, _ := mustCreateUser(t, s, "alice@example.com")
	bob, _ := mustCreateUser(t, s, "bob@example.com")
	var all []*passkeyd.Event // newest first
	add := func(e *passkeyd.Event) *passkeyd.Event {
		t.Helper()
		if err := s.RecordEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		all = append([]*passkeyd.Event{e}, all...)
		return e
	}
	// The accounts' creation events come first, in the log too.
	created, err := s.ListAuditEvents(ctx, passkeyd.AuditQuery{Limit: 10})
	if err != nil || len(created) != 3 {
		t.Fatalf("ListAuditEvents = %d events, %v; want the 3 user_created", len(created), err)
	}
	all = created
	add(&passkeyd.Event{UserID: alice.ID, Type: passkeyd.EventLoginSucceeded, CreatedAt: t0.Add(time.Hour)})
	add(&passkeyd.Event{UserID: alice.ID, Type: passkeyd.EventOIDCSignIn, ClientID: "grafana", Detail: "Grafana", CreatedAt: t0.Add(2 * time.Hour)})
	disabled := adminEvent(admin, bob.ID, passkeyd.EventUserDisabled)
	disabled.CreatedAt = t0.Add(3 * time.Hour)
	add(disabled)
	add(&passkeyd.Event{UserID: bob.ID, Type: passkeyd.EventOIDCSignIn, ClientID: "wiki", CreatedAt: t0.Add(4 * time.Hour)})
	add(&passkeyd.Event{Type: passkeyd.EventAppUpdated, ClientID: "grafana", AdminID: admin.ID, AdminName: admin.Email, CreatedAt: t0.Add(5 * time.Hour)})
	add(&passkeyd.Event{UserID: alice.ID, Type: passkeyd.EventLoginSucceeded, CreatedAt: t0.Add(6 * time.Hour)})

	query := func(q passkeyd.AuditQuery) []*passkeyd.Event {
		t.Helper()
		events, err := s.ListAuditEvents(ctx, q)
		if err != nil {
			t.Fatalf("ListAuditEvents(%+v): %v", q, err)
		}
		return events
	}
	pick := func(keep func(e *passkeyd.Event) bool) []*passkeyd.Event {
		var out []*passkeyd.Event
		for _, e := range all {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    passkeyd.AuditQuery
		keep func(e *passkeyd.Event) bool
	}{
		{"All", passkeyd.AuditQuery{}, func(e *passkeyd.Event) bool { return true }},
		{"Type", passkeyd.AuditQuery{Type: passkeyd.EventLoginSucceeded}, func(e *passkeyd.Event) bool { return e.Type == passkeyd.EventLoginSucceeded }},
		{"Person", passkeyd.AuditQuery{UserID: alice.ID}, func(e *passkeyd.Event) bool { return e.UserID == alice.ID }},
		{"Administrator", passkeyd.AuditQuery{UserID: admin.ID}, func(e *passkeyd.Event) bool { return e.UserID == admin.ID || e.AdminID == admin.ID }},
		{"App", passkeyd.AuditQuery{ClientID: "grafana"}, func(e *passkeyd.Event) bool { return e.ClientID == "grafana" }},
		{"Since", passkeyd.AuditQuery{Since: t0.Add(2 * time.Hour)}, func(e *passkeyd.Event) bool { return !e.CreatedAt.Before(t0.Add(2 * time.Hour)) }},
		{"Until", passkeyd.AuditQuery{Until: t0.Add(2 * time.Hour)}, func(e *passkeyd.Event) bool { return e.CreatedAt.Before(t0.Add(2 * time.Hour)) }},
		{"SinceUntil", passkeyd.AuditQuery{Since: t0.Add(2 * time.Hour), Until: t0.Add(5 * time.Hour)}, func(e *passkeyd.Event) bool {
			return !e.CreatedAt.Before(t0.Add(2*time.Hour)) && e.CreatedAt.Before(t0.Add(5*time.Hour))
		}},
		{"AppAndPerson", passkeyd.AuditQuery{ClientID: "grafana", UserID: admin.ID}, func(e *passkeyd.Event) bool {
			return e.ClientID == "grafana" && (e.UserID == admin.ID || e.AdminID == admin.ID)
		}},
		{"TypeAndPerson", passkeyd.AuditQuery{Type: passkeyd.EventOIDCSignIn, UserID: bob.ID}, func(e *passkeyd.Event) bool {
			return e.Type == passkeyd.EventOIDCSignIn && e.UserID == bob.ID
		}},
		{"Nothing", passkeyd.AuditQuery{Type: passkeyd.EventLogout}, func(e *passkeyd.Event) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := pick(tc.keep)
			q := tc.q
			q.Limit = 100
			if diff := cmp.Diff(want, query(q), cmpOpts...); diff != "" {
				t.Errorf("ListAuditEvents(%+v) (-want +got):\n%s", q, diff)
			}
			// Page by page, two at a time.
			var paged []*passkeyd.Event
			q.Limit = 2
			for range len(all) {
				page := query(q)
				if len(page) == 0 {
					break
				}
				paged = append(paged, page...)
				q.Before = page[len(page)-1].ID
			}
			if diff := cmp.Diff(want, paged, cmpOpts...); diff != "" {
				t.Errorf("ListAuditEvents(%+v) in pages of 2 (-want +got):\n%s", tc.q, diff)
			}
		})
	}
	if events := query(passkeyd.AuditQuery{}); len(events) != 0 {
		t.Errorf("ListAuditEvents with no limit = %d events; want none", len(events))
	}
}

func testConsoleGroups(t *testing.T, s consoleStore) {
	ctx := t.Context()
	admin, _ := mustCreateUser(t, s, "admin@example.com")
	alice, _ := mustCreateUser(t, s, "alice@example.com")
	bob, _ := mustCreateUser(t, s, "bob@example.com")
	ev := func(typ string) *passkeyd.Event { return adminEvent(admin, "", typ) }

	ops := &passkeyd.Group{ID: randomID("grp"), Name: " Ops ", CreatedAt: t0}
	if err := s.CreateGroup(ctx, ops, ev(passkeyd.EventGroupCreated)); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if ops.Name != "Ops" {
		t.Errorf("CreateGroup left the name %q; want it trimmed", ops.Name)
	}
	dev := &passkeyd.Group{ID: randomID("grp"), Name: "dev", CreatedAt: t0}
	if err := s.CreateGroup(ctx, dev, ev(passkeyd.EventGroupCreated)); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	wantCode(t, s.CreateGroup(ctx, &passkeyd.Group{ID: randomID("grp"), Name: "OPS", CreatedAt: t0}, nil), passkeyd.ECONFLICT, "CreateGroup with a taken name in other case")
	wantCode(t, s.CreateGroup(ctx, &passkeyd.Group{ID: dev.ID, Name: "other", CreatedAt: t0}, nil), passkeyd.ECONFLICT, "CreateGroup with a taken ID")
	wantCode(t, s.CreateGroup(ctx, &passkeyd.Group{ID: randomID("grp"), Name: "two words", CreatedAt: t0}, nil), passkeyd.EINVALID, "CreateGroup with a space")

	for _, key := range []string{ops.ID, "ops", "OPS"} {
		g, err := s.FindGroup(ctx, key)
		if err != nil || g.ID != ops.ID || g.Name != "Ops" || !g.CreatedAt.Equal(t0) {
			t.Errorf("FindGroup(%q) = %+v, %v; want Ops", key, g, err)
		}
	}
	_, err := s.FindGroup(ctx, "nope")
	wantCode(t, err, passkeyd.ENOTFOUND, "FindGroup of an unknown group")

	for _, m := range []struct{ g, u string }{{ops.ID, alice.ID}, {ops.ID, bob.ID}, {ops.ID, alice.ID}, {dev.ID, alice.ID}} {
		if err := s.AddGroupMember(ctx, m.g, m.u, ev(passkeyd.EventGroupMemberAdded)); err != nil {
			t.Fatalf("AddGroupMember: %v", err)
		}
	}
	wantCode(t, s.AddGroupMember(ctx, ops.ID, randomID("usr"), nil), passkeyd.ENOTFOUND, "AddGroupMember of an unknown account")
	wantCode(t, s.AddGroupMember(ctx, randomID("grp"), alice.ID, nil), passkeyd.ENOTFOUND, "AddGroupMember to an unknown group")

	members, err := s.ListGroupMembers(ctx, ops.ID)
	if err != nil || len(members) != 2 || members[0].ID != alice.ID || members[1].ID != bob.ID {
		t.Fatalf("ListGroupMembers = %v, %v; want alice and bob, by email", members, err)
	}
	groups, err := s.ListGroups(ctx)
	if err != nil || len(groups) != 2 || groups[0].ID != dev.ID || groups[0].MemberCount != 1 || groups[1].ID != ops.ID || groups[1].MemberCount != 2 {
		t.Fatalf("ListGroups = %+v, %v; want dev (1 member), Ops (2), by name", groups, err)
	}
	if g, err := s.FindGroup(ctx, ops.ID); err != nil || g.MemberCount != 2 {
		t.Errorf("FindGroup member count = %+v, %v; want 2", g, err)
	}
	mine, err := s.ListUserGroups(ctx, alice.ID)
	if err != nil || len(mine) != 2 || mine[0].Name != "dev" || mine[1].Name != "Ops" {
		t.Fatalf("ListUserGroups(alice) = %+v, %v; want dev, Ops", mine, err)
	}

	if err := s.RemoveGroupMember(ctx, ops.ID, bob.ID, ev(passkeyd.EventGroupMemberGone)); err != nil {
		t.Fatalf("RemoveGroupMember: %v", err)
	}
	if err := s.RemoveGroupMember(ctx, ops.ID, bob.ID, ev(passkeyd.EventGroupMemberGone)); err != nil {
		t.Fatalf("RemoveGroupMember of a non-member: %v", err)
	}
	if mine, err := s.ListUserGroups(ctx, bob.ID); err != nil || len(mine) != 0 {
		t.Errorf("ListUserGroups(bob) after removal = %v, %v; want none", mine, err)
	}

	if err := s.RenameGroup(ctx, ops.ID, "operations", ev(passkeyd.EventGroupRenamed)); err != nil {
		t.Fatalf("RenameGroup: %v", err)
	}
	if g, err := s.FindGroup(ctx, "Operations"); err != nil || g.ID != ops.ID {
		t.Errorf("FindGroup by the new name = %+v, %v", g, err)
	}
	if err := s.RenameGroup(ctx, ops.ID, "OPERATIONS", nil); err != nil {
		t.Errorf("RenameGroup to its own name in other case: %v", err)
	}
	wantCode(t, s.RenameGroup(ctx, ops.ID, "DEV", nil), passkeyd.ECONFLICT, "RenameGroup to a taken name")
	wantCode(t, s.RenameGroup(ctx, randomID("grp"), "free", nil), passkeyd.ENOTFOUND, "RenameGroup of an unknown group")
	wantCode(t, s.RenameGroup(ctx, ops.ID, "", nil), passkeyd.EINVALID, "RenameGroup to nothing")

	if err := s.DeleteGroup(ctx, ops.ID, ev(passkeyd.EventGroupDeleted)); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	if mine, err := s.ListUserGroups(ctx, alice.ID); err != nil || len(mine) != 1 || mine[0].ID != dev.ID {
		t.Errorf("ListUserGroups(alice) after DeleteGroup = %v, %v; want dev", mine, err)
	}
	wantCode(t, s.DeleteGroup(ctx, ops.ID, nil), passkeyd.ENOTFOUND, "second DeleteGroup")

	// Deleting an account takes its memberships.
	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if members, err := s.ListGroupMembers(ctx, dev.ID); err != nil || len(members) != 0 {
		t.Errorf("ListGroupMembers after the member's deletion = %v, %v; want none", members, err)
	}

	// Each change recorded its event (a second add or remove changed
	// nothing, and recorded nothing).
	want := []string{
		passkeyd.EventGroupDeleted, passkeyd.EventGroupRenamed, passkeyd.EventGroupMemberGone,
		passkeyd.EventGroupMemberAdded, passkeyd.EventGroupMemberAdded, passkeyd.EventGroupMemberAdded,
		passkeyd.EventGroupCreated, passkeyd.EventGroupCreated, passkeyd.EventUserCreated,
	}
	if got := auditTypes(t, s, admin.ID); !cmp.Equal(got, want) {
		t.Errorf("the administrator's events: %v; want %v", got, want)
	}
}

func testConsoleAppGroups(t *testing.T, s consoleStore) {
	ctx := t.Context()
	for _, name := range []string{"ops", "dev", "Admins"} {
		if err := s.CreateGroup(ctx, &passkeyd.Group{ID: "grp-" + name, Name: name, CreatedAt: t0}, nil); err != nil {
			t.Fatal(err)
		}
	}
	find := func(id string) *passkeyd.OIDCClient {
		t.Helper()
		c, err := s.FindOIDCClient(ctx, id)
		if err != nil {
			t.Fatalf("FindOIDCClient: %v", err)
		}
		return c
	}
	// clientEvents lists the types of the audit log's events naming an
	// app, newest first: each change writes its event with it.
	clientEvents := func(id string) []string {
		t.Helper()
		events, err := s.ListAuditEvents(ctx, passkeyd.AuditQuery{ClientID: id, Limit: 100})
		if err != nil {
			t.Fatalf("ListAuditEvents: %v", err)
		}
		var types []string
		for _, e := range events {
			if e.AdminName != "admin@example.com" {
				t.Errorf("event %+v: want the administrator's name", e)
			}
			types = append(types, e.Type)
		}
		return types
	}
	grafana := newOIDCClient()
	grafana.AllowedGroups = []string{"ops", "Admins"}
	grafana.Declared = true
	if err := s.CreateOIDCClient(ctx, grafana, appEvent(grafana, passkeyd.EventAppCreated)); err != nil {
		t.Fatalf("CreateOIDCClient: %v", err)
	}
	grafana.AllowedGroups = []string{"Admins", "ops"} // sorted by name
	if diff := cmp.Diff(grafana, find(grafana.ID), cmpOpts...); diff != "" {
		t.Errorf("FindOIDCClient (-want +got):\n%s", diff)
	}

	// Unknown names are refused, and nothing is written, no event either.
	bad := newOIDCClient()
	bad.AllowedGroups = []string{"ops", "nope"}
	wantCode(t, s.CreateOIDCClient(ctx, bad, appEvent(bad, passkeyd.EventAppCreated)), passkeyd.EINVALID, "CreateOIDCClient with an unknown group")
	_, err := s.FindOIDCClient(ctx, bad.ID)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindOIDCClient after the refused create")
	if got := clientEvents(bad.ID); len(got) != 0 {
		t.Errorf("events of the refused create: %v; want none", got)
	}
	changed := *grafana
	changed.Name = "Changed"
	changed.AllowedGroups = []string{"dev", "nope"}
	wantCode(t, s.SaveOIDCClient(ctx, &changed, appEvent(grafana, passkeyd.EventAppUpdated)), passkeyd.EINVALID, "SaveOIDCClient with an unknown group")
	if diff := cmp.Diff(grafana, find(grafana.ID), cmpOpts...); diff != "" {
		t.Errorf("FindOIDCClient after the refused save (-want +got):\n%s", diff)
	}
	if got, want := clientEvents(grafana.ID), []string{passkeyd.EventAppCreated}; !cmp.Equal(got, want) {
		t.Errorf("events after the refused save: %v; want %v", got, want)
	}

	// Names resolve without regard to case; the stored name comes back.
	changed.AllowedGroups = []string{"DEV", "ops", "dev"}
	changed.Declared = false
	if err := s.SaveOIDCClient(ctx, &changed, appEvent(grafana, passkeyd.EventAppUpdated)); err != nil {
		t.Fatalf("SaveOIDCClient: %v", err)
	}
	if got, want := clientEvents(grafana.ID), []string{passkeyd.EventAppUpdated, passkeyd.EventAppCreated}; !cmp.Equal(got, want) {
		t.Errorf("events after SaveOIDCClient: %v; want %v", got, want)
	}
	changed.AllowedGroups = []string{"dev", "ops"}
	if diff := cmp.Diff(&changed, find(grafana.ID), cmpOpts...); diff != "" {
		t.Errorf("FindOIDCClient after SaveOIDCClient (-want +got):\n%s", diff)
	}

	// Renaming keeps the rule; a group an app admits cannot be deleted.
	if err := s.RenameGroup(ctx, "grp-ops", "operations", nil); err != nil {
		t.Fatal(err)
	}
	if got := find(grafana.ID).AllowedGroups; !cmp.Equal(got, []string{"dev", "operations"}) {
		t.Errorf("AllowedGroups after renaming ops: %v; want [dev operations]", got)
	}
	wantCode(t, s.DeleteGroup(ctx, "grp-dev", nil), passkeyd.ECONFLICT, "DeleteGroup while an app admits it")
	if _, err := s.FindGroup(ctx, "grp-dev"); err != nil {
		t.Errorf("the group after the refused delete: %v", err)
	}

	// Several clients in a list, each with its own groups.
	wiki, open := newOIDCClient(), newOIDCClient()
	wiki.Name, wiki.AllowedGroups = "Wiki", []string{"Admins"}
	open.Name = "Open"
	for _, c := range []*passkeyd.OIDCClient{wiki, open} {
		if err := s.CreateOIDCClient(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListOIDCClients(ctx)
	if err != nil {
		t.Fatalf("ListOIDCClients: %v", err)
	}
	got := map[string][]string{}
	var names []string
	for _, c := range list {
		got[c.Name] = c.AllowedGroups
		names = append(names, c.Name)
	}
	if want := map[string][]string{"Changed": {"dev", "operations"}, "Wiki": {"Admins"}, "Open": nil}; !cmp.Equal(got, want, cmpOpts...) {
		t.Errorf("ListOIDCClients groups: %v; want %v", got, want)
	}
	if want := []string{"Changed", "Open", "Wiki"}; !cmp.Equal(names, want) {
		t.Errorf("ListOIDCClients order: %v; want %v", names, want)
	}

	// Once no app admits it, it goes; deleting an app frees its groups.
	changed.AllowedGroups = nil
	if err := s.SaveOIDCClient(ctx, &changed, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, "grp-dev", nil); err != nil {
		t.Errorf("DeleteGroup no app admits: %v", err)
	}
	wantCode(t, s.DeleteGroup(ctx, "grp-Admins", nil), passkeyd.ECONFLICT, "DeleteGroup the wiki admits")
	if err := s.DeleteOIDCClient(ctx, wiki.ID, appEvent(wiki, passkeyd.EventAppDeleted)); err != nil {
		t.Fatal(err)
	}
	if got, want := clientEvents(wiki.ID), []string{passkeyd.EventAppDeleted}; !cmp.Equal(got, want) {
		t.Errorf("events after DeleteOIDCClient: %v; want %v", got, want)
	}
	if err := s.DeleteGroup(ctx, "grp-Admins", nil); err != nil {
		t.Errorf("DeleteGroup after its app's deletion: %v", err)
	}
}

func testConsoleAPIKeys(t *testing.T, s consoleStore) {
	ctx := t.Context()
	admin, _ := mustCreateUser(t, s, "admin@example.com")
	deploy := &passkeyd.APIKey{ID: randomID("key"), Name: "deploy", Hash: "hash-deploy", CreatedBy: admin.Email, CreatedAt: t0}
	backup := &passkeyd.APIKey{ID: randomID("key"), Name: "backup", Hash: "hash-backup", CreatedBy: "shell", CreatedAt: t0}
	for _, k := range []*passkeyd.APIKey{deploy, backup} {
		if err := s.CreateAPIKey(ctx, k, adminEvent(admin, "", passkeyd.EventAPIKeyCreated)); err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
	}
	wantCode(t, s.CreateAPIKey(ctx, &passkeyd.APIKey{ID: randomID("key"), Name: "deploy", Hash: "other", CreatedAt: t0}, nil),
		passkeyd.ECONFLICT, "CreateAPIKey with a taken name")
	wantCode(t, s.CreateAPIKey(ctx, &passkeyd.APIKey{ID: randomID("key"), Name: "", Hash: "other", CreatedAt: t0}, nil),
		passkeyd.EINVALID, "CreateAPIKey without a name")

	used := t0.Add(time.Hour)
	got, err := s.FindAPIKey(ctx, "hash-deploy", used)
	if err != nil {
		t.Fatalf("FindAPIKey: %v", err)
	}
	deploy.LastUsedAt = used
	if diff := cmp.Diff(deploy, got); diff != "" {
		t.Errorf("FindAPIKey (-want +got):\n%s", diff)
	}
	_, err = s.FindAPIKey(ctx, "hash-unknown", used)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindAPIKey of an unknown hash")
	_, err = s.FindAPIKey(ctx, "", used)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindAPIKey of no hash")

	list, err := s.ListAPIKeys(ctx)
	if diff := cmp.Diff([]*passkeyd.APIKey{backup, deploy}, list); err != nil || diff != "" {
		t.Errorf("ListAPIKeys = %v (-want +got):\n%s", err, diff)
	}

	if err := s.RevokeAPIKey(ctx, deploy.ID, adminEvent(admin, "", passkeyd.EventAPIKeyRevoked)); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	_, err = s.FindAPIKey(ctx, "hash-deploy", used)
	wantCode(t, err, passkeyd.ENOTFOUND, "FindAPIKey of a revoked key")
	wantCode(t, s.RevokeAPIKey(ctx, deploy.ID, nil), passkeyd.ENOTFOUND, "second RevokeAPIKey")
	want := []string{passkeyd.EventAPIKeyRevoked, passkeyd.EventAPIKeyCreated, passkeyd.EventAPIKeyCreated, passkeyd.EventUserCreated}
	if got := auditTypes(t, s, admin.ID); !cmp.Equal(got, want) {
		t.Errorf("the administrator's events: %v; want %v", got, want)
	}
}

// testConsoleKeysEndWithTheirAdministrator: an API key ends, with an
// api_key_revoked event, when the administrator it belongs to stops being
// one, whichever way: the role revoked, the account disabled or deleted,
// or taken over by the owner of its never-confirmed address (which also
// takes the role, even the last administrator's). Keys of others, and
// those made at the shell, stay.
func testConsoleKeysEndWithTheirAdministrator(t *testing.T, open func(t *testing.T) consoleStore) {
	ways := []struct {
		name string
		end  func(t *testing.T, s consoleStore, admin, other *passkeyd.User) error
	}{
		{"SetAdmin(false)", func(t *testing.T, s consoleStore, admin, other *passkeyd.User) error {
			return s.SetAdmin(t.Context(), admin.ID, false, adminEvent(other, admin.ID, passkeyd.EventAdminRevoked))
		}},
		{"SetUserDisabled", func(t *testing.T, s consoleStore, admin, other *passkeyd.User) error {
			return s.SetUserDisabled(t.Context(), admin.ID, true, adminEvent(other, admin.ID, passkeyd.EventUserDisabled))
		}},
		{"DeleteAccount", func(t *testing.T, s consoleStore, admin, other *passkeyd.User) error {
			return s.DeleteAccount(t.Context(), admin.ID, adminEvent(other, admin.ID, passkeyd.EventUserDeleted))
		}},
		{"Takeover", func(t *testing.T, s consoleStore, admin, other *passkeyd.User) error {
			tok := newToken(admin.ID, passkeyd.TokenTakeover)
			tok.Email = admin.Email
			if err := s.SaveToken(t.Context(), tok); err != nil {
				t.Fatalf("SaveToken: %v", err)
			}
			_, err := s.StartRecovery(t.Context(), &passkeyd.Recovery{TokenID: tok.ID, Takeover: true, Session: recoverySession(t0), At: t0,
				Event: &passkeyd.Event{Type: passkeyd.EventAccountTakenOver, CreatedAt: t0}})
			return err
		}},
	}
	for _, way := range ways {
		t.Run(way.name, func(t *testing.T) {
			s := open(t)
			ctx := t.Context()
			alice, _ := mustCreateUser(t, s, "alice@example.com") // never confirmed
			bob, _ := mustCreateUser(t, s, "bob@example.com")
			mustSetAdmin(t, s, alice)
			mustSetAdmin(t, s, bob)
			keys := []*passkeyd.APIKey{
				{ID: randomID("key"), Name: "alice's", Hash: "hash-alice", CreatedBy: alice.Email, CreatedByID: alice.ID, CreatedAt: t0},
				{ID: randomID("key"), Name: "made with alice's", Hash: "hash-alice-2", CreatedBy: "API key alice's", CreatedByID: alice.ID, CreatedAt: t0},
				{ID: randomID("key"), Name: "bob's", Hash: "hash-bob", CreatedBy: bob.Email, CreatedByID: bob.ID, CreatedAt: t0},
				{ID: randomID("key"), Name: "shell", Hash: "hash-shell", CreatedBy: "shell", CreatedAt: t0},
			}
			for _, k := range keys {
				if err := s.CreateAPIKey(ctx, k, nil); err != nil {
					t.Fatalf("CreateAPIKey: %v", err)
				}
			}
			if err := way.end(t, s, alice, bob); err != nil {
				t.Fatalf("%s: %v", way.name, err)
			}
			for _, k := range keys {
				_, err := s.FindAPIKey(ctx, k.Hash, t0)
				if k.CreatedByID == alice.ID {
					wantCode(t, err, passkeyd.ENOTFOUND, "FindAPIKey of "+k.Name+" after "+way.name)
				} else if err != nil {
					t.Errorf("FindAPIKey of %s after %s: %v", k.Name, way.name, err)
				}
			}
			events, err := s.ListAuditEvents(ctx, passkeyd.AuditQuery{Type: passkeyd.EventAPIKeyRevoked, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 2 {
				t.Errorf("%d api_key_revoked events after %s, want 2 (one per key of alice's): %+v", len(events), way.name, events)
			}
			if way.name != "Takeover" {
				for _, e := range events {
					if e.AdminID != bob.ID {
						t.Errorf("api_key_revoked event made by %q, want bob, who %s", e.AdminID, way.name)
					}
				}
				return
			}
			if admin, err := s.IsAdmin(ctx, alice.ID); err != nil || admin {
				t.Errorf("IsAdmin(alice) after the takeover = %v, %v; want false", admin, err)
			}
			// The takeover takes even the last administrator's role: the
			// next start prints a setup link.
			carol, _ := mustCreateUser(t, s, "carol@example.com")
			mustSetAdmin(t, s, carol)
			if err := s.SetAdmin(ctx, bob.ID, false, nil); err != nil {
				t.Fatal(err)
			}
			if err := way.end(t, s, carol, carol); err != nil {
				t.Fatalf("takeover of the last administrator: %v", err)
			}
			wantAdmins(t, s, 0)
		})
	}
}
