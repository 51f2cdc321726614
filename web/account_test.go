package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/mail"
	"github.com/passkeyd/passkeyd/mail/mailtest"
	"github.com/passkeyd/passkeyd/web"
)

// mailEnv is an env whose email goes through the real mail queue and SMTP
// client to an SMTP server inside the test.
type mailEnv struct {
	*env
	smtp  *mailtest.Server
	queue *mail.Queue // Close it to wait until every queued message reached smtp
}

func newMailEnv(t *testing.T, configure ...func(*web.Config)) *mailEnv {
	t.Helper()
	smtp := mailtest.NewServer(t)
	sender, err := mail.Open(smtp.URL(), "passkeyd <no-reply@example.com>", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	q := mail.NewQueue(sender, slog.New(slog.DiscardHandler), 64)
	t.Cleanup(func() { q.Close(context.Background()) })
	e := newEnvWithDeps(t, web.Deps{Mailer: q}, configure...)
	return &mailEnv{env: e, smtp: smtp, queue: q}
}

// mailLink waits for the next message to addr and returns its link to path.
func (m *mailEnv) mailLink(t testing.TB, to, path string) (token string, msg mailtest.Received) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := m.smtp.Wait(ctx, to)
	if err != nil {
		t.Fatalf("no email to %s: %v", to, err)
	}
	link := mailtest.Link(msg.Text, m.origin+path+"?token=")
	if link == "" {
		t.Fatalf("no %s link in %q", path, msg.Text)
	}
	u, _ := url.Parse(link)
	return u.Query().Get("token"), msg
}

// notification waits for the next message to addr whose subject contains
// subject, skipping others (a verification link sent at sign-up, say).
func (m *mailEnv) notification(t testing.TB, to, subject string) mailtest.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		msg, err := m.smtp.Wait(ctx, to)
		if err != nil {
			t.Fatalf("no email to %s about %q: %v", to, subject, err)
		}
		if strings.Contains(msg.Subject, subject) {
			if !strings.Contains(msg.Text, m.origin+"/dashboard") {
				t.Errorf("notification without a dashboard link: %q", msg.Text)
			}
			return msg
		}
	}
}

// signUpVerified signs up and follows the verification link.
func (m *mailEnv) signUpVerified(t testing.TB, b *softauthn.Client, a *softauthn.Authenticator, email string) {
	t.Helper()
	m.signUp(t, b, a, email)
	token, _ := m.mailLink(t, email, "/verify-email")
	res, _ := b.PostJSON(context.Background(), "/api/email/verify", map[string]string{"token": token})
	if res.Status != 200 {
		t.Fatalf("verify email: %d %s", res.Status, res.Body)
	}
}

