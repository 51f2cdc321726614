package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/passkeyd/passkeyd"
)

const groupsUsage = `passkeyd groups: groups of people, which apps may admit (allowed groups) and
receive in the groups claim

  passkeyd groups list                        every group: members, apps that admit it
  passkeyd groups add NAME                    a new, empty group (letters, digits, '.', '_', '-')
  passkeyd groups rename OLD NEW              apps that admit it keep admitting it
  passkeyd groups delete NAME -yes            delete it and its memberships (refused while an app admits it)
  passkeyd groups members NAME                list its members
  passkeyd groups members NAME -add EMAIL -remove EMAIL   add or remove members (each repeatable)

The settings flags and environment variables are those of "passkeyd -h".
`

// groups runs the group subcommands.
func groups(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stdout, groupsUsage)
		return nil
	}
	action, args := args[0], args[1:]
	names := map[string]int{"list": 0, "add": 1, "rename": 2, "delete": 1, "members": 1}
	n, known := names[action]
	if !known {
		return fmt.Errorf("unknown groups command %q; run passkeyd groups help", action)
	}
	var operands []string
	for range n {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			return fmt.Errorf("passkeyd groups %s needs %s", action, map[int]string{1: "a group NAME", 2: "the group's OLD and NEW names"}[n])
		}
		operands, args = append(operands, args[0]), args[1:]
	}
	var add, remove []string
	if action == "members" {
		add, args = takeValues(args, "add")
		remove, args = takeValues(args, "remove")
	}
	yes, rest := takeSwitch(args, "yes")
	store, _, err := openForAdmin(ctx, "passkeyd groups", rest, getenv, stderr)
	if err != nil || store == nil {
		return err
	}
	defer store.Close()
	st, ok := store.(consoleStore)
	if !ok {
		return fmt.Errorf("the %T store cannot keep groups", store)
	}
	now := time.Now()
	operator := func(userID, typ, detail string) *passkeyd.Event {
		return passkeyd.NewEvent(now, passkeyd.Actor{}, userID, typ, "", detail+" (by an operator)")
	}

	var g *passkeyd.Group
	if action != "list" && action != "add" {
		if g, err = findGroup(ctx, st, operands[0]); err != nil {
			return err
		}
	}
	switch action {
	case "list":
		return listGroups(ctx, st, stdout)
	case "add":
		name, err := passkeyd.ValidateGroupName(operands[0])
		if err != nil {
			return errors.New(passkeyd.ErrorMessage(err))
		}
		g = &passkeyd.Group{ID: uuid.NewString(), Name: name, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateGroup(ctx, g, operator("", passkeyd.EventGroupCreated, "group "+name+" created")); err != nil {
			if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
				return fmt.Errorf("a group named %s exists already", printable(name))
			}
			return err
		}
		fmt.Fprintf(stdout, "Group %s added. Add members with: passkeyd groups members %s -add EMAIL\n", name, name)
		return nil
	case "rename":
		name, err := passkeyd.ValidateGroupName(operands[1])
		if err != nil {
			return errors.New(passkeyd.ErrorMessage(err))
		}
		if err := st.RenameGroup(ctx, g.ID, name, operator("", passkeyd.EventGroupRenamed, "group "+g.Name+" renamed "+name)); err != nil {
			if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
				return fmt.Errorf("a group named %s exists already", printable(name))
			}
			return err
		}
		fmt.Fprintf(stdout, "Group %s renamed %s; the apps that admit it still do (apps that read the groups claim see the new name).\n", g.Name, name)
		return nil
	case "delete":
		if !yes {
			return fmt.Errorf("deleting group %s ends its %d memberships; add -yes to confirm", g.Name, g.MemberCount)
		}
		if err := st.DeleteGroup(ctx, g.ID, operator("", passkeyd.EventGroupDeleted, "group "+g.Name+" deleted")); err != nil {
			if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
				apps, _ := appsAdmitting(ctx, st, g.Name)
				return fmt.Errorf("group %s is admitted by %s: take it off those apps first (passkeyd clients update ID -allow-group ...), so that deleting it neither opens them to everyone nor shuts its members out unnoticed",
					g.Name, orNone(apps))
			}
			return err
		}
		fmt.Fprintf(stdout, "Group %s deleted.\n", g.Name)
		return nil
	case "members":
		// Every address first, so that a typo changes nothing.
		users := map[string]*passkeyd.User{}
		for _, email := range append(slices.Clone(add), remove...) {
			u, err := store.FindUserByEmail(ctx, email)
			if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
				return fmt.Errorf("no user with email %s; nothing was changed", printable(email))
			}
			if err != nil {
				return err
			}
			users[email] = u
		}
		for _, email := range add {
			u := users[email]
			if err := st.AddGroupMember(ctx, g.ID, u.ID, operator(u.ID, passkeyd.EventGroupMemberAdded, "added to group "+g.Name)); err != nil {
				return err
			}
		}
		for _, email := range remove {
			u := users[email]
			if err := st.RemoveGroupMember(ctx, g.ID, u.ID, operator(u.ID, passkeyd.EventGroupMemberGone, "removed from group "+g.Name)); err != nil {
				return err
			}
		}
		return listMembers(ctx, st, g, stdout)
	}
	return nil
}

// consoleStore is what the group and API-key subcommands need: the
// console's store, and the apps (which groups they admit).
type consoleStore interface {
	passkeyd.ConsoleStore
	passkeyd.OIDCStore
}

// findGroup finds a group by name (or ID), saying so when there is none.
func findGroup(ctx context.Context, st consoleStore, name string) (*passkeyd.Group, error) {
	g, err := st.FindGroup(ctx, name)
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		return nil, fmt.Errorf("no group named %s (passkeyd groups list shows them)", printable(name))
	}
	return g, err
}

// appsAdmitting returns the names of the apps that admit the group.
func appsAdmitting(ctx context.Context, st passkeyd.OIDCStore, group string) ([]string, error) {
	clients, err := st.ListOIDCClients(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range clients {
		if slices.ContainsFunc(c.AllowedGroups, func(n string) bool { return strings.EqualFold(n, group) }) {
			out = append(out, c.Name+" ("+c.ID+")")
		}
	}
	return out, nil
}

func listGroups(ctx context.Context, st consoleStore, w io.Writer) error {
	list, err := st.ListGroups(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tMEMBERS\tADMITTED BY\tCREATED")
	for _, g := range list {
		apps, err := appsAdmitting(ctx, st, g.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", g.Name, g.MemberCount, orNone(apps), g.CreatedAt.Format(time.DateOnly))
	}
	return tw.Flush()
}

func listMembers(ctx context.Context, st consoleStore, g *passkeyd.Group, w io.Writer) error {
	members, err := st.ListGroupMembers(ctx, g.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Group %s: %d members\n", g.Name, len(members))
	for _, u := range members {
		fmt.Fprintf(w, "  %s\n", printable(u.Email))
	}
	return nil
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ", ")
}

// takeValues takes a subcommand's own repeatable option (-add EMAIL,
// -add=EMAIL) out of its arguments, wherever it stands; the rest are the
// server's settings.
func takeValues(args []string, name string) (values, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case (a == "-"+name || a == "--"+name) && i+1 < len(args):
			values = append(values, args[i+1])
			i++
		case strings.HasPrefix(a, "-"+name+"="):
			values = append(values, strings.TrimPrefix(a, "-"+name+"="))
		case strings.HasPrefix(a, "--"+name+"="):
			values = append(values, strings.TrimPrefix(a, "--"+name+"="))
		default:
			rest = append(rest, a)
		}
	}
	return values, rest
}
