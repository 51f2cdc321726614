package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/softauthn"
	"github.com/passkeyd/passkeyd/web"
)

// options fetches ceremony options and fails the test on anything but 200.
func options(t *testing.T, b *softauthn.Client, path string, body map[string]string) []byte {
	t.Helper()
	res, err := b.PostJSON(context.Background(), path, body)
	if err != nil || res.Status != 200 {
		t.Fatalf("%s: %v %+v", path, err, res)
	}
	return res.Body
}

const (
	regOptions  = "/api/passkeys/generate-registration-options"
	regVerify   = "/api/passkeys/verify-registration"
	authOptions = "/api/passkeys/generate-authentication-options"
	authVerify  = "/api/passkeys/verify-authentication"
)

func TestReplayedResponsesFail(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "replay@example.com")

	assertion, err := a.Get(options(t, b, authOptions, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := e.post(t, b, authVerify, assertion); res.Status != 200 {
		t.Fatalf("first use: %d %s", res.Status, res.Body)
	}
	t.Run("SameCookie", func(t *testing.T) {
		wantError(t, e.post(t, b, authVerify, assertion), http.StatusBadRequest, "expired or was already used")
	})
	t.Run("NoCookie", func(t *testing.T) {
		wantError(t, e.post(t, e.browser(), authVerify, assertion), http.StatusBadRequest, "expired or was already used")
	})
	t.Run("OtherBrowsersFreshCeremony", func(t *testing.T) {
		// An attacker with their own pending ceremony cannot use a response
		// captured from someone else: it answers another challenge.
		other := e.browser()
		options(t, other, authOptions, nil)
		wantError(t, e.post(t, other, authVerify, assertion), http.StatusBadRequest)
		if status, _ := e.me(t, other); status != http.StatusUnauthorized {
			t.Fatal("replay signed the attacker in")
		}
	})
	t.Run("CapturedBeforeUseWithoutCookie", func(t *testing.T) {
		// A response captured in flight and sent from another browser
		// before the victim's own request: the challenge is bound to the
		// victim's browser, so it fails, and the victim can still finish.
		assertion, _ := a.Get(options(t, b, authOptions, nil), nil)
		wantError(t, e.post(t, e.browser(), authVerify, assertion), http.StatusBadRequest)
		if res := e.post(t, b, authVerify, assertion); res.Status != 200 {
			t.Fatalf("victim's own response refused after the attempt: %d %s", res.Status, res.Body)
		}
	})
	t.Run("Registration", func(t *testing.T) {
		k := e.authenticator()
		att, _, _ := k.Create(options(t, b, regOptions, map[string]string{}))
		if res := e.post(t, b, regVerify, att); res.Status != 200 {
			t.Fatalf("first registration: %d %s", res.Status, res.Body)
		}
		wantError(t, e.post(t, b, regVerify, att), http.StatusBadRequest)
		if n := len(e.credentials(t, "replay@example.com")); n != 2 {
			t.Fatalf("%d passkeys, want 2", n)
		}
	})
}

func TestCeremoniesCannotCross(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "cross@example.com")

	t.Run("AssertionAnsweringRegistrationChallenge", func(t *testing.T) {
		// Sign the registration options' challenge as if it were a sign-in.
		assertion, err := a.Get(options(t, b, regOptions, map[string]string{"email": "new@example.com"}), a.Credentials()[0])
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, e.post(t, b, authVerify, assertion), http.StatusBadRequest)
		if status, _ := e.me(t, b); status != http.StatusUnauthorized {
			t.Fatal("signed in with a registration challenge")
		}
	})
	t.Run("AttestationAnsweringSignInChallenge", func(t *testing.T) {
		req := options(t, b, authOptions, nil)
		var ro struct{ Challenge string }
		_ = json.Unmarshal(req, &ro)
		fake, _ := json.Marshal(map[string]any{
			"challenge": ro.Challenge, "rp": map[string]string{"id": "localhost", "name": "x"},
			"user": map[string]string{"id": base64.RawURLEncoding.EncodeToString(make([]byte, 32)), "name": "new2@example.com", "displayName": "n"},
		})
		att, _, err := e.authenticator().Create(fake)
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, e.post(t, b, regVerify, att), http.StatusBadRequest)
		e.noUser(t, "new2@example.com")
	})
}

