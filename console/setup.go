package console

import (
	"net/http"
	"time"

	"github.com/passkeyd/passkeyd"
	"github.com/passkeyd/passkeyd/internal/emailtoken"
	"github.com/passkeyd/passkeyd/internal/httpjson"
)

// handleSetup spends the setup link (SetupLink) and makes the signed-in
// account the first administrator.
func (c *Console) handleSetup(w http.ResponseWriter, r *http.Request, who *caller) error {
	var req struct {
		Token string `json:"token"`
	}
	if err := httpjson.DecodeStrict(w, r, &req); err != nil {
		return err
	}
	if !emailtoken.Valid(req.Token) {
		return errSetupLink
	}
	ev := c.event(r, who, who.user.ID, passkeyd.EventAdminGranted, "made the first administrator with the setup link")
	err := c.store.ClaimAdminSetup(r.Context(), c.tokens.ID(passkeyd.TokenAdminSetup, req.Token), who.user.ID, c.now(), ev)
	switch passkeyd.ErrorCode(err) {
	case "":
	case passkeyd.ENOTFOUND:
		return errSetupLink
	case passkeyd.ECONFLICT:
		return passkeyd.Errorf(passkeyd.ECONFLICT, "passkeyd has an administrator already: ask them to make you one.")
	default:
		return err
	}
	c.log.InfoContext(r.Context(), "first administrator", "event", passkeyd.EventAdminGranted, "user_id", who.user.ID,
		"client_ip", c.ip(r))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var errSetupLink = passkeyd.Errorf(passkeyd.ENOTFOUND,
	"This setup link does not work (any more): it works once, for an hour, and each start of passkeyd prints a new one.")

// handleMe says who is calling: the administrator or the API key.
func (c *Console) handleMe(w http.ResponseWriter, _ *http.Request, who *caller) error {
	type me struct {
		Email  string `json:"email,omitempty"`
		UserID string `json:"userId,omitempty"`
		APIKey string `json:"apiKey,omitempty"`
	}
	if who.key != nil {
		httpjson.Write(w, http.StatusOK, me{APIKey: who.key.Name})
		return nil
	}
	httpjson.Write(w, http.StatusOK, me{Email: who.user.Email, UserID: who.user.ID})
	return nil
}

// overviewDays is the span of the overview: the last 30 days, today
// included.
const overviewDays = 30

func (c *Console) handleOverview(w http.ResponseWriter, r *http.Request, _ *caller) error {
	now := c.now().UTC()
	since := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(overviewDays - 1))
	o, err := c.store.Overview(r.Context(), since, now)
	if err != nil {
		return err
	}
	type day struct {
		Day       string `json:"day"`
		Succeeded int    `json:"succeeded"`
		Failed    int    `json:"failed"`
	}
	type app struct {
		ClientID string `json:"clientId"`
		Name     string `json:"name"`
		SignIns  int    `json:"signIns"`
	}
	res := struct {
		Accounts       int   `json:"accounts"`
		ActiveAccounts int   `json:"activeAccounts"`
		SignIns        []day `json:"signIns"`
		Apps           []app `json:"apps"`
	}{Accounts: o.Accounts, ActiveAccounts: o.ActiveAccounts, SignIns: []day{}, Apps: []app{}}
	for _, d := range o.SignIns {
		res.SignIns = append(res.SignIns, day{d.Day.UTC().Format(time.DateOnly), d.Succeeded, d.Failed})
	}
	for _, a := range o.Apps {
		res.Apps = append(res.Apps, app{a.ClientID, a.Name, a.SignIns})
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}
