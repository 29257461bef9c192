-- Users, sessions and saved views of the web console. Session ids are
-- stored as SHA-256 hashes; passwords as argon2id PHC strings.
CREATE TABLE users (
  id                   INTEGER PRIMARY KEY,
  username             TEXT NOT NULL,
  role                 TEXT NOT NULL,
  password_hash        TEXT NOT NULL,
  disabled             INTEGER NOT NULL DEFAULT 0,
  must_change_password INTEGER NOT NULL DEFAULT 0,
  created_at           TEXT NOT NULL,
  updated_at           TEXT NOT NULL,
  last_login           TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX users_username ON users(lower(username));
CREATE TABLE sessions (
  id_hash    TEXT PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_seen  TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE saved_views (
  id         INTEGER PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name       TEXT NOT NULL,
  query      TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX saved_views_name ON saved_views(user_id, name);
-- The dashboard counts devices with sensor observations and scans them for
-- conflicts; a partial index keeps that off the (wide) table rows.
CREATE INDEX devices_observed ON devices(id) WHERE observed <> '{}';