func TestChallengeExpires(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	att, _, _ := a.Create(options(t, b, regOptions, map[string]string{"email": "late@example.com"}))
	e.clock.Advance(5*time.Minute + time.Second)
	wantError(t, e.post(t, b, regVerify, att), http.StatusBadRequest, "expired")
	e.noUser(t, "late@example.com")

	e.clock.Advance(-5*time.Minute - time.Second)
	e.signUp(t, b, a, "late@example.com")
	assertion, _ := a.Get(options(t, b, authOptions, nil), nil)
	e.clock.Advance(5*time.Minute + time.Second)
	wantError(t, e.post(t, b, authVerify, assertion), http.StatusBadRequest, "expired")
}

func TestCloneWarningRefusesAndFlags(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	a.Counting = true // a security key: the counter goes up
	e.signUp(t, b, a, "key@example.com")
	e.signIn(t, b, a, "", nil) // counter 1
	e.signIn(t, b, a, "", nil) // counter 2
	if c := e.credentials(t, "key@example.com")[0]; c.SignCount != 2 || c.CloneWarning {
		t.Fatalf("after two sign-ins: count %d, clone %v", c.SignCount, c.CloneWarning)
	}

	// A copy of the key, behind by one use, signs in elsewhere.
	clone := e.browser()
	cred := a.Credentials()[0]
	cred.Counter = 1 // the copy's next signature carries 2: not above the stored 2
	_, err := clone.SignIn(context.Background(), a, "", nil)
	var se *softauthn.StatusError
	if !asStatus(err, &se) {
		t.Fatalf("cloned key signed in: %v", err)
	}
	wantError(t, se.Res, http.StatusForbidden, "copied")
	if status, _ := e.me(t, clone); status != http.StatusUnauthorized {
		t.Fatal("clone got a session")
	}
	c := e.credentials(t, "key@example.com")[0]
	if !c.CloneWarning || c.SignCount != 2 {
		t.Fatalf("credential after clone: warning %v, count %d; want flagged, count kept at 2", c.CloneWarning, c.SignCount)
	}
	if !contains(e.events(t, "key@example.com"), passkeyd.EventCloneWarning) {
		t.Fatal("no clone_warning in the security log")
	}

	// Zero counters (synced passkeys) never trip it.
	s, p := e.browser(), e.authenticator()
	e.signUp(t, s, p, "synced@example.com")
	for i := 0; i < 3; i++ {
		e.signIn(t, s, p, "", nil)
		if status, _ := e.me(t, s); status != http.StatusOK {
			t.Fatalf("synced passkey, sign-in %d: /api/auth/me = %d, want 200", i+1, status)
		}
	}
	if c := e.credentials(t, "synced@example.com")[0]; c.CloneWarning || c.SignCount != 0 {
		t.Fatalf("synced passkey after 3 sign-ins: warning %v, count %d; want no warning, count 0", c.CloneWarning, c.SignCount)
	}
	logins := 0
	for _, typ := range e.events(t, "synced@example.com") {
		if typ == passkeyd.EventCloneWarning {
			t.Fatal("clone_warning in the security log of a synced passkey")
		}
		if typ == passkeyd.EventLoginSucceeded {
			logins++
		}
	}
	if logins != 3 {
		t.Fatalf("%d login_succeeded events, want 3", logins)
	}
}

