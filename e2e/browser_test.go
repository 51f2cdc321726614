package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds each scenario (a test or a subtest): every wait in it
// fails after this long.
const stepTimeout = 20 * time.Second

// startTimeout bounds Chromium's start, which on a machine busy with other
// builds and tests can take far longer than any step.
const startTimeout = time.Minute

// testTimeout bounds a whole test, for what it does outside its scenarios.
const testTimeout = 2 * time.Minute

// chromium returns the browser to drive, or skips the test (fails it under
// CI=true) when there is none.
func chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PASSKEYD_TEST_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			if lp, lerr := exec.LookPath(p); lerr == nil {
				return lp
			}
			t.Fatalf("PASSKEYD_TEST_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	msg := "Chromium not found: install it with `apt-get install chromium` (or run scripts/test), or set PASSKEYD_TEST_CHROMIUM to its path"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing browser is a failure)")
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium with one tab on the server's pages.
type browser struct {
	t    *testing.T // the scenario running now (see scenario)
	root context.Context
	ctx  context.Context // root, bounded by stepTimeout for the scenario
	srv  *server

	shots string // screenshot folder
	n     int    // screenshots taken

	mu       sync.Mutex
	auths    []webauthn.AuthenticatorID // presence goes off for all at each verify request
	problems []string                   // uncaught exceptions and CSP refusals on the pages
	answers  []*cannedAnswer            // requests the browser answers itself (answerOnce)
}

// cannedAnswer is a response the browser gives in the server's stead to
// the next request of method to a URL ending in path.
type cannedAnswer struct {
	method, path string
	status       int64
	body         string
	used         chan struct{} // closed once given
}

// newBrowser starts Chromium with a fresh profile, opens a tab, enables the
// WebAuthn domain (no authenticator yet) and the presence gate (see the
// package doc), and closes it all at cleanup.
func newBrowser(t *testing.T, srv *server) *browser {
	t.Helper()
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})

	shots, err := filepath.Abs(filepath.Join("screenshots", t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	_ = os.RemoveAll(shots) // pictures of an earlier run would mislead
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, root: ctx, ctx: ctx, srv: srv, shots: shots}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screenshots: %s", shots)
		}
	})

	// Steps outside any scenario (adding authenticators between them) share
	// a longer bound.
	bounded, cancel := context.WithTimeout(ctx, testTimeout)
	t.Cleanup(cancel)
	b.ctx = bounded
	// The first action starts Chromium and ties its life to ctx, so it
	// cannot take the bounded context: bound the wait instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium (%s): %v", exe, err)
		}
	case <-time.After(startTimeout):
		cancelTab()
		t.Fatalf("start Chromium (%s): no answer after %s", exe, startTimeout)
	}
	b.prepareTab()
	return b
}

// prepareTab enables the tab's WebAuthn domain (no authenticator yet), the
// autofill recorder, the presence gate and the console watch.
func (b *browser) prepareTab() {
	b.call("enable WebAuthn", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{})
		return err
	})
	// Keep a record of every value data-autofill takes, so that short-lived
	// states ("aborted" just before a new request) can be checked afterwards.
	b.call("install the autofill recorder", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: autofillRecorder})
		return err
	})
	b.startPresenceGate()
	b.watchConsole()
}

// watchConsole records uncaught exceptions and Content-Security-Policy
// refusals of the pages; at cleanup any of them fails the test.
func (b *browser) watchConsole() {
	messages := chromedp.Console(b.root)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				b.mu.Lock()
				b.problems = append(b.problems, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t := b.t
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, p := range b.problems {
			t.Errorf("page console: %s", p)
		}
	})
}

// autofillRecorder keeps, in every document, the values data-autofill had
// before each change; with the current value they are its history.
const autofillRecorder = `
window.__autofillHistory = [];
new MutationObserver(function (records) {
  records.forEach(function (r) {
    if (r.target === document.body) window.__autofillHistory.push(r.oldValue || "");
  });
}).observe(document, {attributes: true, attributeOldValue: true, attributeFilter: ["data-autofill"], subtree: true});
`

