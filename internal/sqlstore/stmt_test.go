package sqlstore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/internal/sqlstore"
	"github.com/passkeyd/passkeyd/sqlite"
)

// Every list method goes through the statement cache: its query is
// prepared at the first call and reused after, not parsed on every call.
func TestListsUseStatementCache(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	for name, list := range map[string]func() error{
		"ListUsers":       func() error { _, err := s.ListUsers(ctx, "", 10); return err },
		"ListCredentials": func() error { _, err := s.ListCredentials(ctx, "usr_x"); return err },
		"ListSessions":    func() error { _, err := s.ListSessions(ctx, "usr_x", time.Now()); return err },
		"ListEvents":      func() error { _, err := s.ListEvents(ctx, "usr_x", 0, 10); return err },
	} {
		before := sqlstore.PreparedReads(s)
		for range 3 {
			if err := list(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if got, want := sqlstore.PreparedReads(s), before+1; got != want {
			t.Errorf("%s: %d read statements prepared after three calls, want %d (its query, once)", name, got, want)
		}
	}
}
