package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/sqlstore"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/web"
)

func TestSignUpSignInSignOut(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "Alice@Example.com")

	u := e.user(t, "alice@example.com")
	if u.Email != "Alice@Example.com" || len(u.Handle) != 32 {
		t.Fatalf("stored user %+v: want email as typed and a 32-byte handle", u)
	}
	creds := e.credentials(t, "alice@example.com")
	if len(creds) != 1 {
		t.Fatalf("%d credentials, want 1", len(creds))
	}
	if got, want := creds[0].CredentialID, a.Credentials()[0].ID; string(got) != string(want) {
		t.Fatalf("stored credential ID differs from the authenticator's")
	}
	if status, _ := e.me(t, b); status != http.StatusUnauthorized {
		t.Fatalf("after sign-up /api/auth/me = %d, want 401 (sign-up does not sign in)", status)
	}

	r := e.signIn(t, b, a, "alice@example.com", nil)
	if r.User.Email != "Alice@Example.com" || r.User.ID != u.ID {
		t.Fatalf("signed in as %+v, want %s", r.User, u.ID)
	}
	if status, email := e.me(t, b); status != http.StatusOK || email != "Alice@Example.com" {
		t.Fatalf("/api/auth/me = %d %q", status, email)
	}
	if c := e.credentials(t, "alice@example.com")[0]; c.LastUsedAt.IsZero() {
		t.Errorf("last used not recorded")
	}
	if evs := e.events(t, "alice@example.com"); !contains(evs, passkeyd.EventLoginSucceeded) || !contains(evs, passkeyd.EventPasskeyAdded) {
		t.Errorf("security log %v lacks sign-up or sign-in", evs)
	}

	// Keep the session cookie to prove logout destroys it server-side.
	stolen := e.browser()
	copyCookies(t, b, stolen, e.srv.URL)
	if status, _ := e.me(t, stolen); status != http.StatusOK {
		t.Fatalf("copied cookie not accepted before logout: %d", status)
	}
	if res := e.post(t, b, "/api/auth/logout", nil); res.Status != http.StatusNoContent {
		t.Fatalf("logout = %d, want 204", res.Status)
	}
	if status, _ := e.me(t, b); status != http.StatusUnauthorized {
		t.Fatalf("after logout /api/auth/me = %d, want 401", status)
	}
	if status, _ := e.me(t, stolen); status != http.StatusUnauthorized {
		t.Fatalf("old session cookie still works after logout: %d", status)
	}
}

func TestSignInWithoutEmail(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "bob@example.com")
	if r := e.signIn(t, b, a, "", nil); r.User.Email != "bob@example.com" {
		t.Fatalf("username-less sign-in as %q", r.User.Email)
	}
}

func TestTwoUsersEachLandOnTheirAccount(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	a := e.authenticator() // one device holding passkeys of two accounts
	ca := e.signUp(t, b, a, "ann@example.com")
	cb := e.signUp(t, b, a, "ben@example.com")
	if r := e.signIn(t, b, a, "", ca); r.User.Email != "ann@example.com" {
		t.Fatalf("ann's passkey signed in %q", r.User.Email)
	}
	if r := e.signIn(t, b, a, "ben@example.com", cb); r.User.Email != "ben@example.com" {
		t.Fatalf("ben's passkey signed in %q", r.User.Email)
	}
	if _, email := e.me(t, b); email != "ben@example.com" {
		t.Fatalf("session is %q after switching, want ben", email)
	}
}

func TestSecondPasskeyForOwnAccount(t *testing.T) {
	e := newEnv(t)
	b, phone, laptop := e.browser(), e.authenticator(), e.authenticator()
	e.signUp(t, b, phone, "cat@example.com")
	e.signIn(t, b, phone, "cat@example.com", nil)

	// The options exclude the account's passkey, so the phone refuses to
	// make a second one for the same account.
	res, err := b.PostJSON(context.Background(), "/api/passkeys/generate-registration-options", map[string]string{})
	if err != nil || res.Status != 200 {
		t.Fatalf("options: %v %v", err, res)
	}
	var opts struct {
		ExcludeCredentials []struct{ ID string } `json:"excludeCredentials"`
	}
	_ = json.Unmarshal(res.Body, &opts)
	if len(opts.ExcludeCredentials) != 1 || opts.ExcludeCredentials[0].ID != phone.Credentials()[0].EncodedID() {
		t.Fatalf("excludeCredentials = %+v, want the phone's passkey", opts.ExcludeCredentials)
	}
	if _, _, err := phone.Create(res.Body); err != softauthn.ErrExcluded {
		t.Fatalf("phone made a duplicate passkey: %v", err)
	}

	e.signUp(t, b, laptop, "") // signed in: adds to own account
	if n := len(e.credentials(t, "cat@example.com")); n != 2 {
		t.Fatalf("%d passkeys, want 2", n)
	}
	for _, a := range []*softauthn.Authenticator{phone, laptop} {
		if r := e.signIn(t, e.browser(), a, "", nil); r.User.Email != "cat@example.com" {
			t.Fatalf("passkey signed in %q", r.User.Email)
		}
	}
}

