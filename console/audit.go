package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// eventJSON is an entry of the audit log (and of a person's page).
type eventJSON struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	UserID    string    `json:"userId"`
	Email     string    `json:"email,omitempty"` // the account's, while it exists
	ClientID  string    `json:"clientId"`
	App       string    `json:"app,omitempty"` // the app's name, while it exists
	AdminName string    `json:"adminName"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"userAgent"`
	Detail    string    `json:"detail"`
	CreatedAt time.Time `json:"createdAt"`
}

// eventsJSON writes events with the emails of their accounts and the
// names of their apps.
func (c *Console) eventsJSON(r *http.Request, events []*passkeyd.Event) ([]eventJSON, error) {
	out := []eventJSON{}
	emails := map[string]string{}
	var apps map[string]string
	for _, e := range events {
		ej := eventJSON{ID: e.ID, Type: e.Type, UserID: e.UserID, ClientID: e.ClientID, AdminName: e.AdminName, IP: e.IP,
			UserAgent: e.UserAgent, Detail: e.Detail, CreatedAt: e.CreatedAt}
		if e.UserID != "" {
			email, seen := emails[e.UserID]
			if !seen {
				u, err := c.store.FindUserByID(r.Context(), e.UserID)
				switch passkeyd.ErrorCode(err) {
				case "":
					email = u.Email
				case passkeyd.ENOTFOUND: // deleted: its events stay
				default:
					return nil, err
				}
				emails[e.UserID] = email
			}
			ej.Email = email
		}
		if e.ClientID != "" {
			if apps == nil {
				list, err := c.store.ListOIDCClients(r.Context())
				if err != nil {
					return nil, err
				}
				apps = map[string]string{}
				for _, a := range list {
					apps[a.ID] = a.Name
				}
			}
			ej.App = apps[e.ClientID]
		}
		out = append(out, ej)
	}
	return out, nil
}

// auditPage is the length of a page of the audit log.
const auditPage = 50

// handleAudit reads the audit log, newest first, filtered by event type
// (type), account (user: an ID, or an email address), app (app: a client
// ID) and time (since, until: RFC 3339 or a date, UTC), a page at a time
// (before: the "next" of the page before).
func (c *Console) handleAudit(w http.ResponseWriter, r *http.Request, _ *caller) error {
	q := r.URL.Query()
	aq := passkeyd.AuditQuery{Type: q.Get("type"), UserID: q.Get("user"), ClientID: q.Get("app"), Limit: auditPage + 1}
	for _, v := range []string{aq.Type, aq.UserID, aq.ClientID} {
		if len(v) > 256 {
			return passkeyd.Errorf(passkeyd.EINVALID, "A filter is at most 256 characters.")
		}
	}
	var err error
	if aq.Since, err = queryTime(q.Get("since"), "since"); err != nil {
		return err
	}
	if aq.Until, err = queryTime(q.Get("until"), "until"); err != nil {
		return err
	}
	if b := q.Get("before"); b != "" {
		if aq.Before, err = strconv.ParseInt(b, 10, 64); err != nil || aq.Before < 1 {
			return passkeyd.Errorf(passkeyd.EINVALID, "before: an event ID (the next of the page before).")
		}
	}
	res := struct {
		Events []eventJSON `json:"events"`
		Next   int64       `json:"next,omitempty"`
	}{Events: []eventJSON{}}
	if strings.Contains(aq.UserID, "@") {
		u, err := c.store.FindUserByEmail(r.Context(), aq.UserID)
		if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
			httpjson.Write(w, http.StatusOK, res) // no such account: no events
			return nil
		}
		if err != nil {
			return err
		}
		aq.UserID = u.ID
	}
	events, err := c.store.ListAuditEvents(r.Context(), aq)
	if err != nil {
		return err
	}
	if len(events) > auditPage {
		events = events[:auditPage]
		res.Next = events[auditPage-1].ID
	}
	if res.Events, err = c.eventsJSON(r, events); err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

// queryTime reads a time filter: RFC 3339, or a date (midnight UTC).
func queryTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, passkeyd.Errorf(passkeyd.EINVALID, "%s: a time like 2026-12-01T10:00:00Z or a date like 2026-12-01.", name)
}
