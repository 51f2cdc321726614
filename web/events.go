package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/passkeyd/passkeyd"
)

// securityLog makes the entries of the accounts' security logs about a
// request (with passkeyd.NewEvent, like every event) and records the ones
// that go in no other write.
type securityLog struct {
	store passkeyd.Store
	log   *slog.Logger
	now   func() time.Time
}

// actor is who makes a request's events happen: its client and browser.
func actor(r *http.Request) passkeyd.Actor {
	return passkeyd.Actor{IP: clientIP(r), UserAgent: r.UserAgent()}
}

// new returns an entry about the account userID, made by r's client.
func (l securityLog) new(r *http.Request, userID, typ, credentialID, detail string) *passkeyd.Event {
	return passkeyd.NewEvent(l.now(), actor(r), userID, typ, credentialID, detail)
}

// record writes ev; a failure there must not turn a refused sign-in into
// a 500, so it is only logged.
func (l securityLog) record(ctx context.Context, ev *passkeyd.Event) {
	if err := l.store.RecordEvent(ctx, ev); err != nil {
		l.log.WarnContext(ctx, "security log write failed", "event_type", ev.Type, "err", err)
	}
}
