package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/passkeyd/passkeyd"
)

// SaveChallenge stores a challenge until its ExpiresAt. ECONFLICT if a
// challenge with its ID exists.
func (s *Store) SaveChallenge(ctx context.Context, c *passkeyd.Challenge) error {
	if c.ID == "" || c.Binding == "" || c.Kind == "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "A challenge needs an ID, a binding and a kind.")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	return s.write(ctx, "save challenge", func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `
			INSERT INTO challenges (id, binding, kind, session_data, user_id, email,
				handle, signed_in_user_id, session_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			c.ID, c.Binding, string(c.Kind), c.SessionData, c.UserID, c.Email,
			c.Handle, c.SignedInUserID, c.SessionID, millis(c.CreatedAt), millis(c.ExpiresAt),
		)
		return err
	})
}

// TakeChallenge deletes and returns the challenge with this ID, binding and
// kind that has not expired at now. It is one DELETE ... RETURNING, so of
// several callers racing for a challenge exactly one gets it, also across
// processes on PostgreSQL, where the losers wait for the winner's row lock
// and then find no row. ENOTFOUND for the others and for a challenge that
// is missing, expired, or asked for with the wrong binding or kind (which
// leave it in place for the right caller).
func (s *Store) TakeChallenge(ctx context.Context, id, binding string, kind passkeyd.CeremonyKind, now time.Time) (*passkeyd.Challenge, error) {
	var c passkeyd.Challenge
	var kindText string
	var created, expires int64
	err := s.write(ctx, "take challenge", func(tx *sql.Tx) error {
		err := s.txQueryRow(ctx, tx, `
			DELETE FROM challenges
			WHERE id = $1 AND binding = $2 AND kind = $3 AND expires_at > $4
			RETURNING id, binding, kind, session_data, user_id, email,
				handle, signed_in_user_id, session_id, created_at, expires_at`,
			id, binding, string(kind), millis(now),
		).Scan(&c.ID, &c.Binding, &kindText, &c.SessionData, &c.UserID, &c.Email,
			&c.Handle, &c.SignedInUserID, &c.SessionID, &created, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return passkeyd.WrapError(passkeyd.ENOTFOUND, "This passkey request expired or was used already. Please try again.", err)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	c.Kind = passkeyd.CeremonyKind(kindText)
	c.CreatedAt = fromMillis(created)
	c.ExpiresAt = fromMillis(expires)
	return &c, nil
}
