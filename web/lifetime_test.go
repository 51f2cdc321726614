package web_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/passkeyd/passkeyd/web"
)

func TestLifetimeBounds(t *testing.T) {
	valid := func() web.Config {
		return web.Config{RPID: "localhost", Origins: []string{"http://localhost:8080"}, Secret: []byte(strings.Repeat("s", 32))}
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name  string
		set   func(*web.Config)
		field string // the field the refusal names; "" when valid
	}{
		{"challenge 10m", func(c *web.Config) { c.ChallengeTimeout = 10 * time.Minute }, ""},
		{"challenge 1s", func(c *web.Config) { c.ChallengeTimeout = time.Second }, "ChallengeTimeout"},
		{"challenge 2h", func(c *web.Config) { c.ChallengeTimeout = 2 * time.Hour }, "ChallengeTimeout"},
		{"idle 2s", func(c *web.Config) { c.SessionIdleTimeout = 2 * time.Second }, ""},
		{"idle 60 days", func(c *web.Config) { c.SessionIdleTimeout = 60 * 24 * time.Hour }, "SessionIdleTimeout"},
		{"idle negative", func(c *web.Config) { c.SessionIdleTimeout = -time.Hour }, "SessionIdleTimeout"},
		{"max age 2 years", func(c *web.Config) { c.SessionMaxAge = 2 * 365 * 24 * time.Hour }, "SessionMaxAge"},
		{"idle longer than max age", func(c *web.Config) { c.SessionIdleTimeout, c.SessionMaxAge = 2*time.Hour, time.Hour }, "SessionIdleTimeout"},
		{"recovery link 1h", func(c *web.Config) { c.RecoveryLinkTTL = time.Hour }, ""},
		{"recovery link 30 days", func(c *web.Config) { c.RecoveryLinkTTL = 30 * 24 * time.Hour }, "RecoveryLinkTTL"},
		{"email link 1s", func(c *web.Config) { c.EmailLinkTTL = time.Second }, "EmailLinkTTL"},
		{"email link 30 days", func(c *web.Config) { c.EmailLinkTTL = 30 * 24 * time.Hour }, "EmailLinkTTL"},
		{"step-up 2s", func(c *web.Config) { c.StepUpWindow = 2 * time.Second }, ""},
		{"step-up 1 day", func(c *web.Config) { c.StepUpWindow = 24 * time.Hour }, "StepUpWindow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.set(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ce *web.ConfigError
			if !errors.As(err, &ce) || ce.Fields[0] != tt.field || !strings.HasPrefix(err.Error(), tt.field+" ") {
				t.Fatalf("Validate: %v, want a refusal naming the field %s", err, tt.field)
			}
			if strings.ContainsAny(strings.TrimPrefix(err.Error(), tt.field), "_") {
				t.Fatalf("Validate: %q names something else than Config's fields", err)
			}
		})
	}
}

// With an idle timeout shorter than the usual once-a-minute touch, a
// session in use must still be kept alive by its use.
func TestShortIdleTimeoutKeptAliveByUse(t *testing.T) {
	e := newEnv(t, func(c *web.Config) { c.SessionIdleTimeout = 10 * time.Second })
	b, a := e.browser(), e.authenticator()
	e.signUp(t, b, a, "busy@example.com")
	e.signIn(t, b, a, "", nil)
	for i := 0; i < 5; i++ { // 30 s in use, never 10 s idle
		e.clock.Advance(6 * time.Second)
		if status, _ := e.me(t, b); status != http.StatusOK {
			t.Fatalf("after %d s in use: /api/auth/me = %d, want 200", 6*(i+1), status)
		}
	}
	e.clock.Advance(11 * time.Second)
	if status, _ := e.me(t, b); status != http.StatusUnauthorized {
		t.Fatalf("idle 11 s with a 10 s timeout: %d, want 401", status)
	}
}

// DefaultConfig is what New gives a zero Config: one list of defaults,
// which cmd/passkeyd shows in its -h.
func TestDefaultConfigIsWhatZeroFieldsGet(t *testing.T) {
	got, want := web.Config{}.WithDefaults(), web.DefaultConfig()
	got.Now = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("a zero Config gets\n%+v\nDefaultConfig is\n%+v", got, want)
	}
}

// A program names the fields its own way, e.g. by its environment variables.
func TestConfigErrorFormat(t *testing.T) {
	c := web.Config{RPID: "example.org", Origins: []string{"https://app.example.com"}, Secret: []byte(strings.Repeat("s", 32))}
	var ce *web.ConfigError
	if err := c.Validate(); !errors.As(err, &ce) {
		t.Fatalf("Validate: %v, want a *ConfigError", err)
	}
	got := ce.Format(func(f string) string { return map[string]string{"RPID": "RP_ID", "Origins": "ORIGIN"}[f] })
	if want := `RP_ID "example.org" is neither the host of ORIGIN "https://app.example.com" nor a registrable suffix of it`; got != want {
		t.Fatalf("Format = %q, want %q", got, want)
	}
}
