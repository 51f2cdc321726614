package e2e

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
)

// The two kinds of virtual authenticator: the device's own (Chrome allows
// one per tab) and a security key.
const (
	internal    = webauthn.AuthenticatorTransportInternal
	securityKey = webauthn.AuthenticatorTransportUsb
)

// setup starts a server and a browser on it; without Chromium it skips
// before building anything.
func setup(t *testing.T) (*browser, *server) {
	t.Helper()
	chromium(t)
	srv := startServer(t)
	return newBrowser(t, srv), srv
}

// step runs one scenario of a story as a subtest; the story stops at the
// first step that fails, since the next ones build on it.
func step(t *testing.T, b *browser, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, func(t *testing.T) {
		b.scenario(t)
		f(t)
	}) {
		t.FailNow()
	}
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(strings.ToLower(got), strings.ToLower(w)) {
			t.Errorf("%s = %q, want it to mention %q", what, got, w)
		}
	}
}

// signUp registers email on the start page with auth and checks what the
// user sees and what the server stored.
func signUp(t *testing.T, b *browser, srv *server, auth webauthn.AuthenticatorID, email string) {
	t.Helper()
	before := srv.counts(t)
	b.open("/")
	b.waitAutofill("pending")
	b.typeEmail(email)
	b.present(auth, true)
	b.click("register")
	st := b.waitStatus("success")
	wantContains(t, "success message", st.Status, "registered", "sign in")
	b.shot("registered " + email)
	if st.Path != "/" {
		t.Errorf("after registration the page is %s, want / (registering does not sign in)", st.Path)
	}
	b.waitIdle()

	u, creds := srv.mustUser(t, email)
	if len(creds) != 1 {
		t.Fatalf("store: %s has %d passkeys, want 1", email, len(creds))
	}
	held := b.passkeys(auth)
	if len(held) == 0 {
		t.Fatalf("the authenticator holds no passkey after registration")
	}
	pk := held[len(held)-1]
	if !bytes.Equal(creds[0].CredentialID, pk.CredentialID) {
		t.Errorf("store: credential ID %x, the authenticator made %x", creds[0].CredentialID, pk.CredentialID)
	}
	if !bytes.Equal(u.Handle, pk.UserHandle) {
		t.Errorf("store: user handle %x, the passkey holds %x", u.Handle, pk.UserHandle)
	}
	if u.Email != email {
		t.Errorf("store: email %q, want %q", u.Email, email)
	}
	after := srv.counts(t)
	if after.Users != before.Users+1 || after.Credentials != before.Credentials+1 {
		t.Errorf("store: %+v before, %+v after; want one more user and one more credential", before, after)
	}
}

// signIn signs in on the start page with auth, typing email unless it is
// empty, and returns the dashboard's state after checking it shows wantEmail.
func signIn(t *testing.T, b *browser, auth webauthn.AuthenticatorID, email, wantEmail string) pageState {
	t.Helper()
	b.open("/")
	b.waitAutofill("pending")
	if email != "" {
		b.typeEmail(email)
	}
	b.present(auth, true)
	b.clickIfThere("signin")
	st := b.waitPath("/dashboard")
	if st.UserEmail != wantEmail {
		t.Fatalf("dashboard shows %q, want %q", st.UserEmail, wantEmail)
	}
	if got := b.me(); got != 200 {
		t.Errorf("GET /api/auth/me after sign-in: %d, want 200", got)
	}
	return st
}

// signOut presses Sign out on the dashboard and checks the session is gone.
func signOut(t *testing.T, b *browser) {
	t.Helper()
	b.click("signout")
	b.waitPath("/")
	if got := b.me(); got != 401 {
		t.Errorf("GET /api/auth/me after sign-out: %d, want 401", got)
	}
}

func passkeyIDs(t *testing.T, srv *server, email string) []string {
	t.Helper()
	_, creds := srv.mustUser(t, email)
	var ids []string
	for _, c := range creds {
		ids = append(ids, c.ID)
	}
	return ids
}

