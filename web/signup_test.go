package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/mail/mailtest"
	"github.com/passkeyd/passkeyd/web"
)

func emailFirst(c *web.Config) { c.SignUpMode = web.SignUpEmailFirst }

const (
	signUpEmail  = "/api/signup/email"
	signUpVerify = "/api/signup/email/verify"
)

// signUpByLink asks for a sign-up link for email, follows it and registers
// a passkey from a; it returns the verify-registration answer.
func (m *mailEnv) signUpByLink(t *testing.T, b *softauthn.Client, a *softauthn.Authenticator, email string) *softauthn.Response {
	t.Helper()
	if res := call(t, b, "POST", signUpEmail, map[string]string{"email": email}); res.Status != http.StatusAccepted {
		t.Fatalf("sign-up request: %d %s", res.Status, res.Body)
	}
	token, msg := m.mailLink(t, email, "/signup")
	if !strings.Contains(msg.Text, "24 hours") {
		t.Errorf("sign-up mail does not say how long the link works (EMAIL_LINK_TTL): %q", msg.Text)
	}
	att, _, err := a.Create(options(t, b, signUpVerify, map[string]string{"token": token}))
	if err != nil {
		t.Fatal(err)
	}
	return m.post(t, b, regVerify, att)
}

// Issue 11.14: with SignUpEmailFirst, sign-up starts with the email and
// nothing in the answer tells whether the address has an account; the only
// way to a new account is the emailed link.
func TestEmailFirstSignUp(t *testing.T) {
	m := newMailEnv(t, emailFirst)
	const owner, newcomer = "ann@example.com", "new@example.com"

	t.Run("LinkMakesConfirmedAccountAndSignsIn", func(t *testing.T) {
		b := m.browser()
		res := m.signUpByLink(t, b, m.authenticator(), owner)
		if res.Status != 200 || !strings.Contains(string(res.Body), `"signedIn":true`) {
			t.Fatalf("verify-registration after the sign-up link: %d %s, want 200 and signedIn", res.Status, res.Body)
		}
		if status, email := m.me(t, b); status != 200 || email != owner {
			t.Fatalf("GET /api/auth/me after sign-up: %d %q, want 200 %q", status, email, owner)
		}
		if u := m.user(t, owner); u.EmailVerifiedAt.IsZero() {
			t.Error("the account's address is not confirmed, though the link proved it")
		}
		if n := len(m.credentials(t, owner)); n != 1 {
			t.Errorf("%d passkeys, want 1", n)
		}
		if evs := m.events(t, owner); !contains(evs, passkeyd.EventEmailVerified) || !contains(evs, passkeyd.EventPasskeyAdded) {
			t.Errorf("security log %v, want passkey_added and email_verified", evs)
		}
		// Signed in, adding a passkey is as before.
		if res := registerRaw(t, m.env, b, m.authenticator()); res.Status != 200 {
			t.Fatalf("add a passkey when signed in: %d %s", res.Status, res.Body)
		}
	})

	t.Run("SameAnswerForBothAddresses", func(t *testing.T) {
		existing := call(t, m.browser(), "POST", signUpEmail, map[string]string{"email": owner})
		fresh := call(t, m.browser(), "POST", signUpEmail, map[string]string{"email": newcomer})
		if existing.Status != http.StatusAccepted || fresh.Status != http.StatusAccepted {
			t.Fatalf("statuses %d (address with an account) and %d (new address), want 202", existing.Status, fresh.Status)
		}
		if string(existing.Body) != string(fresh.Body) {
			t.Errorf("bodies differ:\n%s\n%s", existing.Body, fresh.Body)
		}
		// Every header but the date and the request's own ID, which differ
		// between any two requests.
		for _, h := range []http.Header{existing.Header, fresh.Header} {
			h.Del("Date")
			h.Del("X-Request-Id")
		}
		if got, want := headerLines(fresh.Header), headerLines(existing.Header); !slices.Equal(got, want) {
			t.Errorf("headers differ:\n%q\n%q", want, got)
		}

		// What each address receives.
		notice := m.notificationTo(t, owner, "tried to sign up")
		for _, want := range []string{m.origin + "/\n", m.origin + "/recover\n", "already has an account"} {
			if !strings.Contains(notice.Text, want) {
				t.Errorf("notice to %s does not contain %q: %q", owner, want, notice.Text)
			}
		}
		if strings.Contains(notice.Text, "token=") {
			t.Errorf("notice to %s holds a link with a token: %q", owner, notice.Text)
		}
		token, msg := m.mailLink(t, newcomer, "/signup")
		if token == "" || !strings.Contains(msg.Subject, "Create your") {
			t.Errorf("mail to %s: %q, want a sign-up link", newcomer, msg.Subject)
		}
		m.noUser(t, newcomer) // the link, not the request, makes the account
	})

	t.Run("DirectSignUpRefused", func(t *testing.T) {
		b := m.browser()
		res := call(t, b, "POST", regOptions, map[string]string{"email": "direct@example.com"})
		wantError(t, res, http.StatusForbidden, "Sign up", "link")
		if !strings.Contains(string(res.Body), `"code":"sign_up_by_email"`) {
			t.Errorf("refusal %s without the code sign_up_by_email", res.Body)
		}
		// Not even for an address that has an account: the answer is the same.
		if again := call(t, b, "POST", regOptions, map[string]string{"email": owner}); string(again.Body) != string(res.Body) {
			t.Errorf("refusal differs for an address with an account: %s vs %s", again.Body, res.Body)
		}
		m.noUser(t, "direct@example.com")
	})

	t.Run("LinkWorksOnce", func(t *testing.T) {
		b := m.browser()
		call(t, b, "POST", signUpEmail, map[string]string{"email": "once@example.com"})
		token, _ := m.mailLink(t, "once@example.com", "/signup")
		options(t, b, signUpVerify, map[string]string{"token": token})
		wantError(t, call(t, m.browser(), "POST", signUpVerify, map[string]string{"token": token}), 400, "already used")
		wantError(t, call(t, m.browser(), "POST", signUpVerify, map[string]string{"token": token + "x"}), 400)
	})

	t.Run("LinkExpires", func(t *testing.T) {
		b := m.browser()
		call(t, b, "POST", signUpEmail, map[string]string{"email": "late@example.com"})
		token, _ := m.mailLink(t, "late@example.com", "/signup")
		m.clock.Advance(24*time.Hour + time.Minute)
		wantError(t, call(t, b, "POST", signUpVerify, map[string]string{"token": token}), 400, "expired")
	})

	// Two links to one address (in two spellings): the first to be used
	// makes the account; the second is then refused, saying why.
	t.Run("LinkOfAnAddressThatGotAnAccount", func(t *testing.T) {
		b := m.browser()
		call(t, b, "POST", signUpEmail, map[string]string{"email": "twice@example.com"})
		first, _ := m.mailLink(t, "twice@example.com", "/signup")
		call(t, b, "POST", signUpEmail, map[string]string{"email": "Twice@example.com"})
		second, _ := m.mailLink(t, "Twice@example.com", "/signup")
		att, _, err := m.authenticator().Create(options(t, b, signUpVerify, map[string]string{"token": first}))
		if err != nil {
			t.Fatal(err)
		}
		if res := m.post(t, b, regVerify, att); res.Status != 200 {
			t.Fatalf("first link: %d %s", res.Status, res.Body)
		}
		wantError(t, call(t, m.browser(), "POST", signUpVerify, map[string]string{"token": second}), 409, "already exists")
	})

	// Registration in a recovery session is not a sign-up: it still works.
	t.Run("RecoveryStillAddsAPasskey", func(t *testing.T) {
		lost := m.browser()
		call(t, lost, "POST", "/api/recovery/email", map[string]string{"email": owner})
		token, _ := m.mailLink(t, owner, "/recover/email")
		if res := call(t, lost, "POST", "/api/recovery/email/verify", map[string]string{"token": token}); res.Status != 200 {
			t.Fatalf("recovery link: %d %s", res.Status, res.Body)
		}
		if res := registerRaw(t, m.env, lost, m.authenticator()); res.Status != 200 || !strings.Contains(string(res.Body), `"signedIn":true`) {
			t.Fatalf("register in recovery: %d %s", res.Status, res.Body)
		}
	})
}

