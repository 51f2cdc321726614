package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd"
)

// Issue 13.1: a request to change the address is logged and told at once
// to the address in use, with a link that cancels it; cancelling is logged
// and the confirmation link then fails.
func TestEmailChangeToldAndCancelled(t *testing.T) {
	m := newMailEnv(t)
	b, a := m.browser(), m.authenticator()
	m.signUpVerified(t, b, a, "owner@example.com")
	m.signIn(t, b, a, "", nil)

	if res := call(t, b, "POST", "/api/account/email", map[string]string{"email": "eve@example.net"}); res.Status != 202 {
		t.Fatalf("change: %d %s", res.Status, res.Body)
	}
	confirm, _ := m.mailLink(t, "eve@example.net", "/confirm-email")
	msg := m.notification(t, "owner@example.com", "asked to change")
	if !strings.Contains(msg.Text, "eve@example.net") || !strings.Contains(msg.Text, m.origin+"/cancel-email-change?token=") {
		t.Fatalf("notice to the address in use names no new address or cancel link: %q", msg.Text)
	}
	cancel := tokenOf(t, msg.Text, m.origin+"/cancel-email-change?token=")
	if !contains(m.events(t, "owner@example.com"), passkeyd.EventEmailChangeRequested) {
		t.Fatal("the change request is not in the security log")
	}

	wantError(t, call(t, m.browser(), "POST", "/api/account/email/cancel", map[string]string{"token": confirm}), 400, "not valid")
	res := call(t, m.browser(), "POST", "/api/account/email/cancel", map[string]string{"token": cancel})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"cancelled":true`) {
		t.Fatalf("cancel: %d %s", res.Status, res.Body)
	}
	wantError(t, call(t, m.browser(), "POST", "/api/account/email/cancel", map[string]string{"token": cancel}), 400, "already used")
	wantError(t, call(t, m.browser(), "POST", "/api/account/email/confirm", map[string]string{"token": confirm}), 400, "not valid")
	if u := m.user(t, "owner@example.com"); u.Email != "owner@example.com" {
		t.Fatalf("address %q after a cancelled change", u.Email)
	}
	if !contains(m.events(t, "owner@example.com"), passkeyd.EventEmailChangeCancelled) {
		t.Fatal("the cancel is not in the security log")
	}
	// The session that asked for the change is signed out.
	if res := call(t, b, "GET", "/api/passkeys", nil); res.Status != 401 {
		t.Errorf("the session that asked for the change, after the cancel: %d; want 401", res.Status)
	}
}

// Issue 13.1: a recovery ends a pending email change, so the person who
// asked for it from a borrowed session cannot complete it afterwards, and
// the recovery notice goes to the owner.
func TestEmailChangeEndedByRecovery(t *testing.T) {
	m := newMailEnv(t)
	b, a := m.browser(), m.authenticator()
	m.signUpVerified(t, b, a, "owner@example.com")
	m.signIn(t, b, a, "", nil)
	if res := call(t, b, "POST", "/api/account/email", map[string]string{"email": "eve@example.net"}); res.Status != 202 {
		t.Fatalf("change: %d %s", res.Status, res.Body)
	}
	confirm, _ := m.mailLink(t, "eve@example.net", "/confirm-email")
	m.notification(t, "owner@example.com", "asked to change")

	owner := m.browser()
	call(t, owner, "POST", "/api/recovery/email", map[string]string{"email": "owner@example.com"})
	link, _ := m.mailLink(t, "owner@example.com", "/recover/email")
	if res := call(t, owner, "POST", "/api/recovery/email/verify", map[string]string{"token": link}); res.Status != 200 {
		t.Fatalf("recovery: %d %s", res.Status, res.Body)
	}
	wantError(t, call(t, m.browser(), "POST", "/api/account/email/confirm", map[string]string{"token": confirm}), 400, "not valid")
	if u := m.user(t, "owner@example.com"); u.Email != "owner@example.com" {
		t.Fatalf("address %q after a recovery ended the change", u.Email)
	}
}

// Issue 13.6: someone signs up with another person's address and never
// confirms it. The owner of the address asks for a recovery link, gets a
// takeover link, and through it gets the account without the other
// person's passkeys, recovery codes or sessions.
func TestTakeover(t *testing.T) {
	m := newMailEnv(t)
	mallory, malloryKey := m.browser(), m.authenticator()
	m.signUp(t, mallory, malloryKey, "victim@example.com")
	verify, verifyMail := m.mailLink(t, "victim@example.com", "/verify-email")
	created := m.user(t, "victim@example.com").CreatedAt.UTC()
	if !strings.Contains(verifyMail.Text, "&created="+created.Format("2006-01-02")) ||
		!strings.Contains(verifyMail.Text, "Confirm only if you created this account") ||
		!strings.Contains(verifyMail.Text, created.Format("2 Jan 2006")) {
		t.Errorf("the verification email does not say when the account was created: %q", verifyMail.Text)
	}
	m.signIn(t, mallory, malloryKey, "", nil)
	res := call(t, mallory, "POST", "/api/recovery/codes", nil)
	var codes struct{ Codes []string }
	if err := json.Unmarshal(res.Body, &codes); err != nil || res.Status != 200 {
		t.Fatalf("codes: %d %s", res.Status, res.Body)
	}
	m.notification(t, "victim@example.com", "recovery codes")
	owner := m.browser()
	res = call(t, owner, "POST", "/api/recovery/email", map[string]string{"email": "victim@example.com"})
	unknown := call(t, owner, "POST", "/api/recovery/email", map[string]string{"email": "nobody@example.com"})
	if res.Status != 202 || strings.ReplaceAll(string(res.Body), "victim@example.com", "X") != strings.ReplaceAll(string(unknown.Body), "nobody@example.com", "X") {
		t.Fatalf("recovery answers %d %s / %d %s, want the same 202", res.Status, res.Body, unknown.Status, unknown.Body)
	}
	takeover, msg := m.mailLink(t, "victim@example.com", "/recover/takeover")
	if !strings.Contains(msg.Text, "never confirmed") || !strings.Contains(msg.Text, created.Format("2 Jan 2006")) {
		t.Errorf("takeover email does not explain itself: %q", msg.Text)
	}
	// Mallory cannot end the owner's link by signing out everywhere else.
	if res := call(t, mallory, "DELETE", "/api/sessions", nil); res.Status != 200 {
		t.Fatalf("mallory signs out everywhere else: %d %s", res.Status, res.Body)
	}

	wantError(t, call(t, owner, "POST", "/api/recovery/email/verify", map[string]string{"token": takeover}), 400, "not valid")
	res = call(t, owner, "POST", "/api/recovery/email/takeover", map[string]string{"token": takeover})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"recovery":true`) {
		t.Fatalf("takeover: %d %s", res.Status, res.Body)
	}
	u := m.user(t, "victim@example.com")
	if u.EmailVerifiedAt.IsZero() {
		t.Error("the address is not confirmed after the takeover")
	}
	if n := len(m.credentials(t, "victim@example.com")); n != 0 {
		t.Errorf("%d passkeys left after the takeover, want none", n)
	}
	if status, _ := m.me(t, mallory); status != 401 {
		t.Errorf("mallory's session: /me %d after the takeover, want 401", status)
	}
	if _, err := m.browser().SignIn(context.Background(), malloryKey, "", nil); err == nil {
		t.Error("mallory's passkey still signs in after the takeover")
	}
	wantError(t, call(t, m.browser(), "POST", "/api/recovery/codes/verify", map[string]string{"email": "victim@example.com", "code": codes.Codes[1]}), 401)
	wantError(t, call(t, m.browser(), "POST", "/api/email/verify", map[string]string{"token": verify}), 400)
	if !contains(m.events(t, "victim@example.com"), passkeyd.EventAccountTakenOver) {
		t.Error("the takeover is not in the security log")
	}
	wantError(t, call(t, m.browser(), "POST", "/api/recovery/email/takeover", map[string]string{"token": takeover}), 400, "already used")

	// The recovery session adds the owner's passkey and becomes theirs.
	if res := registerRaw(t, m.env, owner, m.authenticator()); res.Status != 200 {
		t.Fatalf("register after the takeover: %d %s", res.Status, res.Body)
	}
	if status, email := m.me(t, owner); status != 200 || email != "victim@example.com" {
		t.Fatalf("after the takeover: /me %d %q", status, email)
	}
	if n := len(m.credentials(t, "victim@example.com")); n != 1 {
		t.Errorf("%d passkeys after the owner added theirs, want 1", n)
	}
}

