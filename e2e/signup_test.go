package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/mail/mailtest"
)

// askSignUp asks for sign-up on the start page with email and returns the
// status line it shows.
func askSignUp(t *testing.T, b *browser, email, shot string) string {
	t.Helper()
	b.open("/")
	b.waitAutofill("pending")
	if got := b.texts("#register"); len(got) != 1 || got[0] != "Sign Up" {
		t.Errorf("the sign-up button reads %q, want \"Sign Up\"", got)
	}
	b.typeEmail(email)
	b.click("register")
	st := b.waitStatus("success")
	b.shot(shot)
	wantContains(t, "status after sign-up", st.Status, "check your email")
	if st.Path != "/" {
		t.Errorf("after asking to sign up the page is %s, want /", st.Path)
	}
	b.waitIdle()
	return st.Status
}

// Issue 11.14, SIGNUP_MODE=email-first: sign-up starts with the email and
// the page says "check your email" whether or not the address has an
// account. A new address gets a link that opens the passkey registration
// and ends signed in on the dashboard; an address with an account gets a
// notice with a sign-in link.
func TestEmailFirstSignUp(t *testing.T) {
	chromium(t)
	srv := startServer(t, withMail(t), withEnv("SIGNUP_MODE=email-first"))
	b := newBrowser(t, srv)
	const email = "zoe@example.com"
	phone := b.addAuthenticator(internal, false)
	var newAddressStatus string

	step(t, b, "NewAddress", func(t *testing.T) {
		newAddressStatus = askSignUp(t, b, email, "email-first sign-up: check your email")
		b.phoneLayout("email-first sign-up: check your email")
		if u, _ := srv.user(t, email); u != nil {
			t.Fatalf("store: an account exists before the link was used")
		}
		link, msg := srv.mailLink(t, email, "/signup")
		wantContains(t, "sign-up mail", msg.Subject, "create your")
		openLinkUnpressed(t, b, link, "Continue to create your account", "sign-up link opened")
		b.phoneLayout("sign-up link opened")
		if u, _ := srv.user(t, email); u != nil {
			t.Fatalf("store: opening the link made an account before the button was pressed")
		}
		// The first prompt fails (as when the user cancels it). The press
		// spent the link; the page offers the button again, and the second
		// press uses the registration the link started.
		b.userVerified(phone, false)
		b.present(phone, true)
		b.click("link-use")
		st := b.waitStatus("error")
		b.present(phone, false)
		b.userVerified(phone, true)
		b.shot("sign-up prompt cancelled")
		wantContains(t, "error message", st.Status, "cancelled or timed out")
		if !b.visible("#link-use") {
			t.Fatalf("after a cancelled prompt the page no longer offers the button")
		}
		if u, _ := srv.user(t, email); u != nil {
			t.Fatalf("store: an account exists after a cancelled prompt")
		}
		b.present(phone, true)
		b.click("link-use")
		st = b.waitPath("/dashboard")
		b.shot("signed up by link: dashboard")
		if st.UserEmail != email {
			t.Errorf("dashboard shows %q, want %q", st.UserEmail, email)
		}
		if got := b.me(); got != 200 {
			t.Errorf("GET /api/auth/me after sign-up by link: %d, want 200", got)
		}
		u, creds := srv.mustUser(t, email)
		if u.EmailVerifiedAt.IsZero() {
			t.Errorf("store: the address is not confirmed after sign-up by link")
		}
		held := b.passkeys(phone)
		if len(creds) != 1 || len(held) != 1 || !bytes.Equal(creds[0].CredentialID, held[0].CredentialID) {
			t.Errorf("store: %d passkeys, the authenticator holds %d; want the one it made", len(creds), len(held))
		}
		for _, m := range srv.mailsTo(email) {
			if strings.Contains(m.Text, "/verify-email?token=") {
				t.Errorf("a confirmation link was sent for an address the sign-up link proved: %q", m.Subject)
			}
		}
	})

	step(t, b, "ExistingAddress", func(t *testing.T) {
		signOut(t, b)
		before := srv.counts(t)
		status := askSignUp(t, b, email, "email-first sign-up of an address with an account")
		if status != newAddressStatus {
			t.Errorf("the page says %q for an address with an account, %q for a new one; want the same", status, newAddressStatus)
		}
		notice := waitMail(t, srv, email, "tried to sign up")
		signInLink := mailtest.Link(notice.Text, srv.URL+"/")
		if signInLink != srv.URL+"/" {
			t.Fatalf("the notice's first link is %q, want the sign-in page %s/", signInLink, srv.URL)
		}
		if strings.Contains(notice.Text, "token=") {
			t.Errorf("the notice holds a link with a token: %q", notice.Text)
		}
		if after := srv.counts(t); after != before {
			t.Errorf("store: %+v before, %+v after asking to sign up with a taken address; want no change", before, after)
		}
		b.openURL(signInLink)
		b.waitAutofill("pending")
		b.present(phone, true)
		b.click("signin")
		if st := b.waitPath("/dashboard"); st.UserEmail != email {
			t.Errorf("dashboard shows %q after signing in from the notice's link, want %q", st.UserEmail, email)
		}
	})
}

// waitMail waits for a message to addr whose subject contains subject.
func waitMail(t *testing.T, srv *server, to, subject string) mailtest.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		m, err := srv.Mail.Wait(ctx, to)
		if err != nil {
			t.Fatalf("no email to %s about %q: %v", to, subject, err)
		}
		if strings.Contains(m.Subject, subject) {
			return m
		}
	}
}
