package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/aaguid"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/web"
)

const usersUsage = `passkeyd users: operator commands, run on the server with its settings

  passkeyd users list                    every user: email, confirmed, passkeys, disabled
  passkeyd users show EMAIL              one user's passkeys
  passkeyd users recovery-link EMAIL     print a one-time link that lets the user add a passkey
                                         (a takeover link if the address was never confirmed)
  passkeyd users disable EMAIL           refuse sign-ins; end every session and app grant
  passkeyd users enable EMAIL            undo disable
  passkeyd users delete EMAIL -yes       delete the user and their passkeys (the security log stays)
  passkeyd users admin EMAIL             make the user an administrator (the console at /admin)
  passkeyd users admin EMAIL -revoke     take the role away (refused for the last administrator)

The settings flags and environment variables are those of "passkeyd -h"
(DATABASE_URL, DATA_DIR, SESSION_SECRET, WEBAUTHN_ORIGIN, PUBLIC_URL, ...).
`

// users runs the operator subcommands.
func users(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, usersUsage)
		return nil
	}
	action, args := args[0], args[1:]
	var email string
	needsEmail := action != "list"
	if needsEmail {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("passkeyd users %s needs an EMAIL", action)
		}
		email, args = args[0], args[1:]
	}
	yes, rest := takeSwitch(args, "yes")
	revoke := false
	if action == "admin" {
		revoke, rest = takeSwitch(rest, "revoke")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, s, err := openForAdmin(ctx, "passkeyd users", rest, getenv, stderr)
	if err != nil || store == nil {
		return err
	}
	defer store.Close()

	var u *passkeyd.User
	if needsEmail {
		if u, err = store.FindUserByEmail(ctx, email); err != nil {
			if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
				return fmt.Errorf("no user with email %s", printable(email))
			}
			return err
		}
	}
	operator := func(typ, detail string) *passkeyd.Event {
		return passkeyd.NewEvent(time.Now(), passkeyd.Actor{}, u.ID, typ, "", detail+" (by an operator)")
	}
	switch action {
	case "list":
		return listUsers(ctx, store, stdout)
	case "show":
		return showUser(ctx, store, u, stdout)
	case "recovery-link":
		cfg, err := s.webConfig(log)
		if err != nil {
			return err
		}
		cfg = cfg.WithDefaults()
		if err := cfg.Validate(); err != nil {
			return err
		}
		// A link stored under another secret than the server's would not
		// open; the signing keys tell whether this one is the server's.
		if err := checkServerSecret(ctx, cfg, store); err != nil {
			return err
		}
		// A takeover link for an address never confirmed, as the console
		// and "Lost your passkey?" send.
		tokens := emailtoken.New(store, cfg.Secret, cfg.PublicURL, cfg.Now)
		purpose := emailtoken.RecoveryPurpose(u)
		secret, err := tokens.Issue(ctx, purpose, u.ID, u.Email, cfg.RecoveryLinkTTL)
		if err != nil {
			return err
		}
		link := tokens.Link(purpose, secret)
		detail := "recovery link issued"
		if purpose == passkeyd.TokenTakeover {
			detail = "takeover link issued (address not confirmed)"
		}
		// The owner sees in their security log that someone was let in
		// this way; no entry, no link.
		if err := store.RecordEvent(ctx, operator(passkeyd.EventRecoveryLinkIssued, detail)); err != nil {
			return fmt.Errorf("record the recovery link in the security log (no link printed): %w", err)
		}
		if purpose == passkeyd.TokenTakeover {
			fmt.Fprintf(stdout, "One-time takeover link for %s (valid %s). The address was never confirmed: the link confirms it and removes the account's passkeys and recovery codes, as they may be someone else's. Give it only to the address's owner:\n%s\n",
				printable(u.Email), cfg.RecoveryLinkTTL, link)
			return nil
		}
		fmt.Fprintf(stdout, "One-time recovery link for %s (valid %s; give it only to the account's owner):\n%s\n", printable(u.Email), cfg.RecoveryLinkTTL, link)
		return nil
	case "disable", "enable":
		disabled := action == "disable"
		if err := store.SetUserDisabled(ctx, u.ID, disabled, operator("account_"+action+"d", "account "+action+"d")); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %sd\n", printable(u.Email), action)
		return nil
	case "admin":
		st, ok := store.(passkeyd.ConsoleStore)
		if !ok {
			return fmt.Errorf("the %T store cannot keep administrators", store)
		}
		ev := operator(passkeyd.EventAdminGranted, "made an administrator")
		if revoke {
			ev = operator(passkeyd.EventAdminRevoked, "administrator role taken away")
		}
		if err := st.SetAdmin(ctx, u.ID, !revoke, ev); err != nil {
			if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
				return fmt.Errorf("%s is the last administrator: make another account an administrator first (passkeyd users admin EMAIL), so that someone can still run the console", printable(u.Email))
			}
			return err
		}
		if revoke {
			fmt.Fprintf(stdout, "%s: no longer an administrator\n", printable(u.Email))
		} else {
			fmt.Fprintf(stdout, "%s: administrator (the console is at /admin)\n", printable(u.Email))
		}
		return nil
	case "delete":
		if !yes {
			return fmt.Errorf("deleting %s removes the account and its passkeys for good; add -yes to confirm", printable(u.Email))
		}
		if err := store.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: deleted\n", printable(u.Email))
		return nil
	}
	return fmt.Errorf("unknown users command %q; run passkeyd users help", action)
}

