package mailtest_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/passkeyd/passkeyd/mail/mailtest"
)

// send delivers raw with go-smtp's own client, in clear.
func send(t *testing.T, srv *mailtest.Server, to, raw string) error {
	t.Helper()
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.SendMail("sender@example.com", []string{to}, strings.NewReader(raw))
}

func TestServer(t *testing.T) {
	t.Run("WaitInOrder", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		for _, n := range []string{"one", "two"} {
			raw := "Subject: =?utf-8?q?caf=C3=A9_" + n + "?=\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nline=\r\n " + n + "=3D\r\n"
			if err := send(t, srv, "Alice@Example.org", raw); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, n := range []string{"one", "two"} {
			got, err := srv.Wait(ctx, "alice@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if want := "café " + n; got.Subject != want {
				t.Errorf("subject = %q, want %q", got.Subject, want)
			}
			if want := "line " + n + "=\n"; got.Text != want {
				t.Errorf("text = %q, want %q", got.Text, want)
			}
			if got.From != "sender@example.com" {
				t.Errorf("from = %q, want sender@example.com", got.From)
			}
		}
		if got := len(srv.Messages()); got != 2 {
			t.Errorf("Messages = %d, want 2", got)
		}
	})

	t.Run("WaitForLater", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		type result struct {
			m   mailtest.Received
			err error
		}
		done := make(chan result, 1)
		go func() {
			m, err := srv.Wait(ctx, "bob@example.org")
			done <- result{m, err}
		}()
		// Send only once Wait is certainly blocked: the order is the point.
		for srv.Waiting() == 0 {
			select {
			case r := <-done:
				t.Fatalf("Wait returned before any message was sent: %+v", r)
			case <-ctx.Done():
				t.Fatal("Wait never started waiting")
			case <-time.After(time.Millisecond):
			}
		}
		if err := send(t, srv, "bob@example.org", "Subject: later\r\n\r\nhi\r\n"); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.m.Subject != "later" {
			t.Errorf("subject = %q, want later", r.m.Subject)
		}
		if n := srv.Waiting(); n != 0 {
			t.Errorf("Waiting = %d after Wait returned, want 0", n)
		}
	})

	t.Run("WaitTimesOut", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		if err := send(t, srv, "someone@example.org", "Subject: x\r\n\r\nx\r\n"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := srv.Wait(ctx, "nobody@example.org"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait = %v, want context.DeadlineExceeded", err)
		}
	})

	t.Run("AuthRequired", func(t *testing.T) {
		srv := mailtest.NewServer(t, mailtest.WithAuth("user", "secret"))
		var se *smtp.SMTPError
		if err := send(t, srv, "bob@example.org", "Subject: x\r\n\r\nx\r\n"); !errors.As(err, &se) || se.Code != 530 {
			t.Errorf("send without AUTH = %v, want 530", err)
		}
	})

	t.Run("URL", func(t *testing.T) {
		for _, tt := range []struct {
			opts []mailtest.Option
			want string // scheme, user info and query
		}{
			{nil, "smtp:// ?tls=none"},
			{[]mailtest.Option{mailtest.WithAuth("u@x", "p:w")}, "smtp://u%40x:p%3Aw@ ?tls=none"},
			{[]mailtest.Option{mailtest.WithSTARTTLS()}, "smtp:// ?insecure_skip_verify=1&tls=starttls"},
			{[]mailtest.Option{mailtest.WithTLS()}, "smtps:// ?insecure_skip_verify=1"},
		} {
			srv := mailtest.NewServer(t, tt.opts...)
			u, err := url.Parse(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			if u.Host != srv.Addr() || !strings.HasPrefix(u.Host, "127.0.0.1:") {
				t.Errorf("host = %q, want %q on 127.0.0.1", u.Host, srv.Addr())
			}
			if got := strings.Replace(srv.URL(), srv.Addr(), " ", 1); got != tt.want {
				t.Errorf("URL = %q, want %q", got, tt.want)
			}
			if (srv.CertPool() != nil) != strings.Contains(tt.want, "insecure") {
				t.Errorf("CertPool() = %v with URL %q", srv.CertPool(), srv.URL())
			}
		}
	})
}

func TestLink(t *testing.T) {
	text := "Hi,\n\nhttps://example.com/dashboard\nOpen <https://example.com/recover?token=a-b_c>.\nOr (https://example.com/recover?token=second).\n"
	for _, tt := range []struct{ prefix, want string }{
		{"https://example.com/recover", "https://example.com/recover?token=a-b_c"},
		{"https://example.com/dash", "https://example.com/dashboard"},
		{"https://", "https://example.com/dashboard"},
		{"https://other.example", ""},
	} {
		if got := mailtest.Link(text, tt.prefix); got != tt.want {
			t.Errorf("Link(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}
