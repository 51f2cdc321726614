package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/passkeyd/passkeyd"
)

// credentialColumns is the column list credentialRow.dest scans, for a
// credentials table aliased c.
const credentialColumns = `c.id, c.user_id, c.credential_id, c.public_key, c.sign_count,
	c.transports, c.aaguid, c.attestation_format, c.attestation_type, c.backup_eligible,
	c.backup_state, c.user_verified, c.attachment, c.name, c.clone_warning,
	c.created_at, c.last_used_at, c.updated_at`

// credentialRow receives a row of credentialColumns.
type credentialRow struct {
	c                          passkeyd.Credential
	signCount                  int64
	transports                 string
	created, lastUsed, updated int64
}

func (r *credentialRow) dest() []any { return r.appendDest(make([]any, 0, 18)) }

func (r *credentialRow) appendDest(dest []any) []any {
	return append(dest, &r.c.ID, &r.c.UserID, &r.c.CredentialID, &r.c.PublicKey, &r.signCount,
		&r.transports, &r.c.AAGUID, &r.c.AttestationFormat, &r.c.AttestationType, &r.c.BackupEligible,
		&r.c.BackupState, &r.c.UserVerified, &r.c.Attachment, &r.c.Name, &r.c.CloneWarning,
		&r.created, &r.lastUsed, &r.updated)
}

// credential returns the row's credential: r's own, not a copy (a row is
// scanned once and read once).
func (r *credentialRow) credential() (*passkeyd.Credential, error) {
	c := &r.c
	c.SignCount = uint32(r.signCount)
	c.Transports = nil
	if r.transports != "[]" { // none, the common case, needs no decoding
		if err := json.Unmarshal([]byte(r.transports), &c.Transports); err != nil {
			return nil, fmt.Errorf("decode transports of credential %s: %w", c.ID, err)
		}
		if len(c.Transports) == 0 {
			c.Transports = nil
		}
	}
	c.CreatedAt = fromMillis(r.created)
	c.LastUsedAt = fromMillis(r.lastUsed)
	c.UpdatedAt = fromMillis(r.updated)
	return c, nil
}

// AddCredential adds a passkey to an existing account and records ev (if
// not nil), in one transaction. ECONFLICT if the credential ID is
// registered already (to anyone), ENOTFOUND if the user does not exist.
func (s *Store) AddCredential(ctx context.Context, c *passkeyd.Credential, ev *passkeyd.Event) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.write(ctx, "add credential", func(tx *sql.Tx) error {
		if err := s.insertCredential(ctx, tx, c); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

func (s *Store) insertCredential(ctx context.Context, tx *sql.Tx, c *passkeyd.Credential) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	transports := c.Transports
	if transports == nil {
		transports = []string{}
	}
	tj, err := json.Marshal(transports)
	if err != nil {
		return err
	}
	n, err := rowsAffected(s.txExec(ctx, tx, `
		INSERT INTO credentials (id, user_id, credential_id, public_key, sign_count,
			transports, aaguid, attestation_format, attestation_type, backup_eligible,
			backup_state, user_verified, attachment, name, clone_warning,
			created_at, last_used_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (credential_id) DO NOTHING`,
		c.ID, c.UserID, c.CredentialID, c.PublicKey, int64(c.SignCount),
		string(tj), c.AAGUID, c.AttestationFormat, c.AttestationType, c.BackupEligible,
		c.BackupState, c.UserVerified, c.Attachment, c.Name, c.CloneWarning,
		millis(c.CreatedAt), millis(c.LastUsedAt), millis(c.UpdatedAt),
	))
	if err != nil {
		return err
	}
	if n == 0 {
		return passkeyd.Errorf(passkeyd.ECONFLICT, "This passkey is registered already.")
	}
	return nil
}

// FindCredential returns a passkey by the authenticator's credential ID,
// with its owner. ENOTFOUND if unknown.
func (s *Store) FindCredential(ctx context.Context, credentialID []byte) (*passkeyd.Credential, *passkeyd.User, error) {
	var cr credentialRow
	var ur userRow
	dest := make([]any, 0, 27) // both rows' columns, in one slice
	err := s.readQueryRow(ctx, `
		SELECT `+credentialColumns+`, `+userColumns+`
		FROM credentials c JOIN users u ON u.id = c.user_id
		WHERE c.credential_id = $1`,
		credentialID,
	).Scan(ur.appendDest(cr.appendDest(dest))...)
	if err != nil {
		return nil, nil, s.fail("find credential", err)
	}
	c, err := cr.credential()
	if err != nil {
		return nil, nil, s.fail("find credential", err)
	}
	return c, ur.user(), nil
}

// ListCredentials returns a user's passkeys, oldest first; none (and no
// error) for an unknown user.
func (s *Store) ListCredentials(ctx context.Context, userID string) ([]*passkeyd.Credential, error) {
	return readList(ctx, s, "list credentials", `
		SELECT `+credentialColumns+`
		FROM credentials c
		WHERE c.user_id = $1
		ORDER BY c.created_at, c.id`,
		[]any{userID}, func(rows *sql.Rows) (*passkeyd.Credential, error) {
			var r credentialRow
			if err := rows.Scan(r.dest()...); err != nil {
				return nil, err
			}
			return r.credential()
		})
}

// FlagCredentialCloned marks a passkey as possibly cloned and records ev
// (if not nil), in one transaction with the record that the ceremony that
// showed it is used. ErrChallengeUsed if it was (a response sent twice, not
// a copy), ENOTFOUND if the passkey is unknown; nothing is written then.
func (s *Store) FlagCredentialCloned(ctx context.Context, used passkeyd.UsedChallenge, credentialID []byte, ev *passkeyd.Event) error {
	return s.write(ctx, "flag credential cloned", func(tx *sql.Tx) error {
		if err := s.useChallenge(ctx, tx, used); err != nil {
			return err
		}
		n, err := rowsAffected(s.txExec(ctx, tx, `
			UPDATE credentials SET clone_warning = $2, updated_at = $3
			WHERE credential_id = $1`,
			credentialID, true, millis(s.now()),
		))
		if err != nil {
			return err
		}
		if n == 0 {
			return passkeyd.Errorf(passkeyd.ENOTFOUND, "Passkey not found.")
		}
		return s.insertEvents(ctx, tx, ev)
	})
}
