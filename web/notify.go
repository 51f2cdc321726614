package web

import (
	"fmt"
	"net/url"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtext"
)

// Email is one message for the user. cmd/passkeyd hands these to the mail
// package's queue (SMTP, or the log in development).
type Email struct {
	To      string
	Subject string
	Text    string
	Kind    string // "verify_email", "recovery", ...: for metrics and logs
}

// Mailer queues email. Enqueue must not block: handlers answer in the same
// time whether or not a message is sent.
type Mailer interface {
	Enqueue(Email) bool
}

// link returns an absolute URL to a page of ours with a token, for email.
func (s *Server) link(path, token string) string {
	return s.cfg.PublicURL + path + "?token=" + url.QueryEscape(token)
}

// send renders one kind of email (internal/emailtext holds the wording)
// and queues it.
func (s *Server) send(kind string, d emailtext.Data) {
	d.Site = s.cfg.RPName
	d.Dashboard = s.cfg.PublicURL + "/dashboard"
	d.Apps = s.oidc != nil
	subject, text, err := s.texts.Render(kind, d)
	if err != nil {
		s.log.Error("email not rendered", "kind", kind, "err", err)
		return
	}
	if s.mailer == nil {
		s.log.Warn("no mailer configured; message dropped", "kind", kind)
		return
	}
	if !s.mailer.Enqueue(Email{To: d.To, Subject: subject, Text: text, Kind: kind}) {
		s.log.Warn("mail queue full; message dropped", "kind", kind)
		return
	}
	if kind == emailtext.Recovery || kind == emailtext.Takeover {
		s.metrics.recoveryEmailSent()
	}
}

// sendVerification sends the link that confirms u's address. The link
// also carries the account's creation date, which the page shows: the
// owner of the address should confirm only an account they created then.
func (s *Server) sendVerification(u *passkeyd.User, token string) {
	link := s.link("/verify-email", token) + "&created=" + u.CreatedAt.UTC().Format(dateParam)
	s.send(emailtext.VerifyEmail, emailtext.Data{To: u.Email, Link: link, Valid: human(s.cfg.EmailLinkTTL), Created: humanDate(u.CreatedAt)})
}

func (s *Server) sendRecoveryLink(to, token string) {
	s.send(emailtext.Recovery, emailtext.Data{To: to, Link: s.link("/recover/email", token), Valid: human(s.cfg.RecoveryLinkTTL)})
}

func (s *Server) sendTakeoverLink(u *passkeyd.User, token string) {
	s.send(emailtext.Takeover, emailtext.Data{To: u.Email, Link: s.link("/recover/takeover", token),
		Valid: human(s.cfg.RecoveryLinkTTL), Created: humanDate(u.CreatedAt)})
}

// sendEmailChange sends the confirmation link to the new address and, at
// once, the link that cancels the change to the address in use.
func (s *Server) sendEmailChange(newAddress, oldAddress, token, cancelToken string) {
	s.send(emailtext.ChangeEmail, emailtext.Data{To: newAddress, OldAddress: oldAddress,
		Link: s.link("/confirm-email", token), Valid: human(s.cfg.EmailLinkTTL)})
	s.send(emailtext.EmailChangeRequested, emailtext.Data{To: oldAddress, Detail: newAddress,
		Link: s.link("/cancel-email-change", cancelToken), Valid: human(s.cfg.EmailLinkTTL)})
}

func (s *Server) sendSignUpLink(to, token string) {
	s.send(emailtext.SignUp, emailtext.Data{To: to, Link: s.link("/signup", token), Valid: human(s.cfg.EmailLinkTTL)})
}

// sendSignUpNotice tells the owner of an address that has an account that
// someone tried to sign up with it, and how to sign in or get back in.
func (s *Server) sendSignUpNotice(to string) {
	s.send(emailtext.SignUpExisting, emailtext.Data{To: to, Link: s.cfg.PublicURL + "/", Recover: s.cfg.PublicURL + "/recover"})
}

// notify sends a security notice (emailtext.PasskeyAdded, ...) about the
// account to its address.
func (s *Server) notify(to, kind, detail string) {
	s.send(kind, emailtext.Data{To: to, Detail: detail})
}

// dateParam is the form of a date in a link's query.
const dateParam = "2006-01-02"

// humanDate writes a day for people: "30 Nov 2026" (UTC).
func humanDate(t time.Time) string {
	return t.UTC().Format("2 Jan 2006")
}

// human writes a link's lifetime for people: "15 minutes", "24 hours".
func human(d time.Duration) string {
	switch m := int(d.Minutes()); {
	case m == 60:
		return "1 hour"
	case m > 60 && m%60 == 0:
		return fmt.Sprintf("%d hours", m/60)
	default:
		return fmt.Sprintf("%d minutes", m)
	}
}
