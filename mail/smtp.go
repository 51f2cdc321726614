package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/passkeyd/passkeyd"
)

// security is how a connection to the mail server is protected.
type security int

const (
	securityStartTLS security = iota // plain connect, then STARTTLS; refused if the server does not offer it
	securityTLS                      // TLS from the first byte (smtps, port 465)
	securityNone                     // no TLS at all
)

func (s security) String() string {
	switch s {
	case securityStartTLS:
		return "starttls"
	case securityTLS:
		return "tls"
	default:
		return "none"
	}
}

const (
	defaultDialTimeout = 10 * time.Second
	defaultSendTimeout = time.Minute // when the caller's context has no deadline
)

// smtpSender sends each message over its own SMTP connection. Emails are
// rare (a sign-up, a recovery), so a pool would only add stale connections.
type smtpSender struct {
	host, port         string
	security           security
	username, password string
	tlsConfig          *tls.Config
	from               *mail.Address
	fromDomain         string
	localName          string // the EHLO name
	dialTimeout        time.Duration
	sendTimeout        time.Duration
	// dial connects; tests point a made-up host name at the test server to
	// exercise the policy for hosts that are not loopback.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ Sender = (*smtpSender)(nil)

// newSMTPSender reads an SMTP URL (see Open) and decides the TLS policy.
// Errors never quote the URL: it may hold a password.
func newSMTPSender(rawURL, from string) (*smtpSender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole URL, password included
		}
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "The SMTP URL is not valid.", err)
	}
	s := &smtpSender{
		host:        u.Hostname(),
		port:        u.Port(),
		localName:   "localhost",
		dialTimeout: defaultDialTimeout,
		sendTimeout: defaultSendTimeout,
	}
	switch u.Scheme {
	case "smtp":
		s.security = securityStartTLS
		if s.port == "" {
			s.port = "587"
		}
	case "smtps":
		s.security = securityTLS
		if s.port == "" {
			s.port = "465"
		}
	default:
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "The SMTP URL must start with smtp:// or smtps://.")
	}
	if s.host == "" || u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "The SMTP URL must be smtp://user:password@host:port, with no path.")
	}
	if n, err := strconv.Atoi(s.port); err != nil || n < 1 || n > 65535 {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "The SMTP URL's port must be a number from 1 to 65535.")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, passkeyd.WrapError(passkeyd.EINVALID, "The SMTP URL's query is not valid.", err)
	}
	for k, v := range q {
		if k != "tls" && k != "insecure_skip_verify" {
			return nil, passkeyd.Errorf(passkeyd.EINVALID, "The SMTP URL has an unknown setting %q (known: tls, insecure_skip_verify).", k)
		}
		if len(v) > 1 {
			return nil, passkeyd.Errorf(passkeyd.EINVALID, "The SMTP URL sets %q twice.", k)
		}
	}
	switch tlsMode := strings.ToLower(q.Get("tls")); tlsMode {
	case "":
		// A relay on the same machine is reached without leaving it, and
		// often has no certificate that would verify.
		if u.Scheme == "smtp" && isLoopback(s.host) {
			s.security = securityNone
		}
	case "tls":
		s.security = securityTLS
	case "starttls", "none":
		if u.Scheme == "smtps" {
			return nil, passkeyd.Errorf(passkeyd.EINVALID, "smtps:// always uses TLS; use smtp:// with tls=%s.", tlsMode)
		}
		s.security = securityStartTLS
		if tlsMode == "none" {
			s.security = securityNone
		}
	default:
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "The SMTP URL's tls must be starttls, tls or none.")
	}
	var insecure bool
	switch strings.ToLower(q.Get("insecure_skip_verify")) {
	case "", "0", "false":
	case "1", "true":
		if s.security == securityNone {
			return nil, passkeyd.Errorf(passkeyd.EINVALID, "insecure_skip_verify needs TLS (tls=starttls or tls).")
		}
		insecure = true
	default:
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "The SMTP URL's insecure_skip_verify must be 1 or 0.")
	}
	if u.User != nil {
		s.username = u.User.Username() // url.Parse has already unescaped both
		s.password, _ = u.User.Password()
	}
	s.tlsConfig = &tls.Config{
		ServerName:         s.host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: insecure, // only for tests; see Open
	}

	if from == "" {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "A From address is required to send email.")
	}
	s.from, err = parseAddress("From", from)
	if err != nil {
		return nil, err
	}
	s.fromDomain = s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]

	d := &net.Dialer{}
	s.dial = d.DialContext
	return s, nil
}

