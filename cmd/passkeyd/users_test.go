package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/sqlite"
)

func TestUsersCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, email := range []string{"ada@example.com", "bob@example.com"} {
		id := string(rune('a'+i)) + "-user"
		u := &passkeyd.User{ID: id, Email: email, Handle: []byte(id), CreatedAt: now, UpdatedAt: now}
		c := &passkeyd.Credential{ID: id + "-key", UserID: id, CredentialID: []byte(id + "-cred"), PublicKey: []byte{1}, Name: "Laptop", CreatedAt: now}
		if err := store.CreateUser(ctx, u, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	vars := env(map[string]string{"DATA_DIR": dir})
	runUsers := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"users"}, args...), vars, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := runUsers("list")
	if err != nil || !strings.Contains(out, "ada@example.com") || !strings.Contains(out, "bob@example.com") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, err = runUsers("show", "ADA@example.com")
	if err != nil || !strings.Contains(out, "Laptop") || !strings.Contains(out, "a-user-key") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	out, err = runUsers("recovery-link", "ada@example.com")
	if err != nil || !strings.Contains(out, "http://localhost:8080/recover/email?token=") {
		t.Fatalf("recovery-link: %v\n%s", err, out)
	}
	if _, err := runUsers("disable", "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := runUsers("delete", "bob@example.com"); err == nil || !strings.Contains(err.Error(), "-yes") {
		t.Fatalf("delete without -yes: %v", err)
	}
	if _, err := runUsers("delete", "bob@example.com", "-yes"); err != nil {
		t.Fatal(err)
	}
	if _, err := runUsers("show", "nobody@example.com"); err == nil {
		t.Fatal("show of an unknown user succeeded")
	}

	store, err = sqlite.Open(ctx, "file:"+filepath.Join(dir, "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.FindUserByEmail(ctx, "bob@example.com"); passkeyd.ErrorCode(err) != passkeyd.ENOTFOUND {
		t.Fatalf("bob still there: %v", err)
	}
	// That the link opens a recovery session is web's TestOperatorRecoveryLink.
}
