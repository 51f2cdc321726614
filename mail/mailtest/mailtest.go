// Package mailtest runs a real SMTP server inside a test and keeps what it
// receives, so tests can read the email a flow sent and follow its link.
//
//	srv := mailtest.NewServer(t)
//	sender, err := mail.Open(srv.URL(), "no-reply@example.com", logger)
//	… run the flow that sends the email …
//	got, err := srv.Wait(ctx, "alice@example.com")
//	link := mailtest.Link(got.Text, "https://example.com/recover")
//
// The server is built on github.com/emersion/go-smtp and listens on
// 127.0.0.1 on a free port. Options make it ask for AUTH, offer STARTTLS or
// speak TLS from the start with a certificate made for the test, or answer
// the first messages with an error.
package mailtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From    string      // envelope sender (MAIL FROM)
	To      []string    // envelope recipients (RCPT TO)
	Subject string      // the Subject header, RFC 2047 words decoded
	Text    string      // the body, quoted-printable or base64 decoded, lines ending in "\n"
	Header  mail.Header // every header field as sent (Subject still encoded)
	Raw     []byte      // the message as received, CRLF line ends
}

// Option configures a Server.
type Option func(*options)

type options struct {
	username, password string
	startTLS           bool
	implicitTLS        bool
	failures           int
	failCode           int
}

// WithAuth makes the server offer AUTH PLAIN, accept only this username
// and password, and refuse mail from a client that has not authenticated.
// Without TLS the server offers AUTH in clear, as a local relay might.
func WithAuth(username, password string) Option {
	return func(o *options) { o.username, o.password = username, password }
}

// WithSTARTTLS makes the server offer STARTTLS with a self-signed
// certificate for localhost, 127.0.0.1 and ::1 (see CertPool). With
// WithAuth, AUTH is offered only after STARTTLS, as real servers do.
func WithSTARTTLS() Option {
	return func(o *options) { o.startTLS = true }
}

// WithTLS makes the server speak TLS from the first byte (smtps), with the
// same kind of certificate as WithSTARTTLS.
func WithTLS() Option {
	return func(o *options) { o.implicitTLS = true }
}

// WithDataFailures makes the server answer the first n messages with code
// after reading them, then accept the rest: 451 for a temporary failure
// the client should retry, 550 for a permanent one. Failed messages are not
// kept.
func WithDataFailures(n, code int) Option {
	return func(o *options) { o.failures, o.failCode = n, code }
}

// Server is an SMTP server that keeps every message it accepts.
type Server struct {
	opts   options
	addr   string
	certs  *x509.CertPool
	server *smtp.Server

	mu       sync.Mutex
	messages []Received
	waited   []bool        // waited[i]: messages[i] was returned by Wait
	arrived  chan struct{} // closed and replaced when a message arrives
	waiting  int           // Wait calls blocked for a message
	auths    int
	failures int
}

