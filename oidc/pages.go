package oidc

import (
	"net/http"

	"github.com/passkeyd/passkeyd"
)

// Page is what the provider's pages show. They are rendered by the host
// in its own layout (Deps.Pages: passkeyd's web handler renders them from
// web/templates/oidc-*.html), so that signing in to an app looks like
// signing in to passkeyd.
type Page struct {
	App   string // the client's name
	Email string // consent: the signed-in user's; sign-in: login_hint
	// Sign-in ("oidc-signin"): Fresh asks a signed-in user to verify again
	// (prompt=login, max_age); SignUpPage, if set, is where newcomers go.
	Fresh      bool
	SignUpPage string
	// Consent ("oidc-consent"): the app's host, what it receives, and the
	// request the form answers.
	Host      string
	Items     []ConsentItem
	RequestID string
	// StepUp: the session's passkey verification is older than the
	// step-up window, so Allow verifies a passkey first (a new grant).
	StepUp bool
	// Error ("oidc-error"): what went wrong and, for a redirect URI that
	// is not registered, what the app sent. The registered ones are logged
	// for the operator, not shown to whoever follows a link.
	// With a RequestID (an account the app does not admit), its button
	// sends App access_denied.
	Message string
	Sent    string
	Heading string // "" for "Cannot sign in"
	// Sign-in: OtherAccount says the app asked for another account than
	// SignedInAs, the one signed in (id_token_hint); the page offers to
	// sign in as that account or to cancel (RequestID).
	OtherAccount bool
	SignedInAs   string
	// Confirm the address ("oidc-confirm-email"): Email is the signed-in
	// user's unconfirmed address; AllowList says the app admits only
	// certain addresses, which is why it must be confirmed.
	AllowList bool
	// Sign out ("oidc-signout"): the end_session request's parameters,
	// posted back with the button, which op then checks again.
	Hidden []HiddenField
}

// HiddenField is a form field a page carries unchanged.
type HiddenField struct{ Name, Value string }

// pageFunc is the one shape of the provider's page handlers, as of web's:
// it answers, or returns an error for page to answer, so no handler can
// forget the return after an error or answer twice.
type pageFunc func(w http.ResponseWriter, r *http.Request) error

// page adapts a pageFunc: its error is answered by ErrorPage.
func (p *Provider) page(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			p.ErrorPage(w, r, err)
		}
	})
}

// statusOf maps error codes to the statuses of the error page, in one
// place. A sign-in request or client that is gone is a stale link (400),
// not a missing page.
var statusOf = map[string]int{
	passkeyd.EINVALID:      http.StatusBadRequest,
	passkeyd.ENOTFOUND:     http.StatusBadRequest,
	passkeyd.ECONFLICT:     http.StatusBadRequest,
	passkeyd.EUNAUTHORIZED: http.StatusUnauthorized,
	passkeyd.EFORBIDDEN:    http.StatusForbidden,
	passkeyd.ERATELIMIT:    http.StatusTooManyRequests,
	passkeyd.EUNAVAILABLE:  http.StatusServiceUnavailable,
	passkeyd.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorPage answers a browser on one of the provider's pages with
// passkeyd's error page, with the status of err's code. Internal errors
// and outages are logged here, once, and shown as a generic message. It
// also answers the errors of the rules the provider is mounted with
// (web.ErrorPage): a rate limit reached.
func (p *Provider) ErrorPage(w http.ResponseWriter, r *http.Request, err error) {
	code := passkeyd.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == passkeyd.EINTERNAL || code == passkeyd.EUNAVAILABLE {
		p.log.ErrorContext(r.Context(), "oidc", "error", err)
	}
	if err := p.render(w, r, status, "oidc-error", &Page{Message: passkeyd.ErrorMessage(err)}); err != nil {
		p.log.ErrorContext(r.Context(), "oidc error page", "error", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
	}
}

// render writes one of the provider's pages (Deps.Pages).
func (p *Provider) render(w http.ResponseWriter, r *http.Request, status int, name string, data *Page) error {
	return p.pages.Render(w, r, status, name, data)
}
