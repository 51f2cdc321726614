package web

import (
	"net/http"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/keyedhash"
)

// cookieJar sets passkeyd's cookies. Their names differ under https, where
// the __Host- prefix makes the browser refuse cookies set by a subdomain
// or without Secure.
type cookieJar struct {
	session string // the login session token
	// state prefixes the cookies of the browser's ceremonies in progress,
	// sealed (sealedstate.go). The name predates the Go name and stays, so
	// ceremonies begun before an upgrade still finish.
	state  string
	secure bool
}

func newCookieJar(secure bool) cookieJar {
	if secure {
		return cookieJar{session: "__Host-passkeyd_session", state: "__Host-passkeyd_ceremony", secure: true}
	}
	return cookieJar{session: "passkeyd_session", state: "passkeyd_ceremony"}
}

// set sets a cookie for this site only; maxAge < 0 deletes it, 0 makes it
// last the browser session.
func (j cookieJar) set(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   j.secure,
		SameSite: http.SameSiteLaxMode,
	}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

// sessions finds, starts and checks the login sessions of browsers: the
// cookie holds a random token, the store its keyed hash.
type sessions struct {
	store        passkeyd.Store
	key          keyedhash.Key
	cookie       string // the session cookie's name
	now          func() time.Time
	idleTimeout  time.Duration
	maxAge       time.Duration
	stepUpWindow time.Duration
}

func newSessions(cfg Config, store passkeyd.Store, cookie string) sessions {
	return sessions{store: store, key: cfg.Secret, cookie: cookie, now: cfg.Now,
		idleTimeout: cfg.SessionIdleTimeout, maxAge: cfg.SessionMaxAge, stepUpWindow: cfg.StepUpWindow}
}

// touchInterval limits session writes: last-seen is recorded at most once
// a minute per session, not on every request.
const touchInterval = time.Minute

// id is the ID under which the session of a cookie's token is stored.
func (ss sessions) id(token string) string { return ss.key.Sum("session", token) }

// current returns the browser's valid session and its user, or nils. An
// error means the store could not tell (the database is down): the
// browser may well be signed in, so it must not be treated as signed out.
func (ss sessions) current(r *http.Request) (*passkeyd.Session, *passkeyd.User, error) {
	c, err := r.Cookie(ss.cookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil, nil
	}
	now := ss.now()
	sess, u, err := ss.store.FindSession(r.Context(), ss.id(c.Value), now)
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, nil
	}
	// A short idle timeout needs touches more often than touchInterval, or a
	// session in use would expire between two.
	if now.Sub(sess.LastSeenAt) >= min(touchInterval, ss.idleTimeout/2) {
		idle := now.Add(ss.idleTimeout)
		if err := ss.store.TouchSession(r.Context(), sess.ID, now, idle); err == nil {
			sess.LastSeenAt, sess.IdleExpiresAt = now, idle
		}
	}
	return sess, u, nil
}

// start makes a new session for u after a passkey verification and
// returns it with the token to put in the cookie.
func (ss sessions) start(r *http.Request, u *passkeyd.User, scope passkeyd.SessionScope, credentialID string) (*passkeyd.Session, string) {
	now := ss.now()
	token := keyedhash.NewToken()
	sess := &passkeyd.Session{
		ID:              ss.id(token),
		UserID:          u.ID,
		Scope:           scope,
		CredentialID:    credentialID,
		UserAgent:       truncate(r.UserAgent(), 256),
		IP:              clientIP(r),
		CreatedAt:       now,
		LastSeenAt:      now,
		AuthenticatedAt: now,
		IdleExpiresAt:   now.Add(ss.idleTimeout),
		ExpiresAt:       now.Add(ss.maxAge),
	}
	return sess, token
}

// errStepUp asks the page to verify a passkey again before a sensitive
// change, as banks do: the page runs a sign-in ceremony and retries.
var errStepUp = &reasonError{passkeyd.Errorf(passkeyd.EFORBIDDEN,
	"Please confirm it's you with your passkey, then try again."), "step_up_required"}

// requireStepUp refuses a sensitive change when the session's last passkey
// verification is older than StepUpWindow. A recovery session has just
// proved control of the account's email or a recovery code.
func (ss sessions) requireStepUp(sess *passkeyd.Session) error {
	if sess.Scope == passkeyd.ScopeRecovery {
		return nil
	}
	if ss.now().Sub(sess.AuthenticatedAt) > ss.stepUpWindow {
		return errStepUp
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