// scenario makes t the test that b reports to and bounds its waits by
// stepTimeout.
func (b *browser) scenario(t *testing.T) {
	ctx, cancel := context.WithTimeout(b.root, stepTimeout)
	prevT, prevCtx := b.t, b.ctx
	b.t, b.ctx = t, ctx
	t.Cleanup(func() {
		cancel()
		b.t, b.ctx = prevT, prevCtx
	})
}

// startPresenceGate pauses every request to a verify endpoint, turns the
// presence simulation of all authenticators off, and lets the request go on.
// It also gives the answers queued by answerOnce.
func (b *browser) startPresenceGate() {
	paused := chromedp.Events(b.root, fetch.RequestPaused)
	b.interceptAlso("")
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			b.mu.Lock()
			var canned *cannedAnswer
			for i, a := range b.answers {
				if ev.Request.Method == a.method && strings.HasSuffix(strings.SplitN(ev.Request.URL, "?", 2)[0], a.path) {
					canned = a
					b.answers = slices.Delete(b.answers, i, i+1)
					break
				}
			}
			ids := slices.Clone(b.auths)
			b.mu.Unlock()
			if canned != nil {
				_, _ = chromedp.Call(b.root, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID:       ev.RequestID,
					ResponseCode:    canned.status,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}},
					Body:            []byte(canned.body),
				})
				close(canned.used)
				continue
			}
			if !strings.Contains(ev.Request.URL, "/api/passkeys/verify-") {
				_, _ = chromedp.Call(b.root, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			for _, id := range ids {
				_, _ = chromedp.Call(b.root, webauthn.SetAutomaticPresenceSimulation,
					webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: false})
			}
			_, _ = chromedp.Call(b.root, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
}

// interceptAlso pauses the requests to the verify endpoints and, if path is
// not empty, those to URLs ending in path.
func (b *browser) interceptAlso(path string) {
	patterns := []*fetch.RequestPattern{{URLPattern: "*/api/passkeys/verify-*", RequestStage: fetch.RequestStageRequest}}
	if path != "" {
		patterns = append(patterns, &fetch.RequestPattern{URLPattern: "*" + path + "*", RequestStage: fetch.RequestStageRequest})
	}
	b.call("enable request interception", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: patterns})
		return err
	})
}

// answerOnce makes the browser answer the next request of method to path
// itself, with status and a JSON body, as if the server had; the request
// never reaches the server. The returned channel closes when it was used.
// It lets a test show the page an answer the server gives only in
// circumstances a test cannot wait for (a step-up after five minutes).
func (b *browser) answerOnce(method, path string, status int64, body string) <-chan struct{} {
	b.t.Helper()
	a := &cannedAnswer{method: method, path: path, status: status, body: body, used: make(chan struct{})}
	b.mu.Lock()
	b.answers = append(b.answers, a)
	b.mu.Unlock()
	b.interceptAlso(path)
	return a.used
}

// call runs f with the scenario's context and fails the test on error.
func (b *browser) call(what string, f func(ctx context.Context) error) {
	b.t.Helper()
	if err := f(b.ctx); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// fatalf fails the scenario with a last screenshot and the page's state.
func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.root, 5*time.Second)
	defer cancel()
	state := "unknown"
	if st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](pageStateJS)); err == nil {
		state = st.String()
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		b.n++
		name := filepath.Join(b.shots, fmt.Sprintf("%02d-FAILED.png", b.n))
		_ = os.WriteFile(name, png, 0o644)
	}
	b.t.Fatalf("%s\npage: %s", fmt.Sprintf(format, args...), state)
}

// --- virtual authenticators ---

