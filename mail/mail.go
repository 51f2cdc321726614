// Package mail sends passkeyd's emails: address verification, recovery
// links and security notices.
//
// Open picks the Sender from an SMTP URL; with no URL (development) the
// LogSender writes every message, links included, to the log. Handlers do
// not call a Sender directly: they hand the message to a Queue, so a "lost
// your passkey?" request takes the same time whether or not an email goes
// out, and a slow mail server never holds up a request.
//
// Messages are plain text, one recipient each. The package builds the
// RFC 5322 message itself (quoted-printable body, RFC 2047 subject) and
// refuses anything that could smuggle a header in.
package mail

import (
	"context"
	"log/slog"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/passkeyd/passkeyd"
)

// Sender sends messages. Send returns once the message is handed over (to
// the mail server, or to the log); an error with code passkeyd.EINVALID
// means the message itself is wrong and sending it again will not help.
type Sender interface {
	Send(ctx context.Context, m passkeyd.Email) error
}

// maxSubjectLength bounds a subject so its header stays far below the
// 998-byte line limit of RFC 5322 even before folding.
const maxSubjectLength = 500

// validate reports, with code passkeyd.EINVALID, whether m cannot be sent:
// a recipient that is not exactly one address, a line break in To or
// Subject (header injection), or text that is not UTF-8. The messages name
// the field, never its value, because values may hold addresses or tokens.
func validate(m passkeyd.Email) error {
	if _, err := parseAddress("recipient", m.To); err != nil {
		return err
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return passkeyd.Errorf(passkeyd.EINVALID, "The email subject must not contain a line break.")
	}
	if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) {
		return passkeyd.Errorf(passkeyd.EINVALID, "The email subject and text must be UTF-8.")
	}
	if len(m.Subject) > maxSubjectLength {
		return passkeyd.Errorf(passkeyd.EINVALID, "The email subject is longer than %d bytes.", maxSubjectLength)
	}
	return nil
}

// parseAddress parses one address ("a@example.com" or "Name <a@example.com>")
// and refuses line breaks, lists and addresses without a domain. what names
// the field in the error.
func parseAddress(what, s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "The %s address must not contain a line break.", what)
	}
	if s == "" || len(s) > 2*passkeyd.MaxEmailLength || !utf8.ValidString(s) {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "The %s address is missing or not valid.", what)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "The "+what+" address is not valid.", err)
	}
	at := strings.LastIndexByte(addr.Address, '@')
	if at <= 0 || at == len(addr.Address)-1 || len(addr.Address) > passkeyd.MaxEmailLength {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "The %s address is not valid.", what)
	}
	return addr, nil
}

// domainOf returns the part of an address after the last @, lower-cased,
// or "" when there is none. Logs name a recipient by domain only.
func domainOf(address string) string {
	if addr, err := mail.ParseAddress(address); err == nil {
		address = addr.Address
	}
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimRight(address[at+1:], ">"))
}

// Open returns the sender an SMTP URL names, or a LogSender when the URL is
// "" (development). from is the From address, "no-reply@example.com" or
// "Example <no-reply@example.com>"; it must be valid whenever it is given,
// and it is required with an SMTP URL. A nil log discards logs.
//
// The URL forms:
//
//	smtp://user:pass@host:587                STARTTLS, required (the default port is 587)
//	smtps://user:pass@host:465               implicit TLS (the default port is 465)
//	smtp://host:25?tls=none                  no TLS at all, even if the server offers it
//	smtp://localhost:25                      loopback host: no TLS unless tls= says so
//	smtp://host:587?tls=starttls|tls|none    choose explicitly
//	…&insecure_skip_verify=1                 ONLY for tests: accept any certificate
//
// User and password are URL-escaped ("p%40ss" for "p@ss") and, when given,
// sent with AUTH PLAIN. Without tls=none, a host that is not a loopback
// address gets no credentials and no mail unless the connection is
// encrypted: a server that does not offer STARTTLS is refused. Open does
// not connect; the first Send does.
func Open(rawURL, from string, log *slog.Logger) (Sender, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if rawURL == "" {
		if from != "" {
			if _, err := parseAddress("From", from); err != nil {
				return nil, err
			}
		}
		log.Warn("no SMTP URL configured: emails are written to the log, links included", "event", "mail_to_log")
		return LogSender{Log: log}, nil
	}
	s, err := newSMTPSender(rawURL, from)
	if err != nil {
		return nil, err
	}
	if s.security == securityNone && s.username != "" && !isLoopback(s.host) {
		log.Warn("SMTP credentials will be sent without TLS (tls=none)", "event", "mail_insecure", "host", s.host)
	}
	log.Info("sending email through SMTP", "host", s.host, "port", s.port, "tls", s.security.String(), "auth", s.username != "")
	return s, nil
}
