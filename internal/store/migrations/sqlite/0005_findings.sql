-- Findings (issues 3 and 4): one row per (device, advisory) pair ever
-- matched, with its risk, remediation and workflow; device risk; the daily
-- risk register snapshots. Pairs that stop matching are marked resolved
-- (resolved_at), never deleted, so history and trends survive. No foreign
-- key to devices: the findings of a deleted device stay (resolved).
CREATE TABLE findings (
  id                   INTEGER PRIMARY KEY,
  device_id            INTEGER NOT NULL,
  asset_id             TEXT NOT NULL,
  advisory_id          TEXT NOT NULL,
  advisory_title       TEXT NOT NULL DEFAULT '',
  product_id           TEXT NOT NULL DEFAULT '',
  product_name         TEXT NOT NULL DEFAULT '',
  branch_path          TEXT NOT NULL DEFAULT '[]', -- JSON array
  method               TEXT NOT NULL DEFAULT '',
  confidence           REAL NOT NULL DEFAULT 0,
  match_status         TEXT NOT NULL DEFAULT '',
  reasons              TEXT NOT NULL DEFAULT '[]', -- JSON array
  cves                 TEXT NOT NULL DEFAULT '',   -- " CVE-1 CVE-2 "
  cvss                 REAL NOT NULL DEFAULT 0,
  cvss_vector          TEXT NOT NULL DEFAULT '',
  cvss_version         TEXT NOT NULL DEFAULT '',
  kev                  INTEGER NOT NULL DEFAULT 0,
  kev_due_date         TEXT NOT NULL DEFAULT '',
  epss                 REAL NOT NULL DEFAULT -1,
  epss_percentile      REAL NOT NULL DEFAULT 0,
  remediations         TEXT NOT NULL DEFAULT '[]', -- JSON
  score                REAL NOT NULL DEFAULT 0,
  band                 TEXT NOT NULL DEFAULT 'info',
  factors              TEXT NOT NULL DEFAULT '[]', -- JSON
  score_vector         TEXT NOT NULL DEFAULT '',
  action               TEXT NOT NULL DEFAULT '',
  due                  TEXT NOT NULL DEFAULT '',
  due_rule             TEXT NOT NULL DEFAULT '',
  sla                  TEXT NOT NULL DEFAULT '',
  actions              TEXT NOT NULL DEFAULT '[]', -- JSON
  first_seen           TEXT NOT NULL,
  last_seen            TEXT NOT NULL,
  resolved_at          TEXT NOT NULL DEFAULT '',
  wf_state             TEXT NOT NULL DEFAULT 'open',
  wf_owner             TEXT NOT NULL DEFAULT '',
  wf_note              TEXT NOT NULL DEFAULT '',
  accept_justification TEXT NOT NULL DEFAULT '',
  accept_approver      TEXT NOT NULL DEFAULT '',
  accept_expires       TEXT NOT NULL DEFAULT '',
  rubric_vector        TEXT NOT NULL DEFAULT '',
  rubric_answers       TEXT NOT NULL DEFAULT '',
  rubric_rationale     TEXT NOT NULL DEFAULT '',
  wf_due               TEXT NOT NULL DEFAULT '',
  wf_revision          INTEGER NOT NULL DEFAULT 1,
  wf_updated_by        TEXT NOT NULL DEFAULT '',
  wf_updated_at        TEXT NOT NULL DEFAULT '',
  eff_due              TEXT NOT NULL DEFAULT '9999-12-31' -- wf_due, else due, else 9999-12-31
);
CREATE UNIQUE INDEX findings_pair ON findings(device_id, advisory_id);
CREATE INDEX findings_advisory ON findings(advisory_id);
CREATE INDEX findings_asset ON findings(asset_id);
CREATE INDEX findings_score ON findings(score, id);
CREATE INDEX findings_band ON findings(band, score, id);
CREATE INDEX findings_state ON findings(wf_state, score, id);
CREATE INDEX findings_due ON findings(eff_due, id);
CREATE INDEX findings_owner ON findings(lower(wf_owner));
CREATE INDEX findings_wf_updated ON findings(wf_updated_at);
CREATE TABLE device_risk (
  device_id   INTEGER PRIMARY KEY,
  asset_id    TEXT NOT NULL,
  score       REAL NOT NULL,
  band        TEXT NOT NULL,
  factors     TEXT NOT NULL DEFAULT '[]',
  findings    INTEGER NOT NULL,
  kev         INTEGER NOT NULL DEFAULT 0,
  actions     TEXT NOT NULL DEFAULT '[]',
  site        TEXT NOT NULL DEFAULT '',
  department  TEXT NOT NULL DEFAULT '',
  device_type TEXT NOT NULL DEFAULT '',
  vendor      TEXT NOT NULL DEFAULT '',
  updated_at  TEXT NOT NULL
);
CREATE INDEX device_risk_score ON device_risk(score, device_id);
CREATE INDEX device_risk_band ON device_risk(band, score, device_id);
CREATE TABLE risk_snapshots (
  day        TEXT PRIMARY KEY, -- YYYY-MM-DD
  register   TEXT NOT NULL,    -- JSON risk.Register
  created_at TEXT NOT NULL
);
CREATE TABLE findings_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- Console and API performance (added before any release applied 0005):
-- the dashboard's one-pass counts (every column it reads, so the index
-- alone answers them; resolved_at last, so that the lists' "resolved_at =
-- ''" does not pick this index over their sort's), the band and workflow
-- filters sorted by due date (the remediation queue), and the device
-- risk counts by band and KEV.
CREATE INDEX findings_stats ON findings(wf_state, match_status, kev, band, eff_due, accept_expires, resolved_at);
CREATE INDEX findings_band_due ON findings(band, eff_due, id);
CREATE INDEX findings_state_due ON findings(wf_state, eff_due, id);
CREATE INDEX device_risk_band_kev ON device_risk(band, kev);
