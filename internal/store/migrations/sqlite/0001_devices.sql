CREATE TABLE devices (
  id                INTEGER PRIMARY KEY,
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
  patient_connected INTEGER,
  phi               INTEGER,
  zone              TEXT NOT NULL DEFAULT '',
  os                TEXT NOT NULL DEFAULT '',
  end_of_support    TEXT,
  end_of_life       TEXT,
  first_seen        TEXT,
  last_seen         TEXT,
  provenance        TEXT NOT NULL DEFAULT '{}',
  observed          TEXT NOT NULL DEFAULT '{}',
  revision          INTEGER NOT NULL DEFAULT 1,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX devices_site ON devices(site, id);
CREATE INDEX devices_vendor ON devices(vendor, id);
CREATE INDEX devices_type ON devices(device_type, id);
CREATE INDEX devices_department ON devices(department, id);
CREATE INDEX devices_criticality ON devices(criticality_rank, id);
CREATE INDEX devices_eos ON devices(end_of_support, id);
