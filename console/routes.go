package console

import "net/http"

// Access is who may call a route.
type Access string

const (
	// Admin: an administrator's full session (not disabled, not a
	// recovery session), or an API key (Authorization: Bearer pkd_...;
	// then cookies are not read).
	Admin Access = "admin"
	// StepUp: as Admin, and a session's passkey verification within
	// StepUpWindow (403 "step_up_required" otherwise: the page verifies a
	// passkey again and retries). API keys pass.
	StepUp Access = "stepUp"
	// Setup: any full session (the setup link makes it an administrator).
	Setup Access = "setup"
)

// Route is one line of the console's route table.
type Route struct {
	Method  string
	Pattern string // http.ServeMux syntax, e.g. /api/admin/people/{id}
	Access  Access
	// Page: an HTML page (web template "admin"); otherwise JSON.
	Page bool
}

// route is a Route with its handler, wrapped in its access check.
type route struct {
	Route
	handler http.Handler
}

// table is the console's route table: every route, one line each, with
// who may call it. New builds the handler from it, Routes returns it (the
// walk test calls each, the README's Console API table is checked against
// it).
func (c *Console) table() []route {
	var rs []route
	page := func(pattern string, access Access, fn pageFunc) {
		rs = append(rs, route{Route{http.MethodGet, pattern, access, true}, c.page(access, fn)})
	}
	api := func(method, pattern string, access Access, fn apiFunc) {
		rs = append(rs, route{Route{method, pattern, access, false}, c.api(access, fn)})
	}

	page("/admin", Admin, c.section("overview", "Overview"))
	page("/admin/people", Admin, c.section("people", "People"))
	page("/admin/people/{id}", Admin, c.section("person", "Person"))
	page("/admin/apps", Admin, c.section("apps", "Apps"))
	page("/admin/apps/new", Admin, c.section("new-app", "New app"))
	page("/admin/apps/{id}", Admin, c.section("app", "App"))
	page("/admin/groups", Admin, c.section("groups", "Groups"))
	page("/admin/groups/{id}", Admin, c.section("group", "Group"))
	page("/admin/audit", Admin, c.section("audit", "Audit log"))
	page("/admin/api-keys", Admin, c.section("api-keys", "API keys"))
	page("/admin/setup", Setup, c.setupPage)

	api("POST", "/api/admin/setup", Setup, c.handleSetup)
	api("GET", "/api/admin/me", Admin, c.handleMe)
	api("GET", "/api/admin/overview", Admin, c.handleOverview)

	api("GET", "/api/admin/people", Admin, c.handlePeople)
	api("GET", "/api/admin/people/{id}", Admin, c.handlePerson)
	api("POST", "/api/admin/people/{id}/disable", StepUp, c.handleDisable)
	api("POST", "/api/admin/people/{id}/enable", Admin, c.handleEnable)
	api("POST", "/api/admin/people/{id}/recovery-link", Admin, c.handleRecoveryLink)
	api("DELETE", "/api/admin/people/{id}/sessions", Admin, c.handleEndSessions)
	api("DELETE", "/api/admin/people/{id}/apps/{clientId}", Admin, c.handleRevokeApp)
	api("PUT", "/api/admin/people/{id}/groups/{groupId}", Admin, c.handleAddToGroup)
	api("DELETE", "/api/admin/people/{id}/groups/{groupId}", Admin, c.handleRemoveFromGroup)
	api("POST", "/api/admin/people/{id}/admin", StepUp, c.handleSetAdmin)
	api("DELETE", "/api/admin/people/{id}", StepUp, c.handleDeletePerson)

	api("GET", "/api/admin/apps", Admin, c.handleApps)
	api("GET", "/api/admin/apps/{id}", Admin, c.handleApp)
	api("POST", "/api/admin/apps", Admin, c.handleCreateApp)
	api("PUT", "/api/admin/apps/{id}", Admin, c.handleUpdateApp)
	api("POST", "/api/admin/apps/{id}/secret", StepUp, c.handleRotateSecret)
	api("DELETE", "/api/admin/apps/{id}", StepUp, c.handleDeleteApp)

	api("GET", "/api/admin/groups", Admin, c.handleGroups)
	api("POST", "/api/admin/groups", Admin, c.handleCreateGroup)
	api("GET", "/api/admin/groups/{id}", Admin, c.handleGroup)
	api("PATCH", "/api/admin/groups/{id}", Admin, c.handleRenameGroup)
	api("DELETE", "/api/admin/groups/{id}", StepUp, c.handleDeleteGroup)

	api("GET", "/api/admin/audit", Admin, c.handleAudit)

	api("GET", "/api/admin/api-keys", Admin, c.handleAPIKeys)
	api("POST", "/api/admin/api-keys", StepUp, c.handleCreateAPIKey)
	api("DELETE", "/api/admin/api-keys/{id}", StepUp, c.handleRevokeAPIKey)
	return rs
}
