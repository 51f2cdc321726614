package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/console"
	"github.com/passkeyd/passkeyd/web"
)

// The administrator's console and passkeyd's pages meet here, as the
// provider and the pages do (provider.go): the console renders its pages
// and learns who is signed in through the web handler, and is mounted in
// it, so its routes get web's middleware and rules.

// newConsole makes the console for passkeyd's web handler auth, built
// from cfg: the same public URL, secret, clock, step-up window and
// recovery-link lifetime.
func newConsole(cfg web.Config, auth *web.Server, store passkeyd.Store, mailer passkeyd.Mailer, log *slog.Logger) (*console.Console, error) {
	st, ok := store.(console.Store)
	if !ok {
		return nil, fmt.Errorf("the %T store cannot keep the console's administrators, groups and API keys", store)
	}
	cfg = cfg.WithDefaults()
	return console.New(console.Config{
		PublicURL:       cfg.PublicURL,
		Secret:          cfg.Secret,
		StepUpWindow:    cfg.StepUpWindow,
		RecoveryLinkTTL: cfg.RecoveryLinkTTL,
		SiteName:        cfg.RPName,
		ConnectedApps:   cfg.ConnectedApps,
		Now:             cfg.Now,
	}, console.Deps{Store: st, Pages: auth, Users: auth, Mailer: mailer, Log: web.LoggerWithRequestIDs(log),
		ClientIP: web.ClientIP})
}

// mountConsole serves the console in auth: its pages with web's default
// rules (the session loaded, same-origin checks), its API with bounded
// bodies and the console's rate limits. Scripts calling the API with a key
// send no Origin, so the same-origin check lets them through.
func mountConsole(auth *web.Server, c *console.Console) {
	h := c.Handler()
	auth.Mount("/admin", h)
	auth.Mount("/admin/", h)
	auth.Mount("/api/admin/", h, web.BoundedBody, web.ConsoleLimits)
}

// startConsole builds and mounts the console and, while no enabled
// account administers passkeyd, logs and prints a new setup link (the one
// printed at the previous start stops working).
func startConsole(ctx context.Context, cfg web.Config, auth *web.Server, store passkeyd.Store, mailer passkeyd.Mailer, log *slog.Logger, stderr io.Writer) error {
	c, err := newConsole(cfg, auth, store, mailer, log)
	if err != nil {
		return err
	}
	mountConsole(auth, c)
	link, err := c.SetupLink(ctx)
	if err != nil {
		return fmt.Errorf("console setup link: %w", err)
	}
	if link != "" {
		// The link makes an administrator: it goes to the operator's
		// terminal, not into the log lines that may be shipped elsewhere.
		log.Warn("no administrator yet: the setup link is printed on stderr (valid 1 hour, once; a new one at each start)",
			"event", "admin_setup_link")
		fmt.Fprintf(stderr, "\nNo administrator yet. Open this link within an hour, signed in with a passkey, to become the first:\n%s\n\n", link)
	}
	return nil
}
