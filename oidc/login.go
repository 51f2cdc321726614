package oidc

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/passkeyd/passkeyd"
)

// handleLogin is where the op package sends the browser with a new
// authorization request (Client.LoginURL), and where passkeyd's sign-in
// page comes back to once a passkey is verified.
func (p *Provider) handleLogin(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	req, c, err := p.pendingRequest(r, r.URL.Query().Get("id"))
	if err != nil {
		return err
	}
	u, sess := p.users.SignedIn(r)
	if u == nil || sess == nil || sess.Scope != passkeyd.ScopeFull || !fresh(req, sess, p.now()) {
		if slices.Contains(req.Prompt, "none") {
			return p.redirectError(w, r, req, "login_required", "The user is not signed in to passkeyd.")
		}
		return p.render(w, r, http.StatusOK, "oidc-signin", &Page{
			App: c.Name, Email: req.LoginHint, Fresh: u != nil, SignUpPage: p.cfg.SignUpPage,
		})
	}
	if req.HintSubject != "" && req.HintSubject != u.ID {
		// The app's id_token_hint names another account: never answer
		// for whoever happens to be signed in (OIDC Core §3.1.2.1).
		p.log.InfoContext(ctx, "oidc request for another account", "event", "oidc_hint_other_user", "client_id", c.ID, "user_id", u.ID)
		if slices.Contains(req.Prompt, "none") {
			return p.redirectError(w, r, req, "login_required", "The account the app asked for is not signed in to passkeyd.")
		}
		allowFormActionTo(w, req.RedirectURI) // Cancel goes back to the app
		return p.render(w, r, http.StatusOK, "oidc-signin", &Page{
			App: c.Name, Email: req.LoginHint, Fresh: true, OtherAccount: true, SignedInAs: u.Email, RequestID: req.ID,
		})
	}
	admitted, err := p.admits(ctx, c, u)
	if err != nil {
		return err
	}
	if !admitted {
		return p.refuseAccount(w, r, req, c, u)
	}
	if mustConfirmEmail(c, u) {
		p.metrics.refuse(c.ID, "email_unconfirmed")
		if slices.Contains(req.Prompt, "none") {
			return p.redirectError(w, r, req, "interaction_required", "The user has to confirm their email address first.")
		}
		p.log.InfoContext(ctx, "oidc sign-in waits for the address to be confirmed", "event", "oidc_email_unconfirmed", "client_id", c.ID, "user_id", u.ID)
		allowFormActionTo(w, req.RedirectURI) // Cancel goes back to the app
		return p.render(w, r, http.StatusOK, "oidc-confirm-email", &Page{
			App: c.Name, Email: u.Email, AllowList: len(c.AllowedUsers) > 0, RequestID: req.ID,
		})
	}
	more, err := p.grantsMore(ctx, req, u)
	if err != nil {
		return err
	}
	switch {
	case c.Trusted && more:
		// A trusted app asks no consent, but a new grant to it needs a
		// recent passkey verification all the same, and is recorded as a
		// consent, so that it is listed in Connected apps and ended with
		// the account's other grants.
		if !p.grantFresh(sess) {
			if slices.Contains(req.Prompt, "none") {
				return p.redirectError(w, r, req, "login_required", "The user must confirm it is them before this app is first allowed.")
			}
			return p.render(w, r, http.StatusOK, "oidc-signin", &Page{App: c.Name, Email: u.Email, Fresh: true})
		}
		if err := p.saveConsent(ctx, req, c, u, sess); err != nil {
			return err
		}
	case !c.Trusted && (more || slices.Contains(req.Prompt, "consent")):
		if slices.Contains(req.Prompt, "none") {
			return p.redirectError(w, r, req, "consent_required", "The user has not allowed this app yet.")
		}
		return p.renderConsent(w, r, http.StatusOK, req, c, u, more && !p.grantFresh(sess))
	}
	return p.complete(w, r, req, c, u, sess)
}

