package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/passkeyd/passkeyd"
)

// sessionColumns is the column list sessionRow.dest scans, for a sessions
// table aliased s.
const sessionColumns = `s.id, s.user_id, s.scope, s.credential_id, s.user_agent, s.ip,
	s.created_at, s.last_seen_at, s.authenticated_at, s.idle_expires_at, s.expires_at`

// sessionEnds is when a session ends, the earlier of its two expiries,
// written exactly as the sessions_ends_at index is (migration 00008), so
// that both databases use the index for it.
const sessionEnds = `(CASE WHEN idle_expires_at < expires_at THEN idle_expires_at ELSE expires_at END)`

// sessionRow receives a row of sessionColumns.
type sessionRow struct {
	s                                                 passkeyd.Session
	scope                                             string
	created, lastSeen, authenticated, idleExp, absExp int64
}

func (r *sessionRow) dest() []any {
	return []any{&r.s.ID, &r.s.UserID, &r.scope, &r.s.CredentialID, &r.s.UserAgent, &r.s.IP,
		&r.created, &r.lastSeen, &r.authenticated, &r.idleExp, &r.absExp}
}

func (r *sessionRow) session() *passkeyd.Session {
	s := r.s
	s.Scope = passkeyd.SessionScope(r.scope)
	s.CreatedAt = fromMillis(r.created)
	s.LastSeenAt = fromMillis(r.lastSeen)
	s.AuthenticatedAt = fromMillis(r.authenticated)
	s.IdleExpiresAt = fromMillis(r.idleExp)
	s.ExpiresAt = fromMillis(r.absExp)
	return &s
}

// scanSession reads a row of sessionColumns, for readList.
func scanSession(rows *sql.Rows) (*passkeyd.Session, error) {
	var r sessionRow
	if err := rows.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.session(), nil
}

// ErrSignInRace is CompleteSignIn's answer when the passkey's counter moved
// since the sign-in was verified: another sign-in with the same counter
// value (a replayed or cloned assertion, or a parallel one) committed
// first.
var ErrSignInRace = passkeyd.Errorf(passkeyd.ECONFLICT,
	"This passkey was just used for another sign-in. Please try again.")

// CompleteSignIn writes a successful sign-in in one transaction: the
// credential's counter, flags and last use, the new session, the removal of
// the session it replaces, and the events. ENOTFOUND if the credential
// disappeared meanwhile (or is not the session user's), ECONFLICT
// (ErrSignInRace) if its counter is no longer in.Use.PreviousSignCount; then
// nothing is written.
//
// The counter update is a compare-and-set: of several sign-ins verified
// against one stored counter, exactly one commits, on any number of
// instances (on PostgreSQL the others wait for its row lock, then find the
// counter changed). A passkey whose counter stays 0 (synced passkeys) has
// nothing to compare and every sign-in passes. Last use never goes
// backwards.
func (s *Store) CompleteSignIn(ctx context.Context, in *passkeyd.SignIn) error {
	if in.Session == nil || in.Session.ID == "" || in.Session.UserID == "" {
		return passkeyd.Errorf(passkeyd.EINVALID, "A sign-in needs a session.")
	}
	use := in.Use
	if use.UsedAt.IsZero() {
		use.UsedAt = s.now()
	}
	return s.write(ctx, "complete sign-in", func(tx *sql.Tx) error {
		if err := s.useChallenge(ctx, tx, in.Challenge); err != nil {
			return err
		}
		// An UPDATE without RETURNING: SQLite runs RETURNING through a
		// temporary table, and the count of changed rows says all we need.
		n, err := rowsAffected(s.txExec(ctx, tx, `
			UPDATE credentials SET
				sign_count = $3,
				backup_eligible = $4,
				backup_state = $5,
				user_verified = $6,
				last_used_at = CASE WHEN last_used_at > $7 THEN last_used_at ELSE $7 END,
				updated_at = $7
			WHERE credential_id = $1 AND user_id = $2 AND sign_count = $8`,
			use.CredentialID, in.Session.UserID, int64(use.SignCount), use.BackupEligible,
			use.BackupState, use.UserVerified, millis(use.UsedAt), int64(use.PreviousSignCount),
		))
		if err != nil {
			return err
		}
		if n == 0 {
			// Tell a vanished passkey from a lost race.
			var stored int64
			err := s.txQueryRow(ctx, tx, `SELECT sign_count FROM credentials WHERE credential_id = $1 AND user_id = $2`,
				use.CredentialID, in.Session.UserID).Scan(&stored)
			if errors.Is(err, sql.ErrNoRows) {
				return passkeyd.Errorf(passkeyd.ENOTFOUND, "Passkey not found.")
			}
			if err != nil {
				return err
			}
			return ErrSignInRace
		}
		if err := s.insertSession(ctx, tx, in.Session); err != nil {
			return err
		}
		if in.ReplacesSession != "" && in.ReplacesSession != in.Session.ID {
			if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE id = $1`, in.ReplacesSession); err != nil {
				return err
			}
		}
		return s.insertEvents(ctx, tx, in.Events...)
	})
}

func (s *Store) insertSession(ctx context.Context, tx *sql.Tx, ss *passkeyd.Session) error {
	if ss.CreatedAt.IsZero() {
		ss.CreatedAt = s.now()
	}
	_, err := s.txExec(ctx, tx, `
		INSERT INTO sessions (id, user_id, scope, credential_id, user_agent, ip,
			created_at, last_seen_at, authenticated_at, idle_expires_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		ss.ID, ss.UserID, string(ss.Scope), ss.CredentialID, ss.UserAgent, ss.IP,
		millis(ss.CreatedAt), millis(ss.LastSeenAt), millis(ss.AuthenticatedAt),
		millis(ss.IdleExpiresAt), millis(ss.ExpiresAt),
	)
	return err
}

// FindSession returns a session that has not expired at now (neither its
// ExpiresAt nor its IdleExpiresAt is at or before now), and its user.
// ENOTFOUND otherwise.
func (s *Store) FindSession(ctx context.Context, id string, now time.Time) (*passkeyd.Session, *passkeyd.User, error) {
	var sr sessionRow
	var ur userRow
	err := s.readQueryRow(ctx, `
		SELECT `+sessionColumns+`, `+userColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id = $1 AND s.expires_at > $2 AND s.idle_expires_at > $2`,
		id, millis(now),
	).Scan(append(sr.dest(), ur.dest()...)...)
	if err != nil {
		return nil, nil, s.fail("find session", err)
	}
	return sr.session(), ur.user(), nil
}

// TouchSession records activity: LastSeenAt and a new IdleExpiresAt.
// ENOTFOUND if the session is gone.
func (s *Store) TouchSession(ctx context.Context, id string, lastSeen, idleExpires time.Time) error {
	return s.write(ctx, "touch session", func(tx *sql.Tx) error {
		n, err := rowsAffected(s.txExec(ctx, tx, `
			UPDATE sessions SET last_seen_at = $2, idle_expires_at = $3 WHERE id = $1`,
			id, millis(lastSeen), millis(idleExpires),
		))
		if err != nil {
			return err
		}
		if n == 0 {
			return passkeyd.Errorf(passkeyd.ENOTFOUND, "Session not found.")
		}
		return nil
	})
}

// DeleteSession ends a session. Deleting a missing session is not an
// error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.write(ctx, "delete session", func(tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE id = $1`, id)
		return err
	})
}
