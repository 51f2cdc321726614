package e2e

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestNameShownToApps: a user who signed up has no name for apps (not
// their email); they set a name and username in the dashboard's form, a
// bad username is refused with the rule, and an app's consent page then
// lists the name and username, and under openid profile nothing else.
func TestNameShownToApps(t *testing.T) {
	chromium(t)
	const appURL = "http://localhost:9/app" // registered only: the browser never goes there
	srv := startServer(t, withOIDCClient(t, appURL), withMail(t))
	b := newBrowser(t, srv)
	auth := b.addAuthenticator(internal, true)
	const email = "ada@example.com"

	step(t, b, "SignUpAndIn", func(t *testing.T) {
		signUp(t, b, srv, auth, email)
		srv.confirmAddress(t, email)
		signIn(t, b, auth, "", email)
		var name, username string
		b.eval(`document.getElementById("display-name").value`, &name)
		b.eval(`document.getElementById("username").value`, &username)
		if name != "" || username != "" {
			t.Errorf("after sign-up the form shows name %q, username %q; want both empty (never the email)", name, username)
		}
	})

	authorize := func(scope string) {
		q := url.Values{"client_id": {"example-app"}, "redirect_uri": {appURL + "/callback"}, "response_type": {"code"},
			"scope": {scope}, "state": {"st"}, "prompt": {"consent"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		b.goTo(srv.URL + "/oidc/authorize?" + q.Encode())
		b.waitFor("the consent page", `location.pathname === "/oidc/login" && !!document.getElementById("allow")`)
	}

	step(t, b, "ConsentWithNoNameSet", func(t *testing.T) {
		authorize("openid email profile")
		b.shot("consent for openid email profile, no name set")
		if got, want := b.attrs("li.item[data-claim]", "data-claim"), []string{"sub", "email", "email_verified"}; !slices.Equal(got, want) {
			t.Errorf("the consent page lists the claims %v, want %v", got, want)
		}
		b.open("/dashboard")
		b.waitPath("/dashboard")
	})

	step(t, b, "BadUsernameRefused", func(t *testing.T) {
		b.fill("#display-name", "Ada Lovelace")
		b.fill("#username", "Ada Lovelace")
		b.click("save-profile")
		st := b.waitStatus("error")
		wantContains(t, "error message", st.Status, "lowercase letters")
		if u, _ := srv.mustUser(t, email); u.DisplayName != "" || u.Username != "" {
			t.Errorf("store after a refused username: %q, %q; want nothing written", u.DisplayName, u.Username)
		}
	})

	step(t, b, "SetNameAndUsername", func(t *testing.T) {
		b.fill("#username", "ada.l")
		// Enter in the field, as people do: the error line shown at the
		// bottom of the window may cover the button.
		b.call("press Enter in #username", func(ctx context.Context) error {
			return chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("username"), "\r"))
		})
		b.waitStatus("success")
		waitLog(t, b, "profile_changed")
		b.shot("dashboard with the name form")
		if u, _ := srv.mustUser(t, email); u.DisplayName != "Ada Lovelace" || u.Username != "ada.l" {
			t.Errorf("store: name %q, username %q; want Ada Lovelace, ada.l", u.DisplayName, u.Username)
		}
		b.open("/dashboard")
		b.waitPath("/dashboard")
		var name string
		b.eval(`document.getElementById("display-name").value`, &name)
		if name != "Ada Lovelace" {
			t.Errorf("after a reload the form shows %q", name)
		}
	})

	step(t, b, "ConsentListsTheClaims", func(t *testing.T) {
		authorize("openid profile")
		b.shot("consent for openid profile")
		if got, want := b.attrs("li.item[data-claim]", "data-claim"), []string{"sub", "name", "preferred_username"}; !slices.Equal(got, want) {
			t.Errorf("the consent page lists the claims %v, want %v", got, want)
		}
		items := b.texts("li.item")
		wantContains(t, "consent items", strings.Join(items, "\n"), "Your name: Ada Lovelace", "Your username: ada.l")
		for _, item := range items {
			if strings.Contains(item, "ada@") {
				t.Errorf("a consent item names the email under openid profile: %q", item)
			}
		}
	})
}
