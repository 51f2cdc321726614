package e2e

import (
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/testserver"
)

// TestNewAppAsksForThePasskey: a user signed in to passkeyd a while ago
// (longer than STEP_UP_WINDOW, here 1 second) lets a new app in: the
// consent page asks for the passkey on the page itself, then goes on to
// the app. A copied session cookie alone could not have allowed it.
func TestNewAppAsksForThePasskey(t *testing.T) {
	chromium(t)
	appPort := testserver.FreePort(t)
	appURL := "http://localhost:" + appPort
	srv := startServer(t, withOIDCClient(t, appURL), withEnv("STEP_UP_WINDOW=1s"), withMail(t))
	startExampleApp(t, appPort, srv.URL)
	b := newBrowser(t, srv)
	auth := b.addAuthenticator(internal, true)
	const email = "stepup@example.com"

	step(t, b, "SignedInAWhileAgo", func(t *testing.T) {
		signUp(t, b, srv, auth, email)
		srv.confirmAddress(t, email)
		signIn(t, b, auth, email, email)
		// Waiting is the condition, not an assertion: a second after the
		// sign-in, the session's passkey check is older than the window.
		time.Sleep(1100 * time.Millisecond)
	})

	step(t, b, "ConsentAsksForThePasskey", func(t *testing.T) {
		b.goTo(appURL + "/")
		b.waitFor("the app's sign-in button", `!!document.getElementById("login")`)
		b.click("login")
		b.waitFor("the consent page asking for a passkey",
			`location.pathname === "/oidc/login" && !!document.getElementById("allow") && !!document.getElementById("step-up-hint")`)
		var label string
		b.eval(`document.getElementById("allow").textContent`, &label)
		wantContains(t, "Allow button", label, "Passkey")
		b.shot("consent asks for the passkey")
		b.present(auth, true)
		b.click("allow")
		b.waitFor("the app to show the email", shows(appURL, "#email", email))
		b.shot("signed in to the app after the passkey")
		if n := len(srv.sessionIDs(t)); n != 1 {
			t.Errorf("store: %d sessions after the consent's passkey check, want 1 (the check replaces the session)", n)
		}
	})
}
