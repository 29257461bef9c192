-- Free-text device search (issue 2): a trigram index (pg_trgm GIN) so `q=`
-- (store.DeviceQuery.Search: a case-insensitive substring of asset id,
-- vendor, model, type, host name, serial, site, location, department, MACs
-- or IPs) does not read every device.
-- search_text holds those columns joined by newlines, lower-cased, computed
-- by the database on every write (COPY included). The list query matches
-- `search_text LIKE lower(pattern)`, which is what ILIKE does (lower() of
-- both, then LIKE), so it needs no per-column re-check unless the search
-- text contains a newline (sqldb/search.go). Storing the folded text costs
-- about 150 bytes per device; computing it per row instead (an expression
-- index) made every re-check of a candidate 10x dearer (14 us/row at 1 M).
-- The extension is created in schema public when it is not installed yet
-- (pg_trgm is a trusted extension: a database owner may create it); when
-- that fails, a warning is logged and search runs without the index, with
-- the same results. Bulk imports drop and rebuild this index with the
-- other devices indexes (sqldb/devices_bulk.go).
ALTER TABLE devices ADD COLUMN search_text text NOT NULL
  GENERATED ALWAYS AS (lower(coalesce(asset_id, '') || E'\n' || coalesce(vendor, '') || E'\n' || coalesce(model, '') || E'\n' || coalesce(device_type, '') || E'\n' || coalesce(hostname, '') || E'\n' || coalesce(serial, '') || E'\n' || coalesce(site, '') || E'\n' || coalesce(location, '') || E'\n' || coalesce(department, '') || E'\n' || coalesce(macs, '') || E'\n' || coalesce(ips, ''))) STORED;
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
    EXECUTE format('CREATE INDEX devices_search ON devices USING gin (search_text %I.gin_trgm_ops)', s);
  END IF;
END
$mw$;
-- Two more (filter, sort, id) list indexes (issue 2, same scheme as 0009):
-- a site's most recently changed devices (bench/load.lua's
-- "site=NBR&sort=-updated_at" cost 405 CPU-ms at 100,000 devices: the
-- newest devices are another site's, so the sort-index walk found none and
-- the fallback sorted a third of the table) and a device type by model
-- (32 CPU-ms). Bulk imports drop and rebuild them with the others.
CREATE INDEX devices_site_updated ON devices(lower(site), updated_at, id);
CREATE INDEX devices_type_model ON devices(lower(device_type), lower(model), id);
