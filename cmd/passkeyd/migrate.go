package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// migrate opens the database, which applies pending migrations, and exits.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := parseSettings("passkeyd migrate", migrateGroups, args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	store, kind, err := s.openStore(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "%s database is up to date\n", kind)
	return store.Close()
}
