package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/web"
)

const clientsUsage = `passkeyd clients: the apps that sign in with passkeyd (OpenID Connect)

  passkeyd clients add -name NAME -redirect-uri URI [options]   register; prints the secret once
  passkeyd clients list
  passkeyd clients show ID
  passkeyd clients update ID [options]          change only the options given
  passkeyd clients rotate-secret ID             new secret, printed once; the old one stops working
  passkeyd clients delete ID -yes               delete it, its tokens and its users' consents

Options:
  -id ID                  a fixed client ID (some apps ship one); default random
  -name NAME              shown to users on the consent page and in Connected apps
  -redirect-uri URI       repeatable; matched exactly; http only for loopback
  -post-logout-uri URI    repeatable; where end_session may send the browser
  -public                 a SPA or native app: no secret, PKCE required (add only)
  -scopes LIST            allowed scopes, e.g. "openid email profile offline_access" (the default);
                          add groups for the groups claim (the names of the user's groups)
  -id-token-alg ALG       RS256 (default), ES256 or EdDSA
  -access-token-ttl D, -id-token-ttl D, -refresh-token-ttl D   e.g. 10m, 1h, 720h; 0: the defaults
  -trusted                skip the consent page (-trusted=false to ask again)
  -allow LIST             only these emails or @domains may sign in, comma-separated ("" for everyone);
                          always only once the address is confirmed
  -allow-group NAME       repeatable (or comma-separated): members of this group may sign in too;
                          -allow-group "" for no group. With neither -allow nor -allow-group, everyone
  -allow-unverified-email let accounts whose address is not confirmed sign in (default: they are asked
                          to confirm it first); only for apps that never find their accounts by email

The settings flags and environment variables are those of "passkeyd -h".
`

const oidcUsage = `passkeyd oidc: the OpenID Connect provider

  passkeyd oidc rotate-keys       add new signing keys, published in JWKS at once, signing
                                  after OIDC_KEY_PUBLISH_DELAY (default 24h); the old ones
                                  sign until then, and stay in JWKS until the ID tokens
                                  they signed have expired
  passkeyd oidc rotate-keys -now  for a key that may have leaked: new keys sign at once and
                                  the old ones leave JWKS at once (ID tokens they signed
                                  stop verifying; a sign-in under way may fail)
`

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type clientFlags struct {
	fs                            *flag.FlagSet
	id, name, scopes, alg, allow  string
	redirects, postLogout, groups listFlag
	public, trusted, unverified   bool
	accessTTL, idTTL, refreshTTL  time.Duration
}

func newClientFlags(stderr io.Writer) *clientFlags {
	f := &clientFlags{fs: flag.NewFlagSet("passkeyd clients", flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	f.fs.StringVar(&f.id, "id", "", "fixed client ID")
	f.fs.StringVar(&f.name, "name", "", "name shown to users")
	f.fs.Var(&f.redirects, "redirect-uri", "redirect URI (repeatable)")
	f.fs.Var(&f.postLogout, "post-logout-uri", "post-logout redirect URI (repeatable)")
	f.fs.BoolVar(&f.public, "public", false, "public client (PKCE, no secret)")
	f.fs.StringVar(&f.scopes, "scopes", "", "allowed scopes")
	f.fs.StringVar(&f.alg, "id-token-alg", "", "RS256, ES256 or EdDSA")
	f.fs.DurationVar(&f.accessTTL, "access-token-ttl", 0, "access token lifetime")
	f.fs.DurationVar(&f.idTTL, "id-token-ttl", 0, "ID token lifetime")
	f.fs.DurationVar(&f.refreshTTL, "refresh-token-ttl", 0, "refresh token lifetime")
	f.fs.BoolVar(&f.trusted, "trusted", false, "skip consent")
	f.fs.StringVar(&f.allow, "allow", "", "allowed emails or @domains")
	f.fs.Var(&f.groups, "allow-group", "allowed group (repeatable)")
	f.fs.BoolVar(&f.unverified, "allow-unverified-email", false, "let unconfirmed addresses sign in")
	return f
}

// splitArgs separates the client options from the settings flags, which
// parseSettings reads.
func (f *clientFlags) splitArgs(args []string) (mine, settings []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		name, _, hasValue := strings.Cut(name, "=")
		fl := f.fs.Lookup(name)
		if !strings.HasPrefix(a, "-") || fl == nil || name == "yes" {
			settings = append(settings, a)
			continue
		}
		mine = append(mine, a)
		if _, isBool := fl.Value.(interface{ IsBoolFlag() bool }); !hasValue && !isBool && i+1 < len(args) {
			i++
			mine = append(mine, args[i])
		}
	}
	return mine, settings
}

// apply sets on c the options that were given.
func (f *clientFlags) apply(c *passkeyd.OIDCClient) {
	f.fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "name":
			c.Name = f.name
		case "redirect-uri":
			c.RedirectURIs = f.redirects
		case "post-logout-uri":
			c.PostLogoutRedirectURIs = f.postLogout
		case "scopes":
			c.Scopes = strings.Fields(strings.ReplaceAll(f.scopes, ",", " "))
		case "id-token-alg":
			c.IDTokenAlg = f.alg
		case "access-token-ttl":
			c.AccessTokenTTL = f.accessTTL
		case "id-token-ttl":
			c.IDTokenTTL = f.idTTL
		case "refresh-token-ttl":
			c.RefreshTokenTTL = f.refreshTTL
		case "trusted":
			c.Trusted = f.trusted
		case "allow":
			c.AllowedUsers = splitList(f.allow)
		case "allow-group":
			c.AllowedGroups = nil
			for _, g := range f.groups {
				for _, name := range strings.Split(g, ",") {
					if name = strings.TrimSpace(name); name != "" {
						c.AllowedGroups = append(c.AllowedGroups, name)
					}
				}
			}
		case "allow-unverified-email":
			c.AllowUnverifiedEmail = f.unverified
		}
	})
}

