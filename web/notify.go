package web

import (
	"fmt"
	"net/url"
	"time"
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

func (s *Server) send(m Email) {
	if s.mailer == nil {
		s.log.Warn("no mailer configured; message dropped", "kind", m.Kind)
		return
	}
	if !s.mailer.Enqueue(m) {
		s.log.Warn("mail queue full; message dropped", "kind", m.Kind)
		return
	}
	if m.Kind == "recovery" {
		s.metrics.recoveryEmailSent()
	}
}

func (s *Server) sendVerification(to, token string) {
	s.send(Email{To: to, Kind: "verify_email", Subject: "Confirm your email address for " + s.cfg.RPName, Text: fmt.Sprintf(
		"Hello,\n\nConfirm that %s is your address by opening this link (valid for %s):\n\n%s\n\n"+
			"A confirmed address lets you get back into your account if you lose your passkeys.\n"+
			"If you did not create an account at %s, ignore this message.\n", to, human(s.cfg.VerifyLinkTTL), s.link("/verify-email", token), s.cfg.RPName)})
}

func (s *Server) sendRecoveryLink(to, token string) {
	s.send(Email{To: to, Kind: "recovery", Subject: "Get back into your " + s.cfg.RPName + " account", Text: fmt.Sprintf(
		"Hello,\n\nSomeone, hopefully you, asked to get back into the account of %s.\n"+
			"Open this link to create a new passkey (it works once, for %s):\n\n%s\n\n"+
			"Using it signs out every other session of the account.\n"+
			"If it was not you, ignore this message: nothing changes without the link.\n", to, human(s.cfg.RecoveryLinkTTL), s.link("/recover/email", token))})
}

func (s *Server) sendEmailChange(newAddress, oldAddress, token string) {
	s.send(Email{To: newAddress, Kind: "change_email", Subject: "Confirm your new email address for " + s.cfg.RPName, Text: fmt.Sprintf(
		"Hello,\n\nThe account of %s at %s asked to use %s from now on.\nConfirm it by opening this link (valid for %s):\n\n%s\n\n"+
			"If you did not ask for this, ignore this message.\n", oldAddress, s.cfg.RPName, newAddress, human(s.cfg.VerifyLinkTTL), s.link("/confirm-email", token))})
}

// Security notifications.
const (
	notePasskeyAdded    = "passkey_added"
	notePasskeyDeleted  = "passkey_deleted"
	noteRecoveryUsed    = "recovery_used"
	noteCloneWarning    = "clone_warning"
	noteEmailChangedOld = "email_changed_notice"
)

func (s *Server) notify(to, kind, detail string) {
	var subject, what string
	switch kind {
	case notePasskeyAdded:
		subject, what = "A passkey was added to your account", "A new passkey (\""+detail+"\") was added to your account."
	case notePasskeyDeleted:
		subject, what = "A passkey was removed from your account", "The passkey \""+detail+"\" was removed from your account."
	case noteRecoveryUsed:
		subject, what = "Your account was recovered", "Someone got back into your account with "+detail+". Every other session was signed out."
	case noteCloneWarning:
		subject, what = "A possibly copied passkey was refused", "A sign-in with your passkey \""+detail+"\" was refused because the passkey may have been copied. Consider removing it and adding a new one."
	case noteEmailChangedOld:
		subject, what = "Your account's email address was changed", "Your account's email address was changed to "+detail+". This address will no longer receive messages about the account."
	}
	s.send(Email{To: to, Kind: kind, Subject: subject + " (" + s.cfg.RPName + ")", Text: "Hello,\n\n" + what + "\n\n" +
		"If this was not you, review your passkeys and sessions at once:\n\n" + s.cfg.PublicURL + "/dashboard\n"})
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
