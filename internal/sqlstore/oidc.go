package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/passkeyd/passkeyd"
)

var _ passkeyd.OIDCStore = (*Store)(nil)

// Lists of URIs and emails are stored as JSON arrays; scopes, prompts and
// authentication methods, which never contain spaces, space-separated.

func jsonList(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list) // a []string always marshals
	return string(b)
}

func fromJSONList(s string) ([]string, error) {
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		return nil, err
	}
	return list, nil
}

func spaceList(list []string) string { return strings.Join(list, " ") }

func fromSpaceList(s string) []string { return strings.Fields(s) }

// oidcClientColumns is the column list oidcClientRow.dest scans, for an
// oidc_clients table aliased c, and the name of one of the groups the
// client admits (NULL for none) from a groups table aliased g joined
// through oidc_client_groups: a client with several groups is several
// rows, which readOIDCClients folds into one.
const oidcClientColumns = `c.id, c.name, c.secret_hash, c.public, c.redirect_uris, c.post_logout_redirect_uris,
	c.scopes, c.id_token_alg, c.access_token_ttl, c.id_token_ttl, c.refresh_token_ttl, c.trusted, c.allowed_users,
	c.allow_unverified_email, c.declared, c.created_at, c.updated_at, c.last_used_at, g.name`

// oidcClientsFrom is the FROM clause of oidcClientColumns.
const oidcClientsFrom = ` FROM oidc_clients c
	LEFT JOIN oidc_client_groups cg ON cg.client_id = c.id
	LEFT JOIN groups g ON g.id = cg.group_id `

type oidcClientRow struct {
	c                              passkeyd.OIDCClient
	redirects, postLogout, allowed string
	scopes                         string
	accessTTL, idTTL, refreshTTL   int64
	created, updated, lastUsed     int64
	group                          sql.NullString
}

func (r *oidcClientRow) dest() []any {
	return []any{&r.c.ID, &r.c.Name, &r.c.SecretHash, &r.c.Public, &r.redirects, &r.postLogout,
		&r.scopes, &r.c.IDTokenAlg, &r.accessTTL, &r.idTTL, &r.refreshTTL, &r.c.Trusted, &r.allowed,
		&r.c.AllowUnverifiedEmail, &r.c.Declared, &r.created, &r.updated, &r.lastUsed, &r.group}
}

func (r *oidcClientRow) client() (*passkeyd.OIDCClient, error) {
	c := r.c
	var err error
	if c.RedirectURIs, err = fromJSONList(r.redirects); err != nil {
		return nil, err
	}
	if c.PostLogoutRedirectURIs, err = fromJSONList(r.postLogout); err != nil {
		return nil, err
	}
	if c.AllowedUsers, err = fromJSONList(r.allowed); err != nil {
		return nil, err
	}
	c.Scopes = fromSpaceList(r.scopes)
	c.AccessTokenTTL = time.Duration(r.accessTTL) * time.Millisecond
	c.IDTokenTTL = time.Duration(r.idTTL) * time.Millisecond
	c.RefreshTokenTTL = time.Duration(r.refreshTTL) * time.Millisecond
	c.CreatedAt, c.UpdatedAt, c.LastUsedAt = fromMillis(r.created), fromMillis(r.updated), fromMillis(r.lastUsed)
	return &c, nil
}

func (s *Store) oidcClientArgs(c *passkeyd.OIDCClient) []any {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	return []any{c.ID, c.Name, c.SecretHash, c.Public, jsonList(c.RedirectURIs), jsonList(c.PostLogoutRedirectURIs),
		spaceList(c.Scopes), c.IDTokenAlg, c.AccessTokenTTL.Milliseconds(), c.IDTokenTTL.Milliseconds(),
		c.RefreshTokenTTL.Milliseconds(), c.Trusted, jsonList(c.AllowedUsers), millis(c.CreatedAt), millis(c.UpdatedAt),
		c.AllowUnverifiedEmail, c.Declared}
}

