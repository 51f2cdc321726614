// Command passkeyd is a passkey sign-in server: `passkeyd` serves the
// pages and the JSON API; `passkeyd -h` lists the settings.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "passkeyd:", err)
		os.Exit(1)
	}
}

// run is main with its dependencies passed in, so tests can start a real
// server in-process with their own settings.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stderr, nil)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "copy-db":
		return copyDB(ctx, args, getenv, stdout, stderr)
	case "users":
		return users(ctx, args, getenv, stdout, stderr)
	case "clients":
		return clients(ctx, args, getenv, stdout, stderr)
	case "groups":
		return groups(ctx, args, getenv, stdout, stderr)
	case "api-keys":
		return apiKeys(ctx, args, getenv, stdout, stderr)
	case "oidc":
		return oidcCommand(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help":
		return usage(stdout)
	default:
		return fmt.Errorf("unknown command %q; run passkeyd help", cmd)
	}
}

func usage(w io.Writer) error {
	fmt.Fprint(w, `passkeyd: passkey sign-in server

Commands:
  passkeyd [serve] [flags]   serve the pages and the JSON API (default)
  passkeyd migrate [flags]   apply database migrations and exit
  passkeyd copy-db [flags]   copy a SQLite database into PostgreSQL (-from sqlite:PATH -to postgres://...)
  passkeyd users ...         operator commands: list, show, recovery-link, disable, enable, delete, admin
  passkeyd clients ...       apps that sign in with passkeyd (OpenID Connect): add, list, show, update, rotate-secret, delete
  passkeyd groups ...        groups that apps admit and receive in the groups claim: list, add, rename, delete, members
  passkeyd api-keys ...      keys for scripts that call the console's API: add, list, revoke
  passkeyd oidc rotate-keys  add new token-signing keys (-now: at once)
  passkeyd healthcheck       ask the running server's /readyz (HOST, PORT): exit 0 if ready, 1 if not
  passkeyd version           print the version

Run "passkeyd -h" for the settings; each flag also reads the environment
variable named in its description.
`)
	return nil
}
