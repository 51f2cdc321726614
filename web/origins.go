package web

import (
	"fmt"

	"github.com/passkeyd/passkeyd"
)

// originSet is the origins passkeyd answers ceremonies and state-changing
// requests from: Config.Origins and RelatedOrigins, as browsers serialize
// them (see normalizeOrigin).
type originSet struct {
	allowed    map[string]bool
	configured []string // Config.Origins, for messages
}

func newOriginSet(cfg Config) originSet {
	o := originSet{allowed: map[string]bool{}, configured: cfg.Origins}
	for _, origin := range append(append([]string(nil), cfg.Origins...), cfg.RelatedOrigins...) {
		o.allowed[normalizeOrigin(origin)] = true
	}
	return o
}

// has reports whether origin, exactly as the browser serialized it, is ours.
func (o originSet) has(origin string) bool { return o.allowed[origin] }

// checkClient names both origins when the page that ran the ceremony is
// not one passkeyd is configured for: the tutorial's silent failure.
func (o originSet) checkClient(origin string) error {
	if o.has(origin) { // exactly as the browser serialized it: see normalizeOrigin
		return nil
	}
	return passkeyd.Errorf(passkeyd.EINVALID,
		"The passkey was used on %s, but passkeyd is configured for %s. Set WEBAUTHN_ORIGIN to the address users open.",
		origin, o.list())
}

// list names the configured origins, for messages.
func (o originSet) list() string {
	if len(o.configured) == 1 {
		return o.configured[0]
	}
	return fmt.Sprint(o.configured)
}
