package store

import (
	"context"
	"time"
)

// Sensor is a remote sensor enrolled with MedWarden's certificate
// authority. It authenticates with a client certificate whose subject
// common name and URI SAN carry its ID.
type Sensor struct {
	ID        string    `json:"id"`   // "sensor-" + 16 hex digits, in every certificate
	Name      string    `json:"name"` // the label the enrolment token was made for, unique
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`          // who made the enrolment token
	RevokedAt time.Time `json:"revoked_at,omitzero"` // zero unless revoked
	LastSeen  time.Time `json:"last_seen,omitzero"`  // last authenticated request
}

// SensorCert is one certificate issued to a sensor.
type SensorCert struct {
	Serial    string    `json:"serial"` // lower-case hex
	SensorID  string    `json:"sensor_id"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	IssuedAt  time.Time `json:"issued_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// EnrolmentToken lets one sensor enrol once before it expires. Only the
// SHA-256 of the secret is stored.
type EnrolmentToken struct {
	Hash       string    `json:"-"`
	SensorName string    `json:"sensor_name"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
	ExpiresAt  time.Time `json:"expires_at"`
	UsedAt     time.Time `json:"used_at,omitzero"`
	SensorID   string    `json:"sensor_id,omitempty"` // the sensor that used it
}

// SensorStore keeps enrolled sensors, their enrolment tokens and the
// serials of every certificate issued to them (the revocation list).
// Every driver implements it (sqldb pki_store.go).
type SensorStore interface {
	// CreateEnrolmentToken stores a new token (ErrExists when a sensor or
	// an unused, unexpired token already has the name).
	CreateEnrolmentToken(ctx context.Context, t *EnrolmentToken) error
	// ListEnrolmentTokens lists every token, newest first.
	ListEnrolmentTokens(ctx context.Context) ([]*EnrolmentToken, error)
	// Enrol redeems the token with this hash — it must be unused and
	// unexpired at now, else ErrNotFound — and in the same transaction
	// creates the sensor s (named after the token) and records its first
	// certificate c. A token is redeemed at most once, even by racing calls.
	Enrol(ctx context.Context, hash string, now time.Time, s *Sensor, c *SensorCert) error
	// GetSensor returns one sensor (ErrNotFound).
	GetSensor(ctx context.Context, id string) (*Sensor, error)
	// GetSensorByName returns one sensor by name (ErrNotFound).
	GetSensorByName(ctx context.Context, name string) (*Sensor, error)
	// ListSensors lists every sensor by name.
	ListSensors(ctx context.Context) ([]*Sensor, error)
	// AddSensorCert records a certificate issued to a sensor (renewal).
	AddSensorCert(ctx context.Context, c *SensorCert) error
	// GetSensorCert returns a certificate by serial (ErrNotFound).
	GetSensorCert(ctx context.Context, serial string) (*SensorCert, error)
	// ListSensorCerts lists a sensor's certificates, newest first.
	ListSensorCerts(ctx context.Context, sensorID string) ([]*SensorCert, error)
	// RevokeSensor revokes a sensor and every certificate it holds
	// (ErrNotFound); revoking twice keeps the first time.
	RevokeSensor(ctx context.Context, id string, at time.Time) error
	// TouchSensor records an authenticated request from a sensor.
	TouchSensor(ctx context.Context, id string, at time.Time) error
}