func TestBackupFlags(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	a.BackupEligible, a.BackupState = true, false // eligible, not yet synced
	e.signUp(t, b, a, "flags@example.com")
	c := e.credentials(t, "flags@example.com")[0]
	if !c.BackupEligible || c.BackupState {
		t.Fatalf("stored BE=%v BS=%v, want BE=true BS=false (not the tutorial's BS-as-BE)", c.BackupEligible, c.BackupState)
	}

	steps := []struct {
		name   string
		be, bs bool
		event  string
	}{
		{"BSTurnsOn", true, true, passkeyd.EventBackupStateChanged},
		{"BEFlipsOff", false, false, passkeyd.EventBackupEligibleChanged},
		{"BEFlipsOn", true, true, passkeyd.EventBackupEligibleChanged},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := len(e.events(t, "flags@example.com"))
			a.BackupEligible, a.BackupState = s.be, s.bs
			e.signIn(t, b, a, "", nil)
			c := e.credentials(t, "flags@example.com")[0]
			if c.BackupEligible != s.be || c.BackupState != s.bs {
				t.Fatalf("stored BE=%v BS=%v, want %v %v", c.BackupEligible, c.BackupState, s.be, s.bs)
			}
			evs := e.events(t, "flags@example.com")
			if !contains(evs[:len(evs)-before], s.event) {
				t.Fatalf("new events %v lack %s", evs[:len(evs)-before], s.event)
			}
		})
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	e := newEnv(t)
	paths := []string{regOptions, regVerify, authOptions, authVerify, "/api/auth/logout"}
	for _, p := range paths {
		t.Run(strings.TrimPrefix(p, "/api/"), func(t *testing.T) {
			evil := softauthn.NewClient(e.srv.URL, "https://evil.example", nil)
			res, _ := evil.PostJSON(context.Background(), p, map[string]string{"email": "x@example.com"})
			wantError(t, res, http.StatusForbidden, "https://evil.example", e.origin)

			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+p, strings.NewReader(`{"email":"x@example.com"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != http.StatusForbidden {
				t.Fatalf("Sec-Fetch-Site: cross-site without Origin: %d, want 403", r.StatusCode)
			}
		})
	}
	e.noUser(t, "x@example.com")
}

func TestOriginNotConfiguredIsNamed(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	a := softauthn.New("localhost", "http://localhost:9999") // the page ran on another port
	att, _, _ := a.Create(options(t, b, regOptions, map[string]string{"email": "port@example.com"}))
	wantError(t, e.post(t, b, regVerify, att), http.StatusBadRequest, "http://localhost:9999", e.origin, "WEBAUTHN_ORIGIN")
	e.noUser(t, "port@example.com")
}

func TestBadRequestsAreClearAndHarmless(t *testing.T) {
	e := newEnv(t)
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "bad@example.com")
	valid, _ := a.Get(options(t, b, authOptions, nil), nil)

	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(valid, &m)
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	// A passkey the authenticator made but the server never stored.
	unknown, unknownCreds := e.authenticator(), e.browser()
	if _, _, err := unknown.Create(options(t, unknownCreds, regOptions, map[string]string{"email": "never@example.com"})); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, path string
		body       []byte
		status     int
		fragment   string
	}{
		{"EmptyBodyVerify", authVerify, nil, 400, "malformed"},
		{"NotJSON", authVerify, []byte("{"), 400, "malformed"},
		{"JSONArray", regVerify, []byte("[]"), 400, "malformed"},
		{"WrongTypes", regOptions, []byte(`{"email": 7}`), 400, "JSON"},
		{"BadEmail", regOptions, []byte(`{"email": "not an email"}`), 400, "valid email"},
		{"BadEmailSignIn", authOptions, []byte(`{"email": "<a@b.c>"}`), 400, "valid email"},
		{"BadBase64", authVerify, mutate(func(m map[string]any) { m["response"].(map[string]any)["signature"] = "!!!" }), 400, ""},
		{"BadClientData", authVerify, mutate(func(m map[string]any) { m["response"].(map[string]any)["clientDataJSON"] = "e30" }), 400, ""},
		{"BadCBOR", regVerify, []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oWFh"}}`), 400, "malformed"},
		{"IDNotRawID", authVerify, mutate(func(m map[string]any) { m["id"] = "AAAA" }), 400, ""},
		{"TamperedSignature", authVerify, mutate(func(m map[string]any) {
			r := m["response"].(map[string]any)
			sig, _ := base64.RawURLEncoding.DecodeString(r["signature"].(string))
			sig[len(sig)-1] ^= 1
			r["signature"] = base64.RawURLEncoding.EncodeToString(sig)
		}), 401, "could not be verified"},
		{"Oversized", authVerify, []byte(`{"id":"` + strings.Repeat("A", 70<<10) + `"}`), 400, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The ceremony valid answers is pending throughout: a failure
			// is the body's fault. A refused response does not use it up.
			wantError(t, e.post(t, b, tc.path, tc.body), tc.status, tc.fragment)
		})
	}
	t.Run("UnknownCredential", func(t *testing.T) {
		assertion, _ := unknown.Get(options(t, unknownCreds, authOptions, nil), nil)
		res := e.post(t, unknownCreds, authVerify, assertion)
		wantError(t, res, http.StatusUnauthorized, "not registered")
		var body struct{ Code string }
		_ = json.Unmarshal(res.Body, &body)
		if body.Code != "unknown_credential" {
			t.Fatalf("code %q, want unknown_credential (the page signals it to the authenticator)", body.Code)
		}
	})
	t.Run("WrongContentType", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+authOptions, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Origin", e.origin)
		r, _ := http.DefaultClient.Do(req)
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("text/plain body: %d, want 400", r.StatusCode)
		}
	})
	t.Run("UnknownRoute", func(t *testing.T) {
		res, _ := b.Do(context.Background(), http.MethodGet, "/api/nope", nil)
		wantError(t, res, http.StatusNotFound)
	})

	// Nothing above changed the account or opened a session.
	if n := len(e.credentials(t, "bad@example.com")); n != 1 {
		t.Fatalf("%d passkeys, want 1", n)
	}
	if status, _ := e.me(t, b); status != http.StatusUnauthorized {
		t.Fatal("a bad request opened a session")
	}
	if c := e.credentials(t, "bad@example.com")[0]; !c.LastUsedAt.IsZero() {
		t.Fatal("a bad request updated the passkey")
	}

	// The response all the above was made from still signs in once.
	t.Run("Replayed", func(t *testing.T) {
		if res := e.post(t, b, authVerify, valid); res.Status != http.StatusOK {
			t.Fatalf("the untouched response: status %d, %s", res.Status, res.Body)
		}
		wantError(t, e.post(t, b, authVerify, valid), http.StatusBadRequest, "already used")
	})
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.RateLimits = web.DefaultRateLimits() })
	b := e.browser()
	t.Run("OptionsPerIP", func(t *testing.T) {
		var last *softauthn.Response
		for i := 0; i < 100; i++ {
			last, _ = b.PostJSON(context.Background(), authOptions, map[string]string{})
			if last.Status == http.StatusTooManyRequests {
				break
			}
		}
		wantError(t, last, http.StatusTooManyRequests, "wait")
		if last.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	})

	e = newEnv(t, func(c *web.Config) { c.RateLimits = web.DefaultRateLimits() })
	t.Run("OptionsPerEmail", func(t *testing.T) {
		var last *softauthn.Response
		for i := 0; i < 20; i++ {
			last, _ = e.browser().PostJSON(context.Background(), authOptions, map[string]string{"email": "target@example.com"})
			if last.Status == http.StatusTooManyRequests {
				if i < 10 {
					t.Fatalf("limited after %d requests, default allows 10", i)
				}
				break
			}
		}
		wantError(t, last, http.StatusTooManyRequests)
		// Another email from the same address is still served.
		res, _ := e.browser().PostJSON(context.Background(), authOptions, map[string]string{"email": "me@example.com"})
		if res.Status != 200 {
			t.Fatalf("another email refused: %d", res.Status)
		}
	})

	e = newEnv(t, func(c *web.Config) { c.RateLimits = web.DefaultRateLimits() })
	t.Run("FailuresPerCredential", func(t *testing.T) {
		b, a := e.browser(), e.authenticator()
		e.signUp(t, b, a, "guess@example.com")
		a.UserNotVerified = true
		for i := 0; i < 10; i++ {
			if _, err := b.SignIn(context.Background(), a, "", nil); err == nil {
				t.Fatal("unverified sign-in succeeded")
			}
		}
		a.UserNotVerified = false
		_, err := b.SignIn(context.Background(), a, "", nil)
		var se *softauthn.StatusError
		if !asStatus(err, &se) || se.Res.Status != http.StatusTooManyRequests {
			t.Fatalf("after 10 failures a valid sign-in got %v, want 429 until the window passes", err)
		}
	})

	// Emailed tokens are 256-bit, but guessing them must still be bounded
	// like every other secret a client sends (issue 11.6).
	for _, path := range []string{"/api/recovery/email/verify", "/api/email/verify", "/api/account/email/confirm"} {
		t.Run("TokenGuessesPerIP"+path, func(t *testing.T) {
			limits := web.DefaultRateLimits()
			limits.VerifyPerIP = web.Limit{Count: 5, Window: time.Minute}
			e := newEnv(t, func(c *web.Config) { c.RateLimits = limits })
			b := e.browser()
			for i := 0; i < 5; i++ {
				res, _ := b.PostJSON(context.Background(), path, map[string]string{"token": fmt.Sprintf("guess-%d", i)})
				wantError(t, res, http.StatusBadRequest, "not valid")
			}
			res, _ := b.PostJSON(context.Background(), path, map[string]string{"token": "guess-5"})
			wantError(t, res, http.StatusTooManyRequests, "wait")
		})
	}

	// Each new set of codes costs ten Argon2id runs (issue 13.2).
	t.Run("RecoveryCodeSetsPerAccount", func(t *testing.T) {
		e := newEnv(t, func(c *web.Config) { c.RateLimits = web.DefaultRateLimits() })
		b, a := e.browser(), e.authenticator()
		e.signUp(t, b, a, "codes@example.com")
		e.signIn(t, b, a, "", nil)
		for i := 0; i < web.DefaultRateLimits().RecoveryPerEmail.Count; i++ {
			if res := call(t, b, "POST", "/api/recovery/codes", nil); res.Status != 200 {
				t.Fatalf("set %d: %d %s", i+1, res.Status, res.Body)
			}
		}
		wantError(t, call(t, b, "POST", "/api/recovery/codes", nil), http.StatusTooManyRequests, "wait")
	})

	t.Run("ParseRateLimits", func(t *testing.T) {
		rl, err := web.ParseRateLimits("options-ip=5/10s,credential-failures=3/1m")
		if err != nil || rl.OptionsPerIP != (web.Limit{Count: 5, Window: 10 * time.Second}) || rl.FailuresPerCredential.Count != 3 {
			t.Fatalf("%+v %v", rl, err)
		}
		if rl, _ := web.ParseRateLimits("off"); !rl.Off {
			t.Fatal("off not off")
		}
		for _, bad := range []string{"fast", "options-ip=0/1m", "nope=1/1m", "options-ip=5"} {
			if _, err := web.ParseRateLimits(bad); err == nil {
				t.Errorf("%q accepted", bad)
			}
		}
	})
}

