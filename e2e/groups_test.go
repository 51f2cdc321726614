package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/testserver"
)

// TestNoAccessToAnApp (issue 20, item 3): an app admits only the members
// of a group. Someone else, signed in with their passkey, gets passkeyd's
// page saying they have no access to it; its button takes them back to
// the app, which hears access_denied. Once in the group, they sign in.
func TestNoAccessToAnApp(t *testing.T) {
	chromium(t)
	appPort := testserver.FreePort(t)
	appURL := "http://localhost:" + appPort
	srv := startServer(t, withMail(t), withOIDCClients(t, `{"clients": [{"id": "example-app", "name": "Example app",
		"secret": "`+exampleSecret+`", "redirect_uris": ["`+appURL+`/callback"], "allowed_groups": ["ops"]}]}`))
	startExampleApp(t, appPort, srv.URL)
	b := newBrowser(t, srv)
	auth := b.addAuthenticator(internal, true)
	const email = "outsider@example.com"

	step(t, b, "SignUpOnPasskeyd", func(t *testing.T) {
		signUp(t, b, srv, auth, email)
	})

	step(t, b, "NotInTheGroup", func(t *testing.T) {
		b.goTo(appURL + "/")
		b.waitFor("the app's sign-in button", `!!document.getElementById("login")`)
		b.click("login")
		b.signInAtPasskeyd(auth)
		b.waitFor("the no-access page", `location.pathname === "/oidc/login" && !!document.getElementById("back-to-app")`)
		var text string
		b.eval(`document.querySelector("main").textContent`, &text)
		wantContains(t, "no-access page", text, "You have no access to Example app", email, "Back to Example app")
		if strings.Contains(text, appURL) {
			t.Errorf("the no-access page shows the app's address: %q", text)
		}
		b.shot("no access to the app")
		b.click("back-to-app") // a form post answered by a redirect to the app: CSP form-action allows it
		b.waitFor("the app told access_denied", shows(appURL, "body", "access_denied"))
	})

	step(t, b, "PutInTheGroup", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st := srv.store(t)
		u, _ := srv.mustUser(t, email)
		g, err := st.FindGroup(ctx, "ops") // made at start: the clients file names it
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddGroupMember(ctx, g.ID, u.ID, passkeyd.NewEvent(time.Now(), passkeyd.Actor{}, u.ID, passkeyd.EventGroupMemberAdded, "", "added to group ops")); err != nil {
			t.Fatal(err)
		}
		b.goTo(appURL + "/")
		b.waitFor("the app's sign-in button", `!!document.getElementById("login")`)
		b.click("login")
		b.confirmAddressAtPasskeyd(t, srv, email) // still signed in at passkeyd; the app takes confirmed addresses only
		b.waitFor("the consent page", `location.pathname === "/oidc/login" && !!document.getElementById("allow")`)
		b.click("allow")
		b.waitFor("the app to show the email", shows(appURL, "#email", email))
	})
}