// headerLines returns h as sorted "Name: value" lines.
func headerLines(h http.Header) []string {
	var lines []string
	for name, values := range h {
		for _, v := range values {
			lines = append(lines, name+": "+v)
		}
	}
	slices.Sort(lines)
	return lines
}

// notificationTo waits for the next message to addr whose subject contains
// subject, skipping others.
func (m *mailEnv) notificationTo(t testing.TB, to, subject string) mailtest.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		got, err := m.smtp.Wait(ctx, to)
		if err != nil {
			t.Fatalf("no email to %s about %q: %v", to, subject, err)
		}
		if strings.Contains(got.Subject, subject) {
			return got
		}
	}
}

// With the default SignUpOpen, the email step does not exist and sign-up
// registers at once, as before.
func TestOpenSignUpHasNoEmailStep(t *testing.T) {
	m := newMailEnv(t)
	b := m.browser()
	wantError(t, call(t, b, "POST", signUpEmail, map[string]string{"email": "x@example.com"}), 404, "off")
	wantError(t, call(t, b, "POST", signUpVerify, map[string]string{"token": "abc"}), 404, "off")
	m.signUp(t, b, m.authenticator(), "x@example.com")
	if u := m.user(t, "x@example.com"); !u.EmailVerifiedAt.IsZero() {
		t.Error("a direct sign-up confirmed the address")
	}
}

