package console_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
)

// The setup link makes the first administrator once; with an
// administrator there is none.
func TestSetupLink(t *testing.T) {
	h := newHarness(t)
	if link, err := h.console.SetupLink(t.Context()); err != nil || link != "" {
		t.Fatalf("SetupLink with an administrator: %q, %v", link, err)
	}
	fresh := newHarnessWithoutAdmin(t)
	link, err := fresh.console.SetupLink(t.Context())
	if err != nil || !strings.HasPrefix(link, fresh.base+"/admin/setup?token=") {
		t.Fatalf("SetupLink = %q, %v", link, err)
	}
	token := strings.TrimPrefix(link, fresh.base+"/admin/setup?token=")
	// A second start makes a new link; the first stops working.
	second, err := fresh.console.SetupLink(t.Context())
	if err != nil || second == link {
		t.Fatalf("second SetupLink = %q, %v", second, err)
	}
	want(t, call(t, fresh.alice, "POST", "/api/admin/setup", map[string]string{"token": token}), http.StatusNotFound, nil)
	token = strings.TrimPrefix(second, fresh.base+"/admin/setup?token=")

	// Signed out, the link's page asks to sign in first (401); the claim
	// needs a session.
	res := call(t, fresh.anon, "GET", "/admin/setup?token="+token, nil)
	if p := fresh.pages.lastPage(); res.Status != http.StatusUnauthorized || p.Section != "setup" || p.Token != token {
		t.Fatalf("signed-out setup page: %d %+v", res.Status, p)
	}
	want(t, call(t, fresh.anon, "POST", "/api/admin/setup", map[string]string{"token": token}), http.StatusUnauthorized, nil)
	want(t, call(t, fresh.alice, "GET", "/admin/setup?token="+token, nil), http.StatusOK, nil)
	want(t, call(t, fresh.alice, "POST", "/api/admin/setup", map[string]string{"token": token}), http.StatusNoContent, nil)
	want(t, call(t, fresh.alice, "GET", "/api/admin/me", nil), http.StatusOK, nil)
	// Used, it makes nobody else an administrator.
	res = call(t, fresh.bob, "POST", "/api/admin/setup", map[string]string{"token": token})
	if res.Status != http.StatusNotFound && res.Status != http.StatusConflict {
		t.Errorf("second claim: %d %s", res.Status, res.Body)
	}
	want(t, call(t, fresh.bob, "GET", "/api/admin/me", nil), http.StatusForbidden, nil)
	if link, err := fresh.console.SetupLink(t.Context()); err != nil || link != "" {
		t.Errorf("SetupLink after the setup: %q, %v", link, err)
	}
	var audit struct {
		Events []struct{ Type, UserID, AdminName string }
	}
	want(t, call(t, fresh.alice, "GET", "/api/admin/audit?type=admin_granted", nil), http.StatusOK, &audit)
	if len(audit.Events) != 1 || audit.Events[0].UserID != fresh.aliceID || audit.Events[0].AdminName != fresh.aliceEmail {
		t.Errorf("audit %+v", audit.Events)
	}
}

