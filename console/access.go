package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/apikey"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// caller is who calls a console route: an administrator (user and
// session) or an API key.
type caller struct {
	user    *passkeyd.User
	session *passkeyd.Session
	key     *passkeyd.APIKey
}

// adminID and adminName name the caller in the events it causes
// (Event.AdminID, Event.AdminName).
func (who *caller) adminID() string {
	if who.key != nil {
		return "apikey:" + who.key.ID
	}
	return who.user.ID
}

func (who *caller) adminName() string {
	if who.key != nil {
		return "API key " + who.key.Name
	}
	return who.user.Email
}

// keyOwner is the administrator an API key made by the caller belongs
// to: the caller, or the owner of the caller's own key ("" for a key made
// at the shell), so that no key outlives its administrator's role.
func (who *caller) keyOwner() string {
	if who.key != nil {
		return who.key.CreatedByID
	}
	return who.user.ID
}

// codedError is an error with a machine-readable code for the client
// beside its message (the JSON's "code").
type codedError struct {
	err  *passkeyd.Error
	code string
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

var (
	errSignIn   = passkeyd.Errorf(passkeyd.EUNAUTHORIZED, "Sign in first.")
	errNotAdmin = passkeyd.Errorf(passkeyd.EFORBIDDEN, "You are not an administrator.")
	errBadKey   = passkeyd.Errorf(passkeyd.EUNAUTHORIZED, "This API key is not valid: it is unknown or was revoked.")
	// errStepUp is web's answer to a stale session on a sensitive call,
	// with the same code, so the console's page does what the dashboard
	// does: verify a passkey again and retry.
	errStepUp = &codedError{passkeyd.Errorf(passkeyd.EFORBIDDEN,
		"Please confirm it's you with your passkey, then try again."), "step_up_required"}
	errSetupWithKey = passkeyd.Errorf(passkeyd.EFORBIDDEN, "Sign in with a passkey to use the setup link; API keys cannot.")
)

// authorize returns the caller of r if access admits them, or the error
// to answer: 401 for nobody (or a bad API key), 403 for anyone else.
func (c *Console) authorize(r *http.Request, access Access) (*caller, error) {
	if key, ok := bearer(r); ok {
		return c.authorizeKey(r, key, access)
	}
	u, sess := c.users.SignedIn(r)
	if u == nil || sess == nil {
		return nil, errSignIn
	}
	// A recovery session may only add a passkey; a disabled account's
	// sessions end with it, but a session read just before is no admin.
	if sess.Scope != passkeyd.ScopeFull || u.Disabled {
		return nil, errNotAdmin
	}
	who := &caller{user: u, session: sess}
	if access == Setup {
		return who, nil
	}
	admin, err := c.store.IsAdmin(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	if !admin {
		return nil, errNotAdmin
	}
	if access == StepUp && c.now().Sub(sess.AuthenticatedAt) > c.cfg.StepUpWindow {
		return nil, errStepUp
	}
	return who, nil
}

// authorizeKey admits a script by its API key: the key's hash is looked
// up (which records its use), and each use is logged.
func (c *Console) authorizeKey(r *http.Request, key string, access Access) (*caller, error) {
	if !apikey.Valid(key) {
		return nil, errBadKey
	}
	k, err := c.store.FindAPIKey(r.Context(), apikey.Hash(key), c.now())
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		c.log.WarnContext(r.Context(), "console: unknown or revoked API key", "event", "api_key_refused",
			"method", r.Method, "path", r.URL.Path, "client_ip", c.ip(r))
		return nil, errBadKey
	}
	if err != nil {
		return nil, err
	}
	c.log.InfoContext(r.Context(), "console: API key used", "event", "api_key_used", "api_key", k.Name,
		"api_key_id", k.ID, "method", r.Method, "path", r.URL.Path, "client_ip", c.ip(r))
	if access == Setup {
		return nil, errSetupWithKey
	}
	return &caller{key: k}, nil
}

// bearer returns the request's bearer token, if it sends one. Other
// schemes are not the console's: a browser behind a proxy that asks for
// HTTP Basic sends that with every request, cookies beside it.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// actor is who makes the events of a request happen: its client, and the
// administrator or API key.
func (c *Console) actor(r *http.Request, who *caller) passkeyd.Actor {
	return passkeyd.Actor{IP: c.ip(r), UserAgent: r.UserAgent(), AdminID: who.adminID(), AdminName: who.adminName()}
}

// event returns an event made by who through r, about the account userID
// ("" for none: an app, a group, an API key).
func (c *Console) event(r *http.Request, who *caller, userID, typ, detail string) *passkeyd.Event {
	return passkeyd.NewEvent(c.now(), c.actor(r, who), userID, typ, "", detail)
}

// apiFunc is the one shape of the console's API handlers: it answers, or
// returns an error for api to answer.
type apiFunc func(w http.ResponseWriter, r *http.Request, who *caller) error

// api adapts an apiFunc behind access ("" for none): the caller is
// authorized first, and an error is answered as JSON.
func (c *Console) api(access Access, fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var who *caller
		var err error
		if access != "" {
			who, err = c.authorize(r, access)
		}
		if err == nil {
			err = fn(w, r, who)
		}
		if err != nil {
			c.writeError(w, r, err)
		}
	})
}

// errorJSON is the body of every error answer.
type errorJSON struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

// writeError answers err with its status (passkeyd.HTTPStatus, as web
// does) and message; internal errors are logged here, once.
func (c *Console) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		w.WriteHeader(http.StatusServiceUnavailable) // the client went away; nobody reads this
		return
	}
	body := errorJSON{Error: passkeyd.ErrorMessage(err)}
	var ce *codedError
	if errors.As(err, &ce) {
		body.Code = ce.code
	}
	c.logError(r, err)
	if passkeyd.ErrorCode(err) == passkeyd.EUNAVAILABLE {
		w.Header().Set("Retry-After", "5")
	}
	httpjson.Write(w, passkeyd.HTTPStatus(err), body)
}

func (c *Console) logError(r *http.Request, err error) {
	switch passkeyd.ErrorCode(err) {
	case passkeyd.EINTERNAL:
		c.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case passkeyd.EUNAVAILABLE:
		c.log.WarnContext(r.Context(), "dependency unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	}
}
