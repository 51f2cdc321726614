package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/passkeyd/passkeyd/internal/testserver"
)

// passkeyItem is the CSS selector of a passkey's entry on the dashboard.
func passkeyItem(id string) string {
	return fmt.Sprintf(`#passkeys li[data-passkey-id=%q]`, id)
}

// requireSignal returns when this Chromium has the WebAuthn Signal API
// method, whose calls the virtual authenticator then acts on. Without it
// the check cannot run: a local run skips the rest of the scenario and says
// so; under CI=true the scenario fails, since CI's Chromium must check it.
// Call it where only signal checks are left in the scenario.
func requireSignal(t *testing.T, b *browser, method string) {
	t.Helper()
	var ok bool
	b.eval(`typeof PublicKeyCredential.`+method+` === "function"`, &ok)
	if ok {
		return
	}
	msg := "this Chromium has no PublicKeyCredential." + method + ", so the page's call to it is not checked"
	if testserver.InCI() {
		t.Fatal(msg + " (CI=true: run a Chromium that has it)")
	}
	t.Skip(msg + "; skipped (under CI=true this fails)")
}

// waitHeld waits until the authenticator holds n passkeys.
func waitHeld(t *testing.T, b *browser, auth webauthn.AuthenticatorID, n int, why string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := len(b.passkeys(auth))
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the authenticator holds %d passkeys, want %d (%s)", got, n, why)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until the dashboard's security log lists an event of type.
func waitLog(t *testing.T, b *browser, typ string) {
	t.Helper()
	sel := fmt.Sprintf(`#security-log li[data-event-type=%q]`, typ)
	b.waitUntil("a "+typ+" event in the security log", func(pageState) bool {
		n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		return err == nil && n > 0
	})
}

// Scenario 9: a signed-in user renames a passkey, deletes one of two after
// confirming, and is refused when deleting the last one while the account
// has no other way back in.
func TestManagePasskeys(t *testing.T) {
	b, srv := setup(t)
	const email = "lin@example.com"
	laptop := b.addAuthenticator(internal, true)

	step(t, b, "SignUpAndIn", func(t *testing.T) {
		signUp(t, b, srv, laptop, email)
		st := signIn(t, b, laptop, "", email)
		if len(st.Names) != 1 {
			t.Fatalf("dashboard names %q, want one passkey", st.Names)
		}
		// The sessions list shows this browser's session, and nothing to
		// sign out elsewhere.
		b.waitVisible(`#sessions li[data-session-id].current`)
		if n := len(b.attrs(`#sessions li[data-session-id]`, "data-session-id")); n != 1 {
			t.Errorf("sessions list shows %d sessions, want 1", n)
		}
		if b.visible("#revoke-others") {
			t.Errorf(`"Sign out everywhere else" is offered with no other session`)
		}
		waitLog(t, b, "login_succeeded")
		b.shot("dashboard")
	})

	key := b.addAuthenticator(securityKey, false)
	step(t, b, "AddSecurityKey", func(t *testing.T) {
		b.present(key, true)
		b.click("add-passkey")
		st := b.waitUntil("two passkeys on the dashboard", func(s pageState) bool { return len(s.Passkeys) == 2 })
		if want := passkeyIDs(t, srv, email); !slices.Equal(st.Passkeys, want) {
			t.Errorf("dashboard lists %q, want %q", st.Passkeys, want)
		}
		waitLog(t, b, "passkey_added")
		b.shot("two passkeys")
	})

	const newName = "Work laptop ✓"
	step(t, b, "Rename", func(t *testing.T) {
		ids := passkeyIDs(t, srv, email)
		item := passkeyItem(ids[0])
		b.clickSel(item + ` [data-action="rename"]`)
		b.waitVisible(item + ` form[data-form="rename"]`)
		b.fill(item+` input[name="name"]`, newName)
		b.shot("rename form")
		b.clickSel(item + ` [data-action="save-name"]`)
		st := b.waitStatus("success")
		wantContains(t, "success message", st.Status, "renamed", newName)
		if st.Names[0] != newName {
			t.Errorf("dashboard names %q after the rename, want %q first", st.Names, newName)
		}
		if b.visible(item + ` form[data-form="rename"]`) {
			t.Errorf("the rename form stays open after saving")
		}
		waitLog(t, b, "passkey_renamed")
		b.shot("renamed")

		b.open("/dashboard")
		st = b.waitPath("/dashboard")
		if want := []string{newName}; len(st.Names) != 2 || st.Names[0] != newName {
			t.Errorf("after a reload the dashboard names %q, want %q first", st.Names, want)
		}
		_, creds := srv.mustUser(t, email)
		if creds[0].Name != newName {
			t.Errorf("store: the passkey is named %q, want %q", creds[0].Name, newName)
		}
		if creds[1].Name == newName {
			t.Errorf("store: the other passkey was renamed too")
		}
	})

	step(t, b, "CancelDelete", func(t *testing.T) {
		ids := passkeyIDs(t, srv, email)
		item := passkeyItem(ids[1])
		b.clickSel(item + ` [data-action="delete"]`)
		b.waitVisible(item + ` [data-form="delete"]`)
		b.clickSel(item + ` [data-form="delete"] [data-action="cancel"]`)
		b.waitVisible(item + ` [data-action="delete"]`)
		if _, creds := srv.mustUser(t, email); len(creds) != 2 {
			t.Errorf("store: %d passkeys after cancelling a delete, want 2", len(creds))
		}
	})

	step(t, b, "DeleteSecond", func(t *testing.T) {
		ids := passkeyIDs(t, srv, email)
		item := passkeyItem(ids[1])
		b.clickSel(item + ` [data-action="delete"]`)
		b.waitVisible(item + ` [data-form="delete"]`)
		b.shot("delete confirmation")
		b.clickSel(item + ` [data-action="confirm-delete"]`)
		st := b.waitStatus("success")
		wantContains(t, "success message", st.Status, "deleted")
		st = b.waitUntil("one passkey on the dashboard", func(s pageState) bool { return len(s.Passkeys) == 1 })
		if !slices.Equal(st.Passkeys, ids[:1]) {
			t.Errorf("dashboard lists %q after the delete, want %q", st.Passkeys, ids[:1])
		}
		waitLog(t, b, "passkey_deleted")
		b.shot("one passkey left")
		if got := passkeyIDs(t, srv, email); !slices.Equal(got, ids[:1]) {
			t.Errorf("store: passkeys %q after the delete, want %q", got, ids[:1])
		}
		if n := len(b.passkeys(laptop)); n != 1 {
			t.Errorf("the laptop holds %d passkeys, want its 1 (the signals must not touch it)", n)
		}
		b.open("/dashboard")
		if st := b.waitPath("/dashboard"); len(st.Passkeys) != 1 {
			t.Errorf("after a reload the dashboard lists %q, want one passkey", st.Passkeys)
		}
		// signalUnknownCredential: the security key forgets the passkey.
		requireSignal(t, b, "signalUnknownCredential")
		waitHeld(t, b, key, 0, "signalUnknownCredential after the delete")
	})

	step(t, b, "LastPasskeyRefused", func(t *testing.T) {
		ids := passkeyIDs(t, srv, email)
		item := passkeyItem(ids[0])
		b.clickSel(item + ` [data-action="delete"]`)
		b.waitVisible(item + ` [data-form="delete"]`)
		b.clickSel(item + ` [data-action="confirm-delete"]`)
		st := b.waitStatus("error")
		b.shot("last passkey refused")
		// The server's reason, not a generic failure.
		wantContains(t, "error message", st.Status, "only passkey", "recovery codes")
		if strings.Contains(st.Status, "HTTP") {
			t.Errorf("error message %q, want the server's explanation", st.Status)
		}
		if !slices.Equal(st.Passkeys, ids) {
			t.Errorf("dashboard lists %q after the refusal, want %q", st.Passkeys, ids)
		}
		if got := passkeyIDs(t, srv, email); !slices.Equal(got, ids) {
			t.Errorf("store: passkeys %q after the refusal, want %q", got, ids)
		}
		if n := len(b.passkeys(laptop)); n != 1 {
			t.Errorf("the laptop holds %d passkeys after a refused delete, want 1", n)
		}
		if !b.visible(item + ` [data-action="delete"]`) {
			t.Errorf("after the refusal the passkey's controls are not back")
		}
		signOut(t, b)
		signIn(t, b, laptop, email, email) // the refused delete left a working passkey
	})

	sessions := func(n int) []string {
		t.Helper()
		b.waitUntil(fmt.Sprintf("%d sessions listed", n), func(pageState) bool {
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions li[data-session-id]").length`))
			return err == nil && got == n
		})
		return b.attrs("#sessions li[data-session-id]", "data-session-id")
	}

	step(t, b, "SignOutAnotherSession", func(t *testing.T) {
		other := b.cookies() // this session becomes "another device"
		b.clearCookies()
		signIn(t, b, laptop, "", email)
		sessions(2)
		if n := len(b.attrs("#sessions li.current", "data-session-id")); n != 1 {
			t.Errorf("%d sessions marked as this browser's, want 1", n)
		}
		if !b.visible("#revoke-others") {
			t.Errorf(`no "Sign out everywhere else" with another session listed`)
		}
		b.shot("two sessions")
		b.clickSel(`#sessions li[data-session-id]:not(.current) [data-action="revoke-session"]`)
		b.waitStatus("success")
		ids := sessions(1)
		if got := srv.sessionIDs(t); !slices.Equal(got, ids) {
			t.Errorf("store: sessions %q, the page lists %q", got, ids)
		}
		if got := srv.me(t, other); got != 401 {
			t.Errorf("GET /api/auth/me with the signed-out session's cookies: %d, want 401", got)
		}
		if got := b.me(); got != 200 {
			t.Errorf("GET /api/auth/me in this browser: %d, want 200", got)
		}
		waitLog(t, b, "session_revoked")
	})

	step(t, b, "SignOutEverywhereElse", func(t *testing.T) {
		other := b.cookies()
		b.clearCookies()
		signIn(t, b, laptop, "", email)
		sessions(2)
		b.click("revoke-others")
		st := b.waitStatus("success")
		b.shot("signed out everywhere else")
		wantContains(t, "success message", st.Status, "1 other session")
		sessions(1)
		if b.visible("#revoke-others") {
			t.Errorf(`"Sign out everywhere else" still offered with no other session`)
		}
		if got := srv.me(t, other); got != 401 {
			t.Errorf("GET /api/auth/me with a signed-out session's cookies: %d, want 401", got)
		}
		if got := b.me(); got != 200 {
			t.Errorf("GET /api/auth/me in this browser: %d, want 200", got)
		}
	})
}

// Scenario 10: recovery by email. The address is verified through the link
// mailed at sign-up; the passkey is lost (the device still signed in
// somewhere); a recovery link from /recover lets the owner make a new
// passkey, signs them in, and ends every other session.
func TestRecoveryByEmail(t *testing.T) {
	chromium(t)
	srv := startServer(t, withMail(t))
	b := newBrowser(t, srv)
	const email = "mia@example.com"
	phone := b.addAuthenticator(internal, false)

	step(t, b, "SignUpAndVerifyEmail", func(t *testing.T) {
		signUp(t, b, srv, phone, email)
		link, msg := srv.mailLink(t, email, "/verify-email")
		t.Logf("verification email %q", msg.Subject)
		b.openURL(link)
		b.click("link-use")
		st := b.waitStatus("success")
		b.shot("email verified")
		wantContains(t, "success message", st.Status, "verified", email)
		if st.Search != "" {
			t.Errorf("the page keeps %q in its address; the token must be removed", st.Search)
		}
		if u, _ := srv.mustUser(t, email); u.EmailVerifiedAt.IsZero() {
			t.Errorf("store: the address is not verified after following the link")
		}
		// The link works once.
		b.openURL(link)
		b.click("link-use")
		st = b.waitStatus("error")
		b.shot("verification link used twice")
	})

	var lostDevice []*http.Cookie
	step(t, b, "SignedInOnTheDeviceToLose", func(t *testing.T) {
		signIn(t, b, phone, "", email)
		b.waitVisible(`#email-state[data-verified="true"]`)
		b.shot("dashboard with a verified address")
		lostDevice = b.cookies()
		// This browser becomes a new device: no cookies, no passkey. The
		// lost one stays signed in until the recovery.
		b.clearCookies()
		b.removePasskey(phone, b.onlyPasskey(phone).CredentialID)
		if got := srv.me(t, lostDevice); got != 200 {
			t.Fatalf("GET /api/auth/me with the lost device's cookies: %d, want 200", got)
		}
	})

	var link string
	step(t, b, "RequestLink", func(t *testing.T) {
		b.open("/")
		b.waitAutofill("pending")
		b.clickSel("#lost-passkey")
		b.waitPath("/recover")

		// An address without an account gets the same answer.
		const stranger = "nobody@example.com"
		b.fill("#recover-email", stranger)
		b.click("send-link")
		other := b.waitStatus("success")

		b.fill("#recover-email", email)
		b.click("send-link")
		st := b.waitStatus("success")
		b.shot("recovery link requested")
		b.phoneLayout("recovery page")
		if got, want := strings.ReplaceAll(other.Status, stranger, email), st.Status; got != want {
			t.Errorf("the answer differs by account:\n  %s: %q\n  %s: %q", email, st.Status, stranger, other.Status)
		}
		link, _ = srv.mailLink(t, email, "/recover/email")
		if n := len(srv.mailsTo(stranger)); n != 0 {
			t.Errorf("%d email sent to an address without an account", n)
		}
	})

	var before []string
	step(t, b, "FollowLink", func(t *testing.T) {
		before = srv.sessionIDs(t)
		b.openURL(link)
		b.click("link-use")
		st := b.waitVisible("#create-passkey")
		st = b.waitStatus("success")
		b.shot("recovery link accepted")
		b.phoneLayout("new passkey step")
		wantContains(t, "success message", st.Status, "new passkey", email)
		if st.Search != "" {
			t.Errorf("the page keeps %q in its address; the token must be removed", st.Search)
		}
		if got := b.texts("#new-passkey-email"); len(got) != 1 || got[0] != email {
			t.Errorf("the new-passkey step names %q, want %q", got, email)
		}
		var cc string
		b.eval(`document.body.dataset.conditionalCreate || ""`, &cc)
		t.Logf("conditional create: %q", cc)
		// A recovery session opens nothing but the new passkey.
		b.open("/dashboard")
		if st := b.state(); st.Path != "/" {
			t.Errorf("/dashboard in a recovery session shows %s, want a redirect to /", st.Path)
		}
		b.openURL(srv.URL + "/recover")
		b.waitVisible("#create-passkey") // the step is offered again
	})

	step(t, b, "CreateNewPasskey", func(t *testing.T) {
		b.present(phone, true)
		b.click("create-passkey")
		st := b.waitPath("/dashboard")
		b.shot("dashboard after recovery")
		if st.UserEmail != email {
			t.Fatalf("dashboard shows %q, want %q", st.UserEmail, email)
		}
		if got := b.me(); got != 200 {
			t.Errorf("GET /api/auth/me after the recovery: %d, want 200", got)
		}
		// The lost passkey stays listed (the owner may delete it), and the
		// new one joins it.
		_, creds := srv.mustUser(t, email)
		if len(creds) != 2 {
			t.Fatalf("store: %d passkeys after the recovery, want 2 (the lost one and the new one)", len(creds))
		}
		if pk := b.onlyPasskey(phone); !bytes.Equal(creds[1].CredentialID, pk.CredentialID) {
			t.Errorf("store: newest credential %x, the phone made %x", creds[1].CredentialID, pk.CredentialID)
		}
		if want := passkeyIDs(t, srv, email); !slices.Equal(st.Passkeys, want) {
			t.Errorf("dashboard lists %q, want %q", st.Passkeys, want)
		}
		if got := srv.me(t, lostDevice); got != 401 {
			t.Errorf("GET /api/auth/me with the lost device's cookies after the recovery: %d, want 401", got)
		}
		after := srv.sessionIDs(t)
		if len(after) != 1 {
			t.Errorf("store: %d sessions after the recovery, want 1 (this browser's)", len(after))
		}
		for _, id := range after {
			if slices.Contains(before, id) {
				t.Errorf("store: session %s from before the recovery is still there", id)
			}
		}
		waitLog(t, b, "recovery_used")
		b.shot("security log after recovery")
	})

	step(t, b, "LinkWorksOnce", func(t *testing.T) {
		b.openURL(link)
		b.click("link-use")
		st := b.waitStatus("error")
		b.shot("recovery link used twice")
		if b.visible("#create-passkey") {
			t.Errorf("a used link offers a new passkey")
		}
		if strings.Contains(st.Status, "HTTP") {
			t.Errorf("error message %q, want the server's explanation", st.Status)
		}
		if _, creds := srv.mustUser(t, email); len(creds) != 2 {
			t.Errorf("store: %d passkeys, want still 2", len(creds))
		}
	})

	step(t, b, "ChangeEmail", func(t *testing.T) {
		const newEmail = "mia.new@example.com"
		b.open("/dashboard")
		b.waitPath("/dashboard")
		b.clickSel("#change-email-details summary")
		b.waitVisible("#new-email")
		b.fill("#new-email", newEmail)
		b.click("change-email")
		st := b.waitStatus("success")
		b.shot("confirmation link sent")
		if u, _ := srv.mustUser(t, email); u.Email != email {
			t.Errorf("store: the address changed to %q before it was confirmed", u.Email)
		}
		link, _ := srv.mailLink(t, newEmail, "/confirm-email")
		b.openURL(link)
		b.click("link-use")
		st = b.waitStatus("success")
		b.shot("new address confirmed")
		wantContains(t, "success message", st.Status, newEmail)
		if st.Search != "" {
			t.Errorf("the page keeps %q in its address; the token must be removed", st.Search)
		}
		if u, _ := srv.mustUser(t, newEmail); u.Email != newEmail {
			t.Errorf("store: address %q, want %q", u.Email, newEmail)
		}
		b.open("/dashboard")
		if st := b.waitPath("/dashboard"); st.UserEmail != newEmail {
			t.Errorf("dashboard shows %q, want %q", st.UserEmail, newEmail)
		}
		waitLog(t, b, "email_changed")
		// The old address is told.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var subjects []string
			told := false
			for _, m := range srv.mailsTo(email) {
				subjects = append(subjects, m.Subject)
				told = told || strings.Contains(m.Text, newEmail)
			}
			if told {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("no email to the old address %s mentions the new one; received %q", email, subjects)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// Scenario 11: recovery codes are made on the dashboard and shown once;
// one of them gets the owner back in after the passkey is lost, once.
func TestRecoveryCodes(t *testing.T) {
	b, srv := setup(t)
	const email = "noor@example.com"
	phone := b.addAuthenticator(internal, false)

	step(t, b, "SignUpAndIn", func(t *testing.T) {
		signUp(t, b, srv, phone, email)
		signIn(t, b, phone, "", email)
		if got := b.texts("#codes-count"); len(got) != 1 || !strings.Contains(got[0], "no recovery codes") {
			t.Errorf("codes count says %q, want no recovery codes", got)
		}
	})

	var codes []string
	step(t, b, "Generate", func(t *testing.T) {
		b.click("generate-codes")
		b.waitStatus("success")
		b.waitVisible("#new-codes")
		codes = b.texts("#codes-list code")
		b.shot("recovery codes shown once")
		b.phoneLayout("recovery codes")
		if len(codes) < 8 {
			t.Fatalf("%d codes shown (%q), want at least 8", len(codes), codes)
		}
		for _, c := range codes {
			if len(c) < 10 {
				t.Errorf("code %q looks too short", c)
			}
		}
		if b.visible("#generate-codes") {
			t.Errorf("the generate button shows while the new codes wait to be saved")
		}
		b.click("codes-saved")
		st := b.waitStatus("success")
		b.shot("codes saved")
		wantContains(t, "success message", st.Status, strconv.Itoa(len(codes))+" unused codes")
		if b.visible("#new-codes") || len(b.texts("#codes-list code")) != 0 {
			t.Errorf("the codes stay on the page after \"I saved them\"")
		}
		if got := b.attrs("#codes-count", "data-count"); len(got) != 1 || got[0] != strconv.Itoa(len(codes)) {
			t.Errorf("codes count %q, want %d", got, len(codes))
		}
		waitLog(t, b, "recovery_codes_generated")

		// Shown once: not on the page after a reload.
		b.open("/dashboard")
		b.waitPath("/dashboard")
		var html string
		b.eval(`document.documentElement.outerHTML`, &html)
		for _, c := range codes {
			if strings.Contains(html, c) {
				t.Errorf("code %q is on the dashboard after a reload", c)
			}
		}
		if got := b.texts("#codes-count"); len(got) != 1 || !strings.Contains(got[0], strconv.Itoa(len(codes))+" unused codes") {
			t.Errorf("codes count after a reload says %q, want %d unused codes", got, len(codes))
		}
		if got := b.texts("#generate-codes"); len(got) != 1 || got[0] != "Regenerate codes" {
			t.Errorf("the button says %q, want Regenerate codes", got)
		}
	})

	step(t, b, "RecoverWithCode", func(t *testing.T) {
		signOut(t, b)
		b.removePasskey(phone, b.onlyPasskey(phone).CredentialID)
		b.open("/recover")
		b.waitIdle()
		b.clickSel("#recover-code summary") // "Use a recovery code instead"
		b.waitVisible("#recovery-code")
		b.fill("#code-email", email)
		b.fill("#recovery-code", codes[0])
		b.click("use-code")
		b.waitVisible("#create-passkey")
		st := b.waitStatus("success")
		b.shot("recovery code accepted")
		wantContains(t, "success message", st.Status, email)
		b.present(phone, true)
		b.click("create-passkey")
		st = b.waitPath("/dashboard")
		b.shot("dashboard after a recovery code")
		if st.UserEmail != email {
			t.Fatalf("dashboard shows %q, want %q", st.UserEmail, email)
		}
		if got := b.attrs("#codes-count", "data-count"); len(got) != 1 || got[0] != strconv.Itoa(len(codes)-1) {
			t.Errorf("codes count %q after using one, want %d", got, len(codes)-1)
		}
		_, creds := srv.mustUser(t, email)
		if pk := b.onlyPasskey(phone); len(creds) != 2 || !bytes.Equal(creds[1].CredentialID, pk.CredentialID) {
			t.Errorf("store: %d passkeys; want the lost one and the phone's new one", len(creds))
		}
		waitLog(t, b, "recovery_used")
	})

	step(t, b, "CodeWorksOnce", func(t *testing.T) {
		signOut(t, b)
		b.open("/recover")
		b.waitIdle()
		b.clickSel("#recover-code summary") // "Use a recovery code instead"
		b.waitVisible("#recovery-code")
		b.fill("#code-email", email)
		b.fill("#recovery-code", codes[0])
		b.click("use-code")
		st := b.waitStatus("error")
		b.shot("recovery code used twice")
		if b.visible("#create-passkey") {
			t.Errorf("a used code offers a new passkey")
		}
		if strings.Contains(st.Status, "HTTP") {
			t.Errorf("error message %q, want the server's explanation", st.Status)
		}
		if got := b.me(); got != 401 {
			t.Errorf("GET /api/auth/me after a used code: %d, want 401", got)
		}
	})

	step(t, b, "RegenerateAfterStepUp", func(t *testing.T) {
		// The server asks for a fresh passkey check when the last one is
		// older than five minutes. The browser gives the page that answer
		// once; the page runs a sign-in ceremony and tries again.
		signIn(t, b, phone, "", email)
		used := b.answerOnce("POST", "/api/recovery/codes", 403,
			`{"error": "Please confirm it's you with your passkey, then try again.", "code": "step_up_required"}`)
		b.present(phone, true) // for the step-up's sign-in ceremony
		b.click("generate-codes")
		st := b.waitStatus("success")
		select {
		case <-used:
		default:
			t.Fatalf("the page never asked for new codes (status %q)", st.Status)
		}
		b.waitVisible("#new-codes")
		fresh := b.texts("#codes-list code")
		b.shot("codes regenerated after a step-up")
		if len(fresh) != len(codes) || slices.Contains(fresh, codes[1]) {
			t.Errorf("regenerated codes %q, want %d new ones", fresh, len(codes))
		}
		if !b.visible("#codes-replaced") {
			t.Errorf("the page does not say the old codes stopped working")
		}
		if got := b.me(); got != 200 {
			t.Errorf("GET /api/auth/me after the step-up: %d, want 200", got)
		}
		if n := len(srv.sessionIDs(t)); n != 1 {
			t.Errorf("store: %d sessions after the step-up, want 1 (the step-up replaces the session)", n)
		}
		b.click("codes-saved")
		b.waitStatus("success")

		// The old set is gone with the regeneration.
		signOut(t, b)
		b.open("/recover")
		b.waitIdle()
		b.clickSel("#recover-code summary")
		b.waitVisible("#recovery-code")
		b.fill("#code-email", email)
		b.fill("#recovery-code", codes[1])
		b.click("use-code")
		b.waitStatus("error")
		b.shot("old code refused after regenerating")
	})
}
