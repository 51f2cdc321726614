package oidc_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/oidc"
	"github.com/passkeyd/passkeyd/sqlite"
)

// TestConfigErrorsNameFields: the provider's configuration errors name
// its Config fields (cmd/passkeyd writes them with its own variable
// names), and StepUpWindow has no default of its own: it is web's.
func TestConfigErrorsNameFields(t *testing.T) {
	store, err := sqlite.Open(t.Context(), "file:"+filepath.Join(t.TempDir(), "passkeyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	good := oidc.Config{Issuer: "http://localhost:9", Secret: []byte("an-oidc-test-secret-of-at-least-32-characters"), StepUpWindow: time.Minute}
	for _, c := range []struct {
		name  string
		edit  func(*oidc.Config)
		field string
	}{
		{"no step-up window", func(c *oidc.Config) { c.StepUpWindow = 0 }, "StepUpWindow"},
		{"publish delay too short", func(c *oidc.Config) { c.KeyPublishDelay = time.Minute }, "KeyPublishDelay"},
		{"issuer over http", func(c *oidc.Config) { c.Issuer = "http://login.example.com" }, "Issuer"},
	} {
		cfg := good
		c.edit(&cfg)
		_, err := oidc.New(cfg, oidc.Deps{Store: store, Pages: noPages{}, Users: nobody{}})
		var ce *passkeyd.ConfigError
		if !errors.As(err, &ce) || !slices.Contains(ce.Fields, c.field) {
			t.Errorf("%s: %v, want a *passkeyd.ConfigError naming %s", c.name, err, c.field)
		}
	}
}
