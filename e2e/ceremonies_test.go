package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// newTab opens another tab in b's browser: the same profile, so the same
// cookie jar, prepared as the first (virtual authenticators belong to a
// tab: it has none yet).
func (b *browser) newTab() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.root)
	b.t.Cleanup(cancel)
	shots := filepath.Join(b.shots, "tab2")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	tab := &browser{t: b.t, root: ctx, ctx: ctx, srv: b.srv, shots: shots}
	bounded, cancelBounded := context.WithTimeout(ctx, testTimeout)
	b.t.Cleanup(cancelBounded)
	tab.ctx = bounded
	tab.call("open a second tab", func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Navigate("about:blank"))
	})
	tab.prepareTab()
	return tab
}

// ceremonyCookies returns the names of the ceremony cookies the browser
// holds: one per ceremony begun, until it expires or newer ones displace it.
func (b *browser) ceremonyCookies() []string {
	b.t.Helper()
	var names []string
	for _, c := range b.cookies() {
		if strings.Contains(c.Name, "passkeyd_ceremony_") {
			names = append(names, c.Name)
		}
	}
	return names
}

// holdVerifyJS makes the page keep its requests to the verify endpoints
// until __releaseVerify() is called, setting __verifyHeld when one waits:
// the ceremony stays in flight (options issued, response not yet checked)
// for as long as the test needs. A virtual authenticator cannot be kept
// waiting instead: presence turned on later does not answer a request it
// got while off.
const holdVerifyJS = `(function () {
  var send = window.fetch;
  var release;
  var released = new Promise(function (resolve) { release = resolve; });
  window.__verifyHeld = false;
  window.__releaseVerify = function () { release(); };
  window.fetch = function (url, init) {
    if (String(url).indexOf("/api/passkeys/verify-") >= 0) {
      window.__verifyHeld = true;
      return released.then(function () { return send(url, init); });
    }
    return send(url, init);
  };
  return true;
})()`

// Issue 12: several ceremonies in flight in one browser at once. In one
// cookie jar, the start page's conditional request is pending when the
// user starts a modal sign-in; while that sign-in is in flight, another
// tab's start page makes its own conditional request and registers a new
// account; then the sign-in completes. Each ceremony finds its own state.
func TestCeremoniesInFlightTogether(t *testing.T) {
	b, srv := setup(t)
	const ann, bob = "ann@example.com", "bob@example.com"
	annPhone := b.addAuthenticator(internal, false)

	step(t, b, "AnnHasAPasskey", func(t *testing.T) {
		signUp(t, b, srv, annPhone, ann)
		signIn(t, b, annPhone, ann, ann)
		signOut(t, b)
		// Forget the ceremonies of these pages, so that the next steps
		// count only their own.
		b.clearCookies()
	})

	var inFlight []string // ceremony cookies while ann's sign-in is in flight
	step(t, b, "SignInStartedWhileAutofillPending", func(t *testing.T) {
		b.open("/")
		b.waitAutofill("pending")
		var ok bool
		b.eval(holdVerifyJS, &ok)
		b.typeEmail(ann)
		b.present(annPhone, true)
		b.click("signin")
		b.waitUntil("the sign-in's response to wait for the server", func(pageState) bool {
			var held bool
			b.eval("window.__verifyHeld", &held)
			return held
		})
		b.present(annPhone, false)
		st := b.state()
		b.shot("sign-in in flight")
		if slices.Contains(st.History, "done") || !slices.Contains(st.History, "aborted") {
			t.Fatalf("data-autofill went through %q, want pending, then aborted by the button (not done: the modal request must be the one in flight)", st.History)
		}
		inFlight = b.ceremonyCookies()
		if len(inFlight) != 2 {
			t.Errorf("ceremony cookies %q while the autofill request and a sign-in are in flight, want 2", inFlight)
		}
	})

	tab := b.newTab()
	// Virtual authenticators belong to a tab, so tab 2 has its own
	// internal one; Chromium offers conditional mediation only with one.
	bobPhone := tab.addAuthenticator(internal, false)
	step(t, b, "OtherTabRegisters", func(t *testing.T) {
		tab.scenario(t)
		signUp(t, tab, srv, bobPhone, bob) // its start page's autofill request pending too
		tab.shot("bob registered")
		if st := b.state(); st.Path != "/" || len(st.Disabled) == 0 {
			t.Fatalf("tab 1 left its sign-in while tab 2 registered: %s", st)
		}
		left := b.ceremonyCookies()
		for _, name := range inFlight {
			if !slices.Contains(left, name) {
				t.Errorf("tab 2's ceremonies removed tab 1's cookie %s (left: %q)", name, left)
			}
		}
	})

	step(t, b, "SignInCompletes", func(t *testing.T) {
		tab.scenario(t)
		var ok bool
		b.eval("window.__releaseVerify(), true", &ok)
		st := b.waitUntil("the dashboard or an error", func(s pageState) bool {
			return s.Path == "/dashboard" || s.Kind == "error"
		})
		b.shot("ann signed in")
		if st.Path != "/dashboard" {
			t.Fatalf("the sign-in begun before tab 2's registration failed: %s", st)
		}
		if st.UserEmail != ann {
			t.Errorf("dashboard shows %q, want %q", st.UserEmail, ann)
		}
		if got := b.me(); got != 200 {
			t.Errorf("GET /api/auth/me after the sign-in: %d, want 200", got)
		}
		if _, creds := srv.mustUser(t, bob); len(creds) != 1 {
			t.Errorf("store: %s has %d passkeys, want 1", bob, len(creds))
		}
		if c := srv.counts(t); c.Users != 2 || c.Credentials != 2 || c.Sessions != 1 {
			t.Errorf("store: %+v, want 2 users, 2 passkeys and 1 session", c)
		}
		// Tab 2 shares the cookie jar: it is signed in as ann too.
		if got := tab.me(); got != 200 {
			t.Errorf("GET /api/auth/me in tab 2 after tab 1 signed in: %d, want 200", got)
		}
	})
}
