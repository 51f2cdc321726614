package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/apikey"
)

const apiKeysUsage = `passkeyd api-keys: keys for scripts that call the console's JSON API (/api/admin/)
as an administrator would, with the header Authorization: Bearer KEY

  passkeyd api-keys add -name NAME     make a key; it is printed once (passkeyd keeps only its hash)
  passkeyd api-keys list               every key: ID, name, who made it, when, last use
  passkeyd api-keys revoke ID          the key stops working at once (ID or name)

The settings flags and environment variables are those of "passkeyd -h".
`

// apiKeys runs the API-key subcommands.
func apiKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, apiKeysUsage)
		return nil
	}
	action, args := args[0], args[1:]
	var id string
	switch action {
	case "add", "list":
	case "revoke":
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("passkeyd api-keys revoke needs a key's ID")
		}
		id, args = args[0], args[1:]
	default:
		return fmt.Errorf("unknown api-keys command %q; run passkeyd api-keys help", action)
	}
	var names []string
	if action == "add" {
		names, args = takeValues(args, "name")
		if len(names) != 1 {
			return fmt.Errorf("passkeyd api-keys add needs one -name NAME (what the key is for, e.g. -name terraform)")
		}
	}
	store, _, err := openForAdmin(ctx, "passkeyd api-keys", args, getenv, stderr)
	if err != nil || store == nil {
		return err
	}
	defer store.Close()
	st, ok := store.(passkeyd.ConsoleStore)
	if !ok {
		return fmt.Errorf("the %T store cannot keep API keys", store)
	}
	now := time.Now()

	switch action {
	case "list":
		return listAPIKeys(ctx, st, stdout)
	case "add":
		name, err := apikey.ValidateName(names[0])
		if err != nil {
			return errors.New(passkeyd.ErrorMessage(err))
		}
		key, hash := apikey.New()
		k := &passkeyd.APIKey{ID: uuid.NewString(), Name: name, Hash: hash, CreatedBy: "shell", CreatedAt: now}
		ev := passkeyd.NewEvent(now, passkeyd.Actor{}, "", passkeyd.EventAPIKeyCreated, "", "API key "+name+" created (by an operator)")
		if err := st.CreateAPIKey(ctx, k, ev); err != nil {
			if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
				return fmt.Errorf("an API key named %s exists already", printable(name))
			}
			return err
		}
		fmt.Fprintf(stdout, "API key %s added (ID %s):\n%s\n(shown once: passkeyd keeps only its hash. It acts as an administrator: keep it as you would a password.)\n", name, k.ID, key)
		return nil
	case "revoke":
		keys, err := st.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		var k *passkeyd.APIKey
		for _, c := range keys {
			if c.ID == id || c.Name == id {
				k = c
				break
			}
		}
		if k == nil {
			return fmt.Errorf("no API key with ID or name %s (passkeyd api-keys list shows them)", printable(id))
		}
		ev := passkeyd.NewEvent(now, passkeyd.Actor{}, "", passkeyd.EventAPIKeyRevoked, "", "API key "+k.Name+" revoked (by an operator)")
		if err := st.RevokeAPIKey(ctx, k.ID, ev); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key %s (ID %s) revoked.\n", k.Name, k.ID)
		return nil
	}
	return nil
}

func listAPIKeys(ctx context.Context, st passkeyd.ConsoleStore, w io.Writer) error {
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED BY\tCREATED\tLAST USED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, printable(k.Name), printable(k.CreatedBy), k.CreatedAt.Format(time.DateTime), when(k.LastUsedAt))
	}
	return tw.Flush()
}
