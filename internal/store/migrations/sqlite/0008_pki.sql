-- Zero trust (issue 9): sensors enrolled with the built-in CA, their
-- one-time enrolment tokens (only the SHA-256 is kept), every certificate
-- issued to them (by serial, for revocation), and the OIDC identities
-- (issuer + subject) that single sign-on links to accounts.
CREATE TABLE sensors (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  revoked_at  TEXT NOT NULL DEFAULT '',
  last_seen   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sensors_name ON sensors(name);
CREATE TABLE sensor_enrolment_tokens (
  hash        TEXT PRIMARY KEY,
  sensor_name TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  used_at     TEXT NOT NULL DEFAULT '',
  sensor_id   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sensor_certs (
  serial      TEXT PRIMARY KEY,
  sensor_id   TEXT NOT NULL REFERENCES sensors(id) ON DELETE CASCADE,
  not_before  TEXT NOT NULL,
  not_after   TEXT NOT NULL,
  issued_at   TEXT NOT NULL,
  revoked_at  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sensor_certs_sensor ON sensor_certs(sensor_id);
CREATE TABLE oidc_identities (
  issuer      TEXT NOT NULL,
  subject     TEXT NOT NULL,
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  TEXT NOT NULL,
  last_login  TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities(user_id);