// The people list searches and pages; a person's page shows their
// passkeys, sessions, apps, groups and log; the actions on them work and
// are logged with the administrator's name.
func TestPeople(t *testing.T) {
	h := newHarness(t)
	var list struct {
		People []struct {
			ID, Email                      string
			Admin, Disabled, EmailVerified bool
			Passkeys                       int
			LastSignInAt                   *time.Time
		}
		Total, Page, PerPage int
	}
	want(t, call(t, h.alice, "GET", "/api/admin/people?q=BOB", nil), http.StatusOK, &list)
	if list.Total != 1 || len(list.People) != 1 || list.People[0].ID != h.bobID || list.People[0].Passkeys != 1 ||
		list.People[0].LastSignInAt == nil || list.PerPage != 25 || list.Page != 1 {
		t.Fatalf("search bob: %+v", list)
	}
	want(t, call(t, h.alice, "GET", "/api/admin/people?page=0", nil), http.StatusBadRequest, nil)
	want(t, call(t, h.alice, "GET", "/api/admin/people?page=2", nil), http.StatusOK, &list)
	if len(list.People) != 0 || list.Total != 2 {
		t.Errorf("page 2: %+v", list)
	}
	want(t, call(t, h.alice, "GET", "/api/admin/people/nobody", nil), http.StatusNotFound, nil)

	// A group, Bob in it.
	var g struct{ Group struct{ ID, Name string } }
	want(t, call(t, h.alice, "POST", "/api/admin/groups", map[string]string{"name": "ops"}), http.StatusCreated, &g)
	want(t, call(t, h.alice, "PUT", "/api/admin/people/"+h.bobID+"/groups/"+g.Group.ID, nil), http.StatusNoContent, nil)

	var page struct {
		Person struct {
			Email string
			Admin bool
		}
		Passkeys []struct{ ID, Name, Provider string }
		Sessions []struct{ ID, IP string }
		Apps     []struct{ ClientID string }
		Groups   []struct{ ID, Name string }
		Events   []struct{ Type, AdminName string }
	}
	want(t, call(t, h.alice, "GET", "/api/admin/people/"+h.bobID, nil), http.StatusOK, &page)
	if page.Person.Email != h.bobEmail || len(page.Passkeys) != 1 || page.Passkeys[0].Provider == "" || len(page.Sessions) != 1 ||
		len(page.Groups) != 1 || page.Groups[0].Name != "ops" || len(page.Events) == 0 || page.Events[0].Type != passkeyd.EventGroupMemberAdded ||
		page.Events[0].AdminName != h.aliceEmail {
		t.Fatalf("Bob's page: %+v", page)
	}

	// End his sessions: he is signed out.
	var ended struct{ Ended int }
	want(t, call(t, h.alice, "DELETE", "/api/admin/people/"+h.bobID+"/sessions", nil), http.StatusOK, &ended)
	if ended.Ended != 1 {
		t.Errorf("ended %d sessions, want 1", ended.Ended)
	}
	want(t, call(t, h.bob, "GET", "/api/auth/me", nil), http.StatusUnauthorized, nil)

	// Disable and enable.
	want(t, call(t, h.alice, "POST", "/api/admin/people/"+h.bobID+"/disable", nil), http.StatusNoContent, nil)
	if _, err := h.bob.SignIn(t.Context(), h.bobKey, h.bobEmail, nil); err == nil {
		t.Error("a disabled account signed in")
	}
	want(t, call(t, h.alice, "POST", "/api/admin/people/"+h.bobID+"/enable", nil), http.StatusNoContent, nil)
	h.signInAgain(t, h.bob, h.bobKey, h.bobEmail)
	want(t, call(t, h.alice, "DELETE", "/api/admin/people/"+h.bobID+"/groups/"+g.Group.ID, nil), http.StatusNoContent, nil)
	if groups, _ := h.store.ListUserGroups(t.Context(), h.bobID); len(groups) != 0 {
		t.Errorf("Bob's groups after removal: %v", groups)
	}

	var audit struct {
		Events []struct{ Type, UserID, Email, AdminName string }
		Next   int64
	}
	want(t, call(t, h.alice, "GET", "/api/admin/audit?user="+h.bobEmail, nil), http.StatusOK, &audit)
	var types []string
	for _, e := range audit.Events {
		if e.AdminName == h.aliceEmail {
			types = append(types, e.Type)
		}
	}
	if got, want := strings.Join(types, " "), "group_member_removed user_enabled user_disabled sessions_ended group_member_added"; got != want {
		t.Errorf("Bob's events by Alice: %q, want %q", got, want)
	}
	for _, bad := range []string{"since=yesterday", "before=-1", "before=x", "until=2026-13-01"} {
		want(t, call(t, h.alice, "GET", "/api/admin/audit?"+bad, nil), http.StatusBadRequest, nil)
	}
}

