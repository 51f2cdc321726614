package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// openLinkUnpressed opens a link from an email as a mail scanner that runs
// scripts would, waits until the page has settled (scripts run, no action
// in progress), and checks it offers the button, labelled label, and has
// done nothing yet.
func openLinkUnpressed(t *testing.T, b *browser, link, label, shot string) {
	t.Helper()
	b.openURL(link)
	st := b.waitIdle()
	b.shot(shot)
	if st.Kind != "" {
		t.Errorf("the page shows a %s message %q before the button is pressed", st.Kind, st.Status)
	}
	if st.Search != "" {
		t.Errorf("the page keeps %q in its address; the token must be removed", st.Search)
	}
	if !b.visible("#link-use") {
		t.Errorf("the page offers no button to use the link")
	}
	if got := b.texts("#link-use"); len(got) != 1 || got[0] != label {
		t.Errorf("the button reads %q, want %q", got, label)
	}
}

// Scenario 12: the pages emailed links open use the link's token only when
// the visitor presses the button. Mail scanners open links, and some run
// scripts: opening the page alone must not confirm an address nobody looked
// at, nor sign the owner out everywhere with a recovery.
func TestEmailLinksWaitForAPress(t *testing.T) {
	chromium(t)
	srv := startServer(t, withMail(t))
	b := newBrowser(t, srv)
	const email, newEmail = "noah@example.com", "noah.new@example.com"
	phone := b.addAuthenticator(internal, false)

	step(t, b, "VerifyEmail", func(t *testing.T) {
		signUp(t, b, srv, phone, email)
		link, _ := srv.mailLink(t, email, "/verify-email")
		openLinkUnpressed(t, b, link, "Confirm this address", "verification link opened")
		if u, _ := srv.mustUser(t, email); !u.EmailVerifiedAt.IsZero() {
			t.Fatalf("store: opening the page verified the address before the button was pressed")
		}
		b.click("link-use")
		st := b.waitStatus("success")
		b.shot("address verified")
		wantContains(t, "success message", st.Status, "verified", email)
		if b.visible("#link-use") {
			t.Errorf("the button is still offered after the address was verified")
		}
		if u, _ := srv.mustUser(t, email); u.EmailVerifiedAt.IsZero() {
			t.Errorf("store: the address is not verified after the button was pressed")
		}
	})

	step(t, b, "ConfirmNewEmail", func(t *testing.T) {
		signIn(t, b, phone, "", email)
		b.clickSel("#change-email-details summary")
		b.waitVisible("#new-email")
		b.fill("#new-email", newEmail)
		b.click("change-email")
		b.waitStatus("success")
		link, _ := srv.mailLink(t, newEmail, "/confirm-email")
		openLinkUnpressed(t, b, link, "Confirm this address", "email change link opened")
		if u, _ := srv.mustUser(t, email); u.Email != email {
			t.Fatalf("store: opening the page changed the address to %q before the button was pressed", u.Email)
		}
		b.click("link-use")
		st := b.waitStatus("success")
		b.shot("new address confirmed")
		wantContains(t, "success message", st.Status, newEmail)
		if u, _ := srv.mustUser(t, newEmail); u.Email != newEmail {
			t.Errorf("store: address %q after the button was pressed, want %q", u.Email, newEmail)
		}
	})

	step(t, b, "RecoveryLink", func(t *testing.T) {
		// This browser's session stands for a device the owner still has;
		// the page is opened as a newcomer without cookies.
		signedIn := b.cookies()
		b.clearCookies()
		sessions := srv.sessionIDs(t)
		b.open("/recover")
		b.fill("#recover-email", newEmail)
		b.click("send-link")
		b.waitStatus("success")
		link, _ := srv.mailLink(t, newEmail, "/recover/email")

		openLinkUnpressed(t, b, link, "Continue to recover your account", "recovery link opened")
		b.phoneLayout("recovery link opened")
		if b.visible("#create-passkey") {
			t.Errorf("the new-passkey step is offered before the button was pressed")
		}
		if got := srv.me(t, signedIn); got != 200 {
			t.Fatalf("opening the recovery page signed the owner's other device out (GET /api/auth/me: %d, want 200)", got)
		}
		if got := srv.sessionIDs(t); len(got) != len(sessions) {
			t.Fatalf("store: %d sessions after opening the recovery page, want the %d from before", len(got), len(sessions))
		}

		// A reload finds the token gone from the address; the page says
		// what to do, and the link is still unused.
		b.call("reload", func(ctx context.Context) error { return chromedp.Do(ctx, chromedp.Reload()) })
		st := b.waitStatus("error")
		b.shot("recovery page reloaded")
		wantContains(t, "error message", st.Status, "link from your email")
		if b.visible("#link-use") {
			t.Errorf("the reloaded page offers the button without a token")
		}

		openLinkUnpressed(t, b, link, "Continue to recover your account", "recovery link opened again")
		b.click("link-use")
		b.waitVisible("#create-passkey")
		st = b.waitStatus("success")
		b.shot("recovery link used")
		wantContains(t, "success message", st.Status, "new passkey", newEmail)
		if got := srv.me(t, signedIn); got != 401 {
			t.Errorf("GET /api/auth/me with the other device's cookies after the recovery: %d, want 401", got)
		}
	})
}