// TestSignUpAnswerDoesNotWaitForLookup: the sign-up request is answered
// before the address is even looked up, so neither the answer's content
// nor its timing can depend on whether the address has an account.
func TestSignUpAnswerDoesNotWaitForLookup(t *testing.T) {
	m := newMailEnv(t, emailFirst)
	bs := &blockingStore{Store: m.store, release: make(chan struct{}), called: make(chan string, 4)}
	h, err := web.New(web.Config{RPID: m.rpID, Origins: []string{m.origin}, Secret: []byte(strings.Repeat("s", 32)),
		RateLimits: web.RateLimits{Off: true}, Now: m.clock.Now, SignUpMode: web.SignUpEmailFirst}, web.Deps{Store: bs})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		close(bs.release)
		if err := h.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	for _, email := range []string{"someone@example.com", "nobody@example.com"} {
		req := httptest.NewRequest("POST", signUpEmail, strings.NewReader(`{"email":"`+email+`"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { h.ServeHTTP(rec, req); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the answer waited for the blocked look-up", email)
		}
		if rec.Code != http.StatusAccepted {
			t.Fatalf("%s: %d", email, rec.Code)
		}
		select {
		case got := <-bs.called: // the look-up happens, after the answer
			if got != email {
				t.Fatalf("looked up %q, want %q", got, email)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no look-up at all", email)
		}
	}
}

// A direct sign-up begun before SignUpEmailFirst was turned on cannot be
// finished after it as if a link had proved its address: the link's
// registration is its own ceremony kind.
func TestDirectSignUpCannotFinishAsSignUpByLink(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	att, _, err := a.Create(options(t, b, regOptions, map[string]string{"email": "early@example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	emailFirstHandler, err := web.New(web.Config{RPID: e.rpID, RPName: "passkeyd test", Origins: []string{e.origin},
		Secret: []byte(strings.Repeat("s", 32)), Now: e.clock.Now, RateLimits: web.RateLimits{Off: true},
		SignUpMode: web.SignUpEmailFirst}, web.Deps{Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = emailFirstHandler // the restart with the new setting
	wantError(t, e.post(t, b, regVerify, att), 400, "expired or was already used")
	e.noUser(t, "early@example.com")
}