// setOIDCClientGroups makes the groups named in c.AllowedGroups the ones
// the client admits, by ID: EINVALID for a name no group has.
func (s *Store) setOIDCClientGroups(ctx context.Context, tx *sql.Tx, c *passkeyd.OIDCClient) error {
	if _, err := s.txExec(ctx, tx, `DELETE FROM oidc_client_groups WHERE client_id = $1`, c.ID); err != nil {
		return err
	}
	for _, name := range c.AllowedGroups {
		var id string
		err := s.txQueryRow(ctx, tx, `SELECT id FROM groups WHERE lower(name) = lower($1)`, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return passkeyd.Errorf(passkeyd.EINVALID, "There is no group named %q.", name)
		}
		if err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `
			INSERT INTO oidc_client_groups (client_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			c.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// CreateOIDCClient stores a new client and records ev; ECONFLICT if the
// ID is taken.
func (s *Store) CreateOIDCClient(ctx context.Context, c *passkeyd.OIDCClient, ev *passkeyd.Event) error {
	if c.ID == "" || c.Name == "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "A client needs an ID and a name.")
	}
	return s.write(ctx, "create oidc client", func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `
			INSERT INTO oidc_clients (id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris,
				scopes, id_token_alg, access_token_ttl, id_token_ttl, refresh_token_ttl, trusted, allowed_users,
				created_at, updated_at, allow_unverified_email, declared)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			s.oidcClientArgs(c)...)
		if err != nil {
			return err
		}
		if err := s.setOIDCClientGroups(ctx, tx, c); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// SaveOIDCClient creates the client or replaces the settings of the one
// with its ID, keeping its CreatedAt and LastUsedAt, and records ev. A
// changed secret ends the client's tokens and unredeemed codes first, in
// the same transaction.
func (s *Store) SaveOIDCClient(ctx context.Context, c *passkeyd.OIDCClient, ev *passkeyd.Event) error {
	if c.ID == "" || c.Name == "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "A client needs an ID and a name.")
	}
	return s.write(ctx, "save oidc client", func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM oidc_tokens WHERE client_id = $1
				AND EXISTS (SELECT 1 FROM oidc_clients WHERE id = $1 AND secret_hash <> $2)`,
			`DELETE FROM oidc_auth_requests WHERE client_id = $1 AND code_hash IS NOT NULL
				AND EXISTS (SELECT 1 FROM oidc_clients WHERE id = $1 AND secret_hash <> $2)`,
		} {
			if _, err := s.txExec(ctx, tx, q, c.ID, c.SecretHash); err != nil {
				return err
			}
		}
		_, err := s.txExec(ctx, tx, `
			INSERT INTO oidc_clients (id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris,
				scopes, id_token_alg, access_token_ttl, id_token_ttl, refresh_token_ttl, trusted, allowed_users,
				created_at, updated_at, allow_unverified_email, declared)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			ON CONFLICT (id) DO UPDATE SET
				name = excluded.name, secret_hash = excluded.secret_hash, public = excluded.public,
				redirect_uris = excluded.redirect_uris,
				post_logout_redirect_uris = excluded.post_logout_redirect_uris,
				scopes = excluded.scopes, id_token_alg = excluded.id_token_alg,
				access_token_ttl = excluded.access_token_ttl, id_token_ttl = excluded.id_token_ttl,
				refresh_token_ttl = excluded.refresh_token_ttl, trusted = excluded.trusted,
				allowed_users = excluded.allowed_users, updated_at = excluded.updated_at,
				allow_unverified_email = excluded.allow_unverified_email, declared = excluded.declared`,
			s.oidcClientArgs(c)...)
		if err != nil {
			return err
		}
		if err := s.setOIDCClientGroups(ctx, tx, c); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// FindOIDCClient returns ENOTFOUND for an unknown client.
func (s *Store) FindOIDCClient(ctx context.Context, id string) (*passkeyd.OIDCClient, error) {
	list, err := s.readOIDCClients(ctx, "find oidc client", `SELECT `+oidcClientColumns+oidcClientsFrom+`
		WHERE c.id = $1 ORDER BY lower(g.name), g.name`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, passkeyd.Errorf(passkeyd.ENOTFOUND, "Unknown client.")
	}
	return list[0], nil
}

// ListOIDCClients returns every client, by name.
func (s *Store) ListOIDCClients(ctx context.Context) ([]*passkeyd.OIDCClient, error) {
	return s.readOIDCClients(ctx, "list oidc clients", `SELECT `+oidcClientColumns+oidcClientsFrom+`
		ORDER BY c.name, c.id, lower(g.name), g.name`)
}

// readOIDCClients runs a query of oidcClientColumns whose rows come
// ordered by client, and returns each client once, with the names of
// the groups it admits, in the rows' order.
func (s *Store) readOIDCClients(ctx context.Context, op, q string, args ...any) ([]*passkeyd.OIDCClient, error) {
	rows, err := readList(ctx, s, op, q, args, func(rows *sql.Rows) (*oidcClientRow, error) {
		var r oidcClientRow
		return &r, rows.Scan(r.dest()...)
	})
	if err != nil {
		return nil, err
	}
	var list []*passkeyd.OIDCClient
	for _, r := range rows {
		if n := len(list); n > 0 && list[n-1].ID == r.c.ID {
			list[n-1].AllowedGroups = append(list[n-1].AllowedGroups, r.group.String)
			continue
		}
		c, err := r.client()
		if err != nil {
			return nil, s.fail(op, err)
		}
		if r.group.Valid {
			c.AllowedGroups = []string{r.group.String}
		}
		list = append(list, c)
	}
	return list, nil
}

// DeleteOIDCClient deletes a client; the schema's ON DELETE CASCADE takes
// its requests, tokens and consents with it; ev is recorded in the same
// transaction. ENOTFOUND if unknown.
func (s *Store) DeleteOIDCClient(ctx context.Context, id string, ev *passkeyd.Event) error {
	return s.write(ctx, "delete oidc client", func(tx *sql.Tx) error {
		n, err := rowsAffected(s.txExec(ctx, tx, `DELETE FROM oidc_clients WHERE id = $1`, id))
		if err != nil {
			return err
		}
		if n == 0 {
			return passkeyd.Errorf(passkeyd.ENOTFOUND, "Unknown client.")
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

const oidcAuthRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, response_type, response_mode,
	code_challenge, code_challenge_method, prompt, max_age, login_hint, browser_hash, user_id, credential_id, auth_time,
	amr, done, created_at, expires_at, code_hash, code_expires_at, code_redeemed_at, hint_subject`

type oidcAuthRequestRow struct {
	r                                             passkeyd.OIDCAuthRequest
	scopes, prompt, amr                           string
	codeHash                                      sql.NullString
	authTime, created, expires, codeExp, redeemed int64
}

func (r *oidcAuthRequestRow) dest() []any {
	return []any{&r.r.ID, &r.r.ClientID, &r.r.RedirectURI, &r.scopes, &r.r.State, &r.r.Nonce,
		&r.r.ResponseType, &r.r.ResponseMode, &r.r.CodeChallenge, &r.r.CodeChallengeMethod, &r.prompt,
		&r.r.MaxAge, &r.r.LoginHint, &r.r.BrowserHash, &r.r.UserID, &r.r.CredentialID, &r.authTime, &r.amr, &r.r.Done,
		&r.created, &r.expires, &r.codeHash, &r.codeExp, &r.redeemed, &r.r.HintSubject}
}

func (r *oidcAuthRequestRow) request() *passkeyd.OIDCAuthRequest {
	q := r.r
	q.Scopes, q.Prompt, q.AMR = fromSpaceList(r.scopes), fromSpaceList(r.prompt), fromSpaceList(r.amr)
	q.CodeHash = r.codeHash.String
	q.AuthTime, q.CreatedAt, q.ExpiresAt = fromMillis(r.authTime), fromMillis(r.created), fromMillis(r.expires)
	q.CodeExpiresAt, q.CodeRedeemedAt = fromMillis(r.codeExp), fromMillis(r.redeemed)
	return &q
}

// SaveOIDCAuthRequest stores a new authorization request.
func (s *Store) SaveOIDCAuthRequest(ctx context.Context, q *passkeyd.OIDCAuthRequest) error {
	if q.ID == "" || q.ClientID == "" || q.ExpiresAt.IsZero() {
		return passkeyd.Errorf(passkeyd.EINVALID, "An authorization request needs an ID, a client and an expiry.")
	}
	if q.CreatedAt.IsZero() {
		q.CreatedAt = s.now()
	}
	return s.write(ctx, "save oidc auth request", func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `
			INSERT INTO oidc_auth_requests (id, client_id, redirect_uri, scopes, state, nonce, response_type,
				response_mode, code_challenge, code_challenge_method, prompt, max_age, login_hint,
				browser_hash, created_at, expires_at, hint_subject)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			q.ID, q.ClientID, q.RedirectURI, spaceList(q.Scopes), q.State, q.Nonce, q.ResponseType,
			q.ResponseMode, q.CodeChallenge, q.CodeChallengeMethod, spaceList(q.Prompt), q.MaxAge, q.LoginHint,
			q.BrowserHash, millis(q.CreatedAt), millis(q.ExpiresAt), q.HintSubject)
		return err
	})
}

// FindOIDCAuthRequest returns an unexpired request; ENOTFOUND otherwise.
func (s *Store) FindOIDCAuthRequest(ctx context.Context, id string, now time.Time) (*passkeyd.OIDCAuthRequest, error) {
	var r oidcAuthRequestRow
	err := s.readQueryRow(ctx, `SELECT `+oidcAuthRequestColumns+` FROM oidc_auth_requests
		WHERE id = $1 AND expires_at > $2`, id, millis(now)).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, passkeyd.WrapError(passkeyd.ENOTFOUND, "This sign-in request expired. Please go back to the app and try again.", err)
	}
	if err != nil {
		return nil, s.fail("find oidc auth request", err)
	}
	return r.request(), nil
}

// DeleteOIDCAuthRequest deletes a request not completed. ENOTFOUND
// otherwise.
func (s *Store) DeleteOIDCAuthRequest(ctx context.Context, id string) error {
	return s.write(ctx, "delete oidc auth request", func(tx *sql.Tx) error {
		n, err := rowsAffected(s.txExec(ctx, tx, `
			DELETE FROM oidc_auth_requests WHERE id = $1 AND done = FALSE AND code_hash IS NULL`, id))
		if err != nil {
			return err
		}
		if n == 0 {
			return passkeyd.Errorf(passkeyd.ENOTFOUND, "This sign-in request is over. Please go back to the app.")
		}
		return nil
	})
}

// IssueOIDCCode completes a request and gives it its code in one UPDATE,
// and records the event, in one transaction.
func (s *Store) IssueOIDCCode(ctx context.Context, c *passkeyd.OIDCCodeIssue, ev *passkeyd.Event, now time.Time) error {
	if c.CodeHash == "" || c.UserID == "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "A code needs its hash and a user.")
	}
	return s.write(ctx, "issue oidc code", func(tx *sql.Tx) error {
		n, err := rowsAffected(s.txExec(ctx, tx, `
			UPDATE oidc_auth_requests SET user_id = $2, credential_id = $3, auth_time = $4, amr = $5, done = TRUE,
				code_hash = $6, code_expires_at = $7
			WHERE id = $1 AND expires_at > $8 AND code_hash IS NULL`,
			c.RequestID, c.UserID, c.CredentialID, millis(c.AuthTime), spaceList(c.AMR), c.CodeHash,
			millis(c.CodeExpiresAt), millis(now)))
		if err != nil {
			return err
		}
		if n == 0 {
			return passkeyd.Errorf(passkeyd.ENOTFOUND, "This sign-in request expired. Please go back to the app and try again.")
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// FindOIDCCode returns the request of an unexpired or redeemed code.
func (s *Store) FindOIDCCode(ctx context.Context, codeHash string, now time.Time) (*passkeyd.OIDCAuthRequest, error) {
	var r oidcAuthRequestRow
	err := s.readQueryRow(ctx, `SELECT `+oidcAuthRequestColumns+` FROM oidc_auth_requests
		WHERE code_hash = $1 AND (code_expires_at > $2 OR code_redeemed_at <> 0)`,
		codeHash, millis(now)).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, passkeyd.WrapError(passkeyd.ENOTFOUND, "Unknown or expired code.", err)
	}
	if err != nil {
		return nil, s.fail("find oidc code", err)
	}
	return r.request(), nil
}

// RedeemOIDCCode is one UPDATE ... RETURNING that sets code_redeemed_at
// only where it is still 0: of racing callers exactly one gets a row (on
// PostgreSQL the others wait for its row lock, then find the condition
// false). The winner's tokens are inserted in the same transaction, so a
// loser, which sees the code redeemed only once that transaction has
// committed, always finds them to revoke.
func (s *Store) RedeemOIDCCode(ctx context.Context, codeHash string, now time.Time, tokens ...*passkeyd.OIDCToken) (*passkeyd.OIDCAuthRequest, error) {
	var r oidcAuthRequestRow
	var reused *passkeyd.OIDCAuthRequest
	err := s.write(ctx, "redeem oidc code", func(tx *sql.Tx) error {
		err := s.txQueryRow(ctx, tx, `
			UPDATE oidc_auth_requests SET code_redeemed_at = $2
			WHERE code_hash = $1 AND code_redeemed_at = 0 AND code_expires_at > $2
			RETURNING `+oidcAuthRequestColumns,
			codeHash, millis(now)).Scan(r.dest()...)
		if err == nil {
			return s.insertOIDCTokens(ctx, tx, tokens)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var old oidcAuthRequestRow
		err = s.txQueryRow(ctx, tx, `SELECT `+oidcAuthRequestColumns+` FROM oidc_auth_requests
			WHERE code_hash = $1 AND code_redeemed_at <> 0`, codeHash).Scan(old.dest()...)
		if errors.Is(err, sql.ErrNoRows) {
			return passkeyd.WrapError(passkeyd.ENOTFOUND, "Unknown or expired code.", err)
		}
		if err != nil {
			return err
		}
		reused = old.request()
		return passkeyd.Errorf(passkeyd.ECONFLICT, "This code was used already.")
	})
	if reused != nil {
		return reused, err
	}
	if err != nil {
		return nil, err
	}
	return r.request(), nil
}

const oidcTokenColumns = `id, kind, grant_id, client_id, user_id, scopes, audience, auth_time, amr,
	credential_id, created_at, expires_at, used_at`

type oidcTokenRow struct {
	t                                passkeyd.OIDCToken
	kind, scopes, audience, amr      string
	authTime, created, expires, used int64
}

func (r *oidcTokenRow) dest() []any {
	return []any{&r.t.ID, &r.kind, &r.t.GrantID, &r.t.ClientID, &r.t.UserID, &r.scopes, &r.audience,
		&r.authTime, &r.amr, &r.t.CredentialID, &r.created, &r.expires, &r.used}
}

func (r *oidcTokenRow) token() *passkeyd.OIDCToken {
	t := r.t
	t.Kind = passkeyd.OIDCTokenKind(r.kind)
	t.Scopes, t.Audience, t.AMR = fromSpaceList(r.scopes), fromSpaceList(r.audience), fromSpaceList(r.amr)
	t.AuthTime, t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMillis(r.authTime), fromMillis(r.created), fromMillis(r.expires), fromMillis(r.used)
	return &t
}

func (s *Store) insertOIDCTokens(ctx context.Context, tx *sql.Tx, tokens []*passkeyd.OIDCToken) error {
	for i, t := range tokens {
		if t.ID == "" || t.GrantID == "" || (t.Kind != passkeyd.OIDCAccessToken && t.Kind != passkeyd.OIDCRefreshToken) {
			return passkeyd.Errorf(passkeyd.EINVALID, "A token needs an ID, a grant and a kind.")
		}
		if t.CreatedAt.IsZero() {
			t.CreatedAt = s.now()
		}
		if _, err := s.txExec(ctx, tx, `
			INSERT INTO oidc_tokens (id, kind, grant_id, client_id, user_id, scopes, audience, auth_time, amr,
				created_at, expires_at, credential_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			t.ID, string(t.Kind), t.GrantID, t.ClientID, t.UserID, spaceList(t.Scopes), spaceList(t.Audience),
			millis(t.AuthTime), spaceList(t.AMR), millis(t.CreatedAt), millis(t.ExpiresAt), t.CredentialID); err != nil {
			return err
		}
		if i > 0 && t.ClientID == tokens[i-1].ClientID && t.UserID == tokens[i-1].UserID && t.CreatedAt.Equal(tokens[i-1].CreatedAt) {
			continue // the use was recorded with the token before (an access token's refresh token)
		}
		if _, err := s.txExec(ctx, tx, `UPDATE oidc_clients SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2`,
			t.ClientID, millis(t.CreatedAt)); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `UPDATE oidc_consents SET last_used_at = $3
			WHERE user_id = $1 AND client_id = $2 AND last_used_at < $3`,
			t.UserID, t.ClientID, millis(t.CreatedAt)); err != nil {
			return err
		}
	}
	return nil
}

// CreateOIDCTokens stores tokens and records the use of their client and
// of the user's consent to it.
func (s *Store) CreateOIDCTokens(ctx context.Context, tokens ...*passkeyd.OIDCToken) error {
	return s.write(ctx, "create oidc tokens", func(tx *sql.Tx) error {
		return s.insertOIDCTokens(ctx, tx, tokens)
	})
}

// RotateOIDCRefreshToken marks the refresh token used with one UPDATE
// that only matches an unused token, so of racing callers exactly one
// rotates it, and stores next in the same transaction.
func (s *Store) RotateOIDCRefreshToken(ctx context.Context, id string, now time.Time, next ...*passkeyd.OIDCToken) (*passkeyd.OIDCToken, error) {
	var r oidcTokenRow
	var reused *passkeyd.OIDCToken
	err := s.write(ctx, "rotate oidc refresh token", func(tx *sql.Tx) error {
		err := s.txQueryRow(ctx, tx, `
			UPDATE oidc_tokens SET used_at = $2
			WHERE id = $1 AND kind = 'refresh' AND used_at = 0 AND expires_at > $2
			RETURNING `+oidcTokenColumns, id, millis(now)).Scan(r.dest()...)
		if errors.Is(err, sql.ErrNoRows) {
			var old oidcTokenRow
			err := s.txQueryRow(ctx, tx, `SELECT `+oidcTokenColumns+` FROM oidc_tokens
				WHERE id = $1 AND kind = 'refresh'`, id).Scan(old.dest()...)
			if errors.Is(err, sql.ErrNoRows) {
				return passkeyd.WrapError(passkeyd.ENOTFOUND, "Unknown refresh token.", err)
			}
			if err != nil {
				return err
			}
			reused = old.token()
			return passkeyd.Errorf(passkeyd.ECONFLICT, "This refresh token was used already.")
		}
		if err != nil {
			return err
		}
		return s.insertOIDCTokens(ctx, tx, next)
	})
	if reused != nil {
		return reused, err
	}
	if err != nil {
		return nil, err
	}
	return r.token(), nil
}

// FindOIDCToken returns an unexpired, unused token of kind.
func (s *Store) FindOIDCToken(ctx context.Context, id string, kind passkeyd.OIDCTokenKind, now time.Time) (*passkeyd.OIDCToken, error) {
	var r oidcTokenRow
	err := s.readQueryRow(ctx, `SELECT `+oidcTokenColumns+` FROM oidc_tokens
		WHERE id = $1 AND kind = $2 AND used_at = 0 AND expires_at > $3`,
		id, string(kind), millis(now)).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, passkeyd.WrapError(passkeyd.ENOTFOUND, "Unknown or expired token.", err)
	}
	if err != nil {
		return nil, s.fail("find oidc token", err)
	}
	return r.token(), nil
}

