package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/testserver"
)

// consoleShotsEnv names the folder where TestConsole writes a screenshot of
// every console section at desktop and phone width (docs/console: run
// scripts/console-screenshots). Unset, the test still checks each section's
// phone layout but writes nothing.
const consoleShotsEnv = "PASSKEYD_CONSOLE_SCREENSHOTS"

// TestConsole is the story of issue 20 in the browser: the setup link
// printed at start makes the first administrator; she creates an app in
// the console and copies its secret from the page; a second person signs
// in to that app (examples/oidc-client) through passkeyd; the
// administrator puts him in a group and restricts the app to another group,
// and his next sign-in gets "no access"; she admits his group again, and
// disabling him in the console makes the app's refresh fail; the audit log
// shows each step with her name.
func TestConsole(t *testing.T) {
	chromium(t)
	// An app declared in the clients file, which the console shows read-only.
	srv := startServer(t, withMail(t), withOIDCClients(t, `{"clients": [{"id": "grafana", "name": "Grafana",
		"secret": "`+exampleSecret+`", "redirect_uris": ["https://grafana.example.com/login/generic_oauth"],
		"scopes": ["openid", "email", "profile", "groups"]}]}`))
	admin := newBrowser(t, srv)
	adminKey := admin.addAuthenticator(internal, true)
	const adminEmail, personEmail = "ada@example.com", "bob@example.com"
	var clientID, secret string
	appPort := testserver.FreePort(t)
	appURL := "http://localhost:" + appPort
	shots := newConsoleShots(t, admin)

	step(t, admin, "SetupLinkMakesTheFirstAdministrator", func(t *testing.T) {
		signUp(t, admin, srv, adminKey, adminEmail)
		link := becomeAdmin(t, admin, srv, adminKey, adminEmail, shots)
		// The link works once.
		admin.openURL(link)
		admin.waitVisible("#setup-claim-button")
		admin.click("setup-claim-button")
		st := admin.waitStatus("error")
		wantContains(t, "second use of the setup link", st.Status, "does not work")
	})

	step(t, admin, "CreateAppCopyingTheSecret", func(t *testing.T) {
		admin.open("/admin/apps/new")
		admin.waitFor("the groups of the form loaded", `!document.querySelector("#app-groups").textContent.includes("Loading")`)
		admin.fill("#app-name", "Example app")
		admin.fill("#app-redirects", appURL+"/callback")
		admin.fill("#app-post-logout", appURL+"/")
		shots.take("new-app", "")
		admin.click("app-save")
		admin.waitVisible("#secret-panel")
		admin.waitFor("the app's client ID", `!!document.querySelector("#app-facts .client-id")`)
		st := admin.waitStatus("success")
		wantContains(t, "creation message", st.Status, "Created Example app", "shown only once")
		clientID = admin.texts("#app-facts .client-id")[0]
		secret = admin.copyFromPage("copy-secret")
		if len(secret) < 32 {
			t.Fatalf("the copied secret %q is not one", secret)
		}
		shots.take("new-app-secret", "")
		if c, err := srv.store(t).FindOIDCClient(context.Background(), clientID); err != nil || c.Name != "Example app" {
			t.Fatalf("store: app %s: %+v, %v", clientID, c, err)
		}
	})

	// The app runs with what was copied from the page, until the test ends.
	startExampleAppAs(t, appPort, srv.URL, clientID, secret)

	person := newBrowser(t, srv)
	personKey := person.addAuthenticator(internal, true)

	step(t, person, "SecondPersonSignsInToTheApp", func(t *testing.T) {
		signUp(t, person, srv, personKey, personEmail)
		srv.confirmAddress(t, personEmail)
		// A sign-in the server refuses (the passkey's answer says the
		// person was not verified): the overview counts it as failed.
		person.open("/")
		person.waitAutofill("pending")
		person.typeEmail(personEmail)
		person.overrideBits(personKey, true, false)
		person.present(personKey, true)
		person.click("signin")
		person.waitStatus("error")
		person.overrideBits(personKey, false, false)
		person.goTo(appURL + "/")
		person.click("login")
		person.signInAtPasskeyd(personKey)
		person.waitFor("the consent page", `location.pathname === "/oidc/login" && !!document.getElementById("allow")`)
		person.click("allow")
		person.waitFor("the app to show the email", shows(appURL, "#email", personEmail))
	})

	bob, _ := srv.mustUser(t, personEmail)

	step(t, admin, "GroupsRestrictTheApp", func(t *testing.T) {
		admin.open("/admin/groups")
		for _, name := range []string{"staff", "ops"} {
			admin.waitIdle()
			admin.fill("#group-name", name)
			admin.click("group-create-button")
			st := admin.waitStatus("success")
			wantContains(t, "group created", st.Status, name)
		}
		admin.waitFor("both groups listed", `document.querySelectorAll("#groups [data-group-id]").length === 2`)

		admin.open("/admin/people/" + bob.ID)
		admin.waitFor("the person's page", `document.getElementById("console-heading").textContent === `+jsString(personEmail))
		admin.setSelect("#person-group-select", "staff")
		admin.click("person-add-group-button")
		st := admin.waitStatus("success")
		wantContains(t, "added to group", st.Status, "staff")
		admin.waitFor("staff among the person's groups", `document.getElementById("person-groups").textContent.includes("staff")`)

		admin.open("/admin/apps/" + clientID)
		admin.waitFor("the app's groups", `!!document.querySelector('#app-groups input[value="ops"]')`)
		admin.clickSel(`#app-groups input[value="ops"]`)
		admin.click("app-save")
		st = admin.waitStatus("success")
		wantContains(t, "app saved", st.Status, "Saved")
		c, err := srv.store(t).FindOIDCClient(context.Background(), clientID)
		if err != nil || !slices.Equal(c.AllowedGroups, []string{"ops"}) {
			t.Fatalf("store: the app admits groups %q (%v), want [ops]", c.AllowedGroups, err)
		}
	})

	step(t, person, "NextSignInHasNoAccess", func(t *testing.T) {
		person.click("logout") // the app's, which signs out of passkeyd too
		person.waitFor("the app signed out", `location.origin === `+jsString(appURL)+` && !!document.getElementById("signed-out")`)
		person.click("login")
		person.signInAtPasskeyd(personKey)
		person.waitFor("the no-access page", `location.origin === `+jsString(srv.URL)+` && document.querySelector("main").textContent.toLowerCase().includes("no access")`)
		person.shot("no access to the app")
	})

	step(t, admin, "AdmitTheGroupAgain", func(t *testing.T) {
		admin.clickSel(`#app-groups input[value="staff"]`)
		admin.click("app-save")
		admin.waitStatus("success")
	})

	step(t, person, "SignsInAgain", func(t *testing.T) {
		person.goTo(appURL + "/")
		person.waitFor("the app's sign-in button", `!!document.getElementById("login")`)
		person.click("login")
		person.waitFor("the app to show the email", shows(appURL, "#email", personEmail))
		person.click("refresh")
		person.waitFor("the app's refresh to work", shows(appURL, "#message", "Tokens refreshed"))
	})

	step(t, admin, "DisableInTheConsole", func(t *testing.T) {
		admin.open("/admin/people/" + bob.ID)
		admin.waitVisible("#person-disable")
		// The server asks for a fresh passkey check first, as it does when
		// the administrator signed in a while ago: the page runs it and
		// sends the request again.
		used := admin.answerOnce("POST", "/api/admin/people/"+bob.ID+"/disable", 403,
			`{"error": "Please confirm it's you with your passkey, then try again.", "code": "step_up_required"}`)
		admin.present(adminKey, true)
		admin.click("person-disable")
		st := admin.waitStatus("success")
		<-used
		wantContains(t, "disable message", st.Status, personEmail, "disabled")
		admin.waitVisible("#person-enable")
		u, _ := srv.mustUser(t, personEmail)
		if !u.Disabled {
			t.Fatalf("store: %s is not disabled", personEmail)
		}
		shots.take("person", "")
	})

	step(t, person, "RefreshFails", func(t *testing.T) {
		person.click("refresh")
		person.waitFor("the app's refresh to fail", shows(appURL, "#message", "Refresh failed"))
		person.shot("refresh refused after disabling")
	})

	step(t, admin, "AuditLogNamesTheAdministrator", func(t *testing.T) {
		admin.open("/admin/audit")
		admin.waitFor("the audit log", `!!document.querySelector("#audit [data-event-type]")`)
		want := []string{passkeyd.EventAdminGranted, passkeyd.EventAppCreated, passkeyd.EventGroupCreated,
			passkeyd.EventGroupMemberAdded, passkeyd.EventAppUpdated, passkeyd.EventUserDisabled}
		types := admin.attrs("#audit [data-event-type]", "data-event-type")
		for _, w := range want {
			if !slices.Contains(types, w) {
				t.Errorf("the audit log lists %q, want a %s event", types, w)
			}
		}
		var byAdmin []string
		admin.eval(`Array.prototype.map.call(document.querySelectorAll("#audit [data-event-type]"), function (li) {
  var by = li.querySelector(".admin-name");
  return li.getAttribute("data-event-type") + "=" + (by ? by.textContent : "");
})`, &byAdmin)
		for _, w := range want {
			if !slices.Contains(byAdmin, w+"=by "+adminEmail) {
				t.Errorf("the audit log's %s event does not name the administrator: %q", w, byAdmin)
			}
		}
		if !slices.Contains(types, passkeyd.EventOIDCSignIn) {
			t.Errorf("the audit log lists %q, without the person's sign-in to the app", types)
		}
		shots.take("audit", "")

		// Filtered to the person: only events about him.
		admin.fill("#audit-user", personEmail)
		admin.click("audit-apply")
		admin.waitStatus("success")
		var emails []string
		admin.eval(`Array.prototype.map.call(document.querySelectorAll("#audit [data-event-type]"), function (li) {
  return li.querySelector(".item-meta a") ? li.querySelector(".item-meta a").textContent : "";
})`, &emails)
		if len(emails) == 0 || slices.ContainsFunc(emails, func(e string) bool { return e != personEmail }) {
			t.Errorf("the audit log filtered to %s shows events of %q", personEmail, emails)
		}
	})

	step(t, admin, "APIKey", func(t *testing.T) {
		admin.present(adminKey, true) // in case the server asks for a passkey check
		key := admin.createAPIKey("deploy script")
		admin.present(adminKey, false)
		shots.take("api-keys", "")
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/admin/me", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET /api/admin/me with the new key: %d, want 200", res.StatusCode)
		}
	})

	step(t, admin, "EverySection", func(t *testing.T) {
		groups, err := srv.store(t).ListGroups(context.Background())
		i := slices.IndexFunc(groups, func(g *passkeyd.Group) bool { return g.Name == "staff" })
		if err != nil || i < 0 {
			t.Fatalf("store: no group staff in %v (%v)", groups, err)
		}
		for _, s := range []struct{ name, path, ready string }{
			// The overview redraws its chart to the width it gets.
			{"overview", "/admin", `document.getElementById("count-failed").textContent === "1" && (function () {
  var svg = document.querySelector("#signin-chart svg");
  return !!svg && +svg.getAttribute("width") === Math.max(document.getElementById("signin-chart").clientWidth, 280);
})()`},
			{"people", "/admin/people", `!!document.querySelector("#people [data-user-id]")`},
			{"apps", "/admin/apps", `!!document.querySelector("#apps [data-client-id]")`},
			{"app", "/admin/apps/" + clientID, `!!document.querySelector("#app-facts .client-id")`},
			{"app-declared", "/admin/apps/grafana", `!document.getElementById("declared-note").hidden`},
			{"groups", "/admin/groups", `!!document.querySelector("#groups [data-group-id]")`},
			{"group", "/admin/groups/" + groups[i].ID, `!!document.querySelector("#group-members [data-user-id]")`},
		} {
			admin.open(s.path)
			admin.waitFor("the "+s.name+" section", s.ready)
			if s.name == "app" {
				// Show one of the settings for common apps.
				admin.eval(`document.querySelector("#app-settings details").open = true`, new(bool))
			}
			shots.take(s.name, s.ready)
		}
		// The console follows the system's dark mode, as every page does.
		admin.open("/admin/people/" + bob.ID)
		admin.waitFor("the person's page", `document.getElementById("console-heading").textContent === `+jsString(personEmail))
		shots.dark(func() { shots.take("person-dark", "") })
	})
}

