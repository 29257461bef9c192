-- The version that fixes an SBOM component's vulnerability, from the
-- record it was matched against (store.SBOMVuln.Fixed): the version, ''
-- when the record publishes no fix for the installed version, NULL when
-- not determined (the SBOM's own statements; rows matched before this
-- migration, until the next re-match).
ALTER TABLE sbom_vulns ADD COLUMN fixed TEXT;