// The sign-up confirmation page says when the account was created, and
// what to do instead when it was not the visitor who created it.
func TestVerifyPageNamesCreationDate(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct{ query, want string }{
		{"?token=x&created=2026-11-30", "Confirm only if you created this account on 30 Nov 2026 yourself."},
		{"?token=x&created=<b>", "Confirm only if you created this account yourself."},
		{"?token=x", "Confirm only if you created this account yourself."},
	} {
		res, err := http.Get(e.srv.URL + "/verify-email" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(body), tt.want) || !strings.Contains(string(body), "Lost your passkey?") {
			t.Errorf("/verify-email%s does not say %q and point to Lost your passkey?", tt.query, tt.want)
		}
	}
}

// Issue 13: a new set of recovery codes is told to the owner by email.
func TestRecoveryCodesNotice(t *testing.T) {
	m := newMailEnv(t)
	b, a := m.browser(), m.authenticator()
	m.signUpVerified(t, b, a, "cora@example.com")
	m.signIn(t, b, a, "", nil)
	if res := call(t, b, "POST", "/api/recovery/codes", nil); res.Status != 200 {
		t.Fatalf("codes: %d %s", res.Status, res.Body)
	}
	msg := m.notification(t, "cora@example.com", "New recovery codes were created")
	if !strings.Contains(msg.Text, "old codes no longer work") {
		t.Errorf("notice %q does not say the old codes stopped working", msg.Text)
	}
}

// The page a deleted session's passkey sends the browser to explains why.
func TestHomeNotice(t *testing.T) {
	e := newEnv(t)
	for query, want := range map[string]string{
		"?notice=passkey-deleted": "signed out",
		"?notice=<script>":        "",
		"":                        "",
	} {
		res, err := http.Get(e.srv.URL + "/" + query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		has := strings.Contains(string(body), `id="notice"`)
		if has != (want != "") || !strings.Contains(string(body), want) {
			t.Errorf("/%s: notice shown %v, want %q", query, has, want)
		}
	}
}

// tokenOf returns the token of the link in text that starts with prefix.
func tokenOf(t *testing.T, text, prefix string) string {
	t.Helper()
	i := strings.Index(text, prefix)
	if i < 0 {
		t.Fatalf("no %s link in %q", prefix, text)
	}
	rest := text[i+len(prefix):]
	if j := strings.IndexAny(rest, " \r\n&"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
