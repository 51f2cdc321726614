package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/passkeyd/passkeyd/web"
)

// lifetimes are the lifetime settings. Zero means web's (or oidc's)
// default; web.Config.Validate (oidc.New) refuses values outside its
// bounds, naming the variable.
type lifetimes struct {
	challenge, sessionIdle, sessionMaxAge, recoveryLink, emailLink time.Duration
	stepUp, oidcKeyPublish                                         time.Duration
}

func (l *lifetimes) addFlags(fs *flag.FlagSet, env func(key, def string) string) error {
	for _, f := range []struct {
		dst        *time.Duration
		flag, key  string
		def, usage string
	}{
		{&l.challenge, "challenge-timeout", "CHALLENGE_TIMEOUT", "5m", "how long a passkey prompt may take, 30s to 30m"},
		{&l.sessionIdle, "session-idle-timeout", "SESSION_IDLE_TIMEOUT", "168h", "a session unused this long ends, 1s to 720h (30 days); at most the max age"},
		{&l.sessionMaxAge, "session-max-age", "SESSION_MAX_AGE", "720h", "any session ends this long after sign-in, 1s to 9600h (400 days)"},
		{&l.recoveryLink, "recovery-link-ttl", "RECOVERY_LINK_TTL", "15m", "recovery links and recovery sessions last this long, 1m to 24h"},
		{&l.emailLink, "email-link-ttl", "EMAIL_LINK_TTL", "24h", "email confirmation links last this long, 5m to 168h (7 days)"},
		{&l.stepUp, "step-up-window", "STEP_UP_WINDOW", "5m", "sensitive changes and letting a new app in need a passkey check this recent, 1s to 1h"},
		{&l.oidcKeyPublish, "oidc-key-publish-delay", "OIDC_KEY_PUBLISH_DELAY", "24h", "a signing key added by oidc rotate-keys is published this long before it signs, 10m to 720h (30 days)"},
	} {
		var d time.Duration
		if v := env(f.key, ""); v != "" {
			var err error
			if d, err = time.ParseDuration(v); err != nil || d <= 0 {
				return fmt.Errorf("%s %q: want a duration such as 90s, 15m or 24h", f.key, v)
			}
		}
		fs.DurationVar(f.dst, f.flag, d, fmt.Sprintf("%s; 0: default %s (env %s)", f.usage, f.def, f.key))
	}
	return nil
}

func (l *lifetimes) apply(cfg *web.Config) {
	cfg.ChallengeTimeout = l.challenge
	cfg.SessionIdleTimeout = l.sessionIdle
	cfg.SessionMaxAge = l.sessionMaxAge
	cfg.RecoveryLinkTTL = l.recoveryLink
	cfg.EmailLinkTTL = l.emailLink
	cfg.StepUpWindow = l.stepUp
	if cfg.OIDC != nil {
		cfg.OIDC.KeyPublishDelay = l.oidcKeyPublish
	}
}