// Scenarios 1 to 4: a new user signs up on the start page, signs in with
// their email, signs out, and signs in again without typing it.
func TestSignUpSignInSignOut(t *testing.T) {
	b, srv := setup(t)
	const email = "ada@example.com"
	phone := b.addAuthenticator(internal, false)

	step(t, b, "SignUp", func(t *testing.T) {
		b.open("/")
		st := b.waitAutofill("pending")
		b.shot("start page")
		b.phoneLayout("start page")
		if st.Status != "" {
			t.Errorf("fresh start page shows %q", st.Status)
		}
		if !slices.Contains(st.Buttons, "register") || !slices.Contains(st.Buttons, "signin") {
			t.Errorf("start page buttons %q, want register and signin", st.Buttons)
		}
		signUp(t, b, srv, phone, email)
		if got := b.me(); got != 401 {
			t.Errorf("GET /api/auth/me after registration: %d, want 401", got)
		}
	})

	step(t, b, "SignInWithEmail", func(t *testing.T) {
		st := signIn(t, b, phone, email, email)
		b.shot("dashboard")
		b.phoneLayout("dashboard")
		if want := passkeyIDs(t, srv, email); !slices.Equal(st.Passkeys, want) {
			t.Errorf("dashboard lists passkeys %q, want %q", st.Passkeys, want)
		}
		_, creds := srv.mustUser(t, email)
		if creds[0].LastUsedAt.IsZero() {
			t.Errorf("store: the passkey's last use was not recorded")
		}
		if c := srv.counts(t); c.Sessions != 1 {
			t.Errorf("store: %d sessions after sign-in, want 1", c.Sessions)
		}
	})

	step(t, b, "SignOut", func(t *testing.T) {
		signOut(t, b)
		b.shot("signed out")
		b.open("/dashboard")
		if st := b.state(); st.Path != "/" {
			t.Errorf("/dashboard after sign-out shows %s, want a redirect to /", st.Path)
		}
		if c := srv.counts(t); c.Sessions != 0 {
			t.Errorf("store: %d sessions after sign-out, want 0", c.Sessions)
		}
	})

	step(t, b, "SignInWithoutEmail", func(t *testing.T) {
		st := signIn(t, b, phone, "", email)
		b.shot("dashboard username-less")
		if want := passkeyIDs(t, srv, email); !slices.Equal(st.Passkeys, want) {
			t.Errorf("dashboard lists passkeys %q, want %q", st.Passkeys, want)
		}
		signOut(t, b)
	})
}

// Scenario 5: autofill. The start page asks for a passkey with conditional
// mediation as it loads; a button aborts that request before its own
// ceremony and starts it again afterwards; and a passkey chosen from
// autofill signs the user in by itself.
func TestAutofill(t *testing.T) {
	b, srv := setup(t)
	const email = "grace@example.com"
	phone := b.addAuthenticator(internal, false)

	step(t, b, "PendingOnLoad", func(t *testing.T) {
		b.open("/")
		st := b.waitAutofill("pending")
		b.shot("autofill pending")
		if len(st.Disabled) != 0 {
			t.Errorf("buttons %q disabled while autofill waits", st.Disabled)
		}
	})

	step(t, b, "RegisterAbortsIt", func(t *testing.T) {
		// The same page: its autofill request is still pending.
		b.typeEmail(email)
		b.present(phone, true)
		b.click("register")
		st := b.waitStatus("success")
		b.shot("registered while autofill was pending")
		st = b.waitAutofill("pending") // started again after the ceremony
		i := slices.Index(st.History, "aborted")
		if i < 1 || st.History[i-1] != "pending" || !slices.Contains(st.History[i+1:], "pending") {
			t.Errorf("data-autofill went through %q, want pending, then aborted by the button, then pending again", st.History)
		}
		if u, creds := srv.user(t, email); u == nil || len(creds) != 1 {
			t.Errorf("store: registration made no account with one passkey")
		}
	})

	step(t, b, "SignsInByItself", func(t *testing.T) {
		// Presence on and a passkey present: the virtual authenticator
		// answers the autofill request as soon as the page makes it.
		b.present(phone, true)
		b.open("/")
		st := b.waitPath("/dashboard")
		b.shot("signed in by autofill")
		if st.UserEmail != email {
			t.Errorf("dashboard shows %q, want %q", st.UserEmail, email)
		}
		if got := b.me(); got != 200 {
			t.Errorf("GET /api/auth/me after autofill sign-in: %d, want 200", got)
		}
		if c := srv.counts(t); c.Sessions != 1 {
			t.Errorf("store: %d sessions, want 1", c.Sessions)
		}
	})
}