// clients runs the client subcommands.
func clients(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, clientsUsage)
		return nil
	}
	action, args := args[0], args[1:]
	var id string
	if action != "add" && action != "list" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("passkeyd clients %s needs a client ID", action)
		}
		id, args = args[0], args[1:]
	}
	f := newClientFlags(stderr)
	mine, rest := f.splitArgs(args)
	if err := f.fs.Parse(mine); err != nil {
		return err
	}
	yes, settingsArgs := takeSwitch(rest, "yes")
	store, s, err := openForAdmin(ctx, "passkeyd clients", settingsArgs, getenv, stderr)
	if err != nil || store == nil {
		return err
	}
	defer store.Close()
	st, ok := store.(passkeyd.OIDCStore)
	if !ok {
		return fmt.Errorf("the %T store cannot keep OpenID Connect clients", store)
	}
	now := time.Now()
	// Each change goes into the audit log with it, as the console's do.
	operator := func(c *passkeyd.OIDCClient, typ, detail string) *passkeyd.Event {
		ev := passkeyd.NewEvent(now, passkeyd.Actor{}, "", typ, "", detail+" (by an operator)")
		ev.ClientID = c.ID
		return ev
	}

	var c *passkeyd.OIDCClient
	if id != "" {
		if c, err = st.FindOIDCClient(ctx, id); err != nil {
			if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
				return fmt.Errorf("no client with ID %s", id)
			}
			return err
		}
	}
	switch action {
	case "list":
		return listClients(ctx, st, stdout)
	case "show":
		return showClient(c, s, stdout)
	case "add":
		c = &passkeyd.OIDCClient{ID: f.id, Public: f.public, CreatedAt: now, UpdatedAt: now}
		if c.ID == "" {
			c.ID = oidc.NewClientID()
		}
		f.apply(c)
		var secret string
		if !c.Public {
			secret, c.SecretHash = oidc.NewSecret()
		}
		if err := oidc.ValidateClient(c); err != nil {
			return errors.New(passkeyd.ErrorMessage(err))
		}
		if err := st.CreateOIDCClient(ctx, c, operator(c, passkeyd.EventAppCreated, "app "+c.Name+" created")); err != nil {
			if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
				return fmt.Errorf("a client with ID %s exists already", c.ID)
			}
			return saveError(err)
		}
		fmt.Fprintf(stdout, "Client %s added.\nclient_id:     %s\n", c.Name, c.ID)
		if secret != "" {
			fmt.Fprintf(stdout, "client_secret: %s\n(shown once: passkeyd keeps only its hash)\n", secret)
		}
		return nil
	case "update":
		if f.public {
			return fmt.Errorf("-public is chosen when a client is added; delete and add it again to change it")
		}
		f.apply(c)
		c.UpdatedAt = now
		if err := oidc.ValidateClient(c); err != nil {
			return errors.New(passkeyd.ErrorMessage(err))
		}
		if err := st.SaveOIDCClient(ctx, c, operator(c, passkeyd.EventAppUpdated, "app "+c.Name+" updated")); err != nil {
			return saveError(err)
		}
		fmt.Fprintf(stdout, "Client %s updated.\n", c.ID)
		return nil
	case "rotate-secret":
		if c.Public {
			return fmt.Errorf("client %s is public: it has no secret", c.ID)
		}
		var secret string
		secret, c.SecretHash = oidc.NewSecret()
		c.UpdatedAt = now
		if err := st.SaveOIDCClient(ctx, c, operator(c, passkeyd.EventAppSecretRotated, "secret of "+c.Name+" rotated")); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "client_secret: %s\n(shown once; the old secret no longer works)\n", secret)
		return nil
	case "delete":
		if !yes {
			return fmt.Errorf("deleting client %s ends its users' tokens and consents; add -yes to confirm", c.ID)
		}
		if err := st.DeleteOIDCClient(ctx, c.ID, operator(c, passkeyd.EventAppDeleted, "app "+c.Name+" deleted")); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Client %s deleted.\n", c.ID)
		return nil
	}
	return fmt.Errorf("unknown clients command %q; run passkeyd clients help", action)
}

