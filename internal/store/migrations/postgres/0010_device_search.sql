-- Free-text device search (issue 2): a trigram index (pg_trgm GIN) over the
-- searchable columns joined by newlines, so `q=` (store.DeviceQuery.Search,
-- a case-insensitive substring of any of them) does not read every device.
-- The list query filters on the same expression with ILIKE (index scan),
-- then re-checks each column (sqldb.searchTextPostgres: change both
-- together). The extension is created in schema public when it is not
-- installed yet (pg_trgm is a trusted extension: a database owner may
-- create it); when that fails, a warning is logged and search runs without
-- the index, with the same results. Bulk imports drop and rebuild this
-- index with the other devices indexes (sqldb/devices_bulk.go).
DO $mw$
DECLARE
  s text;
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'medwarden: cannot create extension pg_trgm (%); device search runs without an index', SQLERRM;
  END;
  SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
  IF s IS NOT NULL THEN
    EXECUTE format('CREATE INDEX devices_search ON devices USING gin ((%s) %I.gin_trgm_ops)',
      $e$coalesce(asset_id, '') || E'\n' || coalesce(vendor, '') || E'\n' || coalesce(model, '') || E'\n' || coalesce(device_type, '') || E'\n' || coalesce(hostname, '') || E'\n' || coalesce(serial, '') || E'\n' || coalesce(site, '') || E'\n' || coalesce(location, '') || E'\n' || coalesce(department, '') || E'\n' || coalesce(macs, '') || E'\n' || coalesce(ips, '')$e$, s);
  END IF;
END
$mw$;
