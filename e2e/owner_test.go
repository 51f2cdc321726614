package e2e

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// requestEmailChange asks, on the dashboard, to change the address to to.
func requestEmailChange(t *testing.T, b *browser, to string) {
	t.Helper()
	b.open("/dashboard")
	b.waitPath("/dashboard")
	b.clickSel("#change-email-details summary")
	b.waitVisible("#new-email")
	b.fill("#new-email", to)
	b.click("change-email")
	b.waitStatus("success")
}

// Issue 13.1: someone who holds the owner's session for a moment asks to
// move the account to their own address. The address in use hears of it at
// once, with a link that cancels the change; the request and the cancel are
// in the security log; and signing out everywhere else ends the pending
// change, so the other person's confirmation link is refused later.
func TestEmailChangeRequestedByAnother(t *testing.T) {
	chromium(t)
	srv := startServer(t, withMail(t))
	b := newBrowser(t, srv)
	const owner, eve, eve2 = "olive@example.com", "eve@example.net", "eve2@example.net"
	laptop := b.addAuthenticator(internal, false)
	signUp(t, b, srv, laptop, owner)

	step(t, b, "SignOutEverywhereElseEndsTheChange", func(t *testing.T) {
		signIn(t, b, laptop, "", owner)
		requestEmailChange(t, b, eve) // at the owner's unlocked laptop
		confirm, _ := srv.mailLink(t, eve, "/confirm-email")
		_, notice := srv.mailLink(t, owner, "/cancel-email-change")
		wantContains(t, "notice to the address in use", notice.Text, eve, "cancel")
		waitLog(t, b, "email_change_requested")
		wantLogLabel(t, b, "email_change_requested", "Email address change requested")

		// The owner, signed in elsewhere, signs out every other session.
		b.clearCookies()
		signIn(t, b, laptop, "", owner)
		b.waitVisible("#revoke-others")
		b.click("revoke-others")
		b.waitStatus("success")

		// Later, with no session at all, the other person confirms.
		b.clearCookies()
		b.openURL(confirm)
		b.click("link-use")
		st := b.waitStatus("error")
		b.shot("confirmation refused after sign out everywhere else")
		wantContains(t, "error message", st.Status, "not valid")
		if u, _ := srv.mustUser(t, owner); u.Email != owner {
			t.Errorf("store: the address is %q, want %q still", u.Email, owner)
		}
	})

	step(t, b, "CancelLink", func(t *testing.T) {
		signIn(t, b, laptop, "", owner)
		requestEmailChange(t, b, eve2)
		confirm, _ := srv.mailLink(t, eve2, "/confirm-email")
		cancel, _ := srv.mailLink(t, owner, "/cancel-email-change")
		openLinkUnpressed(t, b, cancel, "Cancel this change", "cancel link opened")
		b.click("link-use")
		st := b.waitStatus("success")
		b.shot("email change cancelled")
		wantContains(t, "success message", st.Status, "cancelled", owner, "signed out")
		if b.visible("#link-use") {
			t.Errorf("the cancel button is still offered after the change was cancelled")
		}
		// The session that asked for the change (this browser's) is over.
		b.open("/dashboard")
		b.waitPath("/")
		signIn(t, b, laptop, "", owner)
		waitLog(t, b, "email_change_cancelled")
		wantLogLabel(t, b, "email_change_cancelled", "Email address change cancelled")

		b.clearCookies()
		b.openURL(confirm)
		b.click("link-use")
		b.waitStatus("error")
		if u, _ := srv.mustUser(t, owner); u.Email != owner {
			t.Errorf("store: the address is %q after a cancelled change, want %q", u.Email, owner)
		}
	})
}

// wantLogLabel checks that the security log shows typ's event in words.
func wantLogLabel(t *testing.T, b *browser, typ, label string) {
	t.Helper()
	got := b.texts(fmt.Sprintf(`#security-log li[data-event-type=%q] .item-title`, typ))
	if len(got) == 0 || !strings.HasPrefix(got[0], label) {
		t.Errorf("security log shows %s as %q, want %q", typ, got, label)
	}
}