func TestSignedInCannotRegisterForAnotherEmail(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "dan@example.com")
	e.signUp(t, e.browser(), e.authenticator(), "eve@example.com")
	e.signIn(t, b, a, "", nil)
	res, _ := b.PostJSON(context.Background(), "/api/passkeys/generate-registration-options", map[string]string{"email": "eve@example.com"})
	wantError(t, res, http.StatusBadRequest, "dan@example.com")
	if n := len(e.credentials(t, "eve@example.com")); n != 1 {
		t.Fatalf("eve has %d passkeys, want 1", n)
	}
}

func TestRegistrationOptionsShape(t *testing.T) {
	e := newEnv(t)
	res, _ := e.browser().PostJSON(context.Background(), "/api/passkeys/generate-registration-options", map[string]string{"email": "shape@example.com"})
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	var o struct {
		PublicKey        any    `json:"publicKey"`
		Challenge        string `json:"challenge"`
		Attestation      string `json:"attestation"`
		Timeout          int    `json:"timeout"`
		RP               struct{ ID, Name string }
		User             struct{ ID, Name, DisplayName string }
		PubKeyCredParams []struct {
			Type string
			Alg  int
		} `json:"pubKeyCredParams"`
		AuthenticatorSelection struct {
			ResidentKey             string `json:"residentKey"`
			RequireResidentKey      bool   `json:"requireResidentKey"`
			UserVerification        string `json:"userVerification"`
			AuthenticatorAttachment string `json:"authenticatorAttachment"`
		} `json:"authenticatorSelection"`
		Extensions map[string]any `json:"extensions"`
	}
	if err := json.Unmarshal(res.Body, &o); err != nil {
		t.Fatal(err)
	}
	if o.PublicKey != nil {
		t.Fatalf("options are wrapped in publicKey; the tutorial's front end needs them at the top level")
	}
	var algs []int
	for _, p := range o.PubKeyCredParams {
		algs = append(algs, p.Alg)
	}
	sort.Ints(algs)
	checks := []struct {
		name      string
		got, want any
	}{
		{"challenge length", len(o.Challenge) >= 43, true},
		{"attestation", o.Attestation, "none"},
		{"timeout", o.Timeout, 300000},
		{"rp.id", o.RP.ID, "localhost"},
		{"user.name", o.User.Name, "shape@example.com"},
		{"user.id is base64url of 32 bytes", len(o.User.ID), 43},
		{"algorithms", algs, []int{-257, -37, -36, -35, -8, -7}},
		{"residentKey", o.AuthenticatorSelection.ResidentKey, "required"},
		{"requireResidentKey", o.AuthenticatorSelection.RequireResidentKey, true},
		{"userVerification", o.AuthenticatorSelection.UserVerification, "preferred"},
		{"no forced attachment (phones and security keys allowed)", o.AuthenticatorSelection.AuthenticatorAttachment, ""},
		{"credProps", o.Extensions["credProps"], true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestAuthenticationOptionsRevealNothing(t *testing.T) {
	e := newEnv(t)
	e.signUp(t, e.browser(), e.authenticator(), "known@example.com")
	shape := func(email string) (map[string]any, string) {
		body := map[string]string{}
		if email != "" {
			body["email"] = email
		}
		res, _ := e.browser().PostJSON(context.Background(), "/api/passkeys/generate-authentication-options", body)
		if res.Status != 200 {
			t.Fatalf("options for %q: %d %s", email, res.Status, res.Body)
		}
		var m map[string]any
		_ = json.Unmarshal(res.Body, &m)
		uv, _ := m["userVerification"].(string)
		for k := range m {
			m[k] = nil // compare members, not values (the challenge differs)
		}
		return m, uv
	}
	known, uv := shape("known@example.com")
	unknown, _ := shape("nobody@example.com")
	none, _ := shape("")
	if !reflect.DeepEqual(known, unknown) || !reflect.DeepEqual(known, none) {
		t.Fatalf("options differ: known %v, unknown %v, none %v", known, unknown, none)
	}
	if _, ok := known["allowCredentials"]; ok {
		t.Fatalf("options list credential IDs to someone who only knows the email")
	}
	if uv != "required" {
		t.Fatalf("userVerification = %q, want required by default", uv)
	}
}

func TestAbandonedSignUpLeavesNothing(t *testing.T) {
	e := newEnv(t)
	res, _ := e.browser().PostJSON(context.Background(), "/api/passkeys/generate-registration-options", map[string]string{"email": "gone@example.com"})
	if res.Status != 200 {
		t.Fatalf("options: %d", res.Status)
	}
	e.noUser(t, "gone@example.com")
	// Nor does a failed verification.
	b, a := e.browser(), e.authenticator()
	a.UserNotPresent = true
	if _, err := b.Register(context.Background(), a, "gone@example.com"); err == nil {
		t.Fatal("registration without user presence succeeded")
	}
	e.noUser(t, "gone@example.com")
}

func TestSignUpWithTakenEmailNeverAttaches(t *testing.T) {
	e := newEnv(t)
	e.signUp(t, e.browser(), e.authenticator(), "owner@example.com")

	attacker, key := e.browser(), e.authenticator()
	_, err := attacker.Register(context.Background(), key, "OWNER@example.com")
	var se *softauthn.StatusError
	if !asStatus(err, &se) || se.Res.Status != http.StatusConflict {
		t.Fatalf("sign-up with a taken email: %v, want 409", err)
	}
	wantError(t, se.Res, http.StatusConflict, "Lost your passkey?")
	if n := len(e.credentials(t, "owner@example.com")); n != 1 {
		t.Fatalf("owner has %d passkeys, want 1", n)
	}

	// Race: options fetched while the email was free, verified after the
	// owner registered. The transaction refuses; nothing is attached.
	first, second := e.browser(), e.browser()
	k1, k2 := e.authenticator(), e.authenticator()
	o1, _ := first.PostJSON(context.Background(), "/api/passkeys/generate-registration-options", map[string]string{"email": "race@example.com"})
	o2, _ := second.PostJSON(context.Background(), "/api/passkeys/generate-registration-options", map[string]string{"email": "race@example.com"})
	att1, _, _ := k1.Create(o1.Body)
	att2, _, _ := k2.Create(o2.Body)
	if res := e.post(t, first, "/api/passkeys/verify-registration", att1); res.Status != 200 {
		t.Fatalf("first verify: %d %s", res.Status, res.Body)
	}
	wantError(t, e.post(t, second, "/api/passkeys/verify-registration", att2), http.StatusConflict)
	if n := len(e.credentials(t, "race@example.com")); n != 1 {
		t.Fatalf("race account has %d passkeys, want 1", n)
	}
	if _, err := second.SignIn(context.Background(), k2, "", nil); err == nil {
		t.Fatal("the losing passkey signs in")
	}
}

func asStatus(err error, target **softauthn.StatusError) bool {
	se, ok := err.(*softauthn.StatusError)
	if ok {
		*target = se
	}
	return ok
}

func TestEmailFirstWithAnotherAccountsPasskey(t *testing.T) {
	e := newEnv(t)
	e.signUp(t, e.browser(), e.authenticator(), "victim@example.com")
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "mallory@example.com")
	_, err := b.SignIn(context.Background(), a, "victim@example.com", nil)
	var se *softauthn.StatusError
	if !asStatus(err, &se) {
		t.Fatalf("signing in to victim's email with mallory's passkey: %v", err)
	}
	wantError(t, se.Res, http.StatusUnauthorized, "different account")
	if status, _ := e.me(t, b); status != http.StatusUnauthorized {
		t.Fatalf("a session was opened: %d", status)
	}
}

func TestUserVerificationRequiredAtSignIn(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	a.UserNotVerified = true // registration only prefers UV
	e.signUp(t, b, a, "uv@example.com")
	_, err := b.SignIn(context.Background(), a, "", nil)
	var se *softauthn.StatusError
	if !asStatus(err, &se) || se.Res.Status != http.StatusUnauthorized {
		t.Fatalf("sign-in without user verification: %v, want 401", err)
	}
	if status, _ := e.me(t, b); status != http.StatusUnauthorized {
		t.Fatal("signed in without user verification")
	}

	lax := newEnv(t, func(c *web.Config) { c.UserVerification = "preferred" })
	b, a = lax.browser(), lax.authenticator()
	a.UserNotVerified = true
	lax.signUp(t, b, a, "uv@example.com")
	lax.signIn(t, b, a, "", nil)
}

func TestTransportsStoredAsReported(t *testing.T) {
	e := newEnv(t)
	a := e.authenticator()
	a.Transports = []string{"hybrid", "internal"}
	e.signUp(t, e.browser(), a, "phone@example.com")
	if got := e.credentials(t, "phone@example.com")[0].Transports; !reflect.DeepEqual(got, []string{"hybrid", "internal"}) {
		t.Fatalf("transports %v, want hybrid kept", got)
	}
}

func TestLogoutWithoutSession(t *testing.T) {
	e := newEnv(t)
	if res := e.post(t, e.browser(), "/api/auth/logout", nil); res.Status != http.StatusNoContent {
		t.Fatalf("logout without a session = %d, want 204", res.Status)
	}
}

func TestSessionGetsNewIDAtEverySignIn(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "fresh@example.com")
	e.signIn(t, b, a, "", nil)
	first := e.browser()
	copyCookies(t, b, first, e.srv.URL)
	e.signIn(t, b, a, "", nil)
	if sessionCookie(t, b, e.srv.URL) == sessionCookie(t, first, e.srv.URL) {
		t.Fatal("session ID unchanged by a new sign-in")
	}
	if status, _ := e.me(t, first); status != http.StatusUnauthorized {
		t.Fatalf("the replaced session still works: %d", status)
	}
	if status, _ := e.me(t, b); status != http.StatusOK {
		t.Fatalf("the new session does not work: %d", status)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, func(c *web.Config) {
		c.SessionIdleTimeout = time.Hour
		c.SessionMaxAge = 3 * time.Hour
	})
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "idle@example.com")
	e.signIn(t, b, a, "", nil)

	// Activity every 50 minutes keeps the session alive until the absolute limit.
	for i := 0; i < 3; i++ {
		e.clock.Advance(50 * time.Minute)
		if status, _ := e.me(t, b); status != http.StatusOK {
			t.Fatalf("after %d active periods: %d, want 200", i+1, status)
		}
	}
	e.clock.Advance(40 * time.Minute) // 3h10m after sign-in
	if status, _ := e.me(t, b); status != http.StatusUnauthorized {
		t.Fatalf("past the absolute limit: %d, want 401", status)
	}

	e.signIn(t, b, a, "", nil)
	e.clock.Advance(61 * time.Minute)
	if status, _ := e.me(t, b); status != http.StatusUnauthorized {
		t.Fatalf("idle past the limit: %d, want 401", status)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		origin, rpID string
		secure       bool
	}{
		{"", "", false}, // http://localhost
		{"https://app.example.com", "example.com", true},
	} {
		e := newEnv(t, func(c *web.Config) {
			if tc.origin != "" {
				c.Origins, c.RPID = []string{tc.origin}, tc.rpID
			}
		})
		if tc.origin != "" {
			e.origin, e.rpID = tc.origin, tc.rpID
		}
		b, a := e.browser(), e.authenticator()
		regOpts, _ := b.PostJSON(context.Background(), "/api/passkeys/generate-registration-options", map[string]string{"email": "c@example.com"})
		att, _, err := a.Create(regOpts.Body)
		if err != nil {
			t.Fatal(err)
		}
		ceremony := findSetCookie(t, regOpts.Header, "ceremony")
		// Replay the ceremony cookie by hand: a Secure cookie is not sent
		// by the jar over plain http.
		res := postWithCookie(t, e, "/api/passkeys/verify-registration", att, ceremony)
		if res.StatusCode != 200 {
			t.Fatalf("%s: verify registration %d", tc.origin, res.StatusCode)
		}
		authOpts, _ := b.PostJSON(context.Background(), "/api/passkeys/generate-authentication-options", map[string]string{})
		assertion, _ := a.Get(authOpts.Body, nil)
		if c := findSetCookie(t, authOpts.Header, "ceremony"); c != nil {
			ceremony = c
		}
		res = postWithCookie(t, e, "/api/passkeys/verify-authentication", assertion, ceremony)
		if res.StatusCode != 200 {
			t.Fatalf("%s: verify authentication %d", tc.origin, res.StatusCode)
		}
		c := findSetCookie(t, res.Header, "session")
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.secure || c.Path != "/" {
			t.Fatalf("%s: session cookie %+v: want HttpOnly, SameSite=Lax, Secure=%v", tc.origin, c, tc.secure)
		}
		if tc.secure && c.Name != "__Host-passkeyd_session" {
			t.Errorf("https session cookie named %q, want the __Host- prefix", c.Name)
		}
		if tc.secure && res.Header.Get("Strict-Transport-Security") == "" {
			t.Errorf("no HSTS under https")
		}
	}
}

