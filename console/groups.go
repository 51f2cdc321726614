package console

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// groupRef and appRef name a group or an app in a list.
type groupRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type appRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type groupJSON struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Members int      `json:"members"`
	Apps    []appRef `json:"apps"`
}

// groupByID finds a group by ID (or, for scripts, by name).
func (c *Console) groupByID(r *http.Request, id string) (*passkeyd.Group, error) {
	return c.store.FindGroup(r.Context(), id)
}

// appsByGroup returns, by lower-cased group name, the apps that admit the
// group (OIDCClient.AllowedGroups holds names).
func (c *Console) appsByGroup(r *http.Request) (map[string][]appRef, error) {
	clients, err := c.store.ListOIDCClients(r.Context())
	if err != nil {
		return nil, err
	}
	m := map[string][]appRef{}
	for _, cl := range clients {
		for _, g := range cl.AllowedGroups {
			k := strings.ToLower(g)
			m[k] = append(m[k], appRef{cl.ID, cl.Name})
		}
	}
	return m, nil
}

func (c *Console) groupJSON(g *passkeyd.Group, apps map[string][]appRef) groupJSON {
	a := apps[strings.ToLower(g.Name)]
	if a == nil {
		a = []appRef{}
	}
	return groupJSON{ID: g.ID, Name: g.Name, Members: g.MemberCount, Apps: a}
}

func (c *Console) handleGroups(w http.ResponseWriter, r *http.Request, _ *caller) error {
	groups, err := c.store.ListGroups(r.Context())
	if err != nil {
		return err
	}
	apps, err := c.appsByGroup(r)
	if err != nil {
		return err
	}
	res := struct {
		Groups []groupJSON `json:"groups"`
	}{Groups: []groupJSON{}}
	for _, g := range groups {
		res.Groups = append(res.Groups, c.groupJSON(g, apps))
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

func (c *Console) handleCreateGroup(w http.ResponseWriter, r *http.Request, who *caller) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := httpjson.DecodeStrict(w, r, &req); err != nil {
		return err
	}
	name, err := passkeyd.ValidateGroupName(req.Name)
	if err != nil {
		return err
	}
	now := c.now()
	g := &passkeyd.Group{ID: uuid.NewString(), Name: name, CreatedAt: now, UpdatedAt: now}
	if err := c.store.CreateGroup(r.Context(), g, c.event(r, who, "", passkeyd.EventGroupCreated, "group "+name+" created")); err != nil {
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
			return passkeyd.Errorf(passkeyd.ECONFLICT, "A group named %s exists already.", name)
		}
		return err
	}
	httpjson.Write(w, http.StatusCreated, struct {
		Group groupJSON `json:"group"`
	}{groupJSON{ID: g.ID, Name: g.Name, Apps: []appRef{}}})
	return nil
}

func (c *Console) handleGroup(w http.ResponseWriter, r *http.Request, _ *caller) error {
	g, err := c.groupByID(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	members, err := c.store.ListGroupMembers(r.Context(), g.ID)
	if err != nil {
		return err
	}
	apps, err := c.appsByGroup(r)
	if err != nil {
		return err
	}
	res := struct {
		Group   groupRef     `json:"group"`
		Members []personJSON `json:"members"`
		Apps    []appRef     `json:"apps"`
	}{Group: groupRef{g.ID, g.Name}, Members: []personJSON{}, Apps: c.groupJSON(g, apps).Apps}
	for _, u := range members {
		// A query or two per member: groups are lists of people an
		// administrator reads, not thousands.
		s, _, err := c.summary(r, u)
		if err != nil {
			return err
		}
		res.Members = append(res.Members, toPerson(s))
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

func (c *Console) handleRenameGroup(w http.ResponseWriter, r *http.Request, who *caller) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := httpjson.DecodeStrict(w, r, &req); err != nil {
		return err
	}
	name, err := passkeyd.ValidateGroupName(req.Name)
	if err != nil {
		return err
	}
	g, err := c.groupByID(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	ev := c.event(r, who, "", passkeyd.EventGroupRenamed, "group "+g.Name+" renamed "+name)
	if err := c.store.RenameGroup(r.Context(), g.ID, name, ev); err != nil {
		if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
			return passkeyd.Errorf(passkeyd.ECONFLICT, "A group named %s exists already.", name)
		}
		return err
	}
	httpjson.Write(w, http.StatusOK, struct {
		Group groupRef `json:"group"`
	}{groupRef{g.ID, name}})
	return nil
}

func (c *Console) handleDeleteGroup(w http.ResponseWriter, r *http.Request, who *caller) error {
	g, err := c.groupByID(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	err = c.store.DeleteGroup(r.Context(), g.ID, c.event(r, who, "", passkeyd.EventGroupDeleted, "group "+g.Name+" deleted"))
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
		return passkeyd.Errorf(passkeyd.ECONFLICT, "Apps admit the group %s: take it off their allowed groups first.", g.Name)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