// saveError words the store's refusal of a client: an allowed group that
// does not exist (the store keeps groups by ID) is created first.
func saveError(err error) error {
	if passkeyd.ErrorCode(err) == passkeyd.EINVALID {
		return fmt.Errorf("%s (create a group with: passkeyd groups add NAME)", passkeyd.ErrorMessage(err))
	}
	return err
}

func listClients(ctx context.Context, st passkeyd.OIDCStore, w io.Writer) error {
	list, err := st.ListOIDCClients(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tTRUSTED\tALLOWED GROUPS\tLAST USED")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, clientType(c), yesNo(c.Trusted), orNone(c.AllowedGroups), when(c.LastUsedAt))
	}
	return tw.Flush()
}

func showClient(c *passkeyd.OIDCClient, s *settings, w io.Writer) error {
	issuer := s.publicURL
	if issuer == "" {
		issuer = s.originList()[0]
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	for _, row := range [][2]string{
		{"client_id:", c.ID},
		{"name:", c.Name},
		{"type:", clientType(c)},
		{"trusted:", yesNo(c.Trusted)},
		{"redirect URIs:", strings.Join(c.RedirectURIs, " ")},
		{"post-logout:", strings.Join(c.PostLogoutRedirectURIs, " ")},
		{"scopes:", strings.Join(c.Scopes, " ")},
		{"ID token alg:", c.IDTokenAlg},
		{"lifetimes:", fmt.Sprintf("access %s, ID %s, refresh %s (0: default)", c.AccessTokenTTL, c.IDTokenTTL, c.RefreshTokenTTL)},
		{"allowed users:", admitted(c.AllowedUsers, c.AllowedGroups)},
		{"allowed groups:", admitted(c.AllowedGroups, c.AllowedUsers)},
		{"unconfirmed:", unconfirmedRule(c)},
		{"created:", c.CreatedAt.Format(time.DateTime)},
		{"last used:", when(c.LastUsedAt)},
		{"discovery:", strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"},
	} {
		if row[1] == "" {
			row[1] = "none"
		}
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

func clientType(c *passkeyd.OIDCClient) string {
	if c.Public {
		return "public"
	}
	return "confidential"
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.DateTime)
}

// unconfirmedRule says what an account whose address is not confirmed
// meets at the client.
func unconfirmedRule(c *passkeyd.OIDCClient) string {
	if c.AllowUnverifiedEmail && len(c.AllowedUsers) == 0 {
		return "may sign in (email_verified=false)"
	}
	return "asked to confirm the address first"
}

// admitted lists one of a client's allow-lists: "everyone" when both it
// and the other are empty, "none" when only it is.
func admitted(l, other []string) string {
	switch {
	case len(l) > 0:
		return strings.Join(l, ", ")
	case len(other) > 0:
		return "none"
	}
	return "everyone"
}

// oidcCommand runs passkeyd oidc ...
func oidcCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, oidcUsage)
		return nil
	}
	if args[0] != "rotate-keys" {
		return fmt.Errorf("unknown oidc command %q; run passkeyd oidc help", args[0])
	}
	now, rest := takeSwitch(args[1:], "now")
	store, s, err := openForAdmin(ctx, "passkeyd oidc", rest, getenv, stderr)
	if err != nil || store == nil {
		return err
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := s.webConfig(log)
	if err != nil {
		return err
	}
	srv, err := web.New(cfg, web.Deps{Store: store, Logger: log})
	if err != nil {
		return err
	}
	provider, err := newProvider(s, cfg, srv, store, log, nil)
	if err != nil {
		return err
	}
	if err := provider.CheckSecret(ctx); err != nil {
		return secretError(err)
	}
	if now {
		if err := provider.RotateKeysNow(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "New signing keys added; they sign from now on. The old keys are withdrawn from JWKS: ID tokens they signed no longer verify.")
		return nil
	}
	if err := provider.RotateKeys(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New signing keys added and published; they sign in %s (OIDC_KEY_PUBLISH_DELAY). The old keys sign until then and stay published until the ID tokens they signed have expired.\n", provider.KeyPublishDelay())
	return nil
}

// secretError names the settings when the session secret is not the
// server's: keys, links and hashes made under it would be useless to it.
func secretError(err error) error {
	if errors.Is(err, oidc.ErrSecretOpensNoKey) {
		return fmt.Errorf("SESSION_SECRET (or SESSION_SECRET_FILE) is not the server's: %w; nothing was changed", err)
	}
	return err
}