// TestSeveralCeremoniesInOneBrowser: the page starts a conditional
// (autofill) sign-in when it loads; the user clicks "Sign in with passkey"
// while that request is pending; another tab of the same browser, signed
// in, adds a passkey. All three are in flight at once in one cookie jar,
// and each completes.
func TestSeveralCeremoniesInOneBrowser(t *testing.T) {
	e := newEnv(t)
	b, phone, laptop := e.browser(), e.authenticator(), e.authenticator()
	e.signUp(t, b, phone, "many@example.com")
	e.signIn(t, b, phone, "many@example.com", nil)

	conditional := options(t, b, authOptions, nil)
	modal := options(t, b, authOptions, map[string]string{"email": "many@example.com"})
	otherTab := options(t, b, regOptions, map[string]string{})
	// The sign-up's and the first sign-in's cookies went when they
	// completed: three in flight, three cookies.
	if n := cookiesFit(t, e, b); n != 3 {
		t.Fatalf("%d ceremony cookies with three ceremonies in flight, want 3", n)
	}

	att, _, err := laptop.Create(otherTab)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.post(t, b, regVerify, att); res.Status != http.StatusOK {
		t.Fatalf("registration in the other tab: %d %s", res.Status, res.Body)
	}
	assertion, err := phone.Get(modal, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.post(t, b, authVerify, assertion); res.Status != http.StatusOK {
		t.Fatalf("modal sign-in started while the conditional one was pending: %d %s", res.Status, res.Body)
	}
	assertion, err = laptop.Get(conditional, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.post(t, b, authVerify, assertion); res.Status != http.StatusOK {
		t.Fatalf("the conditional sign-in: %d %s", res.Status, res.Body)
	}
	if n := cookiesFit(t, e, b); n != 0 {
		t.Fatalf("%d ceremony cookies after every ceremony completed, want 0", n)
	}
	if n := len(e.credentials(t, "many@example.com")); n != 2 {
		t.Fatalf("%d passkeys, want 2", n)
	}
}

// TestCeremoniesWhoseOptionsCross: two tabs ask for options at the same
// moment, so both requests carry the same cookies and each answer sets a
// ceremony the other's request did not see. The browser keeps both, and
// each completes.
func TestCeremoniesWhoseOptionsCross(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "cross@example.com")
	u, _ := url.Parse(e.srv.URL)

	// The second tab's request leaves with the cookies the first one's
	// did, before the first answer is in.
	tab2 := e.browser()
	tab2.HTTP.Jar.SetCookies(u, b.HTTP.Jar.Cookies(u))
	first := options(t, b, authOptions, nil)
	second := options(t, tab2, authOptions, map[string]string{"email": "cross@example.com"})
	b.HTTP.Jar.SetCookies(u, tab2.HTTP.Jar.Cookies(u)) // both answers reach the one browser

	for name, opts := range map[string][]byte{"first": first, "second": second} {
		assertion, err := a.Get(opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res := e.post(t, b, authVerify, assertion); res.Status != http.StatusOK {
			t.Fatalf("the %s of two crossing ceremonies: %d %s", name, res.Status, res.Body)
		}
	}
}

// TestCeremonyCookieKeepsTheNewest: a browser that starts many ceremonies
// (a page reloaded again and again, each load a conditional request) keeps
// a cookie browsers accept, and its newest ceremonies work.
func TestCeremonyCookieKeepsTheNewest(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "reload@example.com")
	var last []byte
	for range 30 {
		options(t, b, regOptions, map[string]string{"email": "other@example.com"})
		last = options(t, b, authOptions, nil)
	}
	cookiesFit(t, e, b)
	assertion, err := a.Get(last, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.post(t, b, authVerify, assertion); res.Status != http.StatusOK {
		t.Fatalf("the newest ceremony: %d %s", res.Status, res.Body)
	}
}

// TestRegistrationBoundToItsSession: a passkey registration begun in one
// login session cannot be finished in another, even of the same account,
// nor signed out.
func TestRegistrationBoundToItsSession(t *testing.T) {
	e := newEnv(t)
	b, phone := e.browser(), e.authenticator()
	e.signUp(t, b, phone, "bound@example.com")
	e.signIn(t, b, phone, "bound@example.com", nil)

	t.Run("OtherSession", func(t *testing.T) {
		att, _, err := e.authenticator().Create(options(t, b, regOptions, map[string]string{}))
		if err != nil {
			t.Fatal(err)
		}
		e.signIn(t, b, phone, "bound@example.com", nil) // a new session, same account
		wantError(t, e.post(t, b, regVerify, att), http.StatusUnauthorized, "signed out")
		if n := len(e.credentials(t, "bound@example.com")); n != 1 {
			t.Fatalf("%d passkeys, want 1", n)
		}
	})
	t.Run("SignedOut", func(t *testing.T) {
		att, _, err := e.authenticator().Create(options(t, b, regOptions, map[string]string{}))
		if err != nil {
			t.Fatal(err)
		}
		if res := e.post(t, b, "/api/auth/logout", nil); res.Status != http.StatusNoContent {
			t.Fatalf("logout: %d", res.Status)
		}
		wantError(t, e.post(t, b, regVerify, att), http.StatusUnauthorized, "signed out")
		if n := len(e.credentials(t, "bound@example.com")); n != 1 {
			t.Fatalf("%d passkeys, want 1", n)
		}
	})
}

// cookiesFit fails the test if a cookie of b is larger than browsers keep
// (4,096 bytes, name and value), or b holds more ceremony cookies than
// the server keeps; it returns how many ceremony cookies b holds.
func cookiesFit(t *testing.T, e *env, b *softauthn.Client) (ceremonies int) {
	t.Helper()
	u, _ := url.Parse(e.srv.URL)
	for _, c := range b.HTTP.Jar.Cookies(u) {
		if n := len(c.Name) + len(c.Value); n > 4000 {
			t.Fatalf("cookie %s is %d bytes: browsers drop cookies over 4,096", c.Name, n)
		}
		if strings.HasPrefix(c.Name, "passkeyd_ceremony_") {
			ceremonies++
		}
	}
	if ceremonies > 6 {
		t.Fatalf("the browser holds %d ceremony cookies, want at most 6", ceremonies)
	}
	return ceremonies
}

// TestSignInOptionsNeverReadTheDatabase: sign-in options are answered with
// the database gone, for a signed-in browser (whose session cookie is not
// looked up) and with an email (whose account is not looked up), so
// neither their content nor their timing can depend on what the database
// holds. The ceremony they start completes once the database is back.
func TestSignInOptionsNeverReadTheDatabase(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "nodb@example.com")
	e.signIn(t, b, a, "nodb@example.com", nil)

	db := sqlstore.DB(e.store)
	if _, err := db.Exec(`ALTER TABLE sessions RENAME TO sessions_away`); err != nil {
		t.Fatal(err)
	}
	if status, _ := e.me(t, b); status == http.StatusOK {
		t.Fatal("/api/auth/me answered without the sessions table: the test shows nothing")
	}
	if _, err := db.Exec(`ALTER TABLE users RENAME TO users_away`); err != nil {
		t.Fatal(err)
	}
	var pending []byte
	for _, body := range []map[string]string{{"email": "nobody@example.com"}, {"email": "nodb@example.com"}, nil} {
		pending = options(t, b, authOptions, body)
	}
	for _, q := range []string{`ALTER TABLE users_away RENAME TO users`, `ALTER TABLE sessions_away RENAME TO sessions`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	assertion, err := a.Get(pending, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.post(t, b, authVerify, assertion); res.Status != http.StatusOK {
		t.Fatalf("sign-in after the database came back: %d %s", res.Status, res.Body)
	}
}