// Deleting the passkey this browser signed in with ends this browser's
// session: the page goes to the sign-in page and says why, rather than
// reporting success and then failing to load the rest of the dashboard.
func TestDeleteThePasskeySignedInWith(t *testing.T) {
	b, srv := setup(t)
	const email = "dana@example.com"
	laptop := b.addAuthenticator(internal, true)
	signUp(t, b, srv, laptop, email)
	signIn(t, b, laptop, "", email)
	key := b.addAuthenticator(securityKey, false)
	b.present(key, true)
	b.click("add-passkey")
	b.waitUntil("two passkeys on the dashboard", func(s pageState) bool { return len(s.Passkeys) == 2 })
	signOut(t, b)
	b.present(laptop, false)
	signIn(t, b, key, email, email)

	ids := passkeyIDs(t, srv, email) // oldest first: the key's is second
	item := passkeyItem(ids[1])
	b.clickSel(item + ` [data-action="delete"]`)
	b.waitVisible(item + ` [data-form="delete"]`)
	b.clickSel(item + ` [data-action="confirm-delete"]`)
	st := b.waitPath("/")
	b.waitVisible("#notice")
	b.shot("signed out after deleting the passkey signed in with")
	if notice := b.texts("#notice"); len(notice) != 1 || !strings.Contains(notice[0], "signed out") || !strings.Contains(notice[0], "another passkey") {
		t.Errorf("sign-in page notice %q, want one saying the browser was signed out", notice)
	}
	if st.Kind == "error" {
		t.Errorf("the page shows the error %q", st.Status)
	}
	if got := b.me(); got != 401 {
		t.Errorf("GET /api/auth/me after deleting the passkey signed in with: %d, want 401", got)
	}
	if got := passkeyIDs(t, srv, email); len(got) != 1 || got[0] != ids[0] {
		t.Errorf("store: passkeys %q, want %q", got, ids[:1])
	}
}

// Issue 13.6: someone signs up with another person's address and never
// confirms it. The owner of the address, on "Lost your passkey?", gets a
// takeover link; pressing its button removes the other person's passkey
// and session, and the owner creates their own passkey.
func TestTakeoverOfUnconfirmedAccount(t *testing.T) {
	chromium(t)
	srv := startServer(t, withMail(t))
	b := newBrowser(t, srv)
	const email = "tess@example.com"
	mallorys := b.addAuthenticator(internal, false)
	signUp(t, b, srv, mallorys, email)
	signIn(t, b, mallorys, "", email)
	mallory := b.cookies()
	b.clearCookies()
	b.present(mallorys, false)
	verify, _ := srv.mailLink(t, email, "/verify-email")

	step(t, b, "VerifyPageWarns", func(t *testing.T) {
		b.openURL(verify)
		b.waitIdle()
		u, _ := srv.mustUser(t, email)
		got := b.texts("#created-warning")
		if len(got) != 1 || !strings.Contains(got[0], "Confirm only if you created this account on "+u.CreatedAt.UTC().Format("2 Jan 2006")) ||
			!strings.Contains(got[0], "Lost your passkey?") {
			t.Errorf("the confirmation page says %q, want it to name the creation day and point to Lost your passkey?", got)
		}
	})

	owners := b.addAuthenticator(securityKey, false)
	step(t, b, "TakeOver", func(t *testing.T) {
		b.open("/recover")
		b.fill("#recover-email", email)
		b.click("send-link")
		b.waitStatus("success")
		link, _ := srv.mailLink(t, email, "/recover/takeover")
		openLinkUnpressed(t, b, link, "Make this account mine", "takeover link opened")
		if _, creds := srv.mustUser(t, email); len(creds) != 1 {
			t.Fatalf("store: opening the page removed passkeys before the button was pressed")
		}
		b.click("link-use")
		b.waitVisible("#create-passkey")
		st := b.waitStatus("success")
		b.shot("takeover accepted")
		wantContains(t, "success message", st.Status, "new passkey", email)
		if got := srv.me(t, mallory); got != 401 {
			t.Errorf("GET /api/auth/me with the other person's cookies after the takeover: %d, want 401", got)
		}
		b.present(owners, true)
		b.click("create-passkey")
		st = b.waitPath("/dashboard")
		if st.UserEmail != email {
			t.Fatalf("dashboard shows %q, want %q", st.UserEmail, email)
		}
		u, creds := srv.mustUser(t, email)
		if len(creds) != 1 || !slices.Equal(st.Passkeys, []string{creds[0].ID}) {
			t.Errorf("store: %d passkeys, dashboard %q; want only the owner's new one", len(creds), st.Passkeys)
		}
		if pk := b.onlyPasskey(owners); len(creds) == 1 && !bytes.Equal(creds[0].CredentialID, pk.CredentialID) {
			t.Errorf("store: the passkey left is not the owner's")
		}
		if u.EmailVerifiedAt.IsZero() {
			t.Errorf("store: the address is not confirmed after the takeover")
		}
		b.waitVisible(`#email-state[data-verified="true"]`)
		waitLog(t, b, "account_taken_over")
		wantLogLabel(t, b, "account_taken_over", "Account taken over by the owner of its address")
	})
}
