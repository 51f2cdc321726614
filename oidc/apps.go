package oidc

import (
	"context"

	"github.com/passkeyd/passkeyd"
)

// ConnectedApps lists the apps that hold a grant of the user (a consent or
// a live refresh token), trusted or not, most recently used first: the
// dashboard's Connected apps.
func (p *Provider) ConnectedApps(ctx context.Context, userID string) ([]*passkeyd.OIDCConnectedApp, error) {
	return p.store.ListOIDCConnectedApps(ctx, userID, p.now())
}

// Disconnect ends the user's consent to an app and every token the app
// holds for them: its next refresh fails, and the next sign-in asks again.
// ENOTFOUND if the app is not connected.
func (p *Provider) Disconnect(ctx context.Context, userID, clientID string, ev *passkeyd.Event) error {
	if err := p.store.RevokeOIDCConsent(ctx, userID, clientID, ev); err != nil {
		return err
	}
	p.log.InfoContext(ctx, "app disconnected", "event", passkeyd.EventOIDCAppRevoked, "user_id", userID, "client_id", clientID)
	return nil
}