// The audit log pages by "next", newest first.
func TestAuditPages(t *testing.T) {
	h := newHarness(t)
	for i := range 60 {
		ev := passkeyd.NewEvent(h.clock.Now(), passkeyd.Actor{}, h.bobID, passkeyd.EventPasskeyRenamed, "", "rename")
		ev.Detail = "rename " + string(rune('a'+i%26))
		if err := h.store.RecordEvent(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	type page struct {
		Events []struct {
			ID    int64
			Email string
		}
		Next int64
	}
	var first, second page
	want(t, call(t, h.alice, "GET", "/api/admin/audit?type=passkey_renamed", nil), http.StatusOK, &first)
	if len(first.Events) != 50 || first.Next == 0 || first.Events[0].Email != h.bobEmail {
		t.Fatalf("first page: %d events, next %d", len(first.Events), first.Next)
	}
	want(t, call(t, h.alice, "GET", "/api/admin/audit?type=passkey_renamed&before="+itoa(first.Next), nil), http.StatusOK, &second)
	if len(second.Events) != 10 || second.Next != 0 || second.Events[0].ID >= first.Events[49].ID {
		t.Fatalf("second page: %d events, next %d", len(second.Events), second.Next)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

var linkToken = regexp.MustCompile(`/recover/(email|takeover)\?token=([A-Za-z0-9_-]+)`)

// A recovery link goes by email: a takeover link to an address nobody
// confirmed, a recovery link to a confirmed one; either opens.
func TestRecoveryLink(t *testing.T) {
	h := newHarness(t)
	want(t, call(t, h.alice, "POST", "/api/admin/people/"+h.bobID+"/recovery-link", nil), http.StatusNoContent, nil)
	m := h.mails.last()
	link := linkToken.FindStringSubmatch(m.Text)
	if m.To != h.bobEmail || m.Kind != "takeover" || link == nil || link[1] != "takeover" {
		t.Fatalf("mail to %s, kind %s: %s", m.To, m.Kind, m.Text)
	}
	lost := softauthn.NewClient(h.base, h.base, loopback())
	want(t, call(t, lost, "POST", "/api/recovery/email/takeover", map[string]string{"token": link[2]}), http.StatusOK, nil)

	// Alice's address confirmed: a recovery link.
	if err := h.store.VerifyEmail(t.Context(), h.aliceID, h.aliceEmail, h.clock.Now(), passkeyd.NewEvent(h.clock.Now(), passkeyd.Actor{}, h.aliceID, passkeyd.EventEmailVerified, "", "")); err != nil {
		t.Fatal(err)
	}
	want(t, call(t, h.alice, "POST", "/api/admin/people/"+h.aliceID+"/recovery-link", nil), http.StatusNoContent, nil)
	m = h.mails.last()
	if link = linkToken.FindStringSubmatch(m.Text); m.Kind != "recovery" || link == nil || link[1] != "email" {
		t.Fatalf("mail kind %s: %s", m.Kind, m.Text)
	}
	var audit struct {
		Events []struct{ UserID, AdminName, Detail string }
	}
	want(t, call(t, h.alice, "GET", "/api/admin/audit?type=recovery_link_issued", nil), http.StatusOK, &audit)
	if len(audit.Events) != 2 || audit.Events[1].UserID != h.bobID || audit.Events[1].AdminName != h.aliceEmail {
		t.Errorf("audit %+v", audit.Events)
	}
}

// Groups: create, rename, members, and no deleting one an app admits.
func TestGroups(t *testing.T) {
	h := newHarness(t)
	for _, bad := range []any{map[string]string{"name": ""}, map[string]string{"name": "a b"}, map[string]string{"name": strings.Repeat("a", 65)}, nil} {
		before := snapshot(t, h.store)
		want(t, call(t, h.alice, "POST", "/api/admin/groups", bad), http.StatusBadRequest, nil)
		if snapshot(t, h.store) != before {
			t.Fatalf("a refused group (%v) changed the store", bad)
		}
	}
	var g struct{ Group struct{ ID, Name string } }
	want(t, call(t, h.alice, "POST", "/api/admin/groups", map[string]string{"name": "ops"}), http.StatusCreated, &g)
	want(t, call(t, h.alice, "POST", "/api/admin/groups", map[string]string{"name": "OPS"}), http.StatusConflict, nil)
	want(t, call(t, h.alice, "PUT", "/api/admin/people/"+h.bobID+"/groups/"+g.Group.ID, nil), http.StatusNoContent, nil)
	want(t, call(t, h.alice, "PATCH", "/api/admin/groups/"+g.Group.ID, map[string]string{"name": "operators"}), http.StatusOK, nil)
	var app struct{ App struct{ ID string } }
	want(t, call(t, h.alice, "POST", "/api/admin/apps", map[string]any{"name": "Grafana", "redirectUris": []string{"https://g.example.com/cb"},
		"allowedGroups": []string{"operators"}}), http.StatusCreated, &app)

	var list struct {
		Groups []struct {
			ID, Name string
			Members  int
			Apps     []struct{ ID, Name string }
		}
	}
	want(t, call(t, h.alice, "GET", "/api/admin/groups", nil), http.StatusOK, &list)
	if len(list.Groups) != 1 || list.Groups[0].Name != "operators" || list.Groups[0].Members != 1 || len(list.Groups[0].Apps) != 1 || list.Groups[0].Apps[0].ID != app.App.ID {
		t.Fatalf("groups: %+v", list)
	}
	var one struct {
		Group   struct{ ID, Name string }
		Members []struct{ Email string }
		Apps    []struct{ ID string }
	}
	want(t, call(t, h.alice, "GET", "/api/admin/groups/"+g.Group.ID, nil), http.StatusOK, &one)
	if len(one.Members) != 1 || one.Members[0].Email != h.bobEmail || len(one.Apps) != 1 {
		t.Fatalf("group: %+v", one)
	}
	want(t, call(t, h.alice, "DELETE", "/api/admin/groups/"+g.Group.ID, nil), http.StatusConflict, nil)
	want(t, call(t, h.alice, "DELETE", "/api/admin/apps/"+app.App.ID, nil), http.StatusNoContent, nil)
	want(t, call(t, h.alice, "DELETE", "/api/admin/groups/"+g.Group.ID, nil), http.StatusNoContent, nil)
	want(t, call(t, h.alice, "GET", "/api/admin/groups/"+g.Group.ID, nil), http.StatusNotFound, nil)
}

// Bodies are JSON of the expected shape, bounded; anything else is 400
// and writes nothing.
func TestBadBodies(t *testing.T) {
	h := newHarness(t)
	before := snapshot(t, h.store)
	for name, raw := range map[string]string{
		"not JSON":      `name=ops`,
		"two values":    `{"name":"ops"}{"name":"dev"}`,
		"unknown field": `{"name":"ops","id":"x"}`,
		"wrong type":    `{"name":7}`,
		"too large":     `{"name":"` + strings.Repeat("a", 70<<10) + `"}`,
	} {
		res, err := h.alice.Do(t.Context(), "POST", "/api/admin/groups", []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), `"error"`) {
			t.Errorf("%s: %d %s", name, res.Status, res.Body)
		}
	}
	// No content type: refused too.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", h.base+"/api/admin/groups", strings.NewReader(`{"name":"ops"}`))
	req.Header.Set("Origin", h.base)
	res, err := h.alice.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("no content type: %d", res.StatusCode)
	}
	if snapshot(t, h.store) != before {
		t.Error("a refused body changed the store")
	}
}

// The overview counts accounts and the last 30 days' sign-ins, by day.
func TestOverview(t *testing.T) {
	h := newHarness(t)
	var o struct {
		Accounts, ActiveAccounts int
		SignIns                  []struct {
			Day               string
			Succeeded, Failed int
		}
		Apps []struct{ ClientID string }
	}
	want(t, call(t, h.alice, "GET", "/api/admin/overview", nil), http.StatusOK, &o)
	today := h.clock.Now().UTC().Format(time.DateOnly)
	if o.Accounts != 2 || o.ActiveAccounts != 2 || len(o.SignIns) != 30 || o.SignIns[29].Day != today || o.SignIns[29].Succeeded != 2 || o.Apps == nil {
		t.Fatalf("overview %+v", o)
	}
}
