-- Advisory feeds: normalised advisories (JSON plus indexed columns), the
-- KEV catalog, EPSS scores, NVD CVE records and the status of each feed.
CREATE TABLE advisories (
  id              TEXT PRIMARY KEY,
  publisher       TEXT NOT NULL,
  title           TEXT NOT NULL,
  current_release TEXT NOT NULL,
  cves            TEXT NOT NULL, -- " CVE-1 CVE-2 " for LIKE lookups
  feed            TEXT NOT NULL,
  source          TEXT NOT NULL,
  sha256          TEXT NOT NULL,
  doc             TEXT NOT NULL
);
CREATE INDEX advisories_publisher ON advisories(lower(publisher));
CREATE TABLE advisory_cves (
  cve         TEXT NOT NULL,
  advisory_id TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
  PRIMARY KEY (cve, advisory_id)
);
CREATE INDEX advisory_cves_advisory ON advisory_cves(advisory_id);
CREATE TABLE kev_entries (
  cve_id TEXT PRIMARY KEY,
  doc    TEXT NOT NULL
);
CREATE TABLE epss_scores (
  cve        TEXT PRIMARY KEY,
  epss       REAL NOT NULL,
  percentile REAL NOT NULL
);
CREATE TABLE nvd_cves (
  id            TEXT PRIMARY KEY,
  last_modified TEXT NOT NULL,
  doc           TEXT NOT NULL
);
CREATE TABLE feeds (
  name        TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,
  source      TEXT NOT NULL,
  imported_at TEXT NOT NULL DEFAULT '',
  feed_date   TEXT NOT NULL DEFAULT '',
  version     TEXT NOT NULL DEFAULT '',
  items       INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT NOT NULL DEFAULT '',
  error_at    TEXT NOT NULL DEFAULT '',
  meta        TEXT NOT NULL DEFAULT ''
);
