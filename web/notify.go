package web

import (
	"context"
	"log/slog"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
)

// notifier writes every email passkeyd sends (internal/emailtext holds
// the wording) and queues it with the Mailer.
type notifier struct {
	store   passkeyd.Store // for the look-ups after an answer
	texts   *emailtext.Texts
	mailer  passkeyd.Mailer // nil drops email, with a warning
	tokens  *emailtoken.Tokens
	log     *slog.Logger
	metrics *Metrics
	site    string // Config.RPName
	// publicURL starts the links; apps: the dashboard lists connected apps.
	publicURL                     string
	apps                          bool
	emailLinkTTL, recoveryLinkTTL time.Duration
}

func newNotifier(cfg Config, store passkeyd.Store, texts *emailtext.Texts, mailer passkeyd.Mailer, tokens *emailtoken.Tokens, log *slog.Logger, m *Metrics, apps bool) *notifier {
	return &notifier{store: store, texts: texts, mailer: mailer, tokens: tokens, log: log, metrics: m, site: cfg.RPName,
		publicURL: cfg.PublicURL, apps: apps, emailLinkTTL: cfg.EmailLinkTTL, recoveryLinkTTL: cfg.RecoveryLinkTTL}
}

// send renders one kind of email and queues it.
func (n *notifier) send(kind string, d emailtext.Data) {
	d.Site = n.site
	d.Dashboard = n.publicURL + "/dashboard"
	d.Apps = n.apps
	subject, text, err := n.texts.Render(kind, d)
	if err != nil {
		n.log.Error("email not rendered", "kind", kind, "err", err)
		return
	}
	if n.mailer == nil {
		n.log.Warn("no mailer configured; message dropped", "kind", kind)
		return
	}
	if !n.mailer.Enqueue(passkeyd.Email{To: d.To, Subject: subject, Text: text, Kind: kind}) {
		n.log.Warn("mail queue full; message dropped", "kind", kind)
		return
	}
	if kind == emailtext.Recovery || kind == emailtext.Takeover {
		n.metrics.recoveryEmailSent()
	}
}

// verification sends the link that confirms u's address. The link also
// carries the account's creation date, which the page shows: the owner of
// the address should confirm only an account they created then.
func (n *notifier) verification(u *passkeyd.User, token string) {
	link := n.tokens.Link(passkeyd.TokenVerifyEmail, token) + "&created=" + u.CreatedAt.UTC().Format(dateParam)
	n.send(emailtext.VerifyEmail, emailtext.Data{To: u.Email, Link: link, Valid: emailtext.Duration(n.emailLinkTTL), Created: emailtext.Date(u.CreatedAt)})
}

func (n *notifier) recoveryLink(to, token string) {
	n.send(emailtext.Recovery, emailtext.Data{To: to, Link: n.tokens.Link(passkeyd.TokenRecovery, token), Valid: emailtext.Duration(n.recoveryLinkTTL)})
}

func (n *notifier) takeoverLink(u *passkeyd.User, token string) {
	n.send(emailtext.Takeover, emailtext.Data{To: u.Email, Link: n.tokens.Link(passkeyd.TokenTakeover, token),
		Valid: emailtext.Duration(n.recoveryLinkTTL), Created: emailtext.Date(u.CreatedAt)})
}

// emailChange sends the confirmation link to the new address and, at
// once, the link that cancels the change to the address in use.
func (n *notifier) emailChange(newAddress, oldAddress, token, cancelToken string) {
	n.send(emailtext.ChangeEmail, emailtext.Data{To: newAddress, OldAddress: oldAddress,
		Link: n.tokens.Link(passkeyd.TokenChangeEmail, token), Valid: emailtext.Duration(n.emailLinkTTL)})
	n.send(emailtext.EmailChangeRequested, emailtext.Data{To: oldAddress, Detail: newAddress,
		Link: n.tokens.Link(passkeyd.TokenCancelEmailChange, cancelToken), Valid: emailtext.Duration(n.emailLinkTTL)})
}

func (n *notifier) signUpLink(to, token string) {
	n.send(emailtext.SignUp, emailtext.Data{To: to, Link: n.tokens.Link(passkeyd.TokenSignUp, token), Valid: emailtext.Duration(n.emailLinkTTL)})
}

// signUpNotice tells the owner of an address that has an account that
// someone tried to sign up with it, and how to sign in or get back in.
func (n *notifier) signUpNotice(to string) {
	n.send(emailtext.SignUpExisting, emailtext.Data{To: to, Link: n.publicURL + "/", Recover: n.publicURL + "/recover"})
}

// notice sends a security notice (emailtext.PasskeyAdded, ...) about the
// account to its address.
func (n *notifier) notice(to, kind, detail string) {
	n.send(kind, emailtext.Data{To: to, Detail: detail})
}

// The look-ups of handleRecoveryEmail and handleSignUpEmail, after the
// answer: which email an address gets, with a new link's token.

// recoveryMail runs off the request path (see handleRecoveryEmail): an
// account gets the link emailtoken.RecoveryPurpose chooses, a takeover
// link when its address was never confirmed.
func (n *notifier) recoveryMail(ctx context.Context, email, ip string) {
	u, err := n.store.FindUserByEmail(ctx, email)
	if err != nil || u.Disabled {
		if err != nil && passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
			n.log.WarnContext(ctx, "recovery look-up failed", "err", err)
		}
		return
	}
	purpose := emailtoken.RecoveryPurpose(u)
	token, err := n.tokens.Issue(ctx, purpose, u.ID, u.Email, n.recoveryLinkTTL)
	if err != nil {
		n.log.WarnContext(ctx, "recovery token not saved", "err", err, "purpose", string(purpose))
		return
	}
	if purpose == passkeyd.TokenTakeover {
		n.log.InfoContext(ctx, "takeover link sent", "event", "takeover_link_sent", "user_id", u.ID, "client_ip", ip)
		n.takeoverLink(u, token)
		return
	}
	n.log.InfoContext(ctx, "recovery link sent", "event", "recovery_link_sent", "user_id", u.ID, "client_ip", ip)
	n.recoveryLink(u.Email, token)
}

// signUpMail runs off the request path (see handleSignUpEmail): a new
// address gets a sign-up link, an address with an account a notice that
// someone tried to sign up with it, with a sign-in link.
func (n *notifier) signUpMail(ctx context.Context, email, ip string) {
	u, err := n.store.FindUserByEmail(ctx, email)
	switch passkeyd.ErrorCode(err) {
	case "":
		n.log.InfoContext(ctx, "sign-up with an address that has an account", "event", "sign_up_existing", "user_id", u.ID, "client_ip", ip)
		n.signUpNotice(u.Email)
		return
	case passkeyd.ENOTFOUND:
	default:
		n.log.WarnContext(ctx, "sign-up look-up failed", "err", err)
		return
	}
	secret, err := n.tokens.Issue(ctx, passkeyd.TokenSignUp, "", email, n.emailLinkTTL)
	if err != nil {
		n.log.WarnContext(ctx, "sign-up token not saved", "err", err)
		return
	}
	n.log.InfoContext(ctx, "sign-up link sent", "event", "sign_up_link_sent", "client_ip", ip)
	n.signUpLink(email, secret)
}

// dateParam is the form of a date in a link's query.
const dateParam = "2006-01-02"
