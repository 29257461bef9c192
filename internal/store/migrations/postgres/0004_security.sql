-- API tokens (only the SHA-256 of the secret is kept) and the append-only,
-- hash-chained audit log. Nothing in MedWarden updates or deletes
-- audit_log rows; 'medwarden audit verify' detects anyone who does.
CREATE TABLE api_tokens (
  id          BIGSERIAL PRIMARY KEY,
  user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  hash        TEXT NOT NULL,
  scopes      TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  last_used   TEXT NOT NULL DEFAULT '',
  revoked_at  TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens(hash);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE TABLE audit_log (
  seq        BIGINT PRIMARY KEY,
  at         TEXT NOT NULL,
  actor      TEXT NOT NULL,
  actor_kind TEXT NOT NULL,
  source     TEXT NOT NULL,
  action     TEXT NOT NULL,
  object     TEXT NOT NULL,
  before     TEXT NOT NULL,
  after      TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