// FindOIDCRefreshToken returns an unexpired refresh token, used or not.
func (s *Store) FindOIDCRefreshToken(ctx context.Context, id string, now time.Time) (*passkeyd.OIDCToken, error) {
	var r oidcTokenRow
	err := s.readQueryRow(ctx, `SELECT `+oidcTokenColumns+` FROM oidc_tokens
		WHERE id = $1 AND kind = 'refresh' AND expires_at > $2`,
		id, millis(now)).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, passkeyd.WrapError(passkeyd.ENOTFOUND, "Unknown or expired token.", err)
	}
	if err != nil {
		return nil, s.fail("find oidc refresh token", err)
	}
	return r.token(), nil
}

// DeleteOIDCToken revokes one token.
func (s *Store) DeleteOIDCToken(ctx context.Context, id string) error {
	return s.write(ctx, "delete oidc token", func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `DELETE FROM oidc_tokens WHERE id = $1`, id)
		return err
	})
}

// RevokeOIDCGrant deletes every token of a grant.
func (s *Store) RevokeOIDCGrant(ctx context.Context, grantID string) (int64, error) {
	var n int64
	err := s.write(ctx, "revoke oidc grant", func(tx *sql.Tx) error {
		var err error
		n, err = rowsAffected(s.txExec(ctx, tx, `DELETE FROM oidc_tokens WHERE grant_id = $1`, grantID))
		return err
	})
	return n, err
}