// NewServer starts a server on 127.0.0.1 on a free port; it stops when the
// test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{})}
	for _, o := range opts {
		o(&s.opts)
	}
	s.failures = s.opts.failures

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.addr = ln.Addr().String()

	logger := &testLogger{t: t}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 10
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = logger
	if s.opts.startTLS || s.opts.implicitTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			ln.Close()
			t.Fatalf("mailtest: certificate: %v", err)
		}
		s.certs = pool
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if s.opts.implicitTLS {
			ln = tls.NewListener(ln, srv.TLSConfig)
		}
	} else {
		srv.AllowInsecureAuth = true
	}
	s.server = srv

	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			logger.Printf("mailtest: serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		// go-smtp's Close closes only the listeners Serve has registered;
		// when the test ends before Serve has run, this one is not yet.
		ln.Close()
		<-served
		logger.stop()
	})
	return s
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL returns the SMTP URL that reaches the server with the options it was
// started with: credentials from WithAuth, and tls=none, tls=starttls or
// smtps:// with insecure_skip_verify=1 (the certificate is self-signed),
// e.g. "smtp://127.0.0.1:PORT?tls=none".
func (s *Server) URL() string {
	u := &url.URL{Scheme: "smtp", Host: s.addr}
	q := url.Values{}
	switch {
	case s.opts.implicitTLS:
		u.Scheme = "smtps"
		q.Set("insecure_skip_verify", "1")
	case s.opts.startTLS:
		q.Set("tls", "starttls")
		q.Set("insecure_skip_verify", "1")
	default:
		q.Set("tls", "none")
	}
	if s.opts.username != "" {
		u.User = url.UserPassword(s.opts.username, s.opts.password)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// CertPool returns a pool holding the server's certificate, for a client
// that verifies it instead of skipping verification; nil without TLS.
func (s *Server) CertPool() *x509.CertPool { return s.certs }

// Messages returns every message accepted so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// AuthAttempts returns how many AUTH exchanges clients completed, right or
// wrong; a test can check that credentials never reached a server.
func (s *Server) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// Wait returns the oldest message to the address to (an envelope recipient,
// compared without regard to case) that no earlier Wait returned, waiting
// for it to arrive until ctx ends. A message that arrived before Wait was
// called counts, so a test may send first and wait after.
func (s *Server) Wait(ctx context.Context, to string) (Received, error) {
	for {
		s.mu.Lock()
		for i, m := range s.messages {
			if !s.waited[i] && slices.ContainsFunc(m.To, func(r string) bool { return strings.EqualFold(r, to) }) {
				s.waited[i] = true
				s.mu.Unlock()
				return m, nil
			}
		}
		arrived := s.arrived
		s.waiting++
		s.mu.Unlock()
		var err error
		select {
		case <-arrived:
		case <-ctx.Done():
			err = fmt.Errorf("mailtest: no message to %s: %w", to, ctx.Err())
		}
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
		if err != nil {
			return Received{}, err
		}
	}
}

// Waiting returns how many Wait calls are blocked for a message now, so a
// test can send only once a Wait is certainly waiting.
func (s *Server) Waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

// Link returns the first URL in text that starts with prefix, without
// punctuation that ends a sentence, or "" when there is none.
func Link(text, prefix string) string {
	for _, f := range strings.Fields(text) {
		f = strings.TrimLeft(f, `<("'`)
		f = strings.TrimRight(f, `.,;:!?)>]"'`)
		if strings.HasPrefix(f, prefix) && strings.Contains(f, "://") {
			return f
		}
	}
	return ""
}

func (s *Server) receive(from string, to []string, raw []byte) error {
	s.mu.Lock()
	if s.failures > 0 {
		s.failures--
		s.mu.Unlock()
		return &smtp.SMTPError{
			Code:         s.opts.failCode,
			EnhancedCode: smtp.EnhancedCode{s.opts.failCode / 100, 0, 0},
			Message:      "mailtest: failing as configured",
		}
	}
	s.mu.Unlock()

	r, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest: " + err.Error()}
	}
	r.From, r.To = from, to

	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, r)
	s.waited = append(s.waited, false)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return nil
}

// parse decodes a plain-text message the way a mail reader would.
func parse(raw []byte) (Received, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("read message: %w", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Received{}, fmt.Errorf("decode subject: %w", err)
	}
	var body io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return Received{}, fmt.Errorf("decode body: %w", err)
	}
	return Received{
		Subject: subject,
		Text:    strings.ReplaceAll(string(text), "\r\n", "\n"),
		Header:  msg.Header,
		Raw:     raw,
	}, nil
}

// session is one SMTP connection's state.
type session struct {
	srv    *Server
	authed bool
	from   string
	to     []string
}

func (se *session) AuthMechanisms() []string {
	if se.srv.opts.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	if se.srv.opts.username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		se.srv.mu.Lock()
		se.srv.auths++
		se.srv.mu.Unlock()
		if (identity != "" && identity != username) || username != se.srv.opts.username || password != se.srv.opts.password {
			return smtp.ErrAuthFailed
		}
		se.authed = true
		return nil
	}), nil
}

// errAuthRequired is RFC 4954's answer to MAIL before AUTH; go-smtp's
// ErrAuthRequired says 502.
var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.srv.opts.username != "" && !se.authed {
		return errAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return se.srv.receive(se.from, slices.Clone(se.to), raw)
}

func (se *session) Reset() {
	se.from, se.to = "", nil
}

func (se *session) Logout() error { return nil }

// selfSigned makes a certificate for the loopback names, valid for a day.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// testLogger sends go-smtp's error log to the test log until the test
// ends; after that, testing.T panics on Log, so lines are dropped.
type testLogger struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf(format, v...)
	}
}

func (l *testLogger) Println(v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Log(v...)
	}
}

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}
