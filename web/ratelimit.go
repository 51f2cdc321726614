package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/httprate"

	"github.com/passkeyd/passkeyd"
)

// Limit is a number of events allowed per sliding window.
type Limit struct {
	Count  int
	Window time.Duration
}

func (l Limit) String() string { return fmt.Sprintf("%d/%s", l.Count, l.Window) }

// RateLimits bounds ceremony traffic. Counters are kept in memory per
// instance (see the README): with N instances behind a balancer a client
// gets up to N times each limit, which still stops floods and guessing.
type RateLimits struct {
	Off bool
	// OptionsPerIP: options requests (both ceremonies) from one address.
	OptionsPerIP Limit
	// OptionsPerEmail: options requests naming one email address.
	OptionsPerEmail Limit
	// VerifyPerIP: verify requests (both ceremonies) from one address.
	VerifyPerIP Limit
	// FailuresPerCredential: failed sign-ins with one passkey before it is
	// refused for the rest of the window.
	FailuresPerCredential Limit
	// RecoveryPerEmail: recovery links, recovery code attempts and
	// confirmation emails for one address or account.
	RecoveryPerEmail Limit
	// AuthorizePerIP: OpenID Connect authorization requests from one
	// address (each stores a request until it expires).
	AuthorizePerIP Limit
	// PendingAuthorizePerIP: authorization requests from one address within
	// the lifetime of a request (oidc.Config.RequestTTL, 10 minutes by
	// default), which bounds how many it can have pending.
	PendingAuthorizePerIP Limit
	// ClientAuthFailuresPerIP: failed client authentications at the token
	// endpoint for one client ID from one address, before that pair is
	// refused for the rest of the window.
	ClientAuthFailuresPerIP Limit
	// ConsolePerIP: calls of the administrator's console (its pages and
	// /api/admin/) from one address.
	ConsolePerIP Limit
	// ConsolePerAccount: console calls of one administrator, or of one API
	// key (scripts).
	ConsolePerAccount Limit
}

// DefaultRateLimits stop floods and guessing without bothering people: a
// person signs in a few times a minute at most.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		OptionsPerIP:          Limit{60, time.Minute},
		OptionsPerEmail:       Limit{10, time.Minute},
		VerifyPerIP:           Limit{60, time.Minute},
		FailuresPerCredential: Limit{10, 15 * time.Minute},
		RecoveryPerEmail:      Limit{5, 15 * time.Minute},
		// An app starts one request per sign-in; a browser stuck in a
		// redirect loop, or a script, starts many more.
		AuthorizePerIP:          Limit{30, time.Minute},
		PendingAuthorizePerIP:   Limit{100, 10 * time.Minute},
		ClientAuthFailuresPerIP: Limit{10, 15 * time.Minute},
		// A console page makes a few calls; a script working through a
		// list makes many, and waits when told to (Retry-After).
		ConsolePerIP:      Limit{300, time.Minute},
		ConsolePerAccount: Limit{120, time.Minute},
	}
}

// ParseRateLimits reads rate limits written as text (cmd/passkeyd's
// RATE_LIMIT): "" for the defaults, "off",
// or comma-separated overrides such as "options-ip=100/1m,credential-failures=5/10m".
func ParseRateLimits(s string) (RateLimits, error) {
	rl := DefaultRateLimits()
	s = strings.TrimSpace(s)
	if s == "" || s == "on" || s == "default" {
		return rl, nil
	}
	if s == "off" {
		return RateLimits{Off: true}, nil
	}
	names, fields := rl.byName()
	for _, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		l, known := fields[name]
		if !ok || !known {
			return rl, fmt.Errorf("%q is not one of off, or name=COUNT/WINDOW with name in %s", part, strings.Join(names, ", "))
		}
		count, window, ok := strings.Cut(value, "/")
		n, err1 := strconv.Atoi(count)
		d, err2 := time.ParseDuration(window)
		if !ok || err1 != nil || err2 != nil || n < 1 || d < time.Second {
			return rl, fmt.Errorf("%q: want COUNT/WINDOW like 60/1m", part)
		}
		*l = Limit{n, d}
	}
	return rl, nil
}

// byName returns the names of the limits in RATE_LIMIT (and the README's
// table), in order, and the limit each names.
func (rl *RateLimits) byName() ([]string, map[string]*Limit) {
	names := []string{"options-ip", "options-email", "verify-ip", "credential-failures", "recovery-email",
		"authorize-ip", "authorize-pending-ip", "client-auth-failures", "console-ip", "console-account"}
	limits := []*Limit{&rl.OptionsPerIP, &rl.OptionsPerEmail, &rl.VerifyPerIP, &rl.FailuresPerCredential, &rl.RecoveryPerEmail,
		&rl.AuthorizePerIP, &rl.PendingAuthorizePerIP, &rl.ClientAuthFailuresPerIP, &rl.ConsolePerIP, &rl.ConsolePerAccount}
	fields := make(map[string]*Limit, len(names))
	for i, name := range names {
		fields[name] = limits[i]
	}
	return names, fields
}