func call(t *testing.T, b *softauthn.Client, method, path string, body any) *softauthn.Response {
	t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	res, err := b.Do(context.Background(), method, path, raw)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPasskeyManagement(t *testing.T) {
	m := newMailEnv(t)
	b, phone, key := m.browser(), m.authenticator(), m.authenticator()
	m.signUp(t, b, phone, "pat@example.com")
	m.signIn(t, b, phone, "", nil)
	m.signUp(t, b, key, "") // a second passkey
	m.notification(t, "pat@example.com", "passkey was added")

	var list struct {
		RPID, UserHandle string
		Passkeys         []struct{ ID, CredentialID, Name, Provider string }
	}
	res := call(t, b, "GET", "/api/passkeys", nil)
	_ = json.Unmarshal(res.Body, &list)
	if res.Status != 200 || len(list.Passkeys) != 2 || list.RPID != "localhost" || list.UserHandle == "" {
		t.Fatalf("GET /api/passkeys: %d %s", res.Status, res.Body)
	}
	// Both were made within a millisecond: find each by its credential ID.
	first, second := list.Passkeys[0], list.Passkeys[1]
	if first.CredentialID != phone.Credentials()[0].EncodedID() {
		first, second = second, first
	}
	if first.CredentialID != phone.Credentials()[0].EncodedID() || second.CredentialID != key.Credentials()[0].EncodedID() {
		t.Fatalf("credentialIds %q, %q are not the phone's and the key's", first.CredentialID, second.CredentialID)
	}

	t.Run("Rename", func(t *testing.T) {
		res := call(t, b, "PATCH", "/api/passkeys/"+first.ID, map[string]string{"name": "Work phone"})
		if res.Status != 200 || !strings.Contains(string(res.Body), "Work phone") {
			t.Fatalf("rename: %d %s", res.Status, res.Body)
		}
		wantError(t, call(t, b, "PATCH", "/api/passkeys/"+first.ID, map[string]string{"name": ""}), 400)
		wantError(t, call(t, b, "PATCH", "/api/passkeys/"+first.ID, map[string]string{"name": strings.Repeat("x", 101)}), 400)
		if got := nameOf(m.credentials(t, "pat@example.com"), first.ID); got != "Work phone" {
			t.Fatalf("stored name %q", got)
		}
	})

	t.Run("OtherUsersPasskeyIs404", func(t *testing.T) {
		other, otherKey := m.browser(), m.authenticator()
		m.signUp(t, other, otherKey, "other@example.com")
		m.signIn(t, other, otherKey, "", nil)
		wantError(t, call(t, other, "PATCH", "/api/passkeys/"+first.ID, map[string]string{"name": "mine now"}), 404)
		wantError(t, call(t, other, "DELETE", "/api/passkeys/"+first.ID, nil), 404)
		if n := len(m.credentials(t, "pat@example.com")); n != 2 {
			t.Fatalf("pat has %d passkeys after another user's attempts", n)
		}
		if got := nameOf(m.credentials(t, "pat@example.com"), first.ID); got != "Work phone" {
			t.Fatalf("renamed by another user: %q", got)
		}
	})

	t.Run("StepUpForDelete", func(t *testing.T) {
		m.clock.Advance(6 * time.Minute)
		res := call(t, b, "DELETE", "/api/passkeys/"+second.ID, nil)
		wantError(t, res, 403, "confirm")
		if !strings.Contains(string(res.Body), "step_up_required") {
			t.Fatalf("no step_up_required code: %s", res.Body)
		}
		m.signIn(t, b, phone, "pat@example.com", nil) // the page's step-up
		if res := call(t, b, "DELETE", "/api/passkeys/"+second.ID, nil); res.Status != 204 {
			t.Fatalf("delete after step-up: %d %s", res.Status, res.Body)
		}
		if n := len(m.credentials(t, "pat@example.com")); n != 1 {
			t.Fatalf("%d passkeys after delete", n)
		}
		if _, err := m.browser().SignIn(context.Background(), key, "", nil); err == nil {
			t.Fatal("deleted passkey still signs in")
		}
	})

	t.Run("LastPasskeyNeedsAnotherWayIn", func(t *testing.T) {
		wantError(t, call(t, b, "DELETE", "/api/passkeys/"+first.ID, nil), 409, "only passkey")
		if n := len(m.credentials(t, "pat@example.com")); n != 1 {
			t.Fatal("last passkey deleted")
		}
		// With recovery codes it may go: the owner can still get back in.
		if res := call(t, b, "POST", "/api/recovery/codes", nil); res.Status != 200 {
			t.Fatalf("codes: %d %s", res.Status, res.Body)
		}
		// This browser signed in with that passkey: its session ended
		// with it, and the answer says so (the page then goes to sign-in).
		if res := call(t, b, "DELETE", "/api/passkeys/"+first.ID, nil); res.Status != 200 || string(res.Body) != `{"signedOut":true}`+"\n" {
			t.Fatalf("delete with codes of the passkey signed in with: %d %q, want 200 {\"signedOut\":true}", res.Status, res.Body)
		}
		wantError(t, call(t, b, "GET", "/api/passkeys", nil), 401)
	})

	evs := m.events(t, "pat@example.com")
	for _, want := range []string{passkeyd.EventPasskeyRenamed, passkeyd.EventPasskeyDeleted, passkeyd.EventRecoveryCodesGenerated} {
		if !contains(evs, want) {
			t.Errorf("security log %v lacks %s", evs, want)
		}
	}
}

func TestSessionsAndSecurityLog(t *testing.T) {
	m := newMailEnv(t)
	laptop, phone, a := m.browser(), m.browser(), m.authenticator()
	m.signUp(t, laptop, a, "sam@example.com")
	m.signIn(t, laptop, a, "", nil)
	m.signIn(t, phone, a, "", nil)

	var list struct {
		Sessions []struct {
			ID      string
			Current bool
		}
	}
	res := call(t, laptop, "GET", "/api/sessions", nil)
	_ = json.Unmarshal(res.Body, &list)
	if len(list.Sessions) != 2 {
		t.Fatalf("sessions: %s", res.Body)
	}
	var phoneID string
	for _, s := range list.Sessions {
		if !s.Current {
			phoneID = s.ID
		}
	}
	if res := call(t, laptop, "DELETE", "/api/sessions/"+phoneID, nil); res.Status != 204 {
		t.Fatalf("revoke: %d %s", res.Status, res.Body)
	}
	if status, _ := m.me(t, phone); status != 401 {
		t.Fatal("revoked session still works")
	}
	m.signIn(t, phone, a, "", nil)
	other := m.browser()
	m.signUp(t, other, m.authenticator(), "zed@example.com")
	wantError(t, call(t, other, "DELETE", "/api/sessions/"+phoneID, nil), 401) // not signed in at all
	res = call(t, laptop, "DELETE", "/api/sessions", nil)
	if res.Status != 200 || !strings.Contains(string(res.Body), `"revoked":1`) {
		t.Fatalf("sign out everywhere else: %d %s", res.Status, res.Body)
	}
	if status, _ := m.me(t, phone); status != 401 {
		t.Fatal("other session survived")
	}
	if status, _ := m.me(t, laptop); status != 200 {
		t.Fatal("current session ended")
	}

	var log struct {
		Events []struct {
			ID   int64
			Type string
		}
		Next *int64
	}
	res = call(t, laptop, "GET", "/api/security-log?limit=2", nil)
	_ = json.Unmarshal(res.Body, &log)
	if len(log.Events) != 2 || log.Next == nil || log.Events[0].ID < log.Events[1].ID {
		t.Fatalf("first page: %s", res.Body)
	}
	res = call(t, laptop, "GET", "/api/security-log?limit=100&before="+itoa(*log.Next), nil)
	var rest struct{ Events []struct{ Type string } }
	_ = json.Unmarshal(res.Body, &rest)
	var types []string
	for _, e := range append(log.Events[:0:0], log.Events...) {
		types = append(types, e.Type)
	}
	for _, e := range rest.Events {
		types = append(types, e.Type)
	}
	for _, want := range []string{passkeyd.EventPasskeyAdded, passkeyd.EventLoginSucceeded, passkeyd.EventSessionRevoked} {
		if !contains(types, want) {
			t.Errorf("log %v lacks %s", types, want)
		}
	}
	wantError(t, call(t, laptop, "GET", "/api/security-log?before=-1", nil), 400)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestEmailVerificationAndRecoveryByEmail(t *testing.T) {
	m := newMailEnv(t)
	b, a := m.browser(), m.authenticator()
	m.signUp(t, b, a, "rita@example.com")

	// An address never confirmed gets no recovery link (checked at the end,
	// when the request's background work has long finished), but a
	// takeover link (TestTakeover).
	m.signUp(t, m.browser(), m.authenticator(), "unconfirmed@example.com")
	res := call(t, m.browser(), "POST", "/api/recovery/email", map[string]string{"email": "unconfirmed@example.com"})
	if res.Status != 202 {
		t.Fatalf("recovery request: %d", res.Status)
	}
	token, _ := m.mailLink(t, "rita@example.com", "/verify-email")
	res = call(t, b, "POST", "/api/email/verify", map[string]string{"token": token})
	if res.Status != 200 || m.user(t, "rita@example.com").EmailVerifiedAt.IsZero() {
		t.Fatalf("verify: %d %s", res.Status, res.Body)
	}
	wantError(t, call(t, b, "POST", "/api/email/verify", map[string]string{"token": token}), 400, "already used")

	m.signIn(t, b, a, "", nil)
	oldSession := m.browser()
	copyCookies(t, b, oldSession, m.srv.URL)

	// Lost the phone: recovery by email from a new browser.
	lost := m.browser()
	res = call(t, lost, "POST", "/api/recovery/email", map[string]string{"email": "RITA@example.com"})
	unknown := call(t, lost, "POST", "/api/recovery/email", map[string]string{"email": "nobody@example.com"})
	if res.Status != 202 || unknown.Status != 202 || string(res.Body) == "" {
		t.Fatalf("recovery answers %d / %d", res.Status, unknown.Status)
	}
	if strings.ReplaceAll(string(res.Body), "RITA@example.com", "X") != strings.ReplaceAll(string(unknown.Body), "nobody@example.com", "X") {
		t.Fatalf("answers differ: %s vs %s", res.Body, unknown.Body)
	}
	link, msg := m.mailLink(t, "rita@example.com", "/recover/email")
	if !strings.Contains(msg.Text, "15 minutes") {
		t.Errorf("recovery mail does not say how long the link works: %q", msg.Text)
	}
	// The token is stored only as a hash.
	if strings.Contains(dumpTokens(t, m), link) {
		t.Fatal("recovery token stored in clear")
	}
	wantError(t, call(t, lost, "POST", "/api/recovery/email/verify", map[string]string{"token": link + "x"}), 400)
	res = call(t, lost, "POST", "/api/recovery/email/verify", map[string]string{"token": link})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"recovery":true`) {
		t.Fatalf("recovery link: %d %s", res.Status, res.Body)
	}
	if status, _ := m.me(t, oldSession); status != 401 {
		t.Fatal("recovery did not sign out the other sessions")
	}
	// A recovery session may add a passkey but nothing else: it is not
	// signed in, for /me either (issue 11.1).
	me := call(t, lost, "GET", "/api/auth/me", nil)
	wantError(t, me, 401)
	if !strings.Contains(string(me.Body), `"code":"recovery_in_progress"`) {
		t.Errorf("/me in a recovery session: %s, want the code recovery_in_progress", me.Body)
	}
	wantError(t, call(t, lost, "GET", "/api/passkeys", nil), 401)
	wantError(t, call(t, lost, "POST", "/api/recovery/codes", nil), 401)
	newPhone := m.authenticator()
	res = registerRaw(t, m.env, lost, newPhone)
	if res.Status != 200 || !strings.Contains(string(res.Body), `"signedIn":true`) {
		t.Fatalf("register in recovery: %d %s", res.Status, res.Body)
	}
	if status, email := m.me(t, lost); status != 200 || email != "rita@example.com" {
		t.Fatalf("after recovery: %d %q", status, email)
	}
	if n := len(m.credentials(t, "rita@example.com")); n != 2 {
		t.Fatalf("%d passkeys after recovery", n)
	}
	wantError(t, call(t, m.browser(), "POST", "/api/recovery/email/verify", map[string]string{"token": link}), 400, "already used")
	if !contains(m.events(t, "rita@example.com"), passkeyd.EventRecoveryUsed) {
		t.Fatal("recovery not in the security log")
	}
	m.notification(t, "rita@example.com", "recovered")
	for _, msg := range m.smtp.Messages() {
		if strings.Contains(msg.Text, "/recover/email") && strings.Contains(strings.Join(msg.To, ","), "unconfirmed@") {
			t.Fatal("a recovery link went to an unconfirmed address")
		}
	}
}

func TestRecoveryLinkExpires(t *testing.T) {
	m := newMailEnv(t)
	b := m.browser()
	m.signUpVerified(t, b, m.authenticator(), "old@example.com")
	call(t, b, "POST", "/api/recovery/email", map[string]string{"email": "old@example.com"})
	link, _ := m.mailLink(t, "old@example.com", "/recover/email")
	m.clock.Advance(16 * time.Minute)
	wantError(t, call(t, b, "POST", "/api/recovery/email/verify", map[string]string{"token": link}), 400, "expired")
}

func TestRecoveryCodes(t *testing.T) {
	m := newMailEnv(t)
	b, a := m.browser(), m.authenticator()
	m.signUp(t, b, a, "cody@example.com")
	m.signIn(t, b, a, "", nil)
	res := call(t, b, "POST", "/api/recovery/codes", nil)
	var got struct{ Codes []string }
	_ = json.Unmarshal(res.Body, &got)
	if res.Status != 200 || len(got.Codes) != 10 {
		t.Fatalf("codes: %d %s", res.Status, res.Body)
	}
	if strings.Contains(dumpCodes(t, m), got.Codes[0][6:12]) {
		t.Fatal("code secret stored in clear")
	}

	lost := m.browser()
	wantError(t, call(t, lost, "POST", "/api/recovery/codes/verify", map[string]string{"email": "cody@example.com", "code": got.Codes[0][:6] + "aaaaaa-aaaaaa"}), 401)
	wantError(t, call(t, lost, "POST", "/api/recovery/codes/verify", map[string]string{"email": "nobody@example.com", "code": got.Codes[0]}), 401)
	res = call(t, lost, "POST", "/api/recovery/codes/verify", map[string]string{"email": "cody@example.com", "code": strings.ToUpper(got.Codes[0])})
	if res.Status != 200 {
		t.Fatalf("good code: %d %s", res.Status, res.Body)
	}
	wantError(t, call(t, m.browser(), "POST", "/api/recovery/codes/verify", map[string]string{"email": "cody@example.com", "code": got.Codes[0]}), 401)
	if status, _ := m.me(t, b); status != 401 {
		t.Fatal("code recovery did not sign out the other sessions")
	}
	if res := registerRaw(t, m.env, lost, m.authenticator()); res.Status != 200 {
		t.Fatalf("register after code: %d %s", res.Status, res.Body)
	}

	// Regenerating invalidates the old set.
	m.signIn(t, b, a, "", nil)
	call(t, b, "POST", "/api/recovery/codes", nil)
	wantError(t, call(t, m.browser(), "POST", "/api/recovery/codes/verify", map[string]string{"email": "cody@example.com", "code": got.Codes[1]}), 401)
}

func TestEmailChange(t *testing.T) {
	m := newMailEnv(t)
	b, a := m.browser(), m.authenticator()
	m.signUpVerified(t, b, a, "first@example.com")
	m.signIn(t, b, a, "", nil)
	m.signUp(t, m.browser(), m.authenticator(), "taken@example.com")
	m.mailLink(t, "taken@example.com", "/verify-email")

	res := call(t, b, "POST", "/api/account/email", map[string]string{"email": "second@example.com"})
	if res.Status != 202 {
		t.Fatalf("change: %d %s", res.Status, res.Body)
	}
	if m.user(t, "first@example.com").Email != "first@example.com" {
		t.Fatal("email changed before confirmation")
	}
	token, _ := m.mailLink(t, "second@example.com", "/confirm-email")
	res = call(t, m.browser(), "POST", "/api/account/email/confirm", map[string]string{"token": token})
	if res.Status != 200 {
		t.Fatalf("confirm: %d %s", res.Status, res.Body)
	}
	u := m.user(t, "second@example.com")
	if u.EmailVerifiedAt.IsZero() {
		t.Fatal("new address not marked confirmed")
	}
	m.noUser(t, "first@example.com")
	if msg := m.notification(t, "first@example.com", "email address was changed"); !strings.Contains(msg.Text, "second@example.com") {
		t.Fatalf("old address not told the new one: %q", msg.Text)
	}
	wantError(t, call(t, b, "POST", "/api/account/email", map[string]string{"email": "not an email"}), 400)
	// A taken address is refused at confirmation, not revealed at request.
	if res := call(t, b, "POST", "/api/account/email", map[string]string{"email": "taken@example.com"}); res.Status != 202 {
		t.Fatalf("request for a taken address: %d", res.Status)
	}
	token, _ = m.mailLink(t, "taken@example.com", "/confirm-email")
	wantError(t, call(t, m.browser(), "POST", "/api/account/email/confirm", map[string]string{"token": token}), 409)
}

func TestCrossSiteAccountRequestsRefused(t *testing.T) {
	m := newMailEnv(t)
	b, a := m.browser(), m.authenticator()
	m.signUp(t, b, a, "csrf@example.com")
	m.signIn(t, b, a, "", nil)
	id := m.credentials(t, "csrf@example.com")[0].ID
	evil := softauthn.NewClient(m.srv.URL, "https://evil.example", nil)
	copyCookies(t, b, evil, m.srv.URL)
	for _, c := range []struct{ method, path string }{
		{"PATCH", "/api/passkeys/" + id}, {"DELETE", "/api/passkeys/" + id}, {"DELETE", "/api/sessions"},
		{"POST", "/api/recovery/codes"}, {"POST", "/api/account/email"}, {"POST", "/api/recovery/email"},
		{"POST", "/api/recovery/email/verify"}, {"POST", "/api/recovery/codes/verify"}, {"POST", "/api/email/verify"},
		{"POST", "/api/email/resend-verification"}, {"POST", "/api/account/email/confirm"}, {"PUT", "/api/account/profile"},
	} {
		res := call(t, evil, c.method, c.path, map[string]string{"name": "pwned", "email": "x@evil.example"})
		wantError(t, res, http.StatusForbidden, "https://evil.example")
	}
	if c := m.credentials(t, "csrf@example.com"); len(c) != 1 || c[0].Name == "pwned" {
		t.Fatal("a cross-site request changed the account")
	}
}

// registerRaw runs a registration ceremony with body {} and returns the
// verify answer.
func registerRaw(t *testing.T, e *env, b *softauthn.Client, a *softauthn.Authenticator) *softauthn.Response {
	t.Helper()
	att, _, err := a.Create(options(t, b, regOptions, map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	return e.post(t, b, regVerify, att)
}

func dumpTokens(t *testing.T, m *mailEnv) string { return dumpTable(t, m, "tokens") }
func dumpCodes(t *testing.T, m *mailEnv) string  { return dumpTable(t, m, "recovery_codes") }

// dumpTable returns every stored value of a table as text, to prove that a
// secret is not among them.
func dumpTable(t *testing.T, m *mailEnv, table string) string {
	t.Helper()
	db := sqlstore.DB(m.store)
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			fmt.Fprintf(&b, "%s|", v)
		}
	}
	if b.Len() == 0 {
		t.Fatalf("table %s is empty: nothing to check", table)
	}
	return b.String()
}

// TestOperatorRecoveryLink follows a recovery link made with
// internal/emailtoken alone, as `passkeyd users recovery-link` makes it
// (no web.Server), once. (The command issues a takeover link instead when
// the address is unconfirmed: emailtoken.RecoveryPurpose.)
func TestOperatorRecoveryLink(t *testing.T) {
	m := newMailEnv(t)
	b, a := m.browser(), m.authenticator()
	m.signUp(t, b, a, "help@example.com")
	u := m.user(t, "help@example.com")
	tokens := emailtoken.New(m.store, []byte(strings.Repeat("s", 32)), m.origin, m.clock.Now)
	secret, err := tokens.Issue(context.Background(), passkeyd.TokenRecovery, u.ID, u.Email, 15*time.Minute)
	link := tokens.Link(passkeyd.TokenRecovery, secret)
	if err != nil || !strings.HasPrefix(link, m.origin+"/recover/email?token=") {
		t.Fatalf("link %q: %v", link, err)
	}
	lu, _ := url.Parse(link)
	token := lu.Query().Get("token")
	lost := m.browser()
	if res := call(t, lost, "POST", "/api/recovery/email/verify", map[string]string{"token": token}); res.Status != 200 {
		t.Fatalf("operator link: %d %s", res.Status, res.Body)
	}
	if res := registerRaw(t, m.env, lost, m.authenticator()); res.Status != 200 {
		t.Fatalf("register: %d %s", res.Status, res.Body)
	}
	wantError(t, call(t, m.browser(), "POST", "/api/recovery/email/verify", map[string]string{"token": token}), 400)
}

// blockingStore holds FindUserByEmail until released: a fault injected to
// prove that the recovery answer does not wait for the look-up.
type blockingStore struct {
	passkeyd.Store
	release chan struct{}
	called  chan string
}

func (s *blockingStore) FindUserByEmail(ctx context.Context, email string) (*passkeyd.User, error) {
	s.called <- email
	<-s.release
	return s.Store.FindUserByEmail(ctx, email)
}

// TestRecoveryAnswerDoesNotWaitForLookup: "Lost your passkey?" answers
// before the account is even looked up, so neither its content nor its
// timing can depend on whether the account exists.
func TestRecoveryAnswerDoesNotWaitForLookup(t *testing.T) {
	m := newMailEnv(t)
	m.signUpVerified(t, m.browser(), m.authenticator(), "slow@example.com")
	bs := &blockingStore{Store: m.store, release: make(chan struct{}), called: make(chan string, 4)}
	h, err := web.New(web.Config{RPID: m.rpID, Origins: []string{m.origin}, Secret: []byte(strings.Repeat("s", 32)),
		RateLimits: web.RateLimits{Off: true}, Now: m.clock.Now}, web.Deps{Store: bs})
	if err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released {
			close(bs.release)
		}
	}()
	for _, email := range []string{"slow@example.com", "nobody@example.com"} {
		req := httptest.NewRequest("POST", "/api/recovery/email", strings.NewReader(`{"email":"`+email+`"}`))
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
	// Let the look-ups finish before the test's database goes away.
	close(bs.release)
	released = true
	db := sqlstore.DB(m.store)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM tokens WHERE purpose = 'recovery'`).Scan(&n); err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recovery link for the real account was never made")
		}
	}
}

func TestSecondPasskeyOfOneProviderGetsItsOwnName(t *testing.T) {
	m := newMailEnv(t)
	b, first, second := m.browser(), m.authenticator(), m.authenticator()
	m.signUp(t, b, first, "twins@example.com")
	m.signIn(t, b, first, "", nil)
	m.signUp(t, b, second, "")
	creds := m.credentials(t, "twins@example.com")
	if len(creds) != 2 {
		t.Fatalf("%d passkeys", len(creds))
	}
	a, b2 := creds[0].Name, creds[1].Name
	if a != b2+" 2" && b2 != a+" 2" {
		t.Fatalf("names %q and %q: want the second numbered", a, b2)
	}
}

func nameOf(creds []*passkeyd.Credential, id string) string {
	for _, c := range creds {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}