// becomeAdmin opens the setup link printed at start, signs in there with
// the passkey of auth and makes the account of email the administrator;
// it returns the link.
func becomeAdmin(t *testing.T, b *browser, srv *server, auth webauthn.AuthenticatorID, email string, shots *consoleShots) string {
	t.Helper()
	link := setupLink(t, srv)
	b.openURL(link)
	b.waitVisible("#setup-signin-button")
	if shots != nil {
		shots.take("setup", "")
	}
	b.present(auth, true)
	b.click("setup-signin-button")
	b.waitVisible("#setup-claim-button")
	if got := b.texts("#setup-email"); !slices.Equal(got, []string{email}) {
		t.Errorf("setup page says signed in as %q, want %s", got, email)
	}
	b.click("setup-claim-button")
	b.waitFor("the console's overview", `location.pathname === "/admin" && document.getElementById("count-accounts").textContent !== "…"`)
	u, _ := srv.mustUser(t, email)
	if ok, err := srv.store(t).IsAdmin(context.Background(), u.ID); err != nil || !ok {
		t.Fatalf("store: %s is an administrator: %v, %v; want true", email, ok, err)
	}
	if got := b.texts("#admin-email"); !slices.Equal(got, []string{email}) {
		t.Errorf("the console's header shows %q, want %s", got, email)
	}
	return link
}

