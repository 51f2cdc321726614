package sqlstore

import (
	"context"
	"database/sql"

	"github.com/passkeyd/passkeyd"
)

// useChallenge records, inside the transaction that completes a ceremony,
// that its challenge is used. The ID is the table's primary key and the
// insert does nothing on a conflict, so of several transactions naming one
// challenge exactly one inserts the row; on PostgreSQL the others wait for
// it to commit or roll back first. ErrChallengeUsed for the losers, and
// then the caller's transaction writes nothing.
func (s *Store) useChallenge(ctx context.Context, tx *sql.Tx, c passkeyd.UsedChallenge) error {
	if c.ID == "" || c.ExpiresAt.IsZero() {
		return passkeyd.Errorf(passkeyd.EINVALID, "A ceremony needs its challenge's ID and expiry.")
	}
	n, err := rowsAffected(s.txExec(ctx, tx, `
		INSERT INTO used_challenges (id, expires_at) VALUES ($1, $2)
		ON CONFLICT (id) DO NOTHING`,
		c.ID, millis(c.ExpiresAt)))
	if err != nil {
		return err
	}
	if n == 0 {
		return passkeyd.ErrChallengeUsed
	}
	return nil
}

// CompleteRegistration writes a verified registration in one transaction:
// the used challenge, the new account (r.User, if set) and its passkey, the
// events, and the session it opens (replacing r.ReplacesSession, if set).
// See passkeyd.UserStore.
func (s *Store) CompleteRegistration(ctx context.Context, r *passkeyd.Registration) error {
	c := r.Credential
	if c == nil {
		return passkeyd.Errorf(passkeyd.EINVALID, "A registration needs a passkey.")
	}
	if r.User != nil {
		if err := r.User.Validate(); err != nil {
			return err
		}
		if c.UserID != r.User.ID {
			return passkeyd.Errorf(passkeyd.EINVALID, "The passkey belongs to another user.")
		}
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if r.Session == nil && r.ReplacesSession != "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "A session replacement needs the new session.")
	}
	return s.write(ctx, "complete registration", func(tx *sql.Tx) error {
		if err := s.useChallenge(ctx, tx, r.Challenge); err != nil {
			return err
		}
		if r.User != nil {
			if err := s.insertUser(ctx, tx, r.User); err != nil {
				return err
			}
		}
		if err := s.insertCredential(ctx, tx, c); err != nil {
			return err
		}
		if err := s.insertEvents(ctx, tx, r.Events...); err != nil {
			return err
		}
		if r.Session == nil {
			return nil
		}
		if r.ReplacesSession != "" {
			if err := expectOne(s.txExec(ctx, tx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`,
				r.ReplacesSession, r.Session.UserID)); err != nil {
				return err
			}
		}
		return s.insertSession(ctx, tx, r.Session)
	})
}
