package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
)

var _ passkeyd.ConsoleStore = (*Store)(nil)

// errLastAdmin refuses to take away the role, the account or its use from
// the last enabled administrator: nobody could then run the console, and
// the setup link is only printed while no administrator exists at all.
var errLastAdmin = passkeyd.Errorf(passkeyd.ECONFLICT,
	"This is the last administrator. Make another account an administrator first.")

// enabledAdmins is the condition of an enabled administrator's row, as the
// partial index users_admin is written (WHERE admin), so that both
// databases count them through it.
const enabledAdmins = `admin AND NOT disabled`

// keepAnAdmin runs change, which may take userID's role or account away
// (removes), and refuses with errLastAdmin when it left no enabled
// administrator. When userID is an enabled administrator, it locks the
// enabled administrators' rows first (lockAdmins), so that on PostgreSQL
// (READ COMMITTED) two administrators revoking each other take turns, and
// the second counts after the first committed; on SQLite the transaction
// holds the write lock already. ENOTFOUND for an unknown user.
func (s *Store) keepAnAdmin(ctx context.Context, tx *sql.Tx, userID string, removes bool, change func() error) error {
	if !removes {
		return change()
	}
	var enabledAdmin bool
	if err := s.txQueryRow(ctx, tx, `SELECT `+enabledAdmins+` FROM users WHERE id = $1`, userID).Scan(&enabledAdmin); err != nil {
		return err
	}
	if !enabledAdmin {
		return change()
	}
	if err := s.lockAdmins(ctx, tx); err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	n, err := s.countAdmins(ctx, tx)
	if err != nil {
		return err
	}
	if n == 0 {
		return errLastAdmin
	}
	return nil
}

