package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/passkeyd/passkeyd/internal/testserver"
)

const exampleSecret = "example-app-secret-0123456789-abcdefghijklmnop"

// withOIDCClient registers the example app through OIDC_CLIENTS_FILE.
func withOIDCClient(t *testing.T, appURL string) serverOption {
	return withOIDCClients(t, `{"clients": [{"id": "example-app", "name": "Example app", "secret": "`+exampleSecret+`",
		"redirect_uris": ["`+appURL+`/callback"], "post_logout_redirect_uris": ["`+appURL+`/"]}]}`)
}

// withOIDCClients registers the clients of an OIDC_CLIENTS_FILE document.
func withOIDCClients(t *testing.T, clients string) serverOption {
	file := filepath.Join(t.TempDir(), "clients.json")
	if err := os.WriteFile(file, []byte(clients), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(_ *server, env *[]string) { *env = append(*env, "OIDC_CLIENTS_FILE="+file) }
}

// startExampleApp builds and runs examples/oidc-client against passkeyd.
func startExampleApp(t *testing.T, port, issuer string) string {
	t.Helper()
	return startExampleAppAs(t, port, issuer, "example-app", exampleSecret)
}

// startExampleAppAs runs examples/oidc-client with these client
// credentials (an app registered in the console).
func startExampleAppAs(t *testing.T, port, issuer, clientID, secret string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "oidc-client")
	build := exec.Command("go", "build", "-o", bin, "./examples/oidc-client")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build examples/oidc-client: %v\n%s", err, out)
	}
	url := "http://localhost:" + port
	p := testserver.Run(t, testserver.Config{Name: "oidc-client", Bin: bin, Dir: dir, Env: append(os.Environ(),
		"ADDR=127.0.0.1:"+port, "PUBLIC_URL="+url, "ISSUER="+issuer,
		"CLIENT_ID="+clientID, "CLIENT_SECRET="+secret,
	)}, 5*time.Second)
	p.WaitHealthy(t, "http://127.0.0.1:"+port+"/", 30*time.Second)
	return url
}

// TestSignInToAnApp is the story of issue 14: a user signs in to another
// app (examples/oidc-client) with their passkey on passkeyd, consents once,
// comes back signed in; signs in again without being asked; disconnects
// the app in Connected apps, after which the app's refresh fails.
func TestSignInToAnApp(t *testing.T) {
	chromium(t)
	appPort := testserver.FreePort(t)
	appURL := "http://localhost:" + appPort
	srv := startServer(t, withOIDCClient(t, appURL), withMail(t))
	startExampleApp(t, appPort, srv.URL)
	b := newBrowser(t, srv)
	auth := b.addAuthenticator(internal, true)
	const email = "oidc@example.com"

	step(t, b, "SignUpOnPasskeyd", func(t *testing.T) {
		signUp(t, b, srv, auth, email)
	})

	step(t, b, "FirstSignInAsksConsent", func(t *testing.T) {
		b.goTo(appURL + "/")
		b.waitFor("the app's sign-in button", `!!document.getElementById("login")`)
		b.click("login")
		b.signInAtPasskeyd(auth)
		b.confirmAddressAtPasskeyd(t, srv, email)
		b.waitFor("the consent page", `location.pathname === "/oidc/login" && !!document.getElementById("allow")`)
		var text string
		b.eval(`document.querySelector("main").textContent`, &text)
		wantContains(t, "consent page", text, "Example app", email, "email address")
		b.shot("consent")
		b.click("allow")
		b.waitFor("the app to show the email", shows(appURL, "#email", email))
		b.shot("signed in to the app")
	})

	step(t, b, "SecondSignInSkipsConsent", func(t *testing.T) {
		// Signing out of the app signs out of passkeyd too (RP-initiated
		// logout), so the passkey is needed again, but not the consent.
		b.click("logout")
		b.waitFor("the app signed out", `location.origin === `+jsString(appURL)+` && !!document.getElementById("signed-out")`)
		b.click("login")
		b.signInAtPasskeyd(auth)
		b.waitFor("the app to show the email without a consent page", shows(appURL, "#email", email))
	})

	step(t, b, "RevokeInConnectedApps", func(t *testing.T) {
		b.open("/dashboard")
		b.waitFor("Example app in Connected apps", `!!document.querySelector('#apps [data-client-id="example-app"] button')`)
		b.shot("connected apps")
		b.clickSel(`#apps [data-client-id="example-app"] button[data-action="revoke-app"]`)
		st := b.waitStatus("success")
		wantContains(t, "revoke message", st.Status, "Example app")
		b.waitFor("the app gone from the list", `!document.querySelector('#apps [data-client-id="example-app"]')`)

		b.goTo(appURL + "/")
		b.waitFor("the app's refresh button", `!!document.getElementById("refresh")`)
		b.click("refresh")
		b.waitFor("the app's refresh to fail", shows(appURL, "#message", "Refresh failed"))
		b.shot("refresh refused after revoking")
	})

	step(t, b, "NewUserSignsUpFromTheApp", func(t *testing.T) {
		// Someone else, on this computer, without an account yet.
		b.removeAuthenticator(auth)
		other := b.addAuthenticator(internal, true)
		const newcomer = "newcomer@example.com"
		b.click("logout") // the app's, which signs out of passkeyd too
		b.waitFor("the app signed out", `location.origin === `+jsString(appURL)+` && !!document.getElementById("signed-out")`)
		b.click("login")
		b.waitFor("the sign-in page of passkeyd", `location.pathname === "/oidc/login" && !!document.getElementById("signup-button")`)
		b.typeEmail(newcomer)
		b.present(other, true)
		b.click("signup-button")
		b.waitFor("the account created", `document.getElementById("status").textContent.includes("Account created") && !document.getElementById("signin-button").disabled`)
		b.shot("account created from the app")
		b.present(other, true) // the presence gate turned it off after the registration
		b.click("signin-button")
		b.confirmAddressAtPasskeyd(t, srv, newcomer)
		b.waitFor("the consent page", `location.pathname === "/oidc/login" && !!document.getElementById("allow")`)
		b.click("allow")
		b.waitFor("the app to show the newcomer's email", shows(appURL, "#email", newcomer))
		if _, creds := srv.mustUser(t, newcomer); len(creds) != 1 {
			t.Errorf("store: %s has %d passkeys, want 1", newcomer, len(creds))
		}
	})

	step(t, b, "SignOutWithoutHintAsks", func(t *testing.T) {
		// Any site can send the browser to end_session; without an
		// id_token_hint passkeyd asks, and only the button signs out.
		back := url.Values{"client_id": {"example-app"}, "post_logout_redirect_uri": {appURL + "/"}}
		b.goTo(srv.URL + "/oidc/end_session?" + back.Encode())
		b.waitFor("the sign-out confirmation", `!!document.getElementById("sign-out")`)
		var text string
		b.eval(`document.querySelector("main").textContent`, &text)
		wantContains(t, "sign-out page", text, "Sign out of passkeyd?", "Example app", "newcomer@example.com")
		b.shot("sign out of passkeyd")
		if sessions := srv.sessionIDs(t); len(sessions) == 0 {
			t.Fatal("showing the sign-out page signed the user out")
		}
		b.click("sign-out")
		b.waitFor("back at the app", `location.origin === `+jsString(appURL))
		b.open("/dashboard")
		b.waitFor("the start page: signed out", `location.pathname === "/"`)
	})

	step(t, b, "ErrorPagesArePasskeyds", func(t *testing.T) {
		for _, c := range []struct{ name, url, text string }{
			{"unknown app", srv.URL + "/oidc/authorize?" + url.Values{"client_id": {"nobody"}, "redirect_uri": {appURL + "/callback"},
				"response_type": {"code"}, "scope": {"openid"}}.Encode(), "not registered with passkeyd"},
			{"implicit flow", srv.URL + "/oidc/authorize?" + url.Values{"client_id": {"example-app"}, "redirect_uri": {appURL + "/callback"},
				"response_type": {"token"}, "scope": {"openid"}}.Encode(), "response_type=code"},
			{"unregistered post-logout address", srv.URL + "/oidc/end_session?" + url.Values{"client_id": {"example-app"},
				"post_logout_redirect_uri": {"https://evil.example/"}}.Encode(), "not registered"},
		} {
			b.goTo(c.url)
			b.waitFor("the error page", `!!document.querySelector("main.card .status-error")`)
			var text string
			b.eval(`document.querySelector("main").textContent`, &text)
			wantContains(t, c.name+" page", text, c.text)
			b.shot(c.name)
		}
	})
}