// refuseAccount answers a sign-in by an account c does not admit (its
// address is not on AllowedUsers and it is in none of AllowedGroups): the
// one way both lists refuse. passkeyd's page tells the person they have no
// access to the app, naming it and nothing of its addresses, and its
// button sends the app access_denied (handleCancel). prompt=none shows no
// page: the app hears access_denied at once.
func (p *Provider) refuseAccount(w http.ResponseWriter, r *http.Request, req *passkeyd.OIDCAuthRequest, c *passkeyd.OIDCClient, u *passkeyd.User) error {
	p.log.InfoContext(r.Context(), "oidc sign-in refused: the client does not admit the account", "event", "oidc_user_not_allowed", "client_id", c.ID, "user_id", u.ID)
	p.metrics.refuse(c.ID, "user_not_allowed")
	if slices.Contains(req.Prompt, "none") {
		return p.redirectError(w, r, req, "access_denied", notAdmitted)
	}
	allowFormActionTo(w, req.RedirectURI) // the button goes back to the app
	return p.render(w, r, http.StatusForbidden, "oidc-error", &Page{
		Heading: "You have no access to " + c.Name, App: c.Name, RequestID: req.ID,
		Message: c.Name + " lets in only certain people, and the account you are signed in with (" + u.Email +
			") is not one of them. If you should have access, ask whoever runs " + c.Name + " to let you in.",
	})
}

// notAdmitted is what the app hears when it does not admit the account.
const notAdmitted = "This account may not sign in to this app."

