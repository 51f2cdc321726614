package sqlstore

import (
	"context"
	"database/sql"
	"math"

	"github.com/passkeyd/passkeyd"
)

// RecordEvent appends e to the security log and sets its ID (and its
// CreatedAt, if zero, to the store's clock).
func (s *Store) RecordEvent(ctx context.Context, e *passkeyd.Event) error {
	return s.write(ctx, "record event", func(tx *sql.Tx) error {
		return s.insertEvents(ctx, tx, e)
	})
}

// insertEvents inserts the events that are not nil and sets their IDs.
const insertEvent = `
	INSERT INTO events (user_id, type, credential_id, ip, user_agent, detail, client_id, admin_id, admin_name, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, events ...*passkeyd.Event) error {
	for _, e := range events {
		if e == nil {
			continue
		}
		if e.Type == "" {
			return passkeyd.Errorf(passkeyd.EINVALID, "An event needs a type.")
		}
		if e.CreatedAt.IsZero() {
			e.CreatedAt = s.now()
		}
		args := []any{e.UserID, e.Type, e.CredentialID, e.IP, e.UserAgent, e.Detail, e.ClientID, e.AdminID, e.AdminName, millis(e.CreatedAt)}
		if s.dialect.LastInsertID {
			res, err := s.txExec(ctx, tx, insertEvent, args...)
			if err != nil {
				return err
			}
			if e.ID, err = res.LastInsertId(); err != nil {
				return err
			}
			continue
		}
		if err := s.txQueryRow(ctx, tx, insertEvent+` RETURNING id`, args...).Scan(&e.ID); err != nil {
			return err
		}
	}
	return nil
}

// ListEvents returns a user's events, newest first, with IDs below before
// (0: from the newest), at most limit (none if limit is not positive).
func (s *Store) ListEvents(ctx context.Context, userID string, before int64, limit int) ([]*passkeyd.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	return readList(ctx, s, "list events", `
		SELECT `+eventColumns+`
		FROM events
		WHERE user_id = $1 AND id < $2
		ORDER BY id DESC
		LIMIT $3`,
		[]any{userID, before, limit}, scanEvent)
}

// eventColumns is the column list scanEvent reads.
const eventColumns = `id, user_id, type, credential_id, ip, user_agent, detail, client_id, admin_id, admin_name, created_at`

// scanEvent reads a row of eventColumns, for readList.
func scanEvent(rows *sql.Rows) (*passkeyd.Event, error) {
	var e passkeyd.Event
	var created int64
	if err := rows.Scan(&e.ID, &e.UserID, &e.Type, &e.CredentialID, &e.IP, &e.UserAgent, &e.Detail,
		&e.ClientID, &e.AdminID, &e.AdminName, &created); err != nil {
		return nil, err
	}
	e.CreatedAt = fromMillis(created)
	return &e, nil
}
