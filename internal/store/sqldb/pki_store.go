package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/medwarden/medwarden/internal/store"
)

var _ store.SensorStore = (*DB)(nil)

// CreateEnrolmentToken stores a new enrolment token. The name must not
// belong to a sensor nor to another token that can still be used.
func (s *DB) CreateEnrolmentToken(ctx context.Context, t *store.EnrolmentToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = store.Now()
	}
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create enrolment token for %q: %w", t.SensorName, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM sensors WHERE name = $1) +
		(SELECT COUNT(*) FROM sensor_enrolment_tokens WHERE sensor_name = $1 AND used_at = '' AND expires_at > $2)`,
		t.SensorName, ts(t.CreatedAt)).Scan(&n); err != nil {
		return fmt.Errorf("create enrolment token for %q: %w", t.SensorName, err)
	}
	if n > 0 {
		return fmt.Errorf("sensor name %q is taken by a sensor or a pending enrolment token: %w", t.SensorName, store.ErrExists)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sensor_enrolment_tokens (hash, sensor_name, created_at, created_by, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, t.Hash, t.SensorName, ts(t.CreatedAt), t.CreatedBy, ts(t.ExpiresAt)); err != nil {
		if isUnique(err) {
			return fmt.Errorf("enrolment token for %q: %w", t.SensorName, store.ErrExists)
		}
		return fmt.Errorf("create enrolment token for %q: %w", t.SensorName, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create enrolment token for %q: %w", t.SensorName, err)
	}
	return nil
}

// ListEnrolmentTokens lists every enrolment token, newest first.
func (s *DB) ListEnrolmentTokens(ctx context.Context) ([]*store.EnrolmentToken, error) {
	rows, err := s.SQL.QueryContext(ctx, `SELECT hash, sensor_name, created_at, created_by, expires_at, used_at, sensor_id
		FROM sensor_enrolment_tokens ORDER BY created_at DESC, sensor_name`)
	if err != nil {
		return nil, fmt.Errorf("list enrolment tokens: %w", err)
	}
	defer rows.Close()
	var out []*store.EnrolmentToken
	for rows.Next() {
		var t store.EnrolmentToken
		var created, expires, used string
		if err := rows.Scan(&t.Hash, &t.SensorName, &created, &t.CreatedBy, &expires, &used, &t.SensorID); err != nil {
			return nil, fmt.Errorf("list enrolment tokens: %w", err)
		}
		if err := parseAll("enrolment token "+t.SensorName, []string{"created_at", "expires_at", "used_at"},
			[]string{created, expires, used}, []*time.Time{&t.CreatedAt, &t.ExpiresAt, &t.UsedAt}); err != nil {
			return nil, err
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

func parseAll(what string, names, vals []string, dst []*time.Time) error {
	for i, v := range vals {
		t, err := parseTS(v)
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, names[i], err)
		}
		*dst[i] = t
	}
	return nil
}

// Enrol redeems an enrolment token and creates the sensor with its first
// certificate, all in one transaction.
func (s *DB) Enrol(ctx context.Context, hash string, now time.Time, sn *store.Sensor, c *store.SensorCert) error {
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("enrol sensor: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	// The conditional UPDATE is the one-time check: of two racing
	// enrolments with the same token only one changes the row.
	var name, by string
	err = tx.QueryRowContext(ctx, `UPDATE sensor_enrolment_tokens SET used_at = $2, sensor_id = $3
		WHERE hash = $1 AND used_at = '' AND expires_at > $2 RETURNING sensor_name, created_by`, hash, ts(now), sn.ID).Scan(&name, &by)
	if err != nil {
		return notFound(err, "enrolment token (unknown, used or expired)")
	}
	sn.Name, sn.CreatedBy, sn.CreatedAt = name, by, now
	if _, err := tx.ExecContext(ctx, `INSERT INTO sensors (id, name, created_at, created_by) VALUES ($1, $2, $3, $4)`,
		sn.ID, sn.Name, ts(now), sn.CreatedBy); err != nil {
		if isUnique(err) {
			return fmt.Errorf("sensor %q: %w", sn.Name, store.ErrExists)
		}
		return fmt.Errorf("enrol sensor %q: %w", sn.Name, err)
	}
	c.SensorID = sn.ID
	if err := insertCert(ctx, tx, c); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("enrol sensor %q: %w", sn.Name, err)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func insertCert(ctx context.Context, ex execer, c *store.SensorCert) error {
	if c.IssuedAt.IsZero() {
		c.IssuedAt = store.Now()
	}
	if _, err := ex.ExecContext(ctx, `INSERT INTO sensor_certs (serial, sensor_id, not_before, not_after, issued_at)
		VALUES ($1, $2, $3, $4, $5)`, c.Serial, c.SensorID, ts(c.NotBefore), ts(c.NotAfter), ts(c.IssuedAt)); err != nil {
		if isUnique(err) {
			return fmt.Errorf("certificate serial %s: %w", c.Serial, store.ErrExists)
		}
		return fmt.Errorf("record certificate %s of sensor %s: %w", c.Serial, c.SensorID, err)
	}
	return nil
}

const selectSensor = "SELECT id, name, created_at, created_by, revoked_at, last_seen FROM sensors"

func scanSensor(r Row) (*store.Sensor, error) {
	var sn store.Sensor
	var created, revoked, seen string
	if err := r.Scan(&sn.ID, &sn.Name, &created, &sn.CreatedBy, &revoked, &seen); err != nil {
		return nil, err
	}
	if err := parseAll("sensor "+sn.ID, []string{"created_at", "revoked_at", "last_seen"},
		[]string{created, revoked, seen}, []*time.Time{&sn.CreatedAt, &sn.RevokedAt, &sn.LastSeen}); err != nil {
		return nil, err
	}
	return &sn, nil
}

// GetSensor returns one sensor by id.
func (s *DB) GetSensor(ctx context.Context, id string) (*store.Sensor, error) {
	sn, err := scanSensor(s.SQL.QueryRowContext(ctx, selectSensor+" WHERE id = $1", id))
	if err != nil {
		return nil, notFound(err, "sensor "+id)
	}
	return sn, nil
}

// GetSensorByName returns one sensor by name.
func (s *DB) GetSensorByName(ctx context.Context, name string) (*store.Sensor, error) {
	sn, err := scanSensor(s.SQL.QueryRowContext(ctx, selectSensor+" WHERE name = $1", name))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("sensor %q", name))
	}
	return sn, nil
}

// ListSensors lists every sensor by name.
func (s *DB) ListSensors(ctx context.Context) ([]*store.Sensor, error) {
	rows, err := s.SQL.QueryContext(ctx, selectSensor+" ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list sensors: %w", err)
	}
	defer rows.Close()
	var out []*store.Sensor
	for rows.Next() {
		sn, err := scanSensor(rows)
		if err != nil {
			return nil, fmt.Errorf("list sensors: %w", err)
		}
		out = append(out, sn)
	}
	return out, rows.Err()
}

// AddSensorCert records a certificate issued to an existing sensor.
func (s *DB) AddSensorCert(ctx context.Context, c *store.SensorCert) error {
	return insertCert(ctx, s.SQL, c)
}

const selectCert = "SELECT serial, sensor_id, not_before, not_after, issued_at, revoked_at FROM sensor_certs"

func scanCert(r Row) (*store.SensorCert, error) {
	var c store.SensorCert
	var nb, na, issued, revoked string
	if err := r.Scan(&c.Serial, &c.SensorID, &nb, &na, &issued, &revoked); err != nil {
		return nil, err
	}
	if err := parseAll("certificate "+c.Serial, []string{"not_before", "not_after", "issued_at", "revoked_at"},
		[]string{nb, na, issued, revoked}, []*time.Time{&c.NotBefore, &c.NotAfter, &c.IssuedAt, &c.RevokedAt}); err != nil {
		return nil, err
	}
	return &c, nil
}

// GetSensorCert returns a certificate by serial.
func (s *DB) GetSensorCert(ctx context.Context, serial string) (*store.SensorCert, error) {
	c, err := scanCert(s.SQL.QueryRowContext(ctx, selectCert+" WHERE serial = $1", serial))
	if err != nil {
		return nil, notFound(err, "sensor certificate "+serial)
	}
	return c, nil
}

// ListSensorCerts lists a sensor's certificates, newest first.
func (s *DB) ListSensorCerts(ctx context.Context, sensorID string) ([]*store.SensorCert, error) {
	rows, err := s.SQL.QueryContext(ctx, selectCert+" WHERE sensor_id = $1 ORDER BY issued_at DESC, serial", sensorID)
	if err != nil {
		return nil, fmt.Errorf("list certificates of sensor %s: %w", sensorID, err)
	}
	defer rows.Close()
	var out []*store.SensorCert
	for rows.Next() {
		c, err := scanCert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeSensor revokes a sensor and all of its certificates at once.
func (s *DB) RevokeSensor(ctx context.Context, id string, at time.Time) error {
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("revoke sensor %s: %w", id, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	res, err := tx.ExecContext(ctx, "UPDATE sensors SET revoked_at = CASE WHEN revoked_at = '' THEN $2 ELSE revoked_at END WHERE id = $1", id, ts(at))
	if err != nil {
		return fmt.Errorf("revoke sensor %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sensor %s: %w", id, store.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE sensor_certs SET revoked_at = $2 WHERE sensor_id = $1 AND revoked_at = ''", id, ts(at)); err != nil {
		return fmt.Errorf("revoke certificates of sensor %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("revoke sensor %s: %w", id, err)
	}
	return nil
}

// TouchSensor records the last authenticated request of a sensor.
func (s *DB) TouchSensor(ctx context.Context, id string, at time.Time) error {
	if _, err := s.SQL.ExecContext(ctx, "UPDATE sensors SET last_seen = $2 WHERE id = $1", id, ts(at)); err != nil {
		return fmt.Errorf("touch sensor %s: %w", id, err)
	}
	return nil
}