// lockAdmins locks the rows of the enabled administrators one by one, in
// the order of their IDs: two transactions that lock them in the same
// order wait for each other instead of deadlocking. A row that stopped
// being an administrator's meanwhile is locked all the same, which is
// harmless; one that became one meanwhile is not, which is too: a grant
// cannot leave the console without an administrator.
func (s *Store) lockAdmins(ctx context.Context, tx *sql.Tx) error {
	ids, err := s.txStrings(ctx, tx, `SELECT id FROM users WHERE `+enabledAdmins+` ORDER BY id`)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.txExec(ctx, tx, `UPDATE users SET updated_at = updated_at WHERE id = $1`, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) countAdmins(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM users WHERE `+enabledAdmins).Scan(&n)
	return n, err
}

// IsAdmin reports whether the account is an administrator; ENOTFOUND if
// there is no such account.
func (s *Store) IsAdmin(ctx context.Context, userID string) (bool, error) {
	var admin bool
	if err := s.readQueryRow(ctx, `SELECT admin FROM users WHERE id = $1`, userID).Scan(&admin); err != nil {
		return false, s.fail("is admin", err)
	}
	return admin, nil
}

// CountAdmins counts administrators whose accounts are not disabled.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int
	if err := s.readQueryRow(ctx, `SELECT COUNT(*) FROM users WHERE `+enabledAdmins).Scan(&n); err != nil {
		return 0, s.fail("count admins", err)
	}
	return n, nil
}

// SetAdmin grants or revokes the administrator role and records ev.
func (s *Store) SetAdmin(ctx context.Context, userID string, admin bool, ev *passkeyd.Event) error {
	return s.write(ctx, "set admin", func(tx *sql.Tx) error {
		err := s.keepAnAdmin(ctx, tx, userID, !admin, func() error {
			return expectOne(s.txExec(ctx, tx, `UPDATE users SET admin = $2, updated_at = $3 WHERE id = $1`,
				userID, admin, millis(s.now())))
		})
		if err != nil {
			return err
		}
		if err := s.insertEvents(ctx, tx, ev); err != nil {
			return err
		}
		if admin {
			return nil
		}
		return s.endAdminKeys(ctx, tx, userID, ev)
	})
}

// ClaimAdminSetup spends the setup link and makes userID an administrator.
// The link is checked first, so that only its holder learns whether an
// administrator exists.
func (s *Store) ClaimAdminSetup(ctx context.Context, tokenID, userID string, now time.Time, ev *passkeyd.Event) error {
	return s.write(ctx, "claim admin setup", func(tx *sql.Tx) error {
		err := expectOne(s.txExec(ctx, tx, `DELETE FROM tokens WHERE id = $1 AND purpose = $2 AND expires_at > $3`,
			tokenID, string(passkeyd.TokenAdminSetup), millis(now)))
		if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
			return passkeyd.WrapError(passkeyd.ENOTFOUND, "This setup link is unknown, used or expired.", err)
		}
		if err != nil {
			return err
		}
		n, err := s.countAdmins(ctx, tx)
		if err != nil {
			return err
		}
		if n > 0 {
			return passkeyd.Errorf(passkeyd.ECONFLICT, "An administrator exists already.")
		}
		// A disabled account would spend the link and leave no enabled
		// administrator; it cannot hold the session that claims it anyway.
		if err := expectOne(s.txExec(ctx, tx, `UPDATE users SET admin = $2, updated_at = $3 WHERE id = $1 AND NOT disabled`,
			userID, true, millis(now))); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// DeleteAccount deletes the account, its app grants (the requests it
// completed have no foreign key) and, through ON DELETE CASCADE, its
// passkeys, sessions, links, codes, consents, tokens and group
// memberships, and records ev. The security log stays.
func (s *Store) DeleteAccount(ctx context.Context, userID string, ev *passkeyd.Event) error {
	return s.write(ctx, "delete account", func(tx *sql.Tx) error {
		err := s.keepAnAdmin(ctx, tx, userID, true, func() error {
			if err := s.endOIDCGrants(ctx, tx, userID, ""); err != nil {
				return err
			}
			return expectOne(s.txExec(ctx, tx, `DELETE FROM users WHERE id = $1`, userID))
		})
		if err != nil {
			return err
		}
		if err := s.insertEvents(ctx, tx, ev); err != nil {
			return err
		}
		return s.endAdminKeys(ctx, tx, userID, ev)
	})
}

// likePattern returns a LIKE pattern (with ESCAPE '!') matching text that
// contains search, lower-cased: '%' and '_' in search match themselves.
// The escape is '!', not a backslash, which a PostgreSQL server without
// standard_conforming_strings would read as escaping the closing quote.
func likePattern(search string) string {
	r := strings.NewReplacer(`!`, `!!`, `%`, `!%`, `_`, `!_`)
	return "%" + r.Replace(strings.ToLower(search)) + "%"
}

// SearchUsers returns a page of the people list and how many accounts
// match. The search is lower-cased on both sides; SQLite's lower() folds
// ASCII letters only, so other capital letters match only as typed.
func (s *Store) SearchUsers(ctx context.Context, q passkeyd.UserQuery) ([]*passkeyd.UserSummary, int, error) {
	where, args := "", []any{}
	if search := strings.TrimSpace(q.Search); search != "" {
		where = `WHERE lower(u.email) LIKE $1 ESCAPE '!' OR lower(u.display_name) LIKE $1 ESCAPE '!'
			OR lower(u.username) LIKE $1 ESCAPE '!'`
		args = append(args, likePattern(search))
	}
	var total int
	if err := s.readQueryRow(ctx, `SELECT COUNT(*) FROM users u `+where, args...).Scan(&total); err != nil {
		return nil, 0, s.fail("search users", err)
	}
	if q.Limit <= 0 || total == 0 {
		return nil, total, nil
	}
	n := len(args)
	list, err := readList(ctx, s, "search users", `
		SELECT `+userColumns+`, u.admin, COALESCE(c.passkeys, 0), COALESCE(c.last_used_at, 0)
		FROM users u
		LEFT JOIN (SELECT user_id, COUNT(*) AS passkeys, MAX(last_used_at) AS last_used_at
			FROM credentials GROUP BY user_id) c ON c.user_id = u.id
		`+where+`
		ORDER BY COALESCE(c.last_used_at, 0) DESC, u.created_at DESC, u.id
		LIMIT $`+fmt.Sprint(n+1)+` OFFSET $`+fmt.Sprint(n+2),
		append(args, q.Limit, max(q.Offset, 0)), func(rows *sql.Rows) (*passkeyd.UserSummary, error) {
			var r userRow
			var sum passkeyd.UserSummary
			var last int64
			if err := rows.Scan(append(r.appendDest(make([]any, 0, 12)), &sum.Admin, &sum.Passkeys, &last)...); err != nil {
				return nil, err
			}
			sum.User = *r.user()
			sum.LastSignInAt = fromMillis(last)
			return &sum, nil
		})
	if err != nil {
		return nil, 0, err
	}
	return list, total, nil
}

// LastSignIns returns when a passkey of each account given was last used.
// The IDs go in batches of lastSignInsBatch placeholders; the query is not
// kept prepared, as its text varies with the count.
func (s *Store) LastSignIns(ctx context.Context, userIDs ...string) (map[string]time.Time, error) {
	const lastSignInsBatch = 500
	out := make(map[string]time.Time, len(userIDs))
	for len(userIDs) > 0 {
		batch := userIDs[:min(len(userIDs), lastSignInsBatch)]
		userIDs = userIDs[len(batch):]
		marks := make([]string, len(batch))
		args := make([]any, len(batch))
		for i, id := range batch {
			marks[i], args[i] = fmt.Sprint("$", i+1), id
		}
		err := func() error {
			rows, err := s.read.QueryContext(s.stmtContext(ctx), `
				SELECT user_id, MAX(last_used_at) FROM credentials
				WHERE user_id IN (`+strings.Join(marks, ", ")+`) AND last_used_at <> 0
				GROUP BY user_id`, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				var last int64
				if err := rows.Scan(&id, &last); err != nil {
					return err
				}
				out[id] = fromMillis(last)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, s.fail("last sign-ins", err)
		}
	}
	return out, nil
}

const day = 24 * time.Hour

// Overview counts what the console's first page shows: Apps holds every
// app, the most sign-ins first (an app's events from before events named
// the app are not counted). Every count is
// read through an index or one pass over a table: the sign-ins per day
// and per app through events_created_at (the days' range; migration
// 00014 dropped events_type: every sign-in's event paid for it), the active accounts
// over credentials.last_used_at, which has no index because every sign-in
// writes it.
func (s *Store) Overview(ctx context.Context, since, now time.Time) (*passkeyd.Overview, error) {
	o := &passkeyd.Overview{}
	if err := s.readQueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&o.Accounts); err != nil {
		return nil, s.fail("overview", err)
	}
	if err := s.readQueryRow(ctx, `SELECT COUNT(DISTINCT user_id) FROM credentials WHERE last_used_at >= $1`,
		millis(since)).Scan(&o.ActiveAccounts); err != nil {
		return nil, s.fail("overview", err)
	}

	first, last := since.UTC().Truncate(day), now.UTC().Truncate(day)
	for d := first; !d.After(last); d = d.Add(day) {
		o.SignIns = append(o.SignIns, passkeyd.DayCount{Day: d})
	}
	type dayCount struct {
		day   int64
		typ   string
		count int
	}
	counts, err := readList(ctx, s, "overview", `
		SELECT created_at / 86400000, type, COUNT(*) FROM events
		WHERE type IN ($1, $2) AND created_at >= $3 AND created_at < $4
		GROUP BY created_at / 86400000, type`,
		[]any{passkeyd.EventLoginSucceeded, passkeyd.EventLoginFailed, millis(since), millis(last.Add(day))},
		func(rows *sql.Rows) (dayCount, error) {
			var c dayCount
			return c, rows.Scan(&c.day, &c.typ, &c.count)
		})
	if err != nil {
		return nil, err
	}
	for _, c := range counts {
		i := int(c.day - first.UnixMilli()/day.Milliseconds())
		if i < 0 || i >= len(o.SignIns) {
			continue
		}
		if c.typ == passkeyd.EventLoginSucceeded {
			o.SignIns[i].Succeeded += c.count
		} else {
			o.SignIns[i].Failed += c.count
		}
	}

	apps, err := readList(ctx, s, "overview", `
		SELECT c.id, c.name, COALESCE(n.sign_ins, 0)
		FROM oidc_clients c
		LEFT JOIN (SELECT client_id, COUNT(*) AS sign_ins FROM events
			WHERE type = $1 AND created_at >= $2 GROUP BY client_id) n ON n.client_id = c.id
		ORDER BY COALESCE(n.sign_ins, 0) DESC, c.name, c.id`,
		[]any{passkeyd.EventOIDCSignIn, millis(since)}, func(rows *sql.Rows) (passkeyd.AppSignIns, error) {
			var a passkeyd.AppSignIns
			return a, rows.Scan(&a.ClientID, &a.Name, &a.SignIns)
		})
	if err != nil {
		return nil, err
	}
	o.Apps = apps
	return o, nil
}

// ListAuditEvents reads the audit log. Each filter is a condition an index
// serves (the type alone excepted: it is checked walking the log newest
// first, migration 00014): events_created_at for time, events_user_id and the partial events_admin_id for a person (the
// admin_id <> ” and client_id <> ” terms let both databases match the
// partial indexes), events_client_id for an app. The query's text depends
// only on which filters are set, so at most 32 are kept prepared.
func (s *Store) ListAuditEvents(ctx context.Context, q passkeyd.AuditQuery) ([]*passkeyd.Event, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	before := q.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	conds, args := []string{"id < $1"}, []any{before}
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.ReplaceAll(cond, "$n", fmt.Sprint("$", len(args))))
	}
	if q.Type != "" {
		add("type = $n", q.Type)
	}
	if q.UserID != "" {
		add("(user_id = $n OR (admin_id = $n AND admin_id <> ''))", q.UserID)
	}
	if q.ClientID != "" {
		add("client_id = $n AND client_id <> ''", q.ClientID)
	}
	if !q.Since.IsZero() {
		add("created_at >= $n", millis(q.Since))
	}
	if !q.Until.IsZero() {
		add("created_at < $n", millis(q.Until))
	}
	args = append(args, q.Limit)
	return readList(ctx, s, "list audit events", `
		SELECT `+eventColumns+` FROM events
		WHERE `+strings.Join(conds, " AND ")+`
		ORDER BY id DESC
		LIMIT $`+fmt.Sprint(len(args)), args, scanEvent)
}

// groupColumns is the column list scanGroup reads, for a groups table
// aliased g.
const groupColumns = `g.id, g.name, g.created_at, g.updated_at`

func scanGroup(rows interface{ Scan(...any) error }, extra ...any) (*passkeyd.Group, error) {
	var g passkeyd.Group
	var created, updated int64
	if err := rows.Scan(append([]any{&g.ID, &g.Name, &created, &updated}, extra...)...); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &g, nil
}

// groupNameTaken says so when a group's name is taken (the unique index on
// lower(name) decides between two callers racing for one).
func groupNameTaken(err error) error {
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
		return passkeyd.WrapError(passkeyd.ECONFLICT, "A group with this name exists already.", err)
	}
	return err
}

// CreateGroup stores g, its name validated (passkeyd.ValidateGroupName),
// and records ev. UpdatedAt left zero is CreatedAt.
func (s *Store) CreateGroup(ctx context.Context, g *passkeyd.Group, ev *passkeyd.Event) error {
	name, err := passkeyd.ValidateGroupName(g.Name)
	if err != nil {
		return err
	}
	if g.ID == "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "A group needs an ID.")
	}
	g.Name = name
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.now()
	}
	if g.UpdatedAt.IsZero() {
		g.UpdatedAt = g.CreatedAt
	}
	return groupNameTaken(s.write(ctx, "create group", func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `INSERT INTO groups (id, name, created_at, updated_at) VALUES ($1, $2, $3, $4)`,
			g.ID, g.Name, millis(g.CreatedAt), millis(g.UpdatedAt)); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	}))
}

// RenameGroup renames a group; apps admit it by ID, so they keep admitting it.
func (s *Store) RenameGroup(ctx context.Context, id, name string, ev *passkeyd.Event) error {
	name, err := passkeyd.ValidateGroupName(name)
	if err != nil {
		return err
	}
	return groupNameTaken(s.write(ctx, "rename group", func(tx *sql.Tx) error {
		if err := expectOne(s.txExec(ctx, tx, `UPDATE groups SET name = $2, updated_at = $3 WHERE id = $1`,
			id, name, millis(s.now()))); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	}))
}

// DeleteGroup deletes a group and its memberships, unless an app admits it.
func (s *Store) DeleteGroup(ctx context.Context, id string, ev *passkeyd.Event) error {
	return s.write(ctx, "delete group", func(tx *sql.Tx) error {
		var apps int
		if err := s.txQueryRow(ctx, tx, `SELECT COUNT(*) FROM oidc_client_groups WHERE group_id = $1`, id).Scan(&apps); err != nil {
			return err
		}
		if apps > 0 {
			return passkeyd.Errorf(passkeyd.ECONFLICT,
				"Apps admit this group: take it off their allowed groups first, so that deleting it neither opens them to everyone nor locks everyone out.")
		}
		// A concurrent save that adds the group to an app waits for this
		// delete and then fails on the foreign key, or this delete fails on
		// it: the group is never deleted from under an app.
		if err := expectOne(s.txExec(ctx, tx, `DELETE FROM groups WHERE id = $1`, id)); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// FindGroup finds a group by ID or, failing that, by name.
func (s *Store) FindGroup(ctx context.Context, idOrName string) (*passkeyd.Group, error) {
	for _, where := range []string{`g.id = $1`, `lower(g.name) = lower($1)`} {
		var members int
		g, err := scanGroup(s.readQueryRow(ctx, `
			SELECT `+groupColumns+`, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)
			FROM groups g WHERE `+where, idOrName), &members)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, s.fail("find group", err)
		}
		g.MemberCount = members
		return g, nil
	}
	return nil, passkeyd.Errorf(passkeyd.ENOTFOUND, "There is no such group.")
}

// ListGroups returns every group, by name, with member counts.
func (s *Store) ListGroups(ctx context.Context) ([]*passkeyd.Group, error) {
	return readList(ctx, s, "list groups", `
		SELECT `+groupColumns+`, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)
		FROM groups g ORDER BY lower(g.name), g.name`, nil,
		func(rows *sql.Rows) (*passkeyd.Group, error) {
			var n int
			g, err := scanGroup(rows, &n)
			if g != nil {
				g.MemberCount = n
			}
			return g, err
		})
}

// AddGroupMember adds the account to the group and records ev, unless it
// is a member already (then nothing is written).
func (s *Store) AddGroupMember(ctx context.Context, groupID, userID string, ev *passkeyd.Event) error {
	return s.write(ctx, "add group member", func(tx *sql.Tx) error {
		n, err := rowsAffected(s.txExec(ctx, tx, `
			INSERT INTO group_members (group_id, user_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (group_id, user_id) DO NOTHING`, groupID, userID, millis(s.now())))
		if err != nil || n == 0 {
			return err // a foreign key violation: ENOTFOUND
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// RemoveGroupMember removes the account from the group and records ev,
// unless it was no member (then nothing is written).
func (s *Store) RemoveGroupMember(ctx context.Context, groupID, userID string, ev *passkeyd.Event) error {
	return s.write(ctx, "remove group member", func(tx *sql.Tx) error {
		n, err := rowsAffected(s.txExec(ctx, tx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID))
		if err != nil || n == 0 {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// ListGroupMembers returns the group's members, by email.
func (s *Store) ListGroupMembers(ctx context.Context, groupID string) ([]*passkeyd.User, error) {
	return readList(ctx, s, "list group members", `
		SELECT `+userColumns+` FROM group_members m JOIN users u ON u.id = m.user_id
		WHERE m.group_id = $1 ORDER BY u.email_key`, []any{groupID}, scanUser)
}

// ListUserGroups returns the account's groups, by name (MemberCount is
// not filled in: the groups claim reads this at every sign-in to an app).
func (s *Store) ListUserGroups(ctx context.Context, userID string) ([]*passkeyd.Group, error) {
	return readList(ctx, s, "list user groups", `
		SELECT `+groupColumns+` FROM group_members m JOIN groups g ON g.id = m.group_id
		WHERE m.user_id = $1 ORDER BY lower(g.name), g.name`, []any{userID},
		func(rows *sql.Rows) (*passkeyd.Group, error) { return scanGroup(rows) })
}

// apiKeyColumns is the column list scanAPIKey reads.
const apiKeyColumns = `id, name, hash, created_by, created_by_id, created_at, last_used_at`

func scanAPIKey(rows interface{ Scan(...any) error }) (*passkeyd.APIKey, error) {
	var k passkeyd.APIKey
	var created, used int64
	if err := rows.Scan(&k.ID, &k.Name, &k.Hash, &k.CreatedBy, &k.CreatedByID, &created, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.LastUsedAt = fromMillis(created), fromMillis(used)
	return &k, nil
}

// CreateAPIKey stores k and records ev. CreatedAt left zero is the
// store's clock.
func (s *Store) CreateAPIKey(ctx context.Context, k *passkeyd.APIKey, ev *passkeyd.Event) error {
	k.Name = strings.TrimSpace(k.Name)
	if k.ID == "" || k.Name == "" || k.Hash == "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "An API key needs an ID, a name and a hash.")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	err := s.write(ctx, "create api key", func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `
			INSERT INTO api_keys (id, name, hash, created_by, created_by_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			k.ID, k.Name, k.Hash, k.CreatedBy, k.CreatedByID, millis(k.CreatedAt)); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT {
		return passkeyd.WrapError(passkeyd.ECONFLICT, "An API key with this name exists already.", err)
	}
	return err
}