// SaveOIDCConsent creates a consent or widens it to c.Scopes as well.
func (s *Store) SaveOIDCConsent(ctx context.Context, c *passkeyd.OIDCConsent) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	return s.write(ctx, "save oidc consent", func(tx *sql.Tx) error {
		var old string
		err := s.txQueryRow(ctx, tx, `SELECT scopes FROM oidc_consents WHERE user_id = $1 AND client_id = $2`,
			c.UserID, c.ClientID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = s.txExec(ctx, tx, `
				INSERT INTO oidc_consents (user_id, client_id, scopes, created_at, last_used_at, credential_id)
				VALUES ($1, $2, $3, $4, $5, $6)`,
				c.UserID, c.ClientID, spaceList(c.Scopes), millis(c.CreatedAt), millis(c.LastUsedAt), c.CredentialID)
			return err
		}
		if err != nil {
			return err
		}
		scopes := fromSpaceList(old)
		for _, sc := range c.Scopes {
			if !contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
		_, err = s.txExec(ctx, tx, `UPDATE oidc_consents SET scopes = $3, credential_id = $4 WHERE user_id = $1 AND client_id = $2`,
			c.UserID, c.ClientID, spaceList(scopes), c.CredentialID)
		return err
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// FindOIDCConsent returns ENOTFOUND if the user never consented.
func (s *Store) FindOIDCConsent(ctx context.Context, userID, clientID string) (*passkeyd.OIDCConsent, error) {
	c := passkeyd.OIDCConsent{UserID: userID, ClientID: clientID}
	var scopes string
	var created, used int64
	err := s.readQueryRow(ctx, `
		SELECT k.scopes, k.credential_id, k.created_at, k.last_used_at, c.name
		FROM oidc_consents k JOIN oidc_clients c ON c.id = k.client_id
		WHERE k.user_id = $1 AND k.client_id = $2`, userID, clientID).Scan(&scopes, &c.CredentialID, &created, &used, &c.ClientName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, passkeyd.WrapError(passkeyd.ENOTFOUND, "No consent.", err)
	}
	if err != nil {
		return nil, s.fail("find oidc consent", err)
	}
	c.Scopes, c.CreatedAt, c.LastUsedAt = fromSpaceList(scopes), fromMillis(created), fromMillis(used)
	return &c, nil
}

// ListOIDCConnectedApps returns the clients that hold a consent of the
// user or a live refresh token for them, most recently used first. A
// client with both is one app, with the consent's scopes.
func (s *Store) ListOIDCConnectedApps(ctx context.Context, userID string, now time.Time) ([]*passkeyd.OIDCConnectedApp, error) {
	rows, err := s.read.QueryContext(ctx, `
		SELECT c.id, c.name, c.trusted, COALESCE(k.scopes, ''), COALESCE(k.created_at, 0), COALESCE(k.last_used_at, 0),
			t.scopes, t.created_at, t.last_used_at
		FROM oidc_clients c
		LEFT JOIN oidc_consents k ON k.client_id = c.id AND k.user_id = $1
		LEFT JOIN (
			SELECT client_id, MIN(scopes) AS scopes, MIN(created_at) AS created_at, MAX(created_at) AS last_used_at
			FROM oidc_tokens
			WHERE user_id = $1 AND kind = 'refresh' AND used_at = 0 AND expires_at > $2
			GROUP BY client_id
		) t ON t.client_id = c.id
		WHERE k.user_id IS NOT NULL OR t.client_id IS NOT NULL`, userID, millis(now))
	if err != nil {
		return nil, s.fail("list oidc connected apps", err)
	}
	defer rows.Close()
	var list []*passkeyd.OIDCConnectedApp
	for rows.Next() {
		var a passkeyd.OIDCConnectedApp
		var scopes string
		var created, used int64
		var tokenScopes sql.NullString
		var tokenCreated, tokenUsed sql.NullInt64
		if err := rows.Scan(&a.ClientID, &a.ClientName, &a.Trusted, &scopes, &created, &used,
			&tokenScopes, &tokenCreated, &tokenUsed); err != nil {
			return nil, s.fail("list oidc connected apps", err)
		}
		if created == 0 { // no consent: what the refresh tokens say
			scopes, created = tokenScopes.String, tokenCreated.Int64
		}
		used = max(used, tokenUsed.Int64)
		a.Scopes, a.CreatedAt, a.LastUsedAt = fromSpaceList(scopes), fromMillis(created), fromMillis(used)
		list = append(list, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list oidc connected apps", err)
	}
	slices.SortStableFunc(list, func(a, b *passkeyd.OIDCConnectedApp) int {
		if c := b.LastUsedAt.Compare(a.LastUsedAt); c != 0 {
			return c
		}
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ClientID, b.ClientID)
	})
	return list, nil
}

// RevokeOIDCConsent deletes the consent, the client's tokens for the user
// and the user's unredeemed requests of the client, and records ev, in one
// transaction.
func (s *Store) RevokeOIDCConsent(ctx context.Context, userID, clientID string, ev *passkeyd.Event) error {
	return s.write(ctx, "revoke oidc consent", func(tx *sql.Tx) error {
		n, err := rowsAffected(s.txExec(ctx, tx, `DELETE FROM oidc_consents WHERE user_id = $1 AND client_id = $2`, userID, clientID))
		if err != nil {
			return err
		}
		k, err := rowsAffected(s.txExec(ctx, tx, `DELETE FROM oidc_tokens WHERE user_id = $1 AND client_id = $2`, userID, clientID))
		if err != nil {
			return err
		}
		if n+k == 0 {
			return passkeyd.Errorf(passkeyd.ENOTFOUND, "This app is not connected to your account.")
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM oidc_auth_requests WHERE user_id = $1 AND client_id = $2 AND code_redeemed_at = 0`,
			userID, clientID); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// AddOIDCKey stores k and moves the retirement of the other keys of its
// algorithm to retireOthersAt, or earlier if they retire earlier.
func (s *Store) AddOIDCKey(ctx context.Context, k *passkeyd.OIDCKey, retireOthersAt time.Time) error {
	if k.ID == "" || k.Algorithm == "" || len(k.PrivateKey) == 0 || k.Generation < 1 {
		return passkeyd.Errorf(passkeyd.EINVALID, "A signing key needs an ID, an algorithm, a key and a generation.")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	return s.write(ctx, "add oidc key", func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `UPDATE oidc_keys SET retire_at = $2 WHERE algorithm = $1 AND (retire_at = 0 OR retire_at > $2)`,
			k.Algorithm, millis(retireOthersAt)); err != nil {
			return err
		}
		// The unique index on (algorithm, generation) makes a second key of
		// one generation an ErrUnique, hence ECONFLICT, rolling back the
		// retirements above with it.
		_, err := s.txExec(ctx, tx, `
			INSERT INTO oidc_keys (id, algorithm, private_key, created_at, sign_from, retire_at, generation)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			k.ID, k.Algorithm, k.PrivateKey, millis(k.CreatedAt), millis(k.SignFrom), millis(k.RetireAt), k.Generation)
		return err
	})
}

// ListOIDCKeys returns the keys not retired at now, newest first. The
// provider reads them for every ID token it signs, so the query goes
// through the statement cache (it was parsed anew each time).
func (s *Store) ListOIDCKeys(ctx context.Context, now time.Time) ([]*passkeyd.OIDCKey, error) {
	return readList(ctx, s, "list oidc keys", `
		SELECT id, algorithm, private_key, created_at, sign_from, retire_at, generation FROM oidc_keys
		WHERE retire_at = 0 OR retire_at > $1
		ORDER BY created_at DESC, generation DESC, id`, []any{millis(now)}, func(rows *sql.Rows) (*passkeyd.OIDCKey, error) {
		var k passkeyd.OIDCKey
		var created, signFrom, retire int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &created, &signFrom, &retire, &k.Generation); err != nil {
			return nil, err
		}
		k.CreatedAt, k.SignFrom, k.RetireAt = fromMillis(created), fromMillis(signFrom), fromMillis(retire)
		return &k, nil
	})
}