// setupLink reads the setup link passkeyd printed at start.
func setupLink(t *testing.T, srv *server) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(srv.URL) + `/admin/setup\?token=[A-Za-z0-9_-]+`).FindString(srv.log.String())
	if m == "" {
		t.Fatalf("passkeyd printed no setup link at start")
	}
	return m
}

// createAPIKey makes a key named name on the console's API keys page and
// returns it, as copied from the page.
func (b *browser) createAPIKey(name string) string {
	b.open("/admin/api-keys")
	b.waitFor("the keys loaded", `!document.getElementById("keys").textContent.includes("Loading")`)
	b.fill("#key-name", name)
	b.click("key-create-button")
	b.waitStatus("success")
	return b.copyFromPage("copy-key")
}

// copyFromPage presses a Copy button and returns what it put on the
// clipboard.
func (b *browser) copyFromPage(button string) string {
	b.t.Helper()
	b.call("allow the clipboard", func(ctx context.Context) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.Call(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: name},
				Setting:    cdpbrowser.PermissionSettingGranted,
				Origin:     b.srv.URL,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	var cleared bool
	b.eval(`(function () { var s = document.getElementById("status"); s.textContent = ""; s.className = "status sticky"; return true; })()`, &cleared)
	b.click(button)
	st := b.waitUntil("the page to say it copied", func(s pageState) bool { return s.Kind != "" })
	if !strings.Contains(st.Status, "Copied") {
		b.fatalf("after Copy the page says %q", st.Status)
	}
	text, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fatalf("read the clipboard: %v", err)
	}
	return text
}