func TestConfigValidation(t *testing.T) {
	base := web.Config{RPID: "example.com", Origins: []string{"https://app.example.com"}, Secret: []byte(strings.Repeat("k", 32))}
	cases := []struct {
		name     string
		change   func(*web.Config)
		fragment string // "" means valid
	}{
		{"OK", func(*web.Config) {}, ""},
		{"SameHost", func(c *web.Config) { c.RPID = "app.example.com" }, ""},
		{"Localhost", func(c *web.Config) { c.RPID, c.Origins = "localhost", []string{"http://localhost:8080"} }, ""},
		{"RPIDNotSuffix", func(c *web.Config) { c.RPID = "other.com" }, `RPID "other.com" is neither the host of Origins "https://app.example.com"`},
		{"RPIDPartialLabel", func(c *web.Config) { c.RPID = "ample.com" }, "neither"},
		{"PublicSuffix", func(c *web.Config) { c.RPID, c.Origins = "co.uk", []string{"https://a.co.uk"} }, "public suffix"},
		{"IPAddress", func(c *web.Config) { c.RPID = "127.0.0.1" }, "IP address"},
		{"PlainHTTP", func(c *web.Config) { c.Origins = []string{"http://app.example.com"} }, "https"},
		{"ShortSecret", func(c *web.Config) { c.Secret = []byte("short") }, "Secret must be at least 32"},
		{"NoOrigin", func(c *web.Config) { c.Origins = nil }, "Origins is empty"},
		{"OriginWithPath", func(c *web.Config) { c.Origins = []string{"https://app.example.com/login"} }, "not an origin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.change(&c)
			err := c.Validate()
			if tc.fragment == "" {
				if err != nil {
					t.Fatalf("valid config refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.fragment) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.fragment)
			}
		})
	}
}

// TestSignInSentTwiceIsNoClone: the same verify request, with the same
// ceremony cookie, sent twice (a proxy's retry, a double submit). The
// second carries the counter the first one stored, which looks like a
// copied passkey; but its ceremony is used, and that is the answer: no
// clone flag, no clone_warning in the security log, no email to the owner.
func TestSignInSentTwiceIsNoClone(t *testing.T) {
	m := newMailEnv(t)
	b, a := m.browser(), m.authenticator()
	a.Counting = true // a security key: the counter goes up
	m.signUp(t, b, a, "retry@example.com")
	opts, err := b.PostJSON(context.Background(), authOptions, map[string]string{})
	if err != nil || opts.Status != http.StatusOK {
		t.Fatalf("sign-in options: %v %v", opts, err)
	}
	ceremony := findSetCookie(t, opts.Header, "ceremony")
	assertion, err := a.Get(opts.Body, nil)
	if err != nil {
		t.Fatal(err)
	}
	send := func() (int, string) {
		req, _ := http.NewRequest(http.MethodPost, m.srv.URL+authVerify, bytes.NewReader(assertion))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", m.origin)
		req.AddCookie(&http.Cookie{Name: ceremony.Name, Value: ceremony.Value})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if status, body := send(); status != http.StatusOK {
		t.Fatalf("first sending: %d %s", status, body)
	}
	status, body := send()
	if status != http.StatusBadRequest || !strings.Contains(body, "already used") {
		t.Fatalf("second sending: %d %s, want 400 \"already used\"", status, body)
	}
	if c := m.credentials(t, "retry@example.com")[0]; c.CloneWarning || c.SignCount != 1 {
		t.Errorf("passkey after the retry: clone warning %v, count %d; want no warning, count 1", c.CloneWarning, c.SignCount)
	}
	if events := m.events(t, "retry@example.com"); contains(events, passkeyd.EventCloneWarning) {
		t.Errorf("clone_warning in the security log after a retry: %v", events)
	}
	if err := m.queue.Close(context.Background()); err != nil { // every message queued so far is now at the SMTP server
		t.Fatal(err)
	}
	msgs := m.smtp.Messages()
	if len(msgs) == 0 {
		t.Fatal("no email captured at all, not even the sign-up's confirmation link")
	}
	for _, msg := range msgs {
		if strings.Contains(msg.Subject, "copied") {
			t.Errorf("the owner was told of a copied passkey after a retry: %q", msg.Subject)
		}
	}
}

// TestParallelSignInsWithOneCounterValue: assertions made with one counter
// value (a copied key used from several places at once) and sent together:
// exactly one signs in. The others fail, as a lost race (401) or, if they
// read the counter after the winner wrote it, as a clone (403).
func TestParallelSignInsWithOneCounterValue(t *testing.T) {
	e := newEnv(t)
	a := e.authenticator()
	a.Counting = true
	e.signUp(t, e.browser(), a, "race@example.com")
	cred := a.Credentials()[0]
	const n, rounds = 20, 20
	for round := range rounds {
		stored := e.credentials(t, "race@example.com")[0].SignCount
		browsers := make([]*softauthn.Client, n)
		assertions := make([][]byte, n)
		for i := range n {
			browsers[i] = e.browser()
			cred.Counter = stored // every copy signs with stored+1
			var err error
			if assertions[i], err = a.Get(options(t, browsers[i], authOptions, nil), nil); err != nil {
				t.Fatal(err)
			}
		}
		statuses := make([]int, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				if res, err := browsers[i].Do(context.Background(), http.MethodPost, authVerify, assertions[i]); err == nil {
					statuses[i] = res.Status
				}
			})
		}
		close(start)
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		if count[200] != 1 || count[401]+count[403] != n-1 {
			t.Fatalf("round %d: statuses %v, want exactly one 200 and the rest 401 or 403", round, count)
		}
		if got := e.credentials(t, "race@example.com")[0].SignCount; got != stored+1 {
			t.Fatalf("round %d: counter %d, want %d", round, got, stored+1)
		}
	}
}
