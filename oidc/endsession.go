package oidc

import (
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passkeyd/passkeyd"
)

// handleEndSession is RP-Initiated Logout 1.0. The op package reads the
// request and checks it (the id_token_hint's signature, issuer and
// audience, post_logout_redirect_uri against the client's); passkeyd
// decides whether to sign out at once. Any site can send a browser here,
// so without a valid id_token_hint for the signed-in user (§2: the OP
// should ask the user whether to log out) it asks, on a page whose button
// posts the same request back: web's middleware refuses that POST from
// any other origin, so only the user's press signs out.
func (p *Provider) handleEndSession(w http.ResponseWriter, r *http.Request) error {
	ctx := op.ContextWithIssuer(r.Context(), p.cfg.Issuer)
	refuse := func(msg string) error {
		return p.render(w, r, http.StatusBadRequest, "oidc-error", &Page{Heading: "Cannot sign out", Message: msg})
	}
	req, err := op.ParseEndSessionRequest(r, p.op.Decoder())
	if err != nil {
		return refuse("This sign-out link could not be read, so you were not signed out of passkeyd. Please go back to the app.")
	}
	end, err := op.ValidateEndSessionRequest(ctx, req, p.op)
	if err != nil {
		attrs := []any{"event", "oidc_end_session_refused", "client_id", truncate(req.ClientID, 200), "error", err}
		if c, cerr := p.client(ctx, req.ClientID); cerr == nil {
			attrs = append(attrs, "post_logout_redirect_uri", truncate(req.PostLogoutRedirectURI, 2048), "registered", c.PostLogoutRedirectURIs)
		}
		p.log.InfoContext(ctx, "oidc end_session refused", attrs...)
		msg := "The app's sign-out request is not valid, so you were not signed out of passkeyd. Please go back to the app; if it happens again, tell the app's operator."
		if req.PostLogoutRedirectURI != "" {
			msg = "The app asked to be sent back, after signing out, to an address that is not registered for it, so passkeyd did nothing. Tell the app's operator: the address must be registered as a post-logout redirect URI."
		}
		return refuse(msg)
	}
	u, sess := p.users.SignedIn(r)
	confirmed := r.Method == http.MethodPost && r.PostFormValue("decision") == "sign-out"
	switch {
	case sess == nil:
		// Nobody is signed in here: nothing to end.
	case end.UserID == sess.UserID || confirmed:
		if err := p.accounts.DeleteSession(ctx, sess.ID); err != nil {
			return err
		}
		p.log.InfoContext(ctx, "signed out by an app", "event", passkeyd.EventLogout, "user_id", sess.UserID, "client_id", end.ClientID)
	default:
		page := &Page{Hidden: signOutFields(req.IdTokenHint, req.ClientID, req.PostLogoutRedirectURI, req.State)}
		if end.ClientID != "" {
			page.App = p.clientName(ctx, end.ClientID)
		}
		if u != nil {
			page.Email = u.Email
		}
		allowFormActionTo(w, end.RedirectURI) // the button's answer goes back to the app
		return p.render(w, r, http.StatusOK, "oidc-signout", page)
	}
	http.Redirect(w, r, end.RedirectURI, http.StatusFound)
	return nil
}

// signOutFields are the end_session parameters the confirmation page
// posts back, those that were given.
func signOutFields(idTokenHint, clientID, postLogoutRedirectURI, state string) []HiddenField {
	var fields []HiddenField
	for _, f := range []HiddenField{
		{"id_token_hint", idTokenHint}, {"client_id", clientID},
		{"post_logout_redirect_uri", postLogoutRedirectURI}, {"state", state},
	} {
		if f.Value != "" {
			fields = append(fields, f)
		}
	}
	return fields
}