// setSelect chooses the option labelled label in the select matching sel.
func (b *browser) setSelect(sel, label string) {
	b.t.Helper()
	var ok bool
	b.eval(fmt.Sprintf(`(function () {
  var s = document.querySelector(%q);
  var o = Array.prototype.find.call(s.options, function (o) { return o.textContent === %q; });
  if (o) { s.value = o.value; }
  return !!o;
})()`, sel, label), &ok)
	if !ok {
		b.fatalf("%s has no option %q", sel, label)
	}
}

// consoleShots checks a console section's labels and phone layout and, when
// PASSKEYD_CONSOLE_SCREENSHOTS names a folder, saves it there at desktop
// (1280) and phone (390) width.
type consoleShots struct {
	t   *testing.T
	b   *browser
	dir string
}

func newConsoleShots(t *testing.T, b *browser) *consoleShots {
	dir := os.Getenv(consoleShotsEnv)
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &consoleShots{t: t, b: b, dir: dir}
}

// dark runs f with the page in dark mode (prefers-color-scheme: dark).
func (s *consoleShots) dark(f func()) {
	set := func(value string) {
		s.b.call("emulate the colour scheme", func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: value}}})
			return err
		})
	}
	set("dark")
	defer set("")
	f()
}

// take checks every control shown has a name, saves the page as
// NAME-desktop.png and NAME-phone.png; ready (a
// JavaScript condition, or "") is waited for again after each resize, for
// sections that draw to the width they get.
func (s *consoleShots) take(name, ready string) {
	b := s.b
	b.t.Helper()
	// The status line of the last action would hide what it stays over,
	// and the field just typed in would show its focus ring.
	var cleared bool
	b.eval(`(function () {
  var s = document.getElementById("status"); s.textContent = ""; s.className = "status sticky";
  if (document.activeElement) { document.activeElement.blur(); }
  return true;
})()`, &cleared)
	var unlabelled []string
	b.eval(unlabelledJS, &unlabelled)
	if len(unlabelled) > 0 {
		b.t.Errorf("console %s: controls without a name: %q", name, unlabelled)
	}
	for _, size := range []struct {
		suffix string
		width  int64
		mobile bool
	}{{"desktop", 1280, false}, {"phone", 390, true}} {
		b.call("emulate "+size.suffix, func(ctx context.Context) error {
			return chromedp.Do(ctx, chromedp.EmulateViewport(size.width, 800, func(p *emulation.SetDeviceMetricsOverrideParams, t *emulation.SetTouchEmulationEnabledParams) {
				p.Mobile = size.mobile
				t.Enabled = size.mobile
			}))
		})
		if ready != "" {
			b.waitFor(name+" after resizing", ready)
		}
		if size.mobile {
			// A phone widens its viewport to content that does not fit.
			var l struct{ Inner, Scroll int64 }
			b.eval(`({Inner: window.innerWidth, Scroll: document.documentElement.scrollWidth})`, &l)
			if l.Inner != size.width || l.Scroll > size.width {
				b.t.Errorf("console %s: on a %d px phone the page is %d px wide with %d px of content", name, size.width, l.Inner, l.Scroll)
			}
		}
		if s.dir != "" {
			png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				b.fatalf("screenshot %s: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(s.dir, name+"-"+size.suffix+".png"), png, 0o644); err != nil {
				b.fatalf("write screenshot: %v", err)
			}
		}
	}
	b.call("stop emulating", func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: false})
		return err
	})
}

// unlabelledJS lists the controls shown on the page that have no
// accessible name: no label, aria-label or aria-labelledby, and for a
// button no text.
const unlabelledJS = `Array.prototype.filter.call(document.querySelectorAll("input, select, textarea, button"), function (e) {
  if (e.type === "hidden" || e.getClientRects().length === 0) { return false; }
  var by = (e.getAttribute("aria-labelledby") || "").split(" ").map(function (id) { return document.getElementById(id); })
    .filter(Boolean).map(function (l) { return l.textContent; }).join(" ").trim();
  var label = e.labels && e.labels.length ? e.labels[0].textContent.trim() : "";
  return !(e.getAttribute("aria-label") || by || label || (e.tagName === "BUTTON" && e.textContent.trim()));
}).map(function (e) { return e.id || e.name || e.outerHTML.slice(0, 80); })`
