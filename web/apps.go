package web

import (
	"net/http"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// Connected apps: the OpenID Connect clients that hold a grant of the user,
// trusted or not (routes only when Config.ConnectedApps is set). The grants
// are the store's: the provider that makes them is mounted beside, by
// cmd/passkeyd, and web does not know it.

func (s *Server) handleAppsList(w http.ResponseWriter, r *http.Request) error {
	type app struct {
		ClientID   string    `json:"clientId"`
		Name       string    `json:"name"`
		Trusted    bool      `json:"trusted"`
		Scopes     []string  `json:"scopes"`
		CreatedAt  time.Time `json:"createdAt"`
		LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	}
	type response struct {
		Apps []app `json:"apps"`
	}
	u, _ := account(r)
	list, err := s.apps.ListOIDCConnectedApps(r.Context(), u.ID, s.cfg.Now())
	if err != nil {
		return err
	}
	res := response{Apps: []app{}}
	for _, c := range list {
		res.Apps = append(res.Apps, app{ClientID: c.ClientID, Name: c.ClientName, Trusted: c.Trusted, Scopes: c.Scopes, CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt})
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

// handleAppRevoke ends the user's consent to an app and every token the
// app holds for them: its next refresh fails, and the next sign-in asks
// again. 404 if the app is not connected.
func (s *Server) handleAppRevoke(w http.ResponseWriter, r *http.Request) error {
	u, _ := account(r)
	id := r.PathValue("id")
	name := id
	if list, err := s.apps.ListOIDCConnectedApps(r.Context(), u.ID, s.cfg.Now()); err == nil {
		for _, c := range list {
			if c.ClientID == id {
				name = c.ClientName
			}
		}
	}
	if err := s.apps.RevokeOIDCConsent(r.Context(), u.ID, id, s.events.new(r, u.ID, passkeyd.EventOIDCAppRevoked, "", name)); err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "app disconnected", "event", passkeyd.EventOIDCAppRevoked, "user_id", u.ID, "client_id", id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
