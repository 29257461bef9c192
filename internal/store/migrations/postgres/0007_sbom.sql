-- SBOMs (issue 8): documents (deduplicated by SHA-256, original bytes kept
-- gzip-compressed), their versions attached to a device model + firmware
-- version or to one device, components, and component vulnerabilities with
-- their VEX state.
CREATE TABLE sbom_documents (
  id           BIGSERIAL PRIMARY KEY,
  sha256       TEXT NOT NULL UNIQUE,
  format       TEXT NOT NULL,
  spec_version TEXT NOT NULL,
  serial       TEXT NOT NULL,
  name         TEXT NOT NULL,
  size         BIGINT NOT NULL,
  valid        INTEGER NOT NULL,
  problems     INTEGER NOT NULL,
  quality      INTEGER NOT NULL,
  raw_gz       BYTEA NOT NULL,
  created_at   TEXT NOT NULL,
  matched_at   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE sbom_versions (
  id          BIGSERIAL PRIMARY KEY,
  subject     TEXT NOT NULL, -- "model:" + lower(vendor) NUL lower(model) NUL version, or "device:" + id
  device_id   BIGINT REFERENCES devices(id) ON DELETE CASCADE,
  vendor      TEXT NOT NULL,
  model       TEXT NOT NULL,
  fw_version  TEXT NOT NULL,
  version     INTEGER NOT NULL,
  document_id BIGINT NOT NULL REFERENCES sbom_documents(id),
  attached_at TEXT NOT NULL,
  attached_by TEXT NOT NULL,
  note        TEXT NOT NULL,
  UNIQUE (subject, version)
);
CREATE INDEX sbom_versions_device ON sbom_versions(device_id);
CREATE INDEX sbom_versions_document ON sbom_versions(document_id);
CREATE TABLE sbom_components (
  document_id BIGINT NOT NULL REFERENCES sbom_documents(id) ON DELETE CASCADE,
  idx         INTEGER NOT NULL,
  ref         TEXT NOT NULL,
  type        TEXT NOT NULL,
  name        TEXT NOT NULL,
  grp         TEXT NOT NULL,
  version     TEXT NOT NULL,
  purl        TEXT NOT NULL,
  cpe         TEXT NOT NULL,
  supplier    TEXT NOT NULL,
  hashes      TEXT NOT NULL,
  PRIMARY KEY (document_id, idx)
);
CREATE INDEX sbom_components_name ON sbom_components(lower(name));
CREATE INDEX sbom_components_purl ON sbom_components(purl);
CREATE TABLE sbom_vulns (
  document_id   BIGINT NOT NULL REFERENCES sbom_documents(id) ON DELETE CASCADE,
  idx           INTEGER NOT NULL,
  vuln_id       TEXT NOT NULL,
  source        TEXT NOT NULL,
  method        TEXT NOT NULL,
  aliases       TEXT NOT NULL,
  status        TEXT NOT NULL,
  suppressed    INTEGER NOT NULL,
  justification TEXT NOT NULL,
  detail        TEXT NOT NULL,
  confidence    TEXT NOT NULL,
  needs_review  INTEGER NOT NULL,
  PRIMARY KEY (document_id, idx, vuln_id, source)
);
CREATE INDEX sbom_vulns_vuln ON sbom_vulns(vuln_id);
-- OSV records (feed kind "osv"), matched against components by Package URL.
CREATE TABLE osv_records (
  id        TEXT PRIMARY KEY,
  modified  TEXT NOT NULL,
  ecosystem TEXT NOT NULL,
  doc       TEXT NOT NULL
);