func listUsers(ctx context.Context, store passkeyd.Store, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tCONFIRMED\tPASSKEYS\tDISABLED\tCREATED")
	after := ""
	for {
		page, err := store.ListUsers(ctx, after, 500)
		if err != nil {
			return err
		}
		for _, u := range page {
			creds, err := store.ListCredentials(ctx, u.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", printable(u.Email), yesNo(!u.EmailVerifiedAt.IsZero()), len(creds), yesNo(u.Disabled), u.CreatedAt.Format(time.DateOnly))
			after = passkeyd.EmailKey(u.Email)
		}
		if len(page) < 500 {
			return tw.Flush()
		}
	}
}

func showUser(ctx context.Context, store passkeyd.Store, u *passkeyd.User, w io.Writer) error {
	creds, err := store.ListCredentials(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s  id %s  confirmed %s  disabled %s  created %s\n", printable(u.Email), printable(u.ID), yesNo(!u.EmailVerifiedAt.IsZero()),
		yesNo(u.Disabled), u.CreatedAt.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PASSKEY ID\tNAME\tPROVIDER\tSYNCED\tCREATED\tLAST USED\tWARNING")
	for _, c := range creds {
		last := "never"
		if !c.LastUsedAt.IsZero() {
			last = c.LastUsedAt.Format(time.DateTime)
		}
		warn := ""
		if c.CloneWarning {
			warn = "possibly cloned"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(c.ID), printable(c.Name), printable(aaguid.Name(c.AAGUID)), yesNo(c.BackupState),
			c.CreatedAt.Format(time.DateTime), last, warn)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	events, err := store.ListEvents(ctx, u.ID, 0, 10)
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECENT EVENTS\tDETAIL\tADDRESS\tUSER AGENT\tAT")
	for _, ev := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", printable(ev.Type), printable(ev.Detail), printable(ev.IP),
			printable(ev.UserAgent), ev.CreatedAt.Format(time.DateTime))
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// takeSwitch takes a subcommand's own switch (-yes, -now) out of its
// arguments, wherever it stands; the rest are the server's settings.
func takeSwitch(args []string, name string) (on bool, rest []string) {
	for _, a := range args {
		if a == "-"+name || a == "--"+name {
			on = true
		} else {
			rest = append(rest, a)
		}
	}
	return on, rest
}

// checkServerSecret refuses a secret that opens none of the provider's
// signing keys (when the provider is on): it is not the server's, and
// what is stored under it would not work on the server.
func checkServerSecret(ctx context.Context, cfg web.Config, store passkeyd.Store) error {
	if !cfg.ConnectedApps { // OIDC=off: no signing keys to tell
		return nil
	}
	st, ok := store.(passkeyd.OIDCStore)
	if !ok {
		return nil
	}
	if err := oidc.CheckSecret(ctx, st, cfg.Secret, cfg.Now()); err != nil {
		return secretError(err)
	}
	return nil
}
