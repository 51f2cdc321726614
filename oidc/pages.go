package oidc

import "net/http"

// Page is what the provider's pages show. They are rendered by the host
// in its own layout (Config.RenderPage; web.New renders them with
// passkeyd's pages, from web/templates/oidc-*.html), so that signing in to
// an app looks like signing in to passkeyd.
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

// RenderPage writes page name ("oidc-signin", "oidc-consent",
// "oidc-confirm-email", "oidc-signout" or "oidc-error") with status,
// answering the request itself if rendering fails.
type RenderPage func(w http.ResponseWriter, r *http.Request, status int, name string, data *Page)
