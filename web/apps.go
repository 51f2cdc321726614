package web

import (
	"net/http"
	"time"

	"github.com/passkeyd/passkeyd"
)

// Connected apps: the OpenID Connect clients that hold a grant of the user,
// trusted or not (routes only when Config.OIDC is set).

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
	list, err := s.oidc.ConnectedApps(r.Context(), u.ID)
	if err != nil {
		return err
	}
	res := response{Apps: []app{}}
	for _, c := range list {
		res.Apps = append(res.Apps, app{ClientID: c.ClientID, Name: c.ClientName, Trusted: c.Trusted, Scopes: c.Scopes, CreatedAt: c.CreatedAt, LastUsedAt: c.LastUsedAt})
	}
	encode(w, http.StatusOK, res)
	return nil
}

func (s *Server) handleAppRevoke(w http.ResponseWriter, r *http.Request) error {
	u, _ := account(r)
	id := r.PathValue("id")
	name := id
	if list, err := s.oidc.ConnectedApps(r.Context(), u.ID); err == nil {
		for _, c := range list {
			if c.ClientID == id {
				name = c.ClientName
			}
		}
	}
	if err := s.oidc.Disconnect(r.Context(), u.ID, id, s.events.new(r, u.ID, passkeyd.EventOIDCAppRevoked, "", name)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
