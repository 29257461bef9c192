package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

// tsLayout is fixed-width so stored times compare correctly as text.
const tsLayout = "2006-01-02T15:04:05.000000000Z"

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(tsLayout)
}

func parseTS(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(tsLayout, s)
}

const selectUser = "SELECT id, username, role, password_hash, disabled, must_change_password, created_at, updated_at, last_login FROM users"

func scanUser(r Row) (*store.User, error) {
	var u store.User
	var created, updated, last string
	if err := r.Scan(&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.Disabled, &u.MustChangePassword, &created, &updated, &last); err != nil {
		return nil, err
	}
	var err error
	if u.CreatedAt, err = parseTS(created); err != nil {
		return nil, fmt.Errorf("user %d created_at: %w", u.ID, err)
	}
	if u.UpdatedAt, err = parseTS(updated); err != nil {
		return nil, fmt.Errorf("user %d updated_at: %w", u.ID, err)
	}
	if u.LastLogin, err = parseTS(last); err != nil {
		return nil, fmt.Errorf("user %d last_login: %w", u.ID, err)
	}
	return &u, nil
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) || isNoRows(err) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

func isUnique(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "unique") || strings.Contains(msg, "duplicate key")
}

// CreateUser inserts a user.
func (s *DB) CreateUser(ctx context.Context, u *store.User) error {
	now := store.Now()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	u.UpdatedAt = now
	err := s.SQL.QueryRowContext(ctx, `INSERT INTO users (username, role, password_hash, disabled, must_change_password, created_at, updated_at, last_login)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		u.Username, u.Role, u.PasswordHash, u.Disabled, u.MustChangePassword, ts(u.CreatedAt), ts(u.UpdatedAt), ts(u.LastLogin)).Scan(&u.ID)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("user %q: %w", u.Username, store.ErrExists)
		}
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// GetUser returns a user by id.
func (s *DB) GetUser(ctx context.Context, id int64) (*store.User, error) {
	u, err := scanUser(s.SQL.QueryRowContext(ctx, selectUser+" WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("user %d", id))
	}
	return u, nil
}

// GetUserByName returns a user by name, case-insensitively.
func (s *DB) GetUserByName(ctx context.Context, username string) (*store.User, error) {
	u, err := scanUser(s.SQL.QueryRowContext(ctx, selectUser+" WHERE lower(username) = lower($1)", username))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("user %q", username))
	}
	return u, nil
}

// ListUsers returns every user by name.
func (s *DB) ListUsers(ctx context.Context) ([]*store.User, error) {
	rows, err := s.SQL.QueryContext(ctx, selectUser+" ORDER BY lower(username)")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers counts accounts (first start creates an admin when 0).
func (s *DB) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.SQL.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

// UpdateUser writes a user's mutable fields.
func (s *DB) UpdateUser(ctx context.Context, u *store.User) error {
	u.UpdatedAt = store.Now()
	res, err := s.SQL.ExecContext(ctx, `UPDATE users SET role = $2, password_hash = $3, disabled = $4, must_change_password = $5, updated_at = $6, last_login = $7 WHERE id = $1`,
		u.ID, u.Role, u.PasswordHash, u.Disabled, u.MustChangePassword, ts(u.UpdatedAt), ts(u.LastLogin))
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %d: %w", u.ID, store.ErrNotFound)
	}
	return nil
}

// CreateSession stores a session.
func (s *DB) CreateSession(ctx context.Context, se *store.Session) error {
	_, err := s.SQL.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		se.IDHash, se.UserID, se.CSRFToken, ts(se.CreatedAt), ts(se.LastSeen), ts(se.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session for user %d: %w", se.UserID, err)
	}
	return nil
}

// GetSession returns a session by the hash of its id.
func (s *DB) GetSession(ctx context.Context, idHash string) (*store.Session, error) {
	var se store.Session
	var created, seen, expires string
	err := s.SQL.QueryRowContext(ctx, "SELECT id_hash, user_id, csrf_token, created_at, last_seen, expires_at FROM sessions WHERE id_hash = $1", idHash).
		Scan(&se.IDHash, &se.UserID, &se.CSRFToken, &created, &seen, &expires)
	if err != nil {
		return nil, notFound(err, "session")
	}
	for _, p := range []struct {
		dst *time.Time
		src string
	}{{&se.CreatedAt, created}, {&se.LastSeen, seen}, {&se.ExpiresAt, expires}} {
		if *p.dst, err = parseTS(p.src); err != nil {
			return nil, fmt.Errorf("session of user %d: %w", se.UserID, err)
		}
	}
	return &se, nil
}

// TouchSession records activity (idle expiry counts from it).
func (s *DB) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	_, err := s.SQL.ExecContext(ctx, "UPDATE sessions SET last_seen = $2 WHERE id_hash = $1", idHash, ts(at))
	return err
}

// DeleteSession signs one session out.
func (s *DB) DeleteSession(ctx context.Context, idHash string) error {
	_, err := s.SQL.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = $1", idHash)
	return err
}

// DeleteUserSessions signs a user out everywhere.
func (s *DB) DeleteUserSessions(ctx context.Context, userID int64) error {
	_, err := s.SQL.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
	return err
}

// DeleteExpiredSessions removes expired and idle sessions.
func (s *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	res, err := s.SQL.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < $1 OR last_seen < $2", ts(now), ts(idleBefore))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// SaveView stores a saved view.
func (s *DB) SaveView(ctx context.Context, v *store.SavedView) error {
	if v.CreatedAt.IsZero() {
		v.CreatedAt = store.Now()
	}
	err := s.SQL.QueryRowContext(ctx, "INSERT INTO saved_views (user_id, name, query, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
		v.UserID, v.Name, v.Query, ts(v.CreatedAt)).Scan(&v.ID)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("saved view %q: %w", v.Name, store.ErrExists)
		}
		return fmt.Errorf("save view %q: %w", v.Name, err)
	}
	return nil
}

// ListViews returns a user's saved views by name.
func (s *DB) ListViews(ctx context.Context, userID int64) ([]*store.SavedView, error) {
	rows, err := s.SQL.QueryContext(ctx, "SELECT id, user_id, name, query, created_at FROM saved_views WHERE user_id = $1 ORDER BY name, id", userID)
	if err != nil {
		return nil, fmt.Errorf("list saved views: %w", err)
	}
	defer rows.Close()
	var out []*store.SavedView
	for rows.Next() {
		var v store.SavedView
		var created string
		if err := rows.Scan(&v.ID, &v.UserID, &v.Name, &v.Query, &created); err != nil {
			return nil, err
		}
		if v.CreatedAt, err = parseTS(created); err != nil {
			return nil, fmt.Errorf("saved view %d: %w", v.ID, err)
		}
		out = append(out, &v)
	}
	return out, rows.Err()
}

// DeleteView removes one of a user's saved views.
func (s *DB) DeleteView(ctx context.Context, userID, id int64) error {
	res, err := s.SQL.ExecContext(ctx, "DELETE FROM saved_views WHERE id = $1 AND user_id = $2", id, userID)
	if err != nil {
		return fmt.Errorf("delete saved view %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("saved view %d: %w", id, store.ErrNotFound)
	}
	return nil
}