// FindAPIKey returns the key with this hash and records its use at now.
func (s *Store) FindAPIKey(ctx context.Context, hash string, now time.Time) (*passkeyd.APIKey, error) {
	var k *passkeyd.APIKey
	err := s.write(ctx, "find api key", func(tx *sql.Tx) error {
		var err error
		k, err = scanAPIKey(s.txQueryRow(ctx, tx, `
			UPDATE api_keys SET last_used_at = $2 WHERE hash = $1 AND hash <> ''
			RETURNING `+apiKeyColumns, hash, millis(now)))
		return err
	})
	if passkeyd.ErrorCode(err) == passkeyd.ENOTFOUND {
		return nil, passkeyd.WrapError(passkeyd.ENOTFOUND, "Unknown or revoked API key.", err)
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// ListAPIKeys returns every key, by name.
func (s *Store) ListAPIKeys(ctx context.Context) ([]*passkeyd.APIKey, error) {
	return readList(ctx, s, "list api keys", `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY name, id`, nil,
		func(rows *sql.Rows) (*passkeyd.APIKey, error) { return scanAPIKey(rows) })
}

// endAdminKeys deletes the API keys that belong to userID, who has just
// stopped being an administrator (the caller's transaction took the role,
// the account or its ownership away), and records an api_key_revoked
// event for each, made by whoever made cause happen.
func (s *Store) endAdminKeys(ctx context.Context, tx *sql.Tx, userID string, cause *passkeyd.Event) error {
	names, err := s.txStrings(ctx, tx, `DELETE FROM api_keys WHERE created_by_id = $1 AND created_by_id <> '' RETURNING name`, userID)
	if err != nil {
		return err
	}
	var actor passkeyd.Actor
	at := s.now()
	if cause != nil {
		actor = passkeyd.Actor{IP: cause.IP, UserAgent: cause.UserAgent, AdminID: cause.AdminID, AdminName: cause.AdminName}
		if !cause.CreatedAt.IsZero() {
			at = cause.CreatedAt
		}
	}
	for _, name := range names {
		ev := passkeyd.NewEvent(at, actor, "", passkeyd.EventAPIKeyRevoked, "",
			"API key "+name+" revoked: the administrator it belonged to no longer is one")
		if err := s.insertEvents(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// RevokeAPIKey deletes a key and records ev.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, ev *passkeyd.Event) error {
	return s.write(ctx, "revoke api key", func(tx *sql.Tx) error {
		if err := expectOne(s.txExec(ctx, tx, `DELETE FROM api_keys WHERE id = $1`, id)); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}
