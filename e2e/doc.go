// Package e2e drives passkeyd's pages in a real browser: it builds and starts
// the passkeyd command on a free loopback port with its SQLite file in a
// temporary directory, and steers Debian's Chromium, headless, through the
// DevTools protocol (github.com/chromedp/chromedp). The protocol's WebAuthn
// domain gives the browser virtual authenticators (CTAP2, internal transport,
// resident keys, user verification), so the browser's own WebAuthn code talks
// to the server: option encodings, base64url, user handles, cookies and
// autofill are checked as users meet them.
//
// Run with
//
//	go test ./e2e/ -v -count=1
//
// The tests need Chromium: /usr/bin/chromium, chromium in PATH, or the path
// in PASSKEYD_TEST_CHROMIUM (apt-get install chromium). Without it they skip,
// except under CI=true, where a missing browser is a failure.
// PASSKEYD_TEST_BINARY names a passkeyd binary to test instead of building
// ./cmd/passkeyd.
//
// Every step writes a screenshot to e2e/screenshots/<TestName>/NN-step.png
// (git-ignored); a failing test logs the folder and the server's log.
//
// # Presence
//
// A virtual authenticator answers at once when its presence simulation is
// on, and never when it is off. The start page keeps an autofill
// (conditional) request pending, which an authenticator with simulation on
// and a matching passkey would answer on its own, signing the user in. So
// every authenticator starts with simulation off, a test turns it on right
// before the click that starts a ceremony, and the browser helper turns it
// off again as soon as the page posts the ceremony's result (it pauses
// requests to the verify endpoints until then), before the page can start its
// next autofill request.
package e2e
