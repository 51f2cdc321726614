package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd"
)

// TestConsoleActions presses the console's other buttons against the real
// server: who may open it; search; a person's recovery link, ending their
// sessions, making and revoking an administrator, deleting the account
// (the typed address must match); an app from the clients file shown
// read-only; an app's secret rotated and the app deleted; a group renamed
// and deleted; the audit log's filters and its older pages; an API key
// revoked.
func TestConsoleActions(t *testing.T) {
	chromium(t)
	srv := startServer(t, withMail(t), withOIDCClient(t, "http://localhost:1"))
	admin := newBrowser(t, srv)
	adminKey := admin.addAuthenticator(internal, true)
	const adminEmail, personEmail = "ada@example.com", "bob@example.com"

	step(t, admin, "SignedOutIsSentToSignIn", func(t *testing.T) {
		admin.open("/admin/people")
		admin.waitVisible("#console-signin")
		wantContains(t, "signed-out page", admin.texts("main")[0], "Sign in first")
		if admin.visible(".console-nav") {
			t.Errorf("the signed-out page shows the console's navigation")
		}
		signUp(t, admin, srv, adminKey, adminEmail)
		becomeAdmin(t, admin, srv, adminKey, adminEmail, nil)
	})

	person := newBrowser(t, srv)
	personKey := person.addAuthenticator(internal, true)

	step(t, person, "NotAnAdministrator", func(t *testing.T) {
		signUp(t, person, srv, personKey, personEmail)
		srv.confirmAddress(t, personEmail)
		signIn(t, person, personKey, personEmail, personEmail)
		person.open("/admin")
		person.waitFor("the page", `!!document.getElementById("console-heading")`)
		wantContains(t, "forbidden page", person.texts("#console-heading")[0], "not an administrator")
		if person.visible(".console-nav") {
			t.Errorf("the forbidden page shows the console's navigation")
		}
	})

	bob, _ := srv.mustUser(t, personEmail)

	step(t, admin, "Search", func(t *testing.T) {
		admin.open("/admin/people")
		admin.waitFor("two people", `document.querySelectorAll("#people [data-user-id]").length === 2`)
		admin.fill("#people-q", "bob")
		admin.click("people-search-button")
		admin.waitFor("bob alone", `document.querySelectorAll("#people [data-user-id]").length === 1`)
		if got := admin.attrs("#people [data-user-id]", "data-user-id"); got[0] != bob.ID {
			t.Errorf("searching bob lists %q, want %s", got, bob.ID)
		}
		var search string
		admin.eval(`location.search`, &search)
		if search != "?q=bob" {
			t.Errorf("the address keeps the search as %q, want ?q=bob", search)
		}
	})

	step(t, admin, "PersonActions", func(t *testing.T) {
		admin.clickSel(`#people [data-user-id] a`)
		admin.waitFor("bob's page", `document.getElementById("console-heading").textContent === `+jsString(personEmail))

		admin.click("person-recovery")
		st := admin.waitStatus("success")
		wantContains(t, "recovery message", st.Status, personEmail)
		srv.mailLink(t, personEmail, "/recover/email")

		admin.click("person-end-sessions")
		st = admin.waitStatus("success")
		wantContains(t, "end-sessions message", st.Status, "Ended 1 session")
		if got := person.me(); got != http.StatusUnauthorized {
			t.Errorf("bob's browser after his sessions were ended: /api/auth/me %d, want 401", got)
		}

		for _, c := range []struct {
			button string
			want   bool
		}{{"person-make-admin", true}, {"person-revoke-admin", false}} {
			admin.click(c.button)
			admin.waitStatus("success")
			if ok, err := srv.store(t).IsAdmin(context.Background(), bob.ID); err != nil || ok != c.want {
				t.Errorf("store after %s: administrator %v (%v), want %v", c.button, ok, err, c.want)
			}
		}

		admin.click("person-delete")
		admin.waitVisible("#person-delete-confirm")
		admin.fill("#person-delete-confirm", "someone@example.com")
		admin.click("person-delete-confirmed")
		st = admin.waitStatus("error")
		wantContains(t, "wrong confirmation", st.Status, "Type "+personEmail, "Nothing was deleted")
		srv.mustUser(t, personEmail)
		admin.fill("#person-delete-confirm", personEmail)
		admin.click("person-delete-confirmed")
		admin.waitPath("/admin/people")
		if u, _ := srv.user(t, personEmail); u != nil {
			t.Errorf("store: %s still exists after deleting", personEmail)
		}
	})

	step(t, admin, "DeclaredAppIsReadOnly", func(t *testing.T) {
		admin.open("/admin/apps/example-app")
		admin.waitFor("the app's facts", `!!document.querySelector("#app-facts .client-id")`)
		var state struct {
			Note, Disabled, Danger bool
		}
		admin.eval(`({Note: !document.getElementById("declared-note").hidden,
  Disabled: document.getElementById("app-fieldset").disabled,
  Danger: !document.getElementById("app-danger").hidden})`, &state)
		if !state.Note || !state.Disabled || state.Danger {
			t.Errorf("app from the clients file: note shown %v, form disabled %v, delete shown %v; want true, true, false",
				state.Note, state.Disabled, state.Danger)
		}
	})

	step(t, admin, "RotateAndDeleteApp", func(t *testing.T) {
		admin.open("/admin/apps/new")
		admin.waitFor("the groups of the form loaded", `!document.querySelector("#app-groups").textContent.includes("Loading")`)
		admin.fill("#app-name", "Short-lived app")
		admin.fill("#app-redirects", "https://app.example.com/callback")
		admin.click("app-save")
		admin.waitVisible("#secret-panel")
		first := admin.copyFromPage("copy-secret")
		id := admin.texts("#app-facts .client-id")[0]

		admin.open("/admin/apps/" + id)
		admin.waitVisible("#app-rotate")
		admin.click("app-rotate")
		admin.click("app-rotate-confirmed")
		admin.waitVisible("#secret-panel")
		if second := admin.copyFromPage("copy-secret"); second == first || len(second) < 32 {
			t.Errorf("rotated secret %q, was %q", second, first)
		}

		admin.click("app-delete")
		admin.click("app-delete-confirmed")
		admin.waitPath("/admin/apps")
		if _, err := srv.store(t).FindOIDCClient(context.Background(), id); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			t.Errorf("store: the deleted app: %v, want not found", err)
		}
	})

	step(t, admin, "RenameAndDeleteGroup", func(t *testing.T) {
		admin.open("/admin/groups")
		admin.waitFor("the groups loaded", `!document.getElementById("groups").textContent.includes("Loading")`)
		admin.fill("#group-name", "interns")
		admin.click("group-create-button")
		admin.waitStatus("success")
		admin.clickSel(`#groups [data-group-id] a`)
		admin.waitFor("the group's page", `document.getElementById("group-new-name").value === "interns"`)
		admin.fill("#group-new-name", "trainees")
		admin.click("group-rename-button")
		st := admin.waitStatus("success")
		wantContains(t, "rename message", st.Status, "trainees")
		admin.click("group-delete")
		admin.click("group-delete-confirmed")
		admin.waitPath("/admin/groups")
		if groups, err := srv.store(t).ListGroups(context.Background()); err != nil || len(groups) != 0 {
			t.Errorf("store: groups %v (%v) after deleting the only one", groups, err)
		}
	})

	step(t, admin, "AuditFilters", func(t *testing.T) {
		admin.open("/admin/audit")
		admin.waitFor("the audit log", `!!document.querySelector("#audit [data-event-type]")`)
		admin.setSelect("#audit-type", "Account deleted")
		admin.click("audit-apply")
		admin.waitStatus("success")
		types := admin.attrs("#audit [data-event-type]", "data-event-type")
		if len(types) != 1 || types[0] != passkeyd.EventUserDeleted {
			t.Errorf("the audit log filtered to deletions lists %q", types)
		}
		wantContains(t, "the deletion event", admin.texts("#audit [data-event-type]")[0], "by "+adminEmail)
		// From tomorrow (UTC) on, nothing has happened yet.
		var set bool
		admin.eval(`(function () {
  var d = new Date(); d.setUTCDate(d.getUTCDate() + 1);
  document.getElementById("audit-since").value = d.toISOString().slice(0, 10);
  return true;
})()`, &set)
		admin.click("audit-apply")
		admin.waitStatus("success")
		if n := len(admin.attrs("#audit [data-event-type]", "data-event-type")); n != 0 {
			t.Errorf("the audit log from tomorrow on lists %d events", n)
		}
		var search string
		admin.eval(`location.search`, &search)
		wantContains(t, "the audit log's address", search, "type=user_deleted", "since=")
	})

	step(t, admin, "RevokeAPIKey", func(t *testing.T) {
		key := admin.createAPIKey("old script")
		admin.clickSel(`#keys [data-key-id] button[data-action="revoke-key"]`)
		admin.clickSel(`#keys [data-key-id] button[data-action="confirm-revoke"]`)
		admin.waitFor("no keys", `document.querySelectorAll("#keys [data-key-id]").length === 0`)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/admin/me", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized && res.StatusCode != http.StatusForbidden {
			t.Errorf("GET /api/admin/me with the revoked key: %d, want 401 or 403", res.StatusCode)
		}
	})

	step(t, admin, "AuditOlder", func(t *testing.T) {
		// A script with an API key makes 60 events: more than a page.
		key := admin.createAPIKey("bulk script")
		for i := range 30 {
			var g struct {
				Group struct{ ID string } `json:"group"`
			}
			callAPI(t, srv, key, http.MethodPost, "/api/admin/groups", fmt.Sprintf(`{"name": "bulk-%02d"}`, i), http.StatusCreated, &g)
			callAPI(t, srv, key, http.MethodDelete, "/api/admin/groups/"+g.Group.ID, "", http.StatusNoContent, nil)
		}
		admin.open("/admin/audit")
		admin.waitVisible("#audit-older")
		if n := len(admin.attrs("#audit [data-event-id]", "data-event-id")); n != 50 {
			t.Errorf("the audit log's first page lists %d events, want 50", n)
		}
		admin.click("audit-older")
		admin.waitFor("older events", `document.querySelectorAll("#audit [data-event-id]").length > 50`)
		var ids []int
		admin.eval(`Array.prototype.map.call(document.querySelectorAll("#audit [data-event-id]"), function (li) { return +li.getAttribute("data-event-id"); })`, &ids)
		for i := 1; i < len(ids); i++ {
			if ids[i] >= ids[i-1] {
				t.Fatalf("the audit log after Older is not newest first without repeats: %v", ids)
			}
		}
		wantContains(t, "a script's event", admin.texts("#audit [data-event-id]")[0], "by API key bulk script")
	})
}

// callAPI calls the console's JSON API with an API key, as a script would,
// fails the test unless the answer has status want, and decodes it into out
// (unless nil).
func callAPI(t *testing.T, srv *server, key, method, path, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d", method, path, res.StatusCode, want)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}