// addAuthenticator adds a passkey provider (CTAP2, resident keys, user
// verification that succeeds) with its presence simulation off. Its
// transport is internal (the device's own; Chrome allows one) or usb (a
// security key); synced makes its passkeys backed up (BE and BS set), like
// those of iCloud Keychain or Google Password Manager.
func (b *browser) addAuthenticator(transport webauthn.AuthenticatorTransport, synced bool) webauthn.AuthenticatorID {
	b.t.Helper()
	var id webauthn.AuthenticatorID
	b.call("add a virtual authenticator", func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Transport:                   transport,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: false,
				DefaultBackupEligibility:    synced,
				DefaultBackupState:          synced,
			},
		})
		id = res.AuthenticatorID
		return err
	})
	b.mu.Lock()
	b.auths = append(b.auths, id)
	b.mu.Unlock()
	return id
}

func (b *browser) removeAuthenticator(id webauthn.AuthenticatorID) {
	b.t.Helper()
	b.mu.Lock()
	b.auths = slices.DeleteFunc(b.auths, func(x webauthn.AuthenticatorID) bool { return x == id })
	b.mu.Unlock()
	b.call("remove a virtual authenticator", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: id})
		return err
	})
}

// present makes the authenticator answer the next ceremony; the presence
// gate turns it off again when the page posts the result.
func (b *browser) present(id webauthn.AuthenticatorID, on bool) {
	b.t.Helper()
	b.call("set presence simulation", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.SetAutomaticPresenceSimulation,
			webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on})
		return err
	})
}

func (b *browser) userVerified(id webauthn.AuthenticatorID, ok bool) {
	b.t.Helper()
	b.call("set user verification", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: id, IsUserVerified: ok})
		return err
	})
}

// overrideBits makes the authenticator's next responses lie about their
// flags (badUV: UV bit cleared; badUP: UP bit cleared); false, false resets.
func (b *browser) overrideBits(id webauthn.AuthenticatorID, badUV, badUP bool) {
	b.t.Helper()
	b.call("set response override bits", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.SetResponseOverrideBits,
			webauthn.SetResponseOverrideBitsParams{AuthenticatorID: id, IsBadUV: &badUV, IsBadUP: &badUP})
		return err
	})
}

// passkeys returns the credentials the authenticator holds.
func (b *browser) passkeys(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	var creds []*webauthn.Credential
	b.call("get the authenticator's credentials", func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		creds = res.Credentials
		return err
	})
	return creds
}

func (b *browser) removePasskey(id webauthn.AuthenticatorID, credentialID []byte) {
	b.t.Helper()
	b.call("remove a credential", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.RemoveCredential, webauthn.RemoveCredentialParams{AuthenticatorID: id, CredentialID: credentialID})
		return err
	})
}

// addPasskey puts a credential read with passkeys back on an authenticator.
func (b *browser) addPasskey(id webauthn.AuthenticatorID, c *webauthn.Credential) {
	b.t.Helper()
	b.call("add a credential", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, addPlainCredential, addPlainCredentialParams{AuthenticatorID: id, Credential: plainCredential{
			CredentialID:         c.CredentialID,
			IsResidentCredential: c.IsResidentCredential,
			RpID:                 c.RpID,
			PrivateKey:           c.PrivateKey,
			UserHandle:           c.UserHandle,
			SignCount:            c.SignCount,
			BackupEligibility:    c.BackupEligibility,
			BackupState:          c.BackupState,
		}})
		return err
	})
}

// addPlainCredential is WebAuthn.addCredential without the CMTG members
// that cdproto always sends and Chrome refuses on an authenticator without
// that extension ("CMTG is not supported by this authenticator").
var addPlainCredential = cdp.Command[addPlainCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

type addPlainCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      plainCredential          `json:"credential"`
}

type plainCredential struct {
	CredentialID         []byte  `json:"credentialId"`
	IsResidentCredential bool    `json:"isResidentCredential"`
	RpID                 string  `json:"rpId"`
	PrivateKey           []byte  `json:"privateKey"`
	UserHandle           []byte  `json:"userHandle,omitempty"`
	SignCount            float64 `json:"signCount"`
	BackupEligibility    bool    `json:"backupEligibility"`
	BackupState          bool    `json:"backupState"`
}

