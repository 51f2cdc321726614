package sqlstore

import (
	"context"
	"database/sql"

	"github.com/passkeyd/passkeyd"
)

// userColumns is the column list userRow.dest scans, for a users table
// aliased u.
const userColumns = `u.id, u.email, u.display_name, u.username, u.handle, u.email_verified_at,
	u.disabled, u.created_at, u.updated_at`

// userRow receives a row of userColumns.
type userRow struct {
	u                          passkeyd.User
	verified, created, updated int64
}

func (r *userRow) dest() []any { return r.appendDest(make([]any, 0, 9)) }

func (r *userRow) appendDest(dest []any) []any {
	return append(dest, &r.u.ID, &r.u.Email, &r.u.DisplayName, &r.u.Username, &r.u.Handle, &r.verified,
		&r.u.Disabled, &r.created, &r.updated)
}

// user returns the row's user: r's own, not a copy (a row is scanned once
// and read once).
func (r *userRow) user() *passkeyd.User {
	u := &r.u
	u.EmailVerifiedAt = fromMillis(r.verified)
	u.CreatedAt = fromMillis(r.created)
	u.UpdatedAt = fromMillis(r.updated)
	return u
}

// scanUser reads a row of userColumns, for readList.
func scanUser(rows *sql.Rows) (*passkeyd.User, error) {
	var r userRow
	if err := rows.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.user(), nil
}

// CreateUser stores a new account with its first passkey and ev (if not
// nil), in one transaction. ECONFLICT if the email (case-insensitively) or
// the credential ID is taken, and then nothing is written. EINVALID if u or
// first does not validate, or first belongs to another user. CreatedAt and
// UpdatedAt left zero are set to the store's clock.
func (s *Store) CreateUser(ctx context.Context, u *passkeyd.User, first *passkeyd.Credential, ev *passkeyd.Event) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if first == nil {
		return passkeyd.Errorf(passkeyd.EINVALID, "An account needs a passkey.")
	}
	if first.UserID != u.ID {
		return passkeyd.Errorf(passkeyd.EINVALID, "The passkey belongs to another user.")
	}
	if err := first.Validate(); err != nil {
		return err
	}
	return s.write(ctx, "create user", func(tx *sql.Tx) error {
		if err := s.insertUser(ctx, tx, u); err != nil {
			return err
		}
		if err := s.insertCredential(ctx, tx, first); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, u *passkeyd.User) error {
	now := s.now()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	// ON CONFLICT DO NOTHING tells a taken email apart from other
	// conflicts without parsing driver messages. On PostgreSQL it waits for
	// a concurrent insert of the same key to commit or roll back first.
	n, err := rowsAffected(s.txExec(ctx, tx, `
		INSERT INTO users (id, email, email_key, display_name, username, handle,
			email_verified_at, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (email_key) DO NOTHING`,
		u.ID, u.Email, passkeyd.EmailKey(u.Email), u.DisplayName, u.Username, u.Handle,
		millis(u.EmailVerifiedAt), u.Disabled, millis(u.CreatedAt), millis(u.UpdatedAt),
	))
	if err != nil {
		return err
	}
	if n == 0 {
		return passkeyd.Errorf(passkeyd.ECONFLICT, "An account with this email address exists already.")
	}
	return nil
}

// FindUserByID returns ENOTFOUND if there is no such user.
func (s *Store) FindUserByID(ctx context.Context, id string) (*passkeyd.User, error) {
	var r userRow
	err := s.readQueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id).Scan(r.dest()...)
	if err != nil {
		return nil, s.fail("find user by id", err)
	}
	return r.user(), nil
}

// FindUserByEmail looks up by passkeyd.EmailKey(email); ENOTFOUND if none.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*passkeyd.User, error) {
	var r userRow
	err := s.readQueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email_key = $1`,
		passkeyd.EmailKey(email)).Scan(r.dest()...)
	if err != nil {
		return nil, s.fail("find user by email", err)
	}
	return r.user(), nil
}