// limiters holds one httprate limiter per kind of key.
type limiters struct {
	off                   bool
	metrics               *Metrics
	optionsPerIP          *httprate.RateLimiter
	optionsPerEmail       *httprate.RateLimiter
	verifyPerIP           *httprate.RateLimiter
	failuresPerCredential *httprate.RateLimiter
	recoveryPerEmail      *httprate.RateLimiter
	maxFailures           int
	authorizePerIP        *httprate.RateLimiter
	pendingAuthorizePerIP *httprate.RateLimiter
	clientAuthFailures    *httprate.RateLimiter
	maxClientAuthFailures int
	consolePerIP          *httprate.RateLimiter
	consolePerAccount     *httprate.RateLimiter
}

func newLimiters(rl RateLimits, m *Metrics) *limiters {
	mk := func(l Limit) *httprate.RateLimiter { return httprate.NewRateLimiter(l.Count, l.Window) }
	if rl.Off {
		return &limiters{off: true, metrics: m}
	}
	// Limits added since RateLimits was first published take their
	// defaults when a host's RateLimits leaves them out.
	d := DefaultRateLimits()
	for _, l := range []struct{ set, def *Limit }{
		{&rl.AuthorizePerIP, &d.AuthorizePerIP}, {&rl.PendingAuthorizePerIP, &d.PendingAuthorizePerIP},
		{&rl.ClientAuthFailuresPerIP, &d.ClientAuthFailuresPerIP},
		{&rl.ConsolePerIP, &d.ConsolePerIP}, {&rl.ConsolePerAccount, &d.ConsolePerAccount},
	} {
		if *l.set == (Limit{}) {
			*l.set = *l.def
		}
	}
	return &limiters{
		optionsPerIP:          mk(rl.OptionsPerIP),
		optionsPerEmail:       mk(rl.OptionsPerEmail),
		verifyPerIP:           mk(rl.VerifyPerIP),
		failuresPerCredential: mk(rl.FailuresPerCredential),
		recoveryPerEmail:      mk(rl.RecoveryPerEmail),
		maxFailures:           rl.FailuresPerCredential.Count,
		authorizePerIP:        mk(rl.AuthorizePerIP),
		pendingAuthorizePerIP: mk(rl.PendingAuthorizePerIP),
		clientAuthFailures:    mk(rl.ClientAuthFailuresPerIP),
		maxClientAuthFailures: rl.ClientAuthFailuresPerIP.Count,
		consolePerIP:          mk(rl.ConsolePerIP),
		consolePerAccount:     mk(rl.ConsolePerAccount),
		metrics:               m,
	}
}

var errTooMany = passkeyd.Errorf(passkeyd.ERATELIMIT, "Too many attempts. Please wait a minute and try again.")

// allow counts one request against key and reports ERATELIMIT (with a
// Retry-After header already set) when the limit is reached. name labels
// the metric.
func (ls *limiters) allow(l *httprate.RateLimiter, name string, w http.ResponseWriter, r *http.Request, key string) error {
	if ls.off {
		return nil
	}
	if l.OnLimit(w, r, name+":"+key) {
		ls.metrics.limited(name)
		return errTooMany
	}
	return nil
}

// credentialBlocked reports whether a passkey has failed too often lately.
// It counts nothing; recordFailure does.
func (ls *limiters) credentialBlocked(w http.ResponseWriter, credentialID string) error {
	if ls.off {
		return nil
	}
	if _, failures, err := ls.failuresPerCredential.Status(credentialID); err == nil && failures >= float64(ls.maxFailures) {
		w.Header().Set("Retry-After", "60")
		ls.metrics.limited("credential")
		return passkeyd.Errorf(passkeyd.ERATELIMIT, "Too many failed attempts with this passkey. Please wait a few minutes and try again.")
	}
	return nil
}

// failuresReached reports ERATELIMIT (with Retry-After set) when key has
// failed max times within l's window. It counts nothing; countFailure does.
func (ls *limiters) failuresReached(l *httprate.RateLimiter, max int, name string, w http.ResponseWriter, key string) error {
	if ls.off {
		return nil
	}
	if _, failures, err := l.Status(key); err == nil && failures >= float64(max) {
		w.Header().Set("Retry-After", "60")
		ls.metrics.limited(name)
		return errTooMany
	}
	return nil
}

func (ls *limiters) countFailure(l *httprate.RateLimiter, r *http.Request, key string) {
	if ls.off {
		return
	}
	l.OnLimit(discardHeaders{}, r, key)
}

func (ls *limiters) recordFailure(r *http.Request, credentialID string) {
	if ls.off {
		return
	}
	ls.failuresPerCredential.OnLimit(discardHeaders{}, r, credentialID)
}

// discardHeaders is a ResponseWriter for counting a failure without
// touching the real response.
type discardHeaders struct{}

func (discardHeaders) Header() http.Header         { return http.Header{} }
func (discardHeaders) Write(b []byte) (int, error) { return len(b), nil }
func (discardHeaders) WriteHeader(int)             {}
