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
//	go test ./e2e/ -v -count=1 -timeout 30m
//
// (the longer timeout: on a busy small machine the package can pass go
// test's default ten minutes when TestAuthjs builds its app).
//
// The tests need Chromium: /usr/bin/chromium, chromium in PATH, or the path
// in PASSKEYD_TEST_CHROMIUM (apt-get install chromium). Without it they skip,
// except under CI=true, where a missing browser is a failure.
// PASSKEYD_TEST_BINARY names a passkeyd binary to test instead of building
// ./cmd/passkeyd. TestAuthjs also needs Node.js and npm (apt-get install
// nodejs npm), to install and build the Next.js app of examples/authjs; it
// skips without them, or fails under CI=true.
//
// Tests that follow links from email start passkeyd with SMTP_URL pointing
// at a real SMTP server inside the test (package mail/mailtest), read the
// message it receives, open its link in the browser and press the page's
// button, as a user would.
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
//
// # Answers the server gives only later
//
// Some answers need time to pass: a sensitive change asks for a fresh
// passkey check (step-up) only when the last one is five minutes old. The
// browser helper can answer one request itself instead (answerOnce), so
// the page's handling of that answer runs against the real server for
// everything else.
package e2e