// setSignCount sets the counter the authenticator will continue from.
func (b *browser) setSignCount(id webauthn.AuthenticatorID, credentialID []byte, n float64) {
	b.t.Helper()
	b.call("set the signature counter", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, webauthn.SetCredentialProperties, webauthn.SetCredentialPropertiesParams{
			AuthenticatorID: id, CredentialID: credentialID, SignCount: &n})
		return err
	})
}

// onlyPasskey returns the one credential the authenticator holds.
func (b *browser) onlyPasskey(id webauthn.AuthenticatorID) *webauthn.Credential {
	b.t.Helper()
	creds := b.passkeys(id)
	if len(creds) != 1 {
		b.fatalf("authenticator holds %d passkeys, want 1", len(creds))
	}
	return creds[0]
}

// --- the page ---

func (b *browser) open(path string) {
	b.t.Helper()
	b.call("open "+path, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Navigate(b.srv.URL+path))
	})
}

func (b *browser) typeEmail(email string) {
	b.t.Helper()
	b.call("type the email", func(ctx context.Context) error {
		return chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`document.getElementById("email").value = ""`),
			chromedp.SendKeys(chromedp.ID("email"), email),
		)
	})
}

func (b *browser) click(id string) {
	b.t.Helper()
	b.call("click #"+id, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Click(chromedp.ID(id)))
	})
}

