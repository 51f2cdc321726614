package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/mail/mailtest"
)

const testFrom = "passkeyd <no-reply@example.com>"

// mustOpen opens the SMTP sender rawURL names.
func mustOpen(t testing.TB, rawURL string) *smtpSender {
	t.Helper()
	s, err := Open(rawURL, testFrom, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ss, ok := s.(*smtpSender)
	if !ok {
		t.Fatalf("Open returned %T, want *smtpSender", s)
	}
	return ss
}

// waitFor returns the next message to addr, failing the test after 5s.
func waitFor(t testing.TB, srv *mailtest.Server, addr string) mailtest.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := srv.Wait(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSMTPSender(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		s := mustOpen(t, srv.URL())

		// A link long enough to be split by quoted-printable soft breaks,
		// with the "=" that quoted-printable itself must escape.
		link := "https://example.com/recover?token=" + strings.Repeat("AbC-_9", 20) + "&x=y"
		long := strings.Repeat("Ünïcödé and a rather long line of text, ", 8)
		text := "Hello,\n\nSomeone asked to sign in to your account.\n" + link + "\n\n" + long + "\n.\n..leading dots\ntrailing space \nend"
		subject := "Réinitialisez votre clé d'accès — passkeyd " + strings.Repeat("ü", 40)
		start := time.Now()
		if err := s.Send(context.Background(), passkeyd.Email{To: "alice@example.org", Subject: subject, Text: text, Kind: "recovery"}); err != nil {
			t.Fatal(err)
		}
		got := waitFor(t, srv, "alice@example.org")

		if got, want := got.From, "no-reply@example.com"; got != want {
			t.Errorf("envelope from = %q, want %q", got, want)
		}
		if got, want := strings.Join(got.To, ","), "alice@example.org"; got != want {
			t.Errorf("envelope to = %q, want %q", got, want)
		}
		if got.Subject != subject {
			t.Errorf("subject = %q, want %q", got.Subject, subject)
		}
		if got, want := got.Text, text+"\n"; got != want {
			t.Errorf("text = %q, want %q", got, want)
		}
		if got := mailtest.Link(got.Text, "https://example.com/recover"); got != link {
			t.Errorf("link = %q, want %q", got, link)
		}

		h := got.Header
		for _, f := range []struct{ name, want string }{
			{"From", `"passkeyd" <no-reply@example.com>`},
			{"To", "<alice@example.org>"},
			{"MIME-Version", "1.0"},
			{"Content-Type", "text/plain; charset=utf-8"},
			{"Content-Transfer-Encoding", "quoted-printable"},
		} {
			if got := h.Get(f.name); got != f.want {
				t.Errorf("%s = %q, want %q", f.name, got, f.want)
			}
		}
		if raw := h.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
			t.Errorf("raw Subject = %q, want RFC 2047 encoded words", raw)
		}
		if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") || len(id) < 30 {
			t.Errorf("Message-ID = %q, want <random@example.com>", id)
		}
		date, err := h.Date()
		if err != nil {
			t.Errorf("Date: %v", err)
		} else if date.Before(start.Add(-time.Second)) || date.After(time.Now().Add(time.Second)) {
			t.Errorf("Date = %v, want about %v", date, start)
		}

		// The message on the wire: 7-bit, short lines, no bare LF.
		for i, line := range strings.Split(strings.TrimSuffix(string(got.Raw), "\r\n"), "\r\n") {
			if len(line) > 78 {
				t.Errorf("raw line %d is %d bytes: %q", i, len(line), line)
			}
			if strings.ContainsAny(line, "\r\n") {
				t.Errorf("raw line %d has a bare CR or LF: %q", i, line)
			}
			for _, r := range line {
				if r > 127 {
					t.Errorf("raw line %d is not ASCII: %q", i, line)
					break
				}
			}
		}
		if strings.Contains(string(got.Raw), link) {
			t.Errorf("the link went out unencoded; want it quoted-printable (it holds '=')")
		}
	})

	t.Run("UTF8Recipient", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		s := mustOpen(t, srv.URL())
		if err := s.Send(context.Background(), passkeyd.Email{To: "jörg@example.org", Subject: "Hi", Text: "hi", Kind: "verify_email"}); err != nil {
			t.Fatal(err)
		}
		if got := waitFor(t, srv, "jörg@example.org"); got.Subject != "Hi" {
			t.Errorf("subject = %q, want %q", got.Subject, "Hi")
		}
	})

	t.Run("STARTTLSAndAuth", func(t *testing.T) {
		// Characters that must be escaped in a URL's user info.
		srv := mailtest.NewServer(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("us@er", "p@ss:w/rd%"))
		s := mustOpen(t, srv.URL())
		if err := s.Send(context.Background(), passkeyd.Email{To: "bob@example.org", Subject: "Welcome", Text: "hi", Kind: "verify_email"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, srv, "bob@example.org")
		if got, want := srv.AuthAttempts(), 1; got != want {
			t.Errorf("auth attempts = %d, want %d", got, want)
		}
	})

	t.Run("ImplicitTLSAndAuth", func(t *testing.T) {
		srv := mailtest.NewServer(t, mailtest.WithTLS(), mailtest.WithAuth("user", "secret"))
		if !strings.HasPrefix(srv.URL(), "smtps://") {
			t.Fatalf("URL = %q, want smtps://", srv.URL())
		}
		s := mustOpen(t, srv.URL())
		if err := s.Send(context.Background(), passkeyd.Email{To: "bob@example.org", Subject: "Welcome", Text: "hi", Kind: "verify_email"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, srv, "bob@example.org")
	})

	t.Run("ErrWrongPassword", func(t *testing.T) {
		srv := mailtest.NewServer(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("user", "right"))
		rawURL := strings.Replace(srv.URL(), "user:right@", "user:wrong@", 1)
		err := mustOpen(t, rawURL).Send(context.Background(), passkeyd.Email{To: "bob@example.org", Subject: "x", Text: "x", Kind: "recovery"})
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 535 {
			t.Fatalf("err = %v, want SMTP 535", err)
		}
		if !permanent(err) {
			t.Errorf("permanent(%v) = false, want true: a wrong password is not worth retrying", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error %q shows the password", err)
		}
		if got := len(srv.Messages()); got != 0 {
			t.Errorf("server got %d messages, want 0", got)
		}
	})

	t.Run("ErrAuthRequired", func(t *testing.T) {
		srv := mailtest.NewServer(t, mailtest.WithAuth("user", "secret"))
		rawURL := strings.Replace(srv.URL(), "user:secret@", "", 1)
		err := mustOpen(t, rawURL).Send(context.Background(), passkeyd.Email{To: "bob@example.org", Subject: "x", Text: "x", Kind: "recovery"})
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code/100 != 5 {
			t.Fatalf("err = %v, want an SMTP 5xx", err)
		}
	})

	t.Run("VerifiesCertificate", func(t *testing.T) {
		srv := mailtest.NewServer(t, mailtest.WithSTARTTLS())
		rawURL := strings.Replace(srv.URL(), "insecure_skip_verify=1&", "", 1)
		if strings.Contains(rawURL, "insecure") {
			t.Fatalf("URL %q still skips verification", rawURL)
		}
		s := mustOpen(t, rawURL)
		msg := passkeyd.Email{To: "bob@example.org", Subject: "x", Text: "x", Kind: "recovery"}
		err := s.Send(context.Background(), msg)
		var ce *tls.CertificateVerificationError
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want a certificate verification error", err)
		}
		if !permanent(err) {
			t.Errorf("permanent(%v) = false, want true", err)
		}

		// The same server with its certificate trusted.
		s.tlsConfig.RootCAs = srv.CertPool()
		if err := s.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
		waitFor(t, srv, "bob@example.org")
	})

	t.Run("ErrNoSTARTTLS", func(t *testing.T) {
		// A server that offers AUTH in clear and no STARTTLS, reached by a
		// name that is not loopback: neither credentials nor mail may go.
		srv := mailtest.NewServer(t, mailtest.WithAuth("user", "secret"))
		s := mustOpen(t, "smtp://user:secret@mail.example.test:587")
		s.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Addr())
		}
		err := s.Send(context.Background(), passkeyd.Email{To: "bob@example.org", Subject: "x", Text: "x", Kind: "recovery"})
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err = %v, want STARTTLS required", err)
		}
		if got := srv.AuthAttempts(); got != 0 {
			t.Errorf("auth attempts = %d, want 0: credentials went out in clear", got)
		}
		if got := len(srv.Messages()); got != 0 {
			t.Errorf("server got %d messages, want 0", got)
		}
	})

	t.Run("ErrContextDeadline", func(t *testing.T) {
		// A server that accepts the connection and never greets.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		s := mustOpen(t, "smtp://"+ln.Addr().String()+"?tls=none")
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = s.Send(ctx, passkeyd.Email{To: "bob@example.org", Subject: "x", Text: "x", Kind: "recovery"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send took %v, want it bounded by the context", d)
		}
	})

	t.Run("ErrHeaderInjection", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		s := mustOpen(t, srv.URL())
		for name, m := range map[string]passkeyd.Email{
			"ToCRLF":       {To: "alice@example.org\r\nBcc: eve@example.net", Subject: "x", Text: "x"},
			"ToLF":         {To: "alice@example.org\nBcc: eve@example.net", Subject: "x", Text: "x"},
			"SubjectCRLF":  {To: "alice@example.org", Subject: "Hi\r\nBcc: eve@example.net", Text: "x"},
			"SubjectCR":    {To: "alice@example.org", Subject: "Hi\rBcc: eve@example.net", Text: "x"},
			"ToList":       {To: "alice@example.org, eve@example.net", Subject: "x", Text: "x"},
			"ToInvalid":    {To: "not an address", Subject: "x", Text: "x"},
			"ToNoDomain":   {To: "alice@", Subject: "x", Text: "x"},
			"ToEmpty":      {To: "", Subject: "x", Text: "x"},
			"TextNotUTF8":  {To: "alice@example.org", Subject: "x", Text: "\xff\xfe"},
			"SubjectLong":  {To: "alice@example.org", Subject: strings.Repeat("x", maxSubjectLength+1), Text: "x"},
			"SubjectNoUTF": {To: "alice@example.org", Subject: "\xc3", Text: "x"},
		} {
			t.Run(name, func(t *testing.T) {
				err := s.Send(context.Background(), m)
				if got, want := passkeyd.ErrorCode(err), passkeyd.EINVALID; got != want {
					t.Errorf("code = %q, want %q (err = %v)", got, want, err)
				}
			})
		}
		if got := len(srv.Messages()); got != 0 {
			t.Errorf("server got %d messages, want 0", got)
		}
	})
}

