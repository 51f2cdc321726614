package web_test

import (
	"net/http"
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
		name    string
		set     func(*web.Config)
		setting string // "" when valid
	}{
		{"challenge 10m", func(c *web.Config) { c.ChallengeTimeout = 10 * time.Minute }, ""},
		{"challenge 1s", func(c *web.Config) { c.ChallengeTimeout = time.Second }, "CHALLENGE_TIMEOUT"},
		{"challenge 2h", func(c *web.Config) { c.ChallengeTimeout = 2 * time.Hour }, "CHALLENGE_TIMEOUT"},
		{"idle 2s", func(c *web.Config) { c.SessionIdleTimeout = 2 * time.Second }, ""},
		{"idle 60 days", func(c *web.Config) { c.SessionIdleTimeout = 60 * 24 * time.Hour }, "SESSION_IDLE_TIMEOUT"},
		{"idle negative", func(c *web.Config) { c.SessionIdleTimeout = -time.Hour }, "SESSION_IDLE_TIMEOUT"},
		{"max age 2 years", func(c *web.Config) { c.SessionMaxAge = 2 * 365 * 24 * time.Hour }, "SESSION_MAX_AGE"},
		{"idle longer than max age", func(c *web.Config) { c.SessionIdleTimeout, c.SessionMaxAge = 2*time.Hour, time.Hour }, "SESSION_IDLE_TIMEOUT"},
		{"recovery link 1h", func(c *web.Config) { c.RecoveryLinkTTL = time.Hour }, ""},
		{"recovery link 30 days", func(c *web.Config) { c.RecoveryLinkTTL = 30 * 24 * time.Hour }, "RECOVERY_LINK_TTL"},
		{"email link 1s", func(c *web.Config) { c.EmailLinkTTL = time.Second }, "EMAIL_LINK_TTL"},
		{"email link 30 days", func(c *web.Config) { c.EmailLinkTTL = 30 * 24 * time.Hour }, "EMAIL_LINK_TTL"},
		{"step-up 2s", func(c *web.Config) { c.StepUpWindow = 2 * time.Second }, ""},
		{"step-up 1 day", func(c *web.Config) { c.StepUpWindow = 24 * time.Hour }, "STEP_UP_WINDOW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.set(&c)
			err := c.Validate()
			if tt.setting == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.setting) {
				t.Fatalf("Validate: %v, want a refusal naming %s", err, tt.setting)
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