// pendingRequest loads the request named by id and its client; it fails
// when either is gone, the request is finished, or it was started in
// another browser (browser.go).
func (p *Provider) pendingRequest(r *http.Request, id string) (*passkeyd.OIDCAuthRequest, *passkeyd.OIDCClient, error) {
	ctx := r.Context()
	if id == "" || len(id) > 100 {
		return nil, nil, passkeyd.Errorf(passkeyd.EINVALID, "This sign-in link is incomplete. Please go back to the app and try again.")
	}
	req, err := p.store.FindOIDCAuthRequest(ctx, id, p.now())
	if err == nil && !p.startedHere(r, req) {
		p.log.WarnContext(ctx, "oidc request from another browser refused", "event", "oidc_request_other_browser", "client_id", req.ClientID)
		p.metrics.refuse(req.ClientID, "other_browser")
		return nil, nil, passkeyd.Errorf(passkeyd.EFORBIDDEN,
			"This sign-in was started in another browser, so it cannot be finished here. If you did not start it, close this page. Otherwise go back to the app in this browser and sign in again.")
	}
	if err == nil && req.Done {
		err = passkeyd.Errorf(passkeyd.ENOTFOUND, "This sign-in request was completed already. Please go back to the app.")
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := p.client(ctx, req.ClientID)
	if err != nil {
		return nil, nil, err
	}
	return req, c, nil
}

// fresh reports whether the session's passkey verification is recent
// enough for the request: prompt=login (op turns it into max_age=0) and
// max_age ask for one after the request began or within max_age.
func fresh(req *passkeyd.OIDCAuthRequest, sess *passkeyd.Session, now time.Time) bool {
	if !sess.AuthenticatedAt.Before(req.CreatedAt.Truncate(time.Millisecond)) {
		return true
	}
	if slices.Contains(req.Prompt, "login") {
		return false
	}
	return req.MaxAge < 0 || now.Sub(sess.AuthenticatedAt) <= time.Duration(req.MaxAge)*time.Second
}

// grantsMore reports whether completing req would give its app more than
// the user allowed it before: the app has no consent (never allowed, or
// ended since by a recovery, a revoke, ...), or a scope asked for is not in
// it. Such a grant needs consent (a trusted app's is implied) and a recent
// passkey verification (grantFresh). prompt=consent asks an untrusted app's
// consent again without it being more.
func (p *Provider) grantsMore(ctx context.Context, req *passkeyd.OIDCAuthRequest, u *passkeyd.User) (bool, error) {
	consent, err := p.store.FindOIDCConsent(ctx, u.ID, req.ClientID)
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range req.Scopes {
		if !slices.Contains(consent.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// grantFresh reports whether the session's passkey was verified within
// StepUpWindow, as web asks before other sensitive changes: letting a new
// app in mints tokens that outlive the session, so a copied session cookie
// alone must not be enough.
func (p *Provider) grantFresh(sess *passkeyd.Session) bool {
	return p.now().Sub(sess.AuthenticatedAt) <= p.cfg.StepUpWindow
}

// saveConsent records that u let req's app have its scopes, in the session
// of sess's passkey (deleting that passkey ends the consent).
func (p *Provider) saveConsent(ctx context.Context, req *passkeyd.OIDCAuthRequest, c *passkeyd.OIDCClient, u *passkeyd.User, sess *passkeyd.Session) error {
	return p.store.SaveOIDCConsent(ctx, &passkeyd.OIDCConsent{UserID: u.ID, ClientID: c.ID, Scopes: req.Scopes,
		CredentialID: sess.CredentialID, CreatedAt: p.now()})
}

// renderConsent shows the consent page. With stepUp, Allow first verifies
// a passkey of u's on the page itself (oidc-consent.js), since the
// session's last verification is older than StepUpWindow.
func (p *Provider) renderConsent(w http.ResponseWriter, r *http.Request, status int, req *passkeyd.OIDCAuthRequest, c *passkeyd.OIDCClient, u *passkeyd.User, stepUp bool) error {
	claims, err := p.claims(r.Context(), u, req.Scopes)
	if err != nil {
		return err
	}
	items := consentItems(u, claims, req.Scopes)
	host := ""
	if ru, err := url.Parse(req.RedirectURI); err == nil {
		host = ru.Host
	}
	// The form's answer redirects to the app: a Content-Security-Policy
	// form-action of 'self' alone would stop that redirect in Chromium.
	if origin := originOf(req.RedirectURI); origin != "" {
		w.Header().Set("Content-Security-Policy", strings.Replace(w.Header().Get("Content-Security-Policy"),
			"form-action 'self'", "form-action 'self' "+origin, 1))
	}
	return p.render(w, r, status, "oidc-consent", &Page{
		App: c.Name, Host: host, Email: u.Email, Items: items, RequestID: req.ID, StepUp: stepUp,
	})
}

// allowFormActionTo lets a page's form be answered with a redirect to
// uri's origin: a Content-Security-Policy form-action of 'self' alone
// would stop that redirect in Chromium.
func allowFormActionTo(w http.ResponseWriter, uri string) {
	if origin := originOf(uri); origin != "" {
		w.Header().Set("Content-Security-Policy", strings.Replace(w.Header().Get("Content-Security-Policy"),
			"form-action 'self'", "form-action 'self' "+origin, 1))
	}
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || strings.ContainsAny(u.Host, " ;,'") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// handleConsent takes the answer of the consent page. web's middleware
// refuses it unless it comes from passkeyd's own origin.
func (p *Provider) handleConsent(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	req, c, err := p.pendingRequest(r, r.PostFormValue("id"))
	if err != nil {
		return err
	}
	u, sess := p.users.SignedIn(r)
	admitted := false
	if u != nil {
		if admitted, err = p.admits(ctx, c, u); err != nil {
			return err
		}
	}
	if u == nil || sess == nil || sess.Scope != passkeyd.ScopeFull || !fresh(req, sess, p.now()) || !admitted ||
		mustConfirmEmail(c, u) || (req.HintSubject != "" && req.HintSubject != u.ID) {
		// Signed out (or in as someone else) meanwhile: start again.
		http.Redirect(w, r, p.cfg.Issuer+"/oidc/login?id="+url.QueryEscape(req.ID), http.StatusSeeOther)
		return nil
	}
	if r.PostFormValue("decision") != "allow" {
		p.log.InfoContext(ctx, "oidc consent denied", "event", "oidc_consent_denied", "client_id", c.ID, "user_id", u.ID)
		p.metrics.refuse(c.ID, "consent_denied")
		return p.redirectError(w, r, req, "access_denied", "The user did not allow this app.")
	}
	more, err := p.grantsMore(ctx, req, u)
	if err != nil {
		return err
	}
	if more && !p.grantFresh(sess) {
		// The page verifies a passkey before it posts Allow; a post
		// without one (no script, or a copied cookie) is asked again.
		p.log.InfoContext(ctx, "oidc consent needs a recent passkey verification", "event", "oidc_consent_step_up", "client_id", c.ID, "user_id", u.ID)
		return p.renderConsent(w, r, http.StatusForbidden, req, c, u, true)
	}
	if err := p.saveConsent(ctx, req, c, u, sess); err != nil {
		return err
	}
	return p.complete(w, r, req, c, u, sess)
}

// handleCancel ends a request the user gave up on (the pages that ask to
// confirm the address or to sign in as another account) or that the app
// does not admit them to (refuseAccount): the app hears access_denied.
// web's middleware refuses it unless it comes from passkeyd's own origin;
// the request must have been started in this browser, as for every step.
func (p *Provider) handleCancel(w http.ResponseWriter, r *http.Request) error {
	req, c, err := p.pendingRequest(r, r.PostFormValue("id"))
	if err != nil {
		return err
	}
	// From the page of an account the app does not admit, the app hears
	// why (refuseAccount counted and logged the refusal).
	if u, _ := p.users.SignedIn(r); u != nil {
		if admitted, err := p.admits(r.Context(), c, u); err == nil && !admitted {
			return p.redirectError(w, r, req, "access_denied", notAdmitted)
		}
	}
	p.log.InfoContext(r.Context(), "oidc sign-in cancelled", "event", "oidc_cancelled", "client_id", c.ID)
	p.metrics.refuse(c.ID, "cancelled")
	return p.redirectError(w, r, req, "access_denied", "The user cancelled the sign-in.")
}

// amr says how the user signed in (RFC 8176): proof of possession of a
// key ("pop"), with user verification, a second factor inside the
// authenticator (biometrics or PIN), making it "mfa"; "user" when only
// presence was tested.
func (p *Provider) amr(ctx context.Context, u *passkeyd.User, sess *passkeyd.Session) []string {
	creds, err := p.accounts.ListCredentials(ctx, u.ID)
	if err == nil {
		for _, c := range creds {
			if c.ID == sess.CredentialID && !c.UserVerified {
				return []string{"pop", "user"}
			}
		}
	}
	return []string{"pop", "mfa"}
}

// complete finishes the request for u and sends the browser back to the
// app with a code.
func (p *Provider) complete(w http.ResponseWriter, r *http.Request, req *passkeyd.OIDCAuthRequest, c *passkeyd.OIDCClient, u *passkeyd.User, sess *passkeyd.Session) error {
	ctx := r.Context()
	amr := p.amr(ctx, u, sess)
	// The code is the op package's (the request's ID, encrypted); the
	// request's completion, its code and the security-log event are one
	// transaction (IssueOIDCCode), where op's CreateAuthRequestCode would
	// store the code in a second one (SaveAuthCode).
	code, err := op.BuildAuthRequestCode(authRequest{req}, p.op.Crypto())
	if err != nil {
		return err
	}
	now := p.now()
	ev := passkeyd.NewEvent(now, passkeyd.Actor{IP: sess.IP, UserAgent: r.UserAgent()}, u.ID, passkeyd.EventOIDCSignIn, sess.CredentialID, c.Name)
	ev.ClientID = c.ID // the overview counts each app's sign-ins, and the audit log filters by app
	if err := p.store.IssueOIDCCode(ctx, &passkeyd.OIDCCodeIssue{
		RequestID: req.ID, UserID: u.ID, CredentialID: sess.CredentialID, AuthTime: sess.AuthenticatedAt, AMR: amr,
		CodeHash: p.secrets.keyedHash("code", code), CodeExpiresAt: now.Add(p.cfg.CodeTTL),
	}, ev, now); err != nil {
		return err
	}
	p.log.InfoContext(ctx, "signed in to "+c.Name, "event", passkeyd.EventOIDCSignIn, "client_id", c.ID, "user_id", u.ID)
	p.metrics.signIn(c.ID)
	return p.respond(w, r, req, url.Values{"code": {code}})
}

// redirectError answers the app with an error (RFC 6749 §4.1.2.1); the
// request's redirect_uri was checked against the client's when it was
// made. The request is over, and deleted first, so that its link cannot
// go on to a code once the app has been told no (a cancelled consent
// reloaded, a prompt=none request signed in to later).
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, req *passkeyd.OIDCAuthRequest, code, description string) error {
	if err := p.store.DeleteOIDCAuthRequest(r.Context(), req.ID); err != nil {
		return err // completed meanwhile in another tab: that answer stands
	}
	return p.respond(w, r, req, url.Values{"error": {code}, "error_description": {description}})
}

// respond sends an authorization response: params, state and iss (RFC
// 9207), in the query or, for response_mode=fragment, the fragment.
func (p *Provider) respond(w http.ResponseWriter, r *http.Request, req *passkeyd.OIDCAuthRequest, params url.Values) error {
	if req.State != "" {
		params.Set("state", req.State)
	}
	params.Set("iss", p.cfg.Issuer)
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		return passkeyd.WrapError(passkeyd.EINVALID, "The app's redirect URI is invalid.", err)
	}
	var loc string
	if req.ResponseMode == "fragment" {
		u.Fragment, u.RawFragment = "", ""
		loc = u.String() + "#" + params.Encode()
	} else {
		q := u.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		loc = u.String()
	}
	http.Redirect(w, r, loc, http.StatusSeeOther)
	return nil
}