// goTo opens an absolute URL, on any host: an app's pages.
func (b *browser) goTo(url string) {
	b.t.Helper()
	b.call("open "+url, func(ctx context.Context) error { return chromedp.Do(ctx, chromedp.Navigate(url)) })
}

// waitFor polls a JavaScript condition on whatever page is shown, once it
// has loaded.
func (b *browser) waitFor(what, js string) {
	b.t.Helper()
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+js+`)`))
		if err == nil && ok {
			return
		}
		select {
		case <-b.ctx.Done():
			b.fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// shows is a JavaScript condition: the page is on origin, and the element
// matching sel contains text.
func shows(origin, sel, text string) string {
	return `location.origin === ` + jsString(origin) + ` && !!document.querySelector(` +
		jsString(sel) + `) && document.querySelector(` + jsString(sel) + `).textContent.includes(` + jsString(text) + `)`
}

// signInAtPasskeyd waits for passkeyd's sign-in page, where an app sent
// the browser, and signs in there with the passkey of auth.
func (b *browser) signInAtPasskeyd(auth webauthn.AuthenticatorID) {
	b.t.Helper()
	b.waitFor("the sign-in page of passkeyd", `location.pathname === "/oidc/login" && !!document.getElementById("signin-button")`)
	b.shot("passkeyd sign-in for the app")
	b.present(auth, true)
	b.click("signin-button")
}

// confirmAddressAtPasskeyd: after the passkey, passkeyd asks to confirm
// the address before going on to the app. The user sends a new link,
// confirms it on another device (their phone's mail app), and continues.
func (b *browser) confirmAddressAtPasskeyd(t *testing.T, srv *server, email string) {
	b.t.Helper()
	b.waitFor("the page asking to confirm the address", `location.pathname === "/oidc/login" && !!document.getElementById("resend-verification")`)
	var text string
	b.eval(`document.querySelector("main").textContent`, &text)
	wantContains(t, "confirm-address page", text, "Confirm your email address first", email)
	b.shot("confirm the address first")
	b.click("resend-verification")
	st := b.waitStatus("success")
	wantContains(t, "resend message", st.Status, email)
	srv.mailLink(t, email, "/verify-email") // the sign-up's, which the new link replaced
	link, _ := srv.mailLink(t, email, "/verify-email")
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"token": u.Query().Get("token")})
	res, err := http.Post(srv.URL+"/api/email/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("confirm %s on another device: status %d", email, res.StatusCode)
	}
	b.click("continue")
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
