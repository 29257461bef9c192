-- Issue 8: SBOM component vulnerabilities become findings (docs/FINDINGS.md).
-- source: where the finding comes from: advisory (a CSAF advisory matched the
-- device), sbom (a component vulnerability of an SBOM covering the device),
-- advisory+sbom (an advisory finding whose CVE an SBOM component also has).
-- evidence: JSON array of the SBOM components behind it (sbom, component,
-- version, purl, cpe, vulnerability, method, confidence, VEX status).
-- suppressed: a VEX statement (the SBOM's or a CSAF VEX) says not_affected
-- or fixed; the finding is stored resolved with the justification.
ALTER TABLE findings ADD COLUMN source TEXT NOT NULL DEFAULT 'advisory';
ALTER TABLE findings ADD COLUMN evidence TEXT NOT NULL DEFAULT '[]';
ALTER TABLE findings ADD COLUMN suppressed BOOLEAN NOT NULL DEFAULT false;
-- The CVSS of a component vulnerability, from its NVD or OSV record at
-- match time (the findings' risk score uses it).
ALTER TABLE sbom_vulns ADD COLUMN cvss DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE sbom_vulns ADD COLUMN cvss_vector TEXT NOT NULL DEFAULT '';
ALTER TABLE sbom_vulns ADD COLUMN cvss_version TEXT NOT NULL DEFAULT '';
ALTER TABLE sbom_vulns ADD COLUMN summary TEXT NOT NULL DEFAULT '';