// isLoopback reports whether host names this machine: "localhost" or a
// loopback IP address. Other names are not resolved: a name that happens to
// point at 127.0.0.1 still gets the strict policy.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m in one SMTP conversation, bounded by ctx (or by a minute
// when ctx has no deadline).
func (s *smtpSender) Send(ctx context.Context, m passkeyd.Email) error {
	raw, to, err := s.build(m, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.sendTimeout)
	defer cancel()

	c, stop, err := s.connect(ctx)
	if err != nil {
		return s.fail(ctx, "connect", err)
	}
	defer stop()
	defer c.Close()

	if err := c.Hello(s.localName); err != nil {
		if s.security == securityStartTLS {
			// After STARTTLS the first EHLO is where a bad certificate shows.
			return s.fail(ctx, "EHLO after STARTTLS", err)
		}
		return s.fail(ctx, "EHLO", err)
	}
	if _, isTLS := c.TLSConnectionState(); !isTLS && s.security != securityNone {
		return fmt.Errorf("smtp: connection to %s is not encrypted; refusing to send", s.host) // cannot happen; a guard for the policy
	}
	if s.username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("smtp: %s does not offer AUTH but the URL has credentials", s.host)
		}
		if err := c.Auth(sasl.NewPlainClient("", s.username, s.password)); err != nil {
			return s.fail(ctx, "AUTH PLAIN", err)
		}
	}
	if err := c.SendMail(s.from.Address, []string{to.Address}, bytes.NewReader(raw)); err != nil {
		return s.fail(ctx, "send", err)
	}
	// The server has accepted the message: a failed QUIT must not make the
	// caller send it twice.
	_ = c.Quit()
	return nil
}

// connect dials and sets up TLS as the policy says. The returned stop
// function must be called when the conversation ends.
func (s *smtpSender) connect(ctx context.Context) (*smtp.Client, func() bool, error) {
	dialCtx, cancel := context.WithTimeout(ctx, s.dialTimeout)
	conn, err := s.dial(dialCtx, "tcp", net.JoinHostPort(s.host, s.port))
	cancel()
	if err != nil {
		return nil, nil, err
	}
	// go-smtp sets and clears its own deadline around every command, so a
	// deadline on conn would not last; closing conn when ctx ends is what
	// holds the whole conversation to ctx.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	fail := func(err error) (*smtp.Client, func() bool, error) {
		stop()
		conn.Close()
		return nil, nil, err
	}
	var c *smtp.Client
	switch s.security {
	case securityTLS:
		tc := tls.Client(conn, s.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(fmt.Errorf("TLS: %w", err))
		}
		c = smtp.NewClient(tc)
	case securityStartTLS:
		// NewClientStartTLS fails when the server does not offer STARTTLS:
		// nothing (no credentials, no mail) has been sent by then.
		c, err = smtp.NewClientStartTLS(conn, s.tlsConfig)
		if err != nil {
			return fail(fmt.Errorf("STARTTLS is required (set tls=none in the SMTP URL to send in clear): %w", err))
		}
	default:
		c = smtp.NewClient(conn)
	}
	if deadline, ok := ctx.Deadline(); ok {
		c.CommandTimeout = time.Until(deadline)
		c.SubmissionTimeout = time.Until(deadline)
	}
	return c, stop, nil
}

// fail wraps err with the step that failed; when ctx ended first, the
// error says so (errors.Is(err, context.DeadlineExceeded)) rather than
// only "use of closed network connection".
func (s *smtpSender) fail(ctx context.Context, step string, err error) error {
	cerr := ctx.Err()
	if deadline, ok := ctx.Deadline(); cerr == nil && ok && !time.Now().Before(deadline) {
		// go-smtp's own read deadline (set from ctx's) may fire before
		// ctx's timer has marked ctx done.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		return fmt.Errorf("smtp %s %s: %w: %w", s.host, step, cerr, err)
	}
	return fmt.Errorf("smtp %s %s: %w", s.host, step, err)
}

// build returns m as an RFC 5322 message with CRLF line ends, and its
// recipient.
func (s *smtpSender) build(m passkeyd.Email, now time.Time) ([]byte, *mail.Address, error) {
	if err := validate(m); err != nil {
		return nil, nil, err
	}
	to, err := parseAddress("recipient", m.To)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	writeHeader(&b, "Date", now.Format(time.RFC1123Z))
	writeHeader(&b, "From", s.from.String())
	writeHeader(&b, "To", to.String())
	writeHeader(&b, "Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	writeHeader(&b, "Message-ID", "<"+strings.ToLower(rand.Text())+"@"+s.fromDomain+">")
	writeHeader(&b, "MIME-Version", "1.0")
	writeHeader(&b, "Content-Type", "text/plain; charset=utf-8")
	writeHeader(&b, "Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	// Quoted-printable keeps every line under 76 characters and the
	// message 7-bit, whatever the server supports; a long link is split
	// with soft breaks that every mail reader joins again.
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), to, nil
}

// writeHeader writes one header field, folded at spaces so lines stay near
// 78 characters (RFC 5322 §2.2.3). value must hold no CR or LF; the caller
// has checked. Folding only inserts CRLF before an existing space (or the
// one after the colon), so unfolding gives value back; a 75-character
// RFC 2047 word that does not fit after the name starts the next line.
func writeHeader(b *bytes.Buffer, name, value string) {
	// Every line after the first starts with a space and a word, never
	// blank: folding happens only before a word that is not empty.
	line := name + ":"
	for _, word := range strings.Split(value, " ") {
		if word != "" && len(line)+1+len(word) > 78 {
			b.WriteString(line)
			b.WriteString("\r\n")
			line = ""
		}
		line += " " + word
	}
	b.WriteString(line)
	b.WriteString("\r\n")
}
