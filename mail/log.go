package mail

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"github.com/passkeyd/passkeyd"
)

// LogSender "sends" a message by writing all of it (recipient, subject and
// text) to Log at INFO, plus each link in the text as its own attribute
// ("link", "link2", …) so a developer can click it.
//
// Open returns a LogSender when no SMTP URL is configured, for development.
// It is the one place where passkeyd logs links and the tokens in them on
// purpose: anyone who reads the log can use them, so never run it where
// real users sign in.
type LogSender struct {
	Log *slog.Logger
}

var _ Sender = LogSender{}

// Send validates m as an SMTP sender would, so a bad message fails in
// development too, and logs it.
func (s LogSender) Send(ctx context.Context, m passkeyd.Email) error {
	if err := validate(m); err != nil {
		return err
	}
	if s.Log == nil {
		return errors.New("mail: LogSender has no Log")
	}
	args := []any{"event", "mail_logged", "kind", m.Kind, "to", m.To, "subject", m.Subject, "text", m.Text}
	for i, link := range links(m.Text) {
		key := "link"
		if i > 0 {
			key += strconv.Itoa(i + 1)
		}
		args = append(args, key, link)
	}
	s.Log.InfoContext(ctx, "email not sent (no SMTP configured); here it is", args...)
	return nil
}

// links returns the http and https URLs in text, in order.
func links(text string) []string {
	var urls []string
	for _, f := range strings.Fields(text) {
		f = strings.TrimLeft(f, `<("'`)
		f = strings.TrimRight(f, `.,;:!?)>]"'`)
		if strings.HasPrefix(f, "https://") || strings.HasPrefix(f, "http://") {
			urls = append(urls, f)
		}
	}
	return urls
}
