package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/aaguid"
	"github.com/passkeyd/passkeyd/internal/emailtext"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// perPage is the length of a page of the people list.
const perPage = 25

// personJSON is a row of the people list, and the head of a person's page.
type personJSON struct {
	ID            string     `json:"id"`
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	Username      string     `json:"username"`
	Admin         bool       `json:"admin"`
	Disabled      bool       `json:"disabled"`
	EmailVerified bool       `json:"emailVerified"`
	Passkeys      int        `json:"passkeys"`
	CreatedAt     time.Time  `json:"createdAt"`
	LastSignInAt  *time.Time `json:"lastSignInAt,omitempty"`
}

func toPerson(s *passkeyd.UserSummary) personJSON {
	return personJSON{ID: s.ID, Email: s.Email, Name: s.DisplayName, Username: s.Username, Admin: s.Admin,
		Disabled: s.Disabled, EmailVerified: !s.EmailVerifiedAt.IsZero(), Passkeys: s.Passkeys, CreatedAt: s.CreatedAt,
		LastSignInAt: optionalTime(s.LastSignInAt)}
}

// maxSearch bounds the people search: longer than any address.
const maxSearch = passkeyd.MaxEmailLength

func (c *Console) handlePeople(w http.ResponseWriter, r *http.Request, _ *caller) error {
	q := r.URL.Query()
	search := strings.TrimSpace(q.Get("q"))
	if len(search) > maxSearch {
		return passkeyd.Errorf(passkeyd.EINVALID, "Search for at most %d characters.", maxSearch)
	}
	page := 1
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 1_000_000 {
			return passkeyd.Errorf(passkeyd.EINVALID, "page: a number from 1.")
		}
		page = n
	}
	list, total, err := c.store.SearchUsers(r.Context(), passkeyd.UserQuery{Search: search, Offset: (page - 1) * perPage, Limit: perPage})
	if err != nil {
		return err
	}
	res := struct {
		People  []personJSON `json:"people"`
		Total   int          `json:"total"`
		Page    int          `json:"page"`
		PerPage int          `json:"perPage"`
	}{People: []personJSON{}, Total: total, Page: page, PerPage: perPage}
	for _, s := range list {
		res.People = append(res.People, toPerson(s))
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

// summary is the person's row as the people list shows it.
func (c *Console) summary(r *http.Request, u *passkeyd.User) (*passkeyd.UserSummary, []*passkeyd.Credential, error) {
	admin, err := c.store.IsAdmin(r.Context(), u.ID)
	if err != nil {
		return nil, nil, err
	}
	creds, err := c.store.ListCredentials(r.Context(), u.ID)
	if err != nil {
		return nil, nil, err
	}
	s := &passkeyd.UserSummary{User: *u, Admin: admin, Passkeys: len(creds)}
	for _, cr := range creds {
		if cr.LastUsedAt.After(s.LastSignInAt) {
			s.LastSignInAt = cr.LastUsedAt
		}
	}
	return s, creds, nil
}

// personEvents is how much of a person's security log their page shows.
const personEvents = 50

func (c *Console) handlePerson(w http.ResponseWriter, r *http.Request, _ *caller) error {
	ctx := r.Context()
	u, err := c.store.FindUserByID(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	s, creds, err := c.summary(r, u)
	if err != nil {
		return err
	}
	sessions, err := c.store.ListSessions(ctx, u.ID, c.now())
	if err != nil {
		return err
	}
	apps, err := c.store.ListOIDCConnectedApps(ctx, u.ID, c.now())
	if err != nil {
		return err
	}
	groups, err := c.store.ListUserGroups(ctx, u.ID)
	if err != nil {
		return err
	}
	events, err := c.store.ListEvents(ctx, u.ID, 0, personEvents)
	if err != nil {
		return err
	}
	type passkey struct {
		ID         string     `json:"id"`
		Name       string     `json:"name"`
		Provider   string     `json:"provider"`
		CreatedAt  time.Time  `json:"createdAt"`
		LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
		BackedUp   bool       `json:"backedUp"`
	}
	type session struct {
		ID         string    `json:"id"`
		IP         string    `json:"ip"`
		UserAgent  string    `json:"userAgent"`
		CreatedAt  time.Time `json:"createdAt"`
		LastSeenAt time.Time `json:"lastSeenAt"`
	}
	type app struct {
		ClientID   string     `json:"clientId"`
		Name       string     `json:"name"`
		Scopes     []string   `json:"scopes"`
		LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	}
	res := struct {
		Person   personJSON  `json:"person"`
		Passkeys []passkey   `json:"passkeys"`
		Sessions []session   `json:"sessions"`
		Apps     []app       `json:"apps"`
		Groups   []groupRef  `json:"groups"`
		Events   []eventJSON `json:"events"`
	}{Person: toPerson(s), Passkeys: []passkey{}, Sessions: []session{}, Apps: []app{}, Groups: []groupRef{}}
	for _, cr := range creds {
		res.Passkeys = append(res.Passkeys, passkey{ID: cr.ID, Name: cr.Name, Provider: providerName(cr), CreatedAt: cr.CreatedAt,
			LastUsedAt: optionalTime(cr.LastUsedAt), BackedUp: cr.BackupState})
	}
	for _, ss := range sessions {
		res.Sessions = append(res.Sessions, session{ID: ss.ID, IP: ss.IP, UserAgent: ss.UserAgent, CreatedAt: ss.CreatedAt, LastSeenAt: ss.LastSeenAt})
	}
	for _, a := range apps {
		res.Apps = append(res.Apps, app{ClientID: a.ClientID, Name: a.ClientName, Scopes: nonNil(a.Scopes), LastUsedAt: optionalTime(a.LastUsedAt)})
	}
	for _, g := range groups {
		res.Groups = append(res.Groups, groupRef{g.ID, g.Name})
	}
	if res.Events, err = c.eventsJSON(r, events); err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

// person finds the account of the request's {id}.
func (c *Console) person(r *http.Request) (*passkeyd.User, error) {
	return c.store.FindUserByID(r.Context(), r.PathValue("id"))
}

// errLastAdmin refuses to leave passkeyd without an enabled administrator.
var errLastAdmin = passkeyd.Errorf(passkeyd.ECONFLICT,
	"This is the last administrator: make someone else an administrator first.")

func (c *Console) handleDisable(w http.ResponseWriter, r *http.Request, who *caller) error {
	u, err := c.person(r)
	if err != nil {
		return err
	}
	ev := c.event(r, who, u.ID, passkeyd.EventUserDisabled, "account disabled by an administrator")
	err = c.store.SetUserDisabled(r.Context(), u.ID, true, ev)
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT { // the store keeps an enabled administrator
		return errLastAdmin
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) handleEnable(w http.ResponseWriter, r *http.Request, who *caller) error {
	u, err := c.person(r)
	if err != nil {
		return err
	}
	ev := c.event(r, who, u.ID, passkeyd.EventUserEnabled, "account enabled by an administrator")
	if err := c.store.SetUserDisabled(r.Context(), u.ID, false, ev); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleRecoveryLink emails the person a link to get back in, as
// "Lost your passkey?" does: a recovery link to a confirmed address, a
// takeover link to one never confirmed (whoever signed up may have used
// someone else's address; its owner gets the account without that
// person's passkeys).
func (c *Console) handleRecoveryLink(w http.ResponseWriter, r *http.Request, who *caller) error {
	u, err := c.person(r)
	if err != nil {
		return err
	}
	if u.Disabled {
		return passkeyd.Errorf(passkeyd.ECONFLICT, "The account is disabled: enable it first.")
	}
	if c.mailer == nil {
		return passkeyd.Errorf(passkeyd.EUNAVAILABLE, "Email is not set up here (SMTP_URL): no link can be sent.")
	}
	purpose, kind, detail := emailtoken.RecoveryPurpose(u), emailtext.Recovery, "recovery link emailed by an administrator"
	if purpose == passkeyd.TokenTakeover {
		kind, detail = emailtext.Takeover, "takeover link emailed by an administrator (address not confirmed)"
	}
	// The owner sees in their security log that a link was sent; no
	// entry, no link.
	if err := c.store.RecordEvent(r.Context(), c.event(r, who, u.ID, passkeyd.EventRecoveryLinkIssued, detail)); err != nil {
		return err
	}
	secret, err := c.tokens.Issue(r.Context(), purpose, u.ID, u.Email, c.cfg.RecoveryLinkTTL)
	if err != nil {
		return err
	}
	subject, text, err := c.texts.Render(kind, emailtext.Data{Site: c.cfg.SiteName, To: u.Email,
		Link: c.tokens.Link(purpose, secret), Valid: emailtext.Duration(c.cfg.RecoveryLinkTTL), Created: emailtext.Date(u.CreatedAt),
		Dashboard: c.cfg.PublicURL + "/dashboard", Apps: c.cfg.ConnectedApps})
	if err != nil {
		return err
	}
	if !c.mailer.Enqueue(passkeyd.Email{To: u.Email, Subject: subject, Text: text, Kind: kind}) {
		return passkeyd.Errorf(passkeyd.EUNAVAILABLE, "The mail queue is full: try again in a minute.")
	}
	c.log.InfoContext(r.Context(), "recovery link sent by an administrator", "event", "recovery_link_sent", "kind", kind,
		"user_id", u.ID, "admin", who.adminName())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) handleEndSessions(w http.ResponseWriter, r *http.Request, who *caller) error {
	u, err := c.person(r)
	if err != nil {
		return err
	}
	ev := c.event(r, who, u.ID, passkeyd.EventSessionsEnded, "every session ended by an administrator")
	n, err := c.store.DeleteOtherSessions(r.Context(), u.ID, "", ev)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, struct {
		Ended int64 `json:"ended"`
	}{n})
	return nil
}

func (c *Console) handleRevokeApp(w http.ResponseWriter, r *http.Request, who *caller) error {
	u, err := c.person(r)
	if err != nil {
		return err
	}
	app, err := c.store.FindOIDCClient(r.Context(), r.PathValue("clientId"))
	if err != nil {
		return err
	}
	ev := c.event(r, who, u.ID, passkeyd.EventOIDCAppRevoked, app.Name+" disconnected by an administrator")
	ev.ClientID = app.ID
	if err := c.store.RevokeOIDCConsent(r.Context(), u.ID, app.ID, ev); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) handleAddToGroup(w http.ResponseWriter, r *http.Request, who *caller) error {
	return c.membership(w, r, who, true)
}

func (c *Console) handleRemoveFromGroup(w http.ResponseWriter, r *http.Request, who *caller) error {
	return c.membership(w, r, who, false)
}

// membership adds the person to the group, or removes them.
func (c *Console) membership(w http.ResponseWriter, r *http.Request, who *caller, add bool) error {
	u, err := c.person(r)
	if err != nil {
		return err
	}
	g, err := c.groupByID(r, r.PathValue("groupId"))
	if err != nil {
		return err
	}
	if add {
		err = c.store.AddGroupMember(r.Context(), g.ID, u.ID, c.event(r, who, u.ID, passkeyd.EventGroupMemberAdded, "added to group "+g.Name))
	} else {
		err = c.store.RemoveGroupMember(r.Context(), g.ID, u.ID, c.event(r, who, u.ID, passkeyd.EventGroupMemberGone, "removed from group "+g.Name))
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *Console) handleSetAdmin(w http.ResponseWriter, r *http.Request, who *caller) error {
	var req struct {
		Admin *bool `json:"admin"`
	}
	if err := httpjson.DecodeStrict(w, r, &req); err != nil {
		return err
	}
	if req.Admin == nil {
		return passkeyd.Errorf(passkeyd.EINVALID, `Send {"admin": true} or {"admin": false}.`)
	}
	u, err := c.person(r)
	if err != nil {
		return err
	}
	typ, detail := passkeyd.EventAdminGranted, "made an administrator"
	if !*req.Admin {
		typ, detail = passkeyd.EventAdminRevoked, "no longer an administrator"
	}
	err = c.store.SetAdmin(r.Context(), u.ID, *req.Admin, c.event(r, who, u.ID, typ, detail))
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
		return errLastAdmin
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleDeletePerson deletes an account for good, once the administrator
// has typed its address (confirm).
func (c *Console) handleDeletePerson(w http.ResponseWriter, r *http.Request, who *caller) error {
	var req struct {
		Confirm string `json:"confirm"`
	}
	if err := httpjson.DecodeStrict(w, r, &req); err != nil {
		return err
	}
	u, err := c.person(r)
	if err != nil {
		return err
	}
	if passkeyd.EmailKey(req.Confirm) != passkeyd.EmailKey(u.Email) {
		return passkeyd.Errorf(passkeyd.EINVALID, "To delete the account, type its email address exactly.")
	}
	err = c.store.DeleteAccount(r.Context(), u.ID, c.event(r, who, u.ID, passkeyd.EventUserDeleted, "account of "+u.Email+" deleted by an administrator"))
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
		return errLastAdmin
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// providerName names who keeps the passkey, as the dashboard does.
func providerName(cr *passkeyd.Credential) string {
	return aaguid.Describe(cr.AAGUID, aaguid.Hint{Transports: cr.Transports, Attachment: cr.Attachment, BackupEligible: cr.BackupEligible})
}
