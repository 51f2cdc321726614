package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/passkeyd/passkeyd"
)

var _ passkeyd.AccountStore = (*Store)(nil)

// ListUsers returns users ordered by email key, after afterEmailKey, at
// most limit.
func (s *Store) ListUsers(ctx context.Context, afterEmailKey string, limit int) ([]*passkeyd.User, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return readList(ctx, s, "list users", `
		SELECT `+userColumns+` FROM users u WHERE u.email_key > $1 ORDER BY u.email_key LIMIT $2`,
		[]any{afterEmailKey, limit}, scanUser)
}

// VerifyEmail marks the account's address verified if it is still email.
func (s *Store) VerifyEmail(ctx context.Context, userID, email string, at time.Time, ev *passkeyd.Event) error {
	return s.write(ctx, "verify email", func(tx *sql.Tx) error {
		if err := expectOne(s.txExec(ctx, tx, `
			UPDATE users SET email_verified_at = $3, updated_at = $3 WHERE id = $1 AND email_key = $2`,
			userID, passkeyd.EmailKey(email), millis(at))); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// ChangeEmail replaces the address with a verified new one and ends the
// pending recovery and email-change links; ECONFLICT if another account
// has the address.
func (s *Store) ChangeEmail(ctx context.Context, userID, newEmail string, at time.Time, ev *passkeyd.Event) error {
	email, err := passkeyd.ValidateEmail(newEmail)
	if err != nil {
		return err
	}
	return s.write(ctx, "change email", func(tx *sql.Tx) error {
		if err := expectOne(s.txExec(ctx, tx, `
			UPDATE users SET email = $2, email_key = $3, email_verified_at = $4, updated_at = $4 WHERE id = $1`,
			userID, email, passkeyd.EmailKey(email), millis(at))); err != nil {
			return err
		}
		if _, err := s.endPendingLinks(ctx, tx, userID); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// SetProfile sets the display name and username ("" for unset) and
// records ev; ECONFLICT if another account has the username (the unique
// index decides between two accounts racing for one).
func (s *Store) SetProfile(ctx context.Context, userID, displayName, username string, ev *passkeyd.Event) error {
	displayName, err := passkeyd.ValidateDisplayName(displayName)
	if err != nil {
		return err
	}
	if username, err = passkeyd.ValidateUsername(username); err != nil {
		return err
	}
	err = s.write(ctx, "set profile", func(tx *sql.Tx) error {
		if err := expectOne(s.txExec(ctx, tx, `UPDATE users SET display_name = $2, username = $3, updated_at = $4 WHERE id = $1`,
			userID, displayName, username, millis(s.now()))); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
	if passkeyd.ErrorCode(err) == passkeyd.ECONFLICT { // only the username is unique here
		return passkeyd.WrapError(passkeyd.ECONFLICT, "That username is taken. Please choose another.", err)
	}
	return err
}

// SetUserDisabled disables (ending every session, pending link and app
// grant) or re-enables a user. ECONFLICT if it would disable the last
// enabled administrator.
func (s *Store) SetUserDisabled(ctx context.Context, userID string, disabled bool, ev *passkeyd.Event) error {
	return s.write(ctx, "set user disabled", func(tx *sql.Tx) error {
		err := s.keepAnAdmin(ctx, tx, userID, disabled, func() error {
			return expectOne(s.txExec(ctx, tx, `UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1`,
				userID, disabled, millis(s.now())))
		})
		if err != nil {
			return err
		}
		if disabled {
			if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
				return err
			}
			if _, err := s.endPendingLinks(ctx, tx, userID); err != nil {
				return err
			}
			if err := s.endOIDCGrants(ctx, tx, userID, ""); err != nil {
				return err
			}
		}
		if err := s.insertEvents(ctx, tx, ev); err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		return s.endAdminKeys(ctx, tx, userID, ev)
	})
}

// DeleteUser deletes a user; passkeys, sessions, tokens, codes, app
// grants and group memberships go with it (ON DELETE CASCADE). The
// security log stays. ECONFLICT if it is the last enabled administrator.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	return s.DeleteAccount(ctx, userID, nil)
}

// RenameCredential sets the friendly name of one of the user's passkeys.
func (s *Store) RenameCredential(ctx context.Context, userID, id, name string, ev *passkeyd.Event) error {
	if name == "" || len(name) > passkeyd.MaxCredentialNameLength {
		return passkeyd.Errorf(passkeyd.EINVALID, "A passkey name needs 1 to %d characters.", passkeyd.MaxCredentialNameLength)
	}
	return s.write(ctx, "rename credential", func(tx *sql.Tx) error {
		if err := expectOne(s.txExec(ctx, tx, `
			UPDATE credentials SET name = $3, updated_at = $4 WHERE id = $2 AND user_id = $1`,
			userID, id, name, millis(s.now()))); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// ErrLastWayIn is DeleteCredential's answer for the account's last passkey
// when nothing else can get its owner back in.
var ErrLastWayIn = passkeyd.Errorf(passkeyd.ECONFLICT,
	"This is your only passkey and your account has no other way back in. Verify your email address or create recovery codes first, or add another passkey.")

// DeleteCredential deletes one of the user's passkeys and the sessions
// signed in with it, refusing the last one unless a verified email or an
// unused recovery code remains.
func (s *Store) DeleteCredential(ctx context.Context, userID, id string, ev *passkeyd.Event) error {
	return s.write(ctx, "delete credential", func(tx *sql.Tx) error {
		// Lock the user's row first, so that deletes of the same user's
		// passkeys take turns. Without it, on PostgreSQL (READ COMMITTED),
		// two transactions deleting the last two passkeys each count the
		// other's passkey as still there, and both commit: an account with
		// no way in. On SQLite the transaction holds the write lock
		// already and this changes nothing.
		if _, err := s.txExec(ctx, tx, `UPDATE users SET updated_at = updated_at WHERE id = $1`, userID); err != nil {
			return err
		}
		if err := expectOne(s.txExec(ctx, tx, `DELETE FROM credentials WHERE id = $2 AND user_id = $1`, userID, id)); err != nil {
			return err
		}
		// Checked after the delete, in the same transaction and under the
		// user's lock: two deletes racing for the last two passkeys cannot
		// both pass.
		var others, codes int
		var verified int64
		if err := s.txQueryRow(ctx, tx, `
			SELECT (SELECT COUNT(*) FROM credentials WHERE user_id = $1),
			       (SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at = 0),
			       (SELECT email_verified_at FROM users WHERE id = $1)`, userID).Scan(&others, &codes, &verified); err != nil {
			return err
		}
		if others == 0 && codes == 0 && verified == 0 {
			return ErrLastWayIn
		}
		// A passkey is removed because it is lost or may be stolen: the
		// sessions it opened go with it, the caller's own included, and so
		// do the app grants made in them.
		if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = $1 AND credential_id = $2`, userID, id); err != nil {
			return err
		}
		if err := s.endOIDCGrants(ctx, tx, userID, id); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// ListSessions returns the user's unexpired sessions, newest first.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]*passkeyd.Session, error) {
	return readList(ctx, s, "list sessions", `
		SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = $1 AND s.expires_at > $2 AND s.idle_expires_at > $2
		ORDER BY s.last_seen_at DESC, s.created_at DESC`,
		[]any{userID, millis(now)}, scanSession)
}

// DeleteUserSession ends one of the user's sessions.
func (s *Store) DeleteUserSession(ctx context.Context, userID, id string, ev *passkeyd.Event) error {
	return s.write(ctx, "delete user session", func(tx *sql.Tx) error {
		if err := expectOne(s.txExec(ctx, tx, `DELETE FROM sessions WHERE id = $2 AND user_id = $1`, userID, id)); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// DeleteOtherSessions ends the user's sessions but keepID, and the pending
// recovery and email-change links.
func (s *Store) DeleteOtherSessions(ctx context.Context, userID, keepID string, ev *passkeyd.Event) (int64, error) {
	var n int64
	err := s.write(ctx, "delete other sessions", func(tx *sql.Tx) error {
		var err error
		n, err = rowsAffected(s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepID))
		if err != nil {
			return err
		}
		links, err := s.endPendingLinks(ctx, tx, userID)
		if err != nil {
			return err
		}
		if n == 0 && links == 0 {
			return nil
		}
		return s.insertEvents(ctx, tx, ev)
	})
	return n, err
}

// endPendingLinks deletes the user's unused recovery and email-change
// links (and the link that would cancel the change). Whatever ends other
// sessions or changes who controls the address calls it in its
// transaction: a link mailed before must not outlive that. It returns how
// many it deleted.
//
// A takeover link is not among them: it goes to an address nobody has
// confirmed, and whoever holds the account's sessions (perhaps the person
// who signed up with someone else's address) must not be able to end it.
func (s *Store) endPendingLinks(ctx context.Context, tx *sql.Tx, userID string) (int64, error) {
	return rowsAffected(s.txExec(ctx, tx, `DELETE FROM tokens WHERE user_id = $1 AND purpose IN ($2, $3, $4)`,
		userID, string(passkeyd.TokenRecovery), string(passkeyd.TokenChangeEmail), string(passkeyd.TokenCancelEmailChange)))
}

// endOIDCGrants ends the account's app grants: its OpenID Connect tokens
// (access and refresh), consents, and the requests it completed (with
// their codes, redeemed or not, so a code in flight is refused). With
// credentialID, only those made in sessions of that passkey. Whatever
// ends sessions because the account may be in the wrong hands calls it in
// its transaction, so no app keeps a grant past that moment.
//
// The tokens are deleted twice. On PostgreSQL (READ COMMITTED) a statement
// sees what was committed when it began: a refresh rotation (or a code
// redemption) that has locked its token (or request) row and not yet
// committed makes the first DELETE wait for that row, and the tokens it
// then commits are invisible to that statement. The second DELETE, a
// later statement, sees them. A rotation or redemption that comes after
// the first DELETE waits for this transaction and finds its row gone. On
// SQLite the transactions take turns and the second finds nothing.
func (s *Store) endOIDCGrants(ctx context.Context, tx *sql.Tx, userID, credentialID string) error {
	for _, table := range []string{"oidc_tokens", "oidc_consents", "oidc_auth_requests", "oidc_tokens"} {
		q, args := `DELETE FROM `+table+` WHERE user_id = $1`, []any{userID}
		if credentialID != "" {
			q, args = q+` AND credential_id = $2`, append(args, credentialID)
		}
		if _, err := s.txExec(ctx, tx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceSession deletes oldID and stores ss, in one transaction.
func (s *Store) ReplaceSession(ctx context.Context, oldID string, ss *passkeyd.Session) error {
	return s.write(ctx, "replace session", func(tx *sql.Tx) error {
		if err := expectOne(s.txExec(ctx, tx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, oldID, ss.UserID)); err != nil {
			return err
		}
		return s.insertSession(ctx, tx, ss)
	})
}

// Answers of StartRecovery.
var (
	errRecoveryDisabled = passkeyd.Errorf(passkeyd.EFORBIDDEN, "This account is disabled.")
	errLinkOldAddress   = passkeyd.Errorf(passkeyd.EINVALID,
		"This link was sent to an address that is no longer the account's. Ask for a new one.")
)

// StartRecovery spends a recovery link or code and opens a recovery
// session, in one transaction: if anything fails, the link or code is not
// spent.
func (s *Store) StartRecovery(ctx context.Context, rec *passkeyd.Recovery) (*passkeyd.User, error) {
	if rec.Session == nil || rec.Session.ID == "" || (rec.TokenID == "") == (rec.CodeID == "") {
		return nil, passkeyd.Errorf(passkeyd.EINVALID, "A recovery needs a session and either a link or a code.")
	}
	var u *passkeyd.User
	err := s.write(ctx, "start recovery", func(tx *sql.Tx) error {
		userID, sentTo := rec.UserID, ""
		if rec.TokenID != "" {
			purpose := passkeyd.TokenRecovery
			if rec.Takeover {
				purpose = passkeyd.TokenTakeover
			}
			err := s.txQueryRow(ctx, tx, `
				DELETE FROM tokens WHERE id = $1 AND purpose = $2 AND expires_at > $3
				RETURNING user_id, email`,
				rec.TokenID, string(purpose), millis(rec.At)).Scan(&userID, &sentTo)
			if err != nil {
				return err
			}
		} else if err := expectOne(s.txExec(ctx, tx, `
			UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND id = $2 AND used_at = 0`,
			userID, rec.CodeID, millis(rec.At))); err != nil {
			return err
		}
		var r userRow
		if err := s.txQueryRow(ctx, tx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, userID).Scan(r.dest()...); err != nil {
			return err
		}
		u = r.user()
		if u.Disabled {
			return errRecoveryDisabled
		}
		if rec.TokenID != "" && passkeyd.EmailKey(sentTo) != passkeyd.EmailKey(u.Email) {
			return errLinkOldAddress
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return err
		}
		if _, err := s.endPendingLinks(ctx, tx, userID); err != nil {
			return err
		}
		// Whoever held a session (a copied cookie, or the person who
		// signed up with someone else's address) may have let apps in:
		// they all ask again.
		if err := s.endOIDCGrants(ctx, tx, userID, ""); err != nil {
			return err
		}
		if rec.Takeover {
			if err := s.takeOver(ctx, tx, u, rec.At); err != nil {
				return err
			}
		}
		rec.Session.UserID = userID
		if err := s.insertSession(ctx, tx, rec.Session); err != nil {
			return err
		}
		if rec.Event != nil {
			rec.Event.UserID = userID
		}
		if err := s.insertEvents(ctx, tx, rec.Event); err != nil {
			return err
		}
		if rec.Takeover {
			return s.endAdminKeys(ctx, tx, userID, rec.Event)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// takeOver gives an account whose address was never confirmed to the
// owner of that address: it confirms the address and deletes what whoever
// created the account could use to get back in (every passkey, recovery
// code and remaining link). The administrator's role goes too (an
// administrator may grant it again): it was given to whoever held the
// account, who may not be the address's owner. That may leave no
// administrator, and then the next start prints a setup link, as on a
// new server. The caller has checked that the link went to the
// account's address, ends the sessions and the account's API keys.
func (s *Store) takeOver(ctx context.Context, tx *sql.Tx, u *passkeyd.User, at time.Time) error {
	if _, err := s.txExec(ctx, tx, `
		UPDATE users SET email_verified_at = $2, admin = FALSE, updated_at = $2 WHERE id = $1`, u.ID, millis(at)); err != nil {
		return err
	}
	for _, q := range []string{
		`DELETE FROM credentials WHERE user_id = $1`,
		`DELETE FROM recovery_codes WHERE user_id = $1`,
		`DELETE FROM tokens WHERE user_id = $1`,
	} {
		if _, err := s.txExec(ctx, tx, q, u.ID); err != nil {
			return err
		}
	}
	u.EmailVerifiedAt, u.UpdatedAt = at, at
	return nil
}

// CancelEmailChange spends a cancel link and ends the pending email-change
// link, in one transaction.
func (s *Store) CancelEmailChange(ctx context.Context, tokenID string, at time.Time, ev *passkeyd.Event) (*passkeyd.User, error) {
	var u *passkeyd.User
	err := s.write(ctx, "cancel email change", func(tx *sql.Tx) error {
		var userID string
		if err := s.txQueryRow(ctx, tx, `
			DELETE FROM tokens WHERE id = $1 AND purpose = $2 AND expires_at > $3
			RETURNING user_id`,
			tokenID, string(passkeyd.TokenCancelEmailChange), millis(at)).Scan(&userID); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM tokens WHERE user_id = $1 AND purpose = $2`,
			userID, string(passkeyd.TokenChangeEmail)); err != nil {
			return err
		}
		// Whoever asked for the change was signed in, and the address's
		// owner says it was not them: that session, and whatever apps it
		// let in, must not outlive the answer. The address's owner keeps
		// their links (a recovery link is how they get back in).
		if _, err := s.txExec(ctx, tx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return err
		}
		if err := s.endOIDCGrants(ctx, tx, userID, ""); err != nil {
			return err
		}
		var r userRow
		if err := s.txQueryRow(ctx, tx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, userID).Scan(r.dest()...); err != nil {
			return err
		}
		u = r.user()
		if ev != nil {
			ev.UserID = userID
		}
		return s.insertEvents(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// CountActiveSessions counts unexpired sessions.
func (s *Store) CountActiveSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	if err := s.readQueryRow(ctx, `
		SELECT COUNT(*) FROM sessions WHERE `+sessionEnds+` > $1`, millis(now)).Scan(&n); err != nil {
		return 0, s.fail("count sessions", err)
	}
	return n, nil
}

// SaveToken stores an emailed token and ends the account's earlier tokens
// of its purpose (for a sign-up token, which has no account: the earlier
// sign-up tokens sent to its address; for an admin setup token, which has
// neither: every earlier one).
func (s *Store) SaveToken(ctx context.Context, t *passkeyd.Token) error {
	if t.ID == "" || t.Purpose == "" || t.ExpiresAt.IsZero() {
		return passkeyd.Errorf(passkeyd.EINVALID, "A token needs an ID, a purpose and an expiry.")
	}
	signUp := t.Purpose == passkeyd.TokenSignUp
	if accountless := signUp || t.Purpose == passkeyd.TokenAdminSetup; accountless != (t.UserID == "") || (signUp && t.Email == "") {
		return passkeyd.Errorf(passkeyd.EINVALID, "A sign-up token needs an address and no user, an admin setup token neither; every other token needs a user.")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	return s.write(ctx, "save token", func(tx *sql.Tx) error {
		// A new link replaces the last: one asked for again because the
		// first went astray must leave the first useless.
		var err error
		switch {
		case t.Purpose == passkeyd.TokenAdminSetup:
			_, err = s.txExec(ctx, tx, `DELETE FROM tokens WHERE user_id IS NULL AND purpose = $1`, string(t.Purpose))
		case t.UserID == "":
			_, err = s.txExec(ctx, tx, `DELETE FROM tokens WHERE user_id IS NULL AND purpose = $1 AND email = $2`,
				string(t.Purpose), t.Email)
		default:
			_, err = s.txExec(ctx, tx, `DELETE FROM tokens WHERE user_id = $1 AND purpose = $2`,
				t.UserID, string(t.Purpose))
		}
		if err != nil {
			return err
		}
		_, err = s.txExec(ctx, tx, `
			INSERT INTO tokens (id, user_id, purpose, email, created_at, expires_at) VALUES ($1, NULLIF($2, ''), $3, $4, $5, $6)`,
			t.ID, t.UserID, string(t.Purpose), t.Email, millis(t.CreatedAt), millis(t.ExpiresAt))
		return err
	})
}

// TakeToken atomically deletes and returns an unexpired token.
func (s *Store) TakeToken(ctx context.Context, id string, purpose passkeyd.TokenPurpose, now time.Time) (*passkeyd.Token, error) {
	t := &passkeyd.Token{}
	var purposeText string
	var created, expires int64
	err := s.write(ctx, "take token", func(tx *sql.Tx) error {
		return s.txQueryRow(ctx, tx, `
			DELETE FROM tokens WHERE id = $1 AND purpose = $2 AND expires_at > $3
			RETURNING id, COALESCE(user_id, ''), purpose, email, created_at, expires_at`,
			id, string(purpose), millis(now)).Scan(&t.ID, &t.UserID, &purposeText, &t.Email, &created, &expires)
	})
	if err != nil {
		return nil, err
	}
	t.Purpose = passkeyd.TokenPurpose(purposeText)
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	return t, nil
}

// ReplaceRecoveryCodes stores a new set of codes, deleting the old set.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, codes []*passkeyd.RecoveryCode, ev *passkeyd.Event) error {
	now := s.now()
	return s.write(ctx, "replace recovery codes", func(tx *sql.Tx) error {
		// Lock the user's row first, as DeleteCredential does, so that
		// replacements for one user take turns. Without it, on PostgreSQL
		// (READ COMMITTED), the second DELETE does not see the first's new
		// codes, and both sets stay valid.
		if _, err := s.txExec(ctx, tx, `UPDATE users SET updated_at = updated_at WHERE id = $1`, userID); err != nil {
			return err
		}
		if _, err := s.txExec(ctx, tx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return err
		}
		for _, c := range codes {
			if c.CreatedAt.IsZero() {
				c.CreatedAt = now
			}
			if _, err := s.txExec(ctx, tx, `
				INSERT INTO recovery_codes (id, user_id, hash, created_at) VALUES ($1, $2, $3, $4)`,
				c.ID, userID, c.Hash, millis(c.CreatedAt)); err != nil {
				return err
			}
		}
		return s.insertEvents(ctx, tx, ev)
	})
}

// FindRecoveryCode returns an unused code of the user.
func (s *Store) FindRecoveryCode(ctx context.Context, userID, id string) (*passkeyd.RecoveryCode, error) {
	c := &passkeyd.RecoveryCode{}
	var created int64
	err := s.readQueryRow(ctx, `
		SELECT id, user_id, hash, created_at FROM recovery_codes WHERE user_id = $1 AND id = $2 AND used_at = 0`,
		userID, id).Scan(&c.ID, &c.UserID, &c.Hash, &created)
	if err != nil {
		return nil, s.fail("find recovery code", err)
	}
	c.CreatedAt = fromMillis(created)
	return c, nil
}

// CountRecoveryCodes counts the user's unused codes.
func (s *Store) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.readQueryRow(ctx, `
		SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at = 0`, userID).Scan(&n); err != nil {
		return 0, s.fail("count recovery codes", err)
	}
	return n, nil
}

// expectOne turns an exec that changed no row into ENOTFOUND.
func expectOne(res sql.Result, err error) error {
	n, err := rowsAffected(res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return passkeyd.Errorf(passkeyd.ENOTFOUND, "Not found.")
	}
	return nil
}
