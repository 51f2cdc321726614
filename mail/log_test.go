package mail

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/passkeyd/passkeyd"
)

func TestLogSender(t *testing.T) {
	t.Run("LogsFullText", func(t *testing.T) {
		var buf bytes.Buffer
		s, err := Open("", "", slog.New(slog.NewTextHandler(&buf, nil)))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(LogSender); !ok {
			t.Fatalf("Open(\"\") = %T, want LogSender", s)
		}
		link := "https://example.com/verify?token=abc-DEF_123"
		m := passkeyd.Email{To: "alice@example.org", Subject: "Confirm your email", Text: "Hello,\n\n" + link + "\n\nSecond: https://example.com/dashboard.\n", Kind: "verify_email"}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, want := range []string{
			"level=INFO",
			"event=mail_logged",
			"kind=verify_email",
			"to=alice@example.org",
			`subject="Confirm your email"`,
			`text="Hello,\n\n` + link + `\n\nSecond: https://example.com/dashboard.\n"`,
			`link="` + link + `"`,
			"link2=https://example.com/dashboard\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %s:\n%s", want, out)
			}
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		var buf bytes.Buffer
		s := LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil))}
		err := s.Send(context.Background(), passkeyd.Email{To: "alice@example.org", Subject: "x\nBcc: eve@example.net", Text: "x"})
		if got, want := passkeyd.ErrorCode(err), passkeyd.EINVALID; got != want {
			t.Errorf("code = %q, want %q", got, want)
		}
		if buf.Len() != 0 {
			t.Errorf("an invalid message was logged: %s", buf.String())
		}
	})

	t.Run("ErrNoLog", func(t *testing.T) {
		if err := (LogSender{}).Send(context.Background(), passkeyd.Email{To: "alice@example.org"}); err == nil {
			t.Error("Send with no Log = nil, want an error")
		}
	})
}