func TestOpen(t *testing.T) {
	t.Run("Policy", func(t *testing.T) {
		for _, tt := range []struct {
			url      string
			host     string
			port     string
			security security
			insecure bool
			user     string
			password string
		}{
			{url: "smtp://mail.example.com", host: "mail.example.com", port: "587", security: securityStartTLS},
			{url: "smtp://user:pass@mail.example.com:2525", host: "mail.example.com", port: "2525", security: securityStartTLS, user: "user", password: "pass"},
			{url: "smtp://us%40er:p%40ss%3Aw@mail.example.com", host: "mail.example.com", port: "587", security: securityStartTLS, user: "us@er", password: "p@ss:w"},
			{url: "smtps://mail.example.com", host: "mail.example.com", port: "465", security: securityTLS},
			{url: "smtp://mail.example.com:465?tls=tls", host: "mail.example.com", port: "465", security: securityTLS},
			{url: "smtp://mail.example.com:25?tls=none", host: "mail.example.com", port: "25", security: securityNone},
			{url: "smtp://mail.example.com?tls=STARTTLS", host: "mail.example.com", port: "587", security: securityStartTLS},
			{url: "smtp://mail.example.com?tls=starttls&insecure_skip_verify=1", host: "mail.example.com", port: "587", security: securityStartTLS, insecure: true},
			{url: "smtps://mail.example.com?insecure_skip_verify=true", host: "mail.example.com", port: "465", security: securityTLS, insecure: true},
			// Loopback: no TLS unless asked.
			{url: "smtp://localhost:25", host: "localhost", port: "25", security: securityNone},
			{url: "smtp://LOCALHOST:25", host: "LOCALHOST", port: "25", security: securityNone},
			{url: "smtp://127.0.0.1:1025", host: "127.0.0.1", port: "1025", security: securityNone},
			{url: "smtp://127.1.2.3:1025", host: "127.1.2.3", port: "1025", security: securityNone},
			{url: "smtp://[::1]:1025", host: "::1", port: "1025", security: securityNone},
			{url: "smtp://localhost:587?tls=starttls", host: "localhost", port: "587", security: securityStartTLS},
			{url: "smtps://localhost", host: "localhost", port: "465", security: securityTLS},
			// Names are not resolved: only "localhost" itself is loopback.
			{url: "smtp://localhost.example.com", host: "localhost.example.com", port: "587", security: securityStartTLS},
			{url: "smtp://127.0.0.1.nip.io", host: "127.0.0.1.nip.io", port: "587", security: securityStartTLS},
		} {
			t.Run(tt.url, func(t *testing.T) {
				s := mustOpen(t, tt.url)
				if s.host != tt.host || s.port != tt.port || s.security != tt.security {
					t.Errorf("host, port, security = %q, %q, %v; want %q, %q, %v", s.host, s.port, s.security, tt.host, tt.port, tt.security)
				}
				if s.tlsConfig.InsecureSkipVerify != tt.insecure {
					t.Errorf("insecure = %v, want %v", s.tlsConfig.InsecureSkipVerify, tt.insecure)
				}
				if s.tlsConfig.ServerName != tt.host {
					t.Errorf("ServerName = %q, want %q", s.tlsConfig.ServerName, tt.host)
				}
				if s.username != tt.user || s.password != tt.password {
					t.Errorf("credentials = %q, %q; want %q, %q", s.username, s.password, tt.user, tt.password)
				}
			})
		}
	})

	t.Run("ErrInvalidURL", func(t *testing.T) {
		for _, u := range []string{
			"mail.example.com:587",
			"http://mail.example.com",
			"smtp://",
			"smtp://:s3cret@",
			"smtp://mail.example.com/path",
			"smtp://mail.example.com?tls=maybe",
			"smtp://mail.example.com?tsl=none",
			"smtp://mail.example.com?tls=none&tls=starttls",
			"smtps://mail.example.com?tls=none",
			"smtps://mail.example.com?tls=starttls",
			"smtp://mail.example.com?tls=none&insecure_skip_verify=1",
			"smtp://localhost?insecure_skip_verify=1",
			"smtp://mail.example.com?insecure_skip_verify=yes",
			"smtp://user:s3cret@mail.example.com:port",
			"smtp://user:s3cret@mail.example.com:99999999999",
			"smtp://user:s3cret@[::1",
			"smtp://user:s3cret@mail example.com",
		} {
			t.Run(u, func(t *testing.T) {
				s, err := Open(u, testFrom, nil)
				if got, want := passkeyd.ErrorCode(err), passkeyd.EINVALID; got != want {
					t.Fatalf("Open = %v, %v; want code %q", s, err, want)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q shows the password", err)
				}
			})
		}
	})

	t.Run("ErrFrom", func(t *testing.T) {
		for _, from := range []string{
			"",
			"no-reply",
			"no-reply@",
			"no-reply@example.com\r\nBcc: eve@example.net",
			"a@example.com, b@example.com",
		} {
			_, err := Open("smtp://mail.example.com", from, nil)
			if got, want := passkeyd.ErrorCode(err), passkeyd.EINVALID; got != want {
				t.Errorf("Open(from %q) code = %q, want %q (err = %v)", from, got, want, err)
			}
		}
		// Development needs no From, but a wrong one is caught early.
		if _, err := Open("", "", nil); err != nil {
			t.Errorf("Open(\"\", \"\") = %v, want a LogSender", err)
		}
		if _, err := Open("", "x\r\nBcc: y", nil); passkeyd.ErrorCode(err) != passkeyd.EINVALID {
			t.Errorf("Open(\"\", bad from) = %v, want EINVALID", err)
		}
	})

	t.Run("WarnsCredentialsInClear", func(t *testing.T) {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		if _, err := Open("smtp://user:s3cret@mail.example.com?tls=none", testFrom, log); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "event=mail_insecure") {
			t.Errorf("log = %q, want a mail_insecure warning", buf.String())
		}
		if strings.Contains(buf.String(), "s3cret") {
			t.Errorf("log %q shows the password", buf.String())
		}
	})
}

func TestWriteHeader(t *testing.T) {
	for _, value := range []string{
		"",
		"short",
		strings.Repeat("word ", 40),
		strings.Repeat("x", 120) + " tail",
		"two  spaces and a trailing one ",
	} {
		var b bytes.Buffer
		writeHeader(&b, "Subject", value)
		out := b.String()
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("writeHeader(%q) = %q, want a CRLF end", value, out)
		}
		if got := strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n", ""); got != "Subject: "+value {
			t.Errorf("unfolded = %q, want %q", got, "Subject: "+value)
		}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
			if len(line) > 78 && strings.Contains(strings.TrimSpace(line[1:]), " ") {
				t.Errorf("line %q is longer than 78 and could have been folded", line)
			}
		}
	}
}