// clickIfThere clicks the element with this ID if the page still shows it.
// A pending autofill request may finish first once an authenticator is
// present, and take the page elsewhere: then there is nothing to click, and
// what the caller waits for next tells whether all went as it should.
func (b *browser) clickIfThere(id string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.getElementById(%q); if (el) el.click(); return !!el })()`, id)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js)); err != nil && !strings.Contains(err.Error(), "context") {
		b.fatalf("click #%s: %v", id, err)
	}
}

// pageState is what the user sees, read from the page.
type pageState struct {
	Ready     bool     `json:"ready"`
	Path      string   `json:"path"`
	Kind      string   `json:"kind"` // of #status: info, success, error or ""
	Status    string   `json:"status"`
	Autofill  string   `json:"autofill"`
	History   []string `json:"history"` // values data-autofill took on this page
	Disabled  []string `json:"disabled"`
	Buttons   []string `json:"buttons"`
	UserEmail string   `json:"userEmail"`
	Passkeys  []string `json:"passkeys"` // data-passkey-id of the dashboard's list
	Cloned    []string `json:"cloned"`   // those of them with a "possibly cloned" warning
	Storage   []string `json:"storage"`  // their "Synced" / "This device only" lines
	Names     []string `json:"names"`    // their names (.passkey-label)
	Search    string   `json:"search"`   // location.search: links' tokens must not stay there
}

func (s pageState) String() string {
	return fmt.Sprintf("path=%s%s status=%s:%q autofill=%q history=%q disabled=%q user-email=%q passkeys=%q names=%q",
		s.Path, s.Search, s.Kind, s.Status, s.Autofill, s.History, s.Disabled, s.UserEmail, s.Passkeys, s.Names)
}

const pageStateJS = `(function () {
  var status = document.getElementById("status");
  var email = document.getElementById("user-email");
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button"));
  var kind = status ? (status.className.match(/status-(\w+)/) || [])[1] || "" : "";
  return {
    ready: document.readyState === "complete",
    path: location.pathname,
    kind: kind,
    status: status ? status.textContent.trim() : "",
    autofill: (document.body && document.body.getAttribute("data-autofill")) || "",
    history: (window.__autofillHistory || []).concat([(document.body && document.body.getAttribute("data-autofill")) || ""]),
    disabled: buttons.filter(function (b) { return b.disabled; }).map(function (b) { return b.id; }),
    buttons: buttons.map(function (b) { return b.id; }),
    userEmail: email ? email.textContent.trim() : "",
    passkeys: Array.prototype.map.call(document.querySelectorAll("#passkeys [data-passkey-id]"),
      function (li) { return li.getAttribute("data-passkey-id"); }),
    cloned: Array.prototype.map.call(document.querySelectorAll("#passkeys [data-passkey-id]"), function (li) {
      return li.querySelector(".passkey-clone-warning") ? li.getAttribute("data-passkey-id") : null;
    }).filter(Boolean),
    storage: Array.prototype.map.call(document.querySelectorAll("#passkeys [data-passkey-id] .passkey-sync"),
      function (dd) { return dd.textContent.trim(); }),
    names: Array.prototype.map.call(document.querySelectorAll("#passkeys [data-passkey-id] .passkey-label"),
      function (s) { return s.textContent.trim(); }),
    search: location.search
  };
})()`

func (b *browser) state() pageState {
	b.t.Helper()
	st, err := chromedp.Run(b.ctx, chromedp.Evaluate[pageState](pageStateJS))
	if err != nil {
		b.fatalf("read the page: %v", err)
	}
	return st
}

// waitUntil polls the page until ok holds and returns that state. Errors
// while the page navigates are part of waiting.
func (b *browser) waitUntil(what string, ok func(pageState) bool) pageState {
	b.t.Helper()
	var last pageState
	var lastErr error
	for {
		st, err := chromedp.Run(b.ctx, chromedp.Evaluate[pageState](pageStateJS))
		if err == nil {
			last, lastErr = st, nil
			if st.Ready && ok(st) {
				return st
			}
		} else {
			lastErr = err
		}
		select {
		case <-b.ctx.Done():
			b.fatalf("timed out waiting for %s (last state: %s; last error: %v)", what, last, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitStatus waits until the ceremony a click started has ended (the
// buttons are enabled again) with a success or error message, and fails
// unless it is of this kind.
func (b *browser) waitStatus(kind string) pageState {
	b.t.Helper()
	st := b.waitUntil("the ceremony to end with a "+kind+" message", func(s pageState) bool {
		return len(s.Disabled) == 0 && (s.Kind == "success" || s.Kind == "error")
	})
	if st.Kind != kind {
		b.fatalf("got a %s message %q, want a %s message", st.Kind, st.Status, kind)
	}
	return st
}

func (b *browser) waitPath(path string) pageState {
	b.t.Helper()
	return b.waitUntil("the page "+path, func(s pageState) bool { return s.Path == path })
}

func (b *browser) waitAutofill(state string) pageState {
	b.t.Helper()
	return b.waitUntil("data-autofill="+state, func(s pageState) bool { return s.Autofill == state })
}

// waitIdle waits until no ceremony runs: every button enabled.
func (b *browser) waitIdle() pageState {
	b.t.Helper()
	return b.waitUntil("the buttons to be enabled", func(s pageState) bool { return len(s.Disabled) == 0 })
}

// me asks GET /api/auth/me from the page, with its cookies, and returns the
// status code.
func (b *browser) me() int {
	b.t.Helper()
	code, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](
		`fetch((document.body.dataset.base || "") + "/api/auth/me", {credentials: "same-origin", cache: "no-store"}).then(function (r) { return r.status; })`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.fatalf("GET /api/auth/me from the page: %v", err)
	}
	return code
}

// phoneLayout shows the page as a small phone would (320 CSS pixels wide,
// mobile viewport rules), saves a screenshot, and fails if the page ignores
// the phone's width or scrolls sideways.
func (b *browser) phoneLayout(step string) {
	b.t.Helper()
	b.call("emulate a phone", func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile))
	})
	defer b.call("stop emulating a phone", func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: false})
		return err
	})
	type layout struct {
		Inner  int `json:"inner"`
		Scroll int `json:"scroll"`
	}
	l, err := chromedp.Run(b.ctx, chromedp.Evaluate[layout](
		`({inner: window.innerWidth, scroll: document.documentElement.scrollWidth})`))
	if err != nil {
		b.fatalf("measure the page: %v", err)
	}
	if l.Inner != 320 {
		b.t.Errorf("%s: on a 320 px phone the page is %d px wide (viewport meta missing?)", step, l.Inner)
	}
	if l.Scroll > l.Inner {
		b.t.Errorf("%s: on a 320 px phone the page scrolls sideways (%d px of content)", step, l.Scroll)
	}
	b.shot(step + " on a phone")
}

var stepName = regexp.MustCompile(`[^a-z0-9]+`)

// shot saves a screenshot of the whole page as NN-step.png.
func (b *browser) shot(step string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("screenshot %s: %v", step, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		b.fatalf("screenshot %s is not a PNG", step)
	}
	b.n++
	name := fmt.Sprintf("%02d-%s.png", b.n, strings.Trim(stepName.ReplaceAllString(strings.ToLower(step), "-"), "-"))
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.fatalf("write screenshot: %v", err)
	}
}

// openURL opens an absolute URL of the server, such as a link from an email.
func (b *browser) openURL(url string) {
	b.t.Helper()
	if !strings.HasPrefix(url, b.srv.URL+"/") {
		b.fatalf("open %s: not a link to the server under test (%s)", url, b.srv.URL)
	}
	b.open(strings.TrimPrefix(url, b.srv.URL))
}

// clickSel clicks the first element matching a CSS selector.
func (b *browser) clickSel(sel string) {
	b.t.Helper()
	b.call("click "+sel, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
	})
}

// fill replaces the value of the input matching sel by typing text.
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	b.call("type into "+sel, func(ctx context.Context) error {
		return chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)),
			chromedp.SendKeys(chromedp.CSS(sel), text),
		)
	})
}

// eval evaluates a JavaScript expression in the page and decodes its value
// (JSON-serialisable) into out.
func (b *browser) eval(js string, out any) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[json.RawMessage](js))
	if err != nil {
		b.fatalf("evaluate %s: %v", js, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		b.fatalf("evaluate %s: %v (got %s)", js, err, raw)
	}
}

// visible reports whether an element matching sel is shown (rendered with
// a size: not hidden, not inside something hidden).
func (b *browser) visible(sel string) bool {
	b.t.Helper()
	var ok bool
	b.eval(fmt.Sprintf(`(function () {
  var e = document.querySelector(%q);
  return !!e && e.getClientRects().length > 0;
})()`, sel), &ok)
	return ok
}

// waitVisible waits until an element matching sel is shown.
func (b *browser) waitVisible(sel string) pageState {
	b.t.Helper()
	return b.waitUntil(sel+" to be shown", func(pageState) bool {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(
			`(function () { var e = document.querySelector(%q); return !!e && e.getClientRects().length > 0; })()`, sel)))
		return err == nil && ok
	})
}

// texts returns the trimmed text of every element matching sel.
func (b *browser) texts(sel string) []string {
	b.t.Helper()
	var out []string
	b.eval(fmt.Sprintf(`Array.prototype.map.call(document.querySelectorAll(%q), function (e) { return e.textContent.trim(); })`, sel), &out)
	return out
}

// attrs returns the attribute name of every element matching sel.
func (b *browser) attrs(sel, name string) []string {
	b.t.Helper()
	var out []string
	b.eval(fmt.Sprintf(`Array.prototype.map.call(document.querySelectorAll(%q), function (e) { return e.getAttribute(%q) || ""; })`, sel, name), &out)
	return out
}

// cookies returns the browser's cookies for the server, as a client of
// net/http would send them.
func (b *browser) cookies() []*http.Cookie {
	b.t.Helper()
	var out []*http.Cookie
	b.call("get the cookies", func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.srv.URL + "/"}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
		}
		return nil
	})
	return out
}

// clearCookies makes the browser forget every cookie, as a fresh device
// would have none; the server keeps the sessions they held.
func (b *browser) clearCookies() {
	b.t.Helper()
	b.call("clear the cookies", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
		return err
	})
}
