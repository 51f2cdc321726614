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

// touchInterval limits session writes: last-seen is recorded at most once
// a minute per session, not on every request.
const touchInterval = time.Minute

// currentSession returns the browser's valid session and its user, or
// nils. An error means the store could not tell (the database is down):
// the browser may well be signed in, so it must not be treated as signed
// out.
func (s *Server) currentSession(w http.ResponseWriter, r *http.Request) (*passkeyd.Session, *passkeyd.User, error) {
	c, err := r.Cookie(s.cookies.session)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil, nil
	}
	now := s.now()
	sess, u, err := s.store.FindSession(r.Context(), s.key.Sum("session", c.Value), now)
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
	if now.Sub(sess.LastSeenAt) >= min(touchInterval, s.cfg.SessionIdleTimeout/2) {
		idle := now.Add(s.cfg.SessionIdleTimeout)
		if err := s.store.TouchSession(r.Context(), sess.ID, now, idle); err == nil {
			sess.LastSeenAt, sess.IdleExpiresAt = now, idle
		}
	}
	return sess, u, nil
}

// startSession makes a new session for u after a passkey verification and
// returns it with the token to put in the cookie.
func (s *Server) startSession(r *http.Request, u *passkeyd.User, scope passkeyd.SessionScope, credentialID string) (*passkeyd.Session, string) {
	now := s.now()
	token := keyedhash.NewToken()
	sess := &passkeyd.Session{
		ID:              s.key.Sum("session", token),
		UserID:          u.ID,
		Scope:           scope,
		CredentialID:    credentialID,
		UserAgent:       truncate(r.UserAgent(), 256),
		IP:              clientIP(r),
		CreatedAt:       now,
		LastSeenAt:      now,
		AuthenticatedAt: now,
		IdleExpiresAt:   now.Add(s.cfg.SessionIdleTimeout),
		ExpiresAt:       now.Add(s.cfg.SessionMaxAge),
	}
	return sess, token
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