// Scenario 6: the authenticator refuses, or answers something the server
// refuses. The page says so, nothing is stored, and it stays usable.
func TestAuthenticatorRefuses(t *testing.T) {
	b, srv := setup(t)
	const email = "alan@example.com"
	phone := b.addAuthenticator(internal, false)

	step(t, b, "SignUp", func(t *testing.T) {
		signUp(t, b, srv, phone, email)
	})

	// refused checks the aftermath of a failed ceremony.
	refused := func(t *testing.T, before stored) pageState {
		t.Helper()
		st := b.waitIdle()
		if st.Path != "/" {
			t.Errorf("page %s after a refused ceremony, want /", st.Path)
		}
		if got := b.me(); got != 401 {
			t.Errorf("GET /api/auth/me after a refused sign-in: %d, want 401", got)
		}
		if after := srv.counts(t); after != before {
			t.Errorf("store: %+v before, %+v after a refused ceremony; want no change", before, after)
		}
		return st
	}

	step(t, b, "UserVerificationFails", func(t *testing.T) {
		before := srv.counts(t)
		b.userVerified(phone, false)
		b.open("/")
		b.waitAutofill("pending")
		b.typeEmail(email)
		b.present(phone, true)
		b.click("signin")
		st := b.waitStatus("error")
		b.present(phone, false)
		b.userVerified(phone, true)
		b.shot("user verification failed")
		wantContains(t, "error message", st.Status, "cancelled or timed out")
		refused(t, before)
		// The page tells the server's metrics what the browser refused.
		srv.waitLog(t, "event=client_error ceremony=authentication name=NotAllowedError")
	})

	step(t, b, "ServerRefusesMissingVerification", func(t *testing.T) {
		// The authenticator signs, but its answer says the user was not
		// verified; the server requires verification at sign-in.
		before := srv.counts(t)
		b.overrideBits(phone, true, false)
		b.open("/")
		b.waitAutofill("pending")
		b.present(phone, true)
		b.click("signin")
		st := b.waitStatus("error")
		b.overrideBits(phone, false, false)
		b.shot("server refused the sign-in")
		if strings.Contains(st.Status, "cancelled") || st.Status == "" {
			t.Errorf("error message %q, want the server's reason", st.Status)
		}
		refused(t, before)
	})

	step(t, b, "PasskeyGoneThenBack", func(t *testing.T) {
		before := srv.counts(t)
		saved := b.onlyPasskey(phone)
		b.removePasskey(phone, saved.CredentialID)
		b.open("/")
		b.waitAutofill("pending")
		b.typeEmail(email)
		b.present(phone, true)
		b.click("signin")
		st := b.waitStatus("error")
		b.present(phone, false)
		b.shot("no passkey on the device")
		wantContains(t, "error message", st.Status, "cancelled or timed out")
		refused(t, before)

		// The same page, without a reload, still works.
		b.addPasskey(phone, saved)
		b.present(phone, true)
		b.click("signin")
		st = b.waitPath("/dashboard")
		if st.UserEmail != email {
			t.Errorf("dashboard shows %q, want %q", st.UserEmail, email)
		}
		b.shot("signed in after the errors")
		signOut(t, b)
	})

	stranger := b.addAuthenticator(securityKey, false)
	const strangerEmail = "eve@example.com"

	step(t, b, "SignUpRefused", func(t *testing.T) {
		// The authenticator's answer claims no user presence: the server
		// refuses the registration and stores nothing.
		before := srv.counts(t)
		b.overrideBits(stranger, false, true)
		b.open("/")
		b.waitAutofill("pending")
		b.typeEmail(strangerEmail)
		b.present(stranger, true)
		b.click("register")
		st := b.waitStatus("error")
		b.overrideBits(stranger, false, false)
		b.shot("registration refused")
		if st.Status == "" || strings.Contains(st.Status, "cancelled") {
			t.Errorf("error message %q, want the server's reason", st.Status)
		}
		st = b.waitIdle()
		if u, _ := srv.user(t, strangerEmail); u != nil {
			t.Errorf("store: a refused registration left the account %s behind", strangerEmail)
		}
		if after := srv.counts(t); after != before {
			t.Errorf("store: %+v before, %+v after a refused registration", before, after)
		}
		if len(b.passkeys(stranger)) != 1 {
			t.Fatalf("the browser kept no passkey from the refused registration; the next step needs one")
		}
	})

	step(t, b, "UnknownPasskey", func(t *testing.T) {
		// The browser kept the passkey the server refused: signing in with
		// it is refused, and the page tells the provider to forget it.
		before := srv.counts(t)
		b.open("/")
		b.waitAutofill("pending")
		b.present(stranger, true)
		b.click("signin")
		st := b.waitStatus("error")
		b.shot("unknown passkey")
		wantContains(t, "error message", st.Status, "not registered")
		refused(t, before)
		requireSignal(t, b, "signalUnknownCredential")
		deadline := time.Now().Add(5 * time.Second)
		for len(b.passkeys(stranger)) != 0 {
			if time.Now().After(deadline) {
				t.Errorf("the authenticator still holds the passkey the server does not know (signalUnknownCredential not called?)")
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	b.removeAuthenticator(stranger)
}

// Scenario 7: two accounts, each with its passkey on its own authenticator,
// in one browser. Each sign-in lands on the right account.
func TestTwoAccounts(t *testing.T) {
	b, srv := setup(t)
	const ann, bob = "ann@example.com", "bob@example.com"
	annKey := b.addAuthenticator(internal, false)    // ann's laptop
	bobKey := b.addAuthenticator(securityKey, false) // bob's security key

	step(t, b, "SignUpBoth", func(t *testing.T) {
		signUp(t, b, srv, annKey, ann)
		signUp(t, b, srv, bobKey, bob)
		if c := srv.counts(t); c.Users != 2 || c.Credentials != 2 {
			t.Errorf("store: %+v, want 2 users and 2 credentials", c)
		}
	})

	step(t, b, "AnnSignsIn", func(t *testing.T) {
		st := signIn(t, b, annKey, "", ann)
		b.shot("ann's dashboard")
		if want := passkeyIDs(t, srv, ann); !slices.Equal(st.Passkeys, want) {
			t.Errorf("ann's dashboard lists %q, want %q", st.Passkeys, want)
		}
		signOut(t, b)
	})

	step(t, b, "BobSignsIn", func(t *testing.T) {
		st := signIn(t, b, bobKey, bob, bob)
		b.shot("bob's dashboard")
		if want := passkeyIDs(t, srv, bob); !slices.Equal(st.Passkeys, want) {
			t.Errorf("bob's dashboard lists %q, want %q", st.Passkeys, want)
		}
		signOut(t, b)
	})

	step(t, b, "AnnsPasskeyNeverOpensBobsAccount", func(t *testing.T) {
		// Typing bob's email and using ann's passkey: the server refuses it
		// or signs ann in, never bob.
		b.open("/")
		b.waitAutofill("pending")
		b.typeEmail(bob)
		b.present(annKey, true)
		b.click("signin")
		st := b.waitUntil("an error or a dashboard", func(s pageState) bool {
			return s.Path == "/dashboard" || s.Kind == "error"
		})
		b.present(annKey, false)
		b.shot("bob's email with ann's passkey")
		switch {
		case st.Path == "/dashboard" && st.UserEmail != ann:
			t.Fatalf("ann's passkey opened the dashboard of %q", st.UserEmail)
		case st.Path == "/dashboard":
			signOut(t, b)
		default:
			if got := b.me(); got != 401 {
				t.Errorf("GET /api/auth/me after the refusal: %d, want 401", got)
			}
		}
	})
}

// Scenario 8: a signed-in user adds a second passkey from the dashboard.
func TestSecondPasskey(t *testing.T) {
	b, srv := setup(t)
	const email = "kate@example.com"
	laptop := b.addAuthenticator(internal, true) // its passkeys sync, like iCloud Keychain's

	step(t, b, "SignUpAndIn", func(t *testing.T) {
		signUp(t, b, srv, laptop, email)
		signIn(t, b, laptop, "", email)
	})

	step(t, b, "SameDeviceAgain", func(t *testing.T) {
		// The server excludes the account's passkeys, so the laptop refuses
		// to make a second one for the same account.
		b.present(laptop, true)
		b.click("add-passkey")
		st := b.waitStatus("error")
		b.present(laptop, false)
		b.shot("same device again")
		wantContains(t, "error message", st.Status, "already has a passkey")
		st = b.waitIdle()
		if len(st.Passkeys) != 1 {
			t.Errorf("dashboard lists %d passkeys, want 1", len(st.Passkeys))
		}
		if _, creds := srv.mustUser(t, email); len(creds) != 1 {
			t.Errorf("store: %d passkeys, want 1", len(creds))
		}
	})

	key := b.addAuthenticator(securityKey, false)
	step(t, b, "AddSecurityKey", func(t *testing.T) {
		b.present(key, true)
		b.click("add-passkey")
		st := b.waitUntil("two passkeys on the dashboard", func(s pageState) bool { return len(s.Passkeys) == 2 })
		b.shot("two passkeys")
		_, creds := srv.mustUser(t, email)
		if len(creds) != 2 {
			t.Fatalf("store: %d passkeys, want 2", len(creds))
		}
		if want := passkeyIDs(t, srv, email); !slices.Equal(st.Passkeys, want) {
			t.Errorf("dashboard lists %q, want %q", st.Passkeys, want)
		}
		if want := []string{"Synced", "This device only"}; !slices.Equal(st.Storage, want) {
			t.Errorf("dashboard says the passkeys are stored %q, want %q", st.Storage, want)
		}
		if !creds[0].BackupEligible || !creds[0].BackupState || creds[1].BackupEligible || creds[1].BackupState {
			t.Errorf("store: backup flags (BE, BS) laptop %v %v, security key %v %v; want true true, false false",
				creds[0].BackupEligible, creds[0].BackupState, creds[1].BackupEligible, creds[1].BackupState)
		}
		if pk := b.onlyPasskey(key); !bytes.Equal(creds[1].CredentialID, pk.CredentialID) {
			t.Errorf("store: second credential %x, the security key made %x", creds[1].CredentialID, pk.CredentialID)
		}
		u, _ := srv.mustUser(t, email)
		if pk := b.onlyPasskey(key); !bytes.Equal(pk.UserHandle, u.Handle) {
			t.Errorf("the security key's passkey holds user handle %x, the account's is %x", pk.UserHandle, u.Handle)
		}
	})

	step(t, b, "SignInWithSecurityKey", func(t *testing.T) {
		signOut(t, b)
		st := signIn(t, b, key, "", email)
		b.shot("signed in with the security key")
		if len(st.Cloned) != 0 {
			t.Errorf("dashboard warns that passkeys %q may be cloned", st.Cloned)
		}
	})

	step(t, b, "ClonedPasskeyIsFlagged", func(t *testing.T) {
		// The laptop's counter goes backwards, as a copy of its key would
		// show: the server refuses the sign-in and flags the passkey, and
		// the dashboard warns about it.
		signOut(t, b)
		pk := b.onlyPasskey(laptop)
		if pk.SignCount < 1 {
			t.Fatalf("the laptop's counter is %v; it should have counted the earlier sign-in", pk.SignCount)
		}
		b.setSignCount(laptop, pk.CredentialID, 0)
		b.open("/")
		b.waitAutofill("pending")
		b.present(laptop, true)
		b.click("signin")
		st := b.waitStatus("error")
		b.shot("cloned passkey refused")
		if got := b.me(); got != 401 {
			t.Errorf("GET /api/auth/me after a sign-in with a counter gone back: %d, want 401", got)
		}
		_, creds := srv.mustUser(t, email)
		if !creds[0].CloneWarning {
			t.Errorf("store: the laptop's passkey is not flagged as possibly cloned (page said %q)", st.Status)
		}
		st = signIn(t, b, key, "", email)
		b.shot("dashboard with a clone warning")
		if want := []string{creds[0].ID}; !slices.Equal(st.Cloned, want) {
			t.Errorf("dashboard warns about %q, want %q", st.Cloned, want)
		}
	})
}
