-- Devices: intended values as columns; per-field provenance and observed
-- values as JSON objects keyed by field name. Empty text means unknown.
CREATE TABLE devices (
  id                BIGSERIAL PRIMARY KEY,
  asset_id          TEXT UNIQUE,
  vendor            TEXT NOT NULL DEFAULT '',
  model             TEXT NOT NULL DEFAULT '',
  device_type       TEXT NOT NULL DEFAULT '',
  version           TEXT NOT NULL DEFAULT '',
  serial            TEXT NOT NULL DEFAULT '',
  udi_di            TEXT NOT NULL DEFAULT '',
  macs              TEXT NOT NULL DEFAULT '',
  ips               TEXT NOT NULL DEFAULT '',
  hostname          TEXT NOT NULL DEFAULT '',
  site              TEXT NOT NULL DEFAULT '',
  location          TEXT NOT NULL DEFAULT '',
  department        TEXT NOT NULL DEFAULT '',
  criticality       TEXT NOT NULL DEFAULT '',
  criticality_rank  INTEGER NOT NULL DEFAULT 0,
  patient_connected BOOLEAN,
  phi               BOOLEAN,
  zone              TEXT NOT NULL DEFAULT '',
  os                TEXT NOT NULL DEFAULT '',
  end_of_support    TEXT NOT NULL DEFAULT '',
  end_of_life       TEXT NOT NULL DEFAULT '',
  first_seen        TEXT NOT NULL DEFAULT '',
  last_seen         TEXT NOT NULL DEFAULT '',
  provenance        TEXT NOT NULL DEFAULT '{}',
  observed          TEXT NOT NULL DEFAULT '{}',
  revision          BIGINT NOT NULL DEFAULT 1,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX devices_site ON devices(lower(site), id);
CREATE INDEX devices_vendor ON devices(lower(vendor), id);
CREATE INDEX devices_type ON devices(lower(device_type), id);
CREATE INDEX devices_department ON devices(lower(department), id);
CREATE INDEX devices_criticality ON devices(criticality_rank, id);
CREATE INDEX devices_eos ON devices(end_of_support, id);
CREATE INDEX devices_model ON devices(lower(model), id);
CREATE INDEX devices_hostname ON devices(lower(hostname), id);
CREATE INDEX devices_updated ON devices(updated_at, id);
CREATE INDEX devices_version ON devices(lower(version), id);
