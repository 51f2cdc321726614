package oidc

import (
	"context"
	"fmt"
	"slices"
	"strings"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/passkeyd/passkeyd"
)

// claim is one thing an app receives about the user beside sub: its name
// in the ID token and userinfo, and its value.
type claim struct {
	name  string
	value any
}

// claims returns the claims an app granted scopes receives about u
// (claimsFor), reading u's groups when the groups scope asks for them.
func (p *Provider) claims(ctx context.Context, u *passkeyd.User, scopes []string) ([]claim, error) {
	var groups []string
	if slices.Contains(scopes, "groups") {
		list, err := p.groups.ListUserGroups(ctx, u.ID)
		if err != nil {
			return nil, fmt.Errorf("list the groups of %s: %w", u.ID, err)
		}
		for _, g := range list {
			groups = append(groups, g.Name)
		}
	}
	return claimsFor(u, groups, scopes), nil
}

// claimsFor returns the claims an app granted scopes receives about u,
// a member of groups. It is the one place that decides them: setUserinfo
// writes exactly these, and the consent page lists exactly these, so the
// page cannot promise less than the app gets. The address, or anything
// made from it, is only under the email scope; profile gives the name and
// username the user set, and leaves out what is unset; groups gives the
// group names, sorted, and an empty list for none (so that an app mapping
// groups to roles sees "none", not a missing claim).
func claimsFor(u *passkeyd.User, groups, scopes []string) []claim {
	var out []claim
	if slices.Contains(scopes, "email") {
		out = append(out, claim{"email", u.Email}, claim{"email_verified", !u.EmailVerifiedAt.IsZero()})
	}
	if slices.Contains(scopes, "profile") {
		if u.DisplayName != "" {
			out = append(out, claim{"name", u.DisplayName})
		}
		if u.Username != "" {
			out = append(out, claim{"preferred_username", u.Username})
		}
	}
	if slices.Contains(scopes, "groups") {
		names := append([]string{}, groups...)
		slices.Sort(names)
		out = append(out, claim{"groups", names})
	}
	return out
}

// setClaims writes claims into info.
func setClaims(info *zoidc.UserInfo, claims []claim) {
	for _, c := range claims {
		switch c.name {
		case "email":
			info.Email = c.value.(string)
		case "email_verified":
			verified := c.value.(bool)
			info.EmailVerified = zoidc.Bool(verified)
			if !verified {
				info.AppendClaims("email_verified", false) // omitted as false otherwise
			}
		case "name":
			info.Name = c.value.(string)
		case "preferred_username":
			info.PreferredUsername = c.value.(string)
		case "groups":
			info.AppendClaims("groups", c.value.([]string))
		}
	}
}

// ConsentItem is one line of the consent page: what the app receives, in
// the user's words. Claim names the claim it describes ("" for a line
// that is not one: the account ID, staying signed in, a note).
type ConsentItem struct {
	Claim string
	Text  string
}

// consentItems lists what an app granted scopes receives about u: the
// account ID (sub), each of claims (claimsFor's), and offline access.
func consentItems(u *passkeyd.User, claims []claim, scopes []string) []ConsentItem {
	items := []ConsentItem{{"sub", "An ID for your account (not your email address)"}}
	for _, c := range claims {
		var text string
		switch c.name {
		case "email":
			text = "Your email address: " + u.Email
		case "email_verified":
			text = "Whether you have confirmed your email address (now: no)"
			if c.value.(bool) {
				text = "Whether you have confirmed your email address (now: yes)"
			}
		case "name":
			text = "Your name: " + u.DisplayName
		case "preferred_username":
			text = "Your username: " + u.Username
		case "groups":
			text = "Your groups (now: none)"
			if names := c.value.([]string); len(names) > 0 {
				text = "Your groups: " + strings.Join(names, ", ")
			}
		}
		items = append(items, ConsentItem{c.name, text})
	}
	if slices.Contains(scopes, "profile") && (u.DisplayName == "" || u.Username == "") {
		items = append(items, ConsentItem{"", "Your name and username once you set them on your account page (" + unsetProfile(u) + " now)"})
	}
	if slices.Contains(scopes, "offline_access") {
		items = append(items, ConsentItem{"", "Stay signed in (access while you are away)"})
	}
	return items
}

func unsetProfile(u *passkeyd.User) string {
	switch {
	case u.DisplayName == "" && u.Username == "":
		return "neither is set"
	case u.DisplayName == "":
		return "no name is set"
	}
	return "no username is set"
}
