-- Free-text device search (issue 2): a trigram index over the searchable
-- columns, so `q=` (store.DeviceQuery.Search, a case-insensitive substring
-- of any of them) does not read every device. devices_search holds, per
-- device (rowid = devices.id), those columns joined by newlines; it is
-- contentless (the text lives in devices) with detail=none (no positions:
-- the index only narrows the candidates, the list query re-checks each
-- column with LIKE). The triggers keep it in step with every write; bulk
-- imports drop them and refill the table in one pass (sqldb/search.go).
-- The expression below is sqldb.searchTextSQLite: change both together.
CREATE VIRTUAL TABLE devices_search USING fts5(t, tokenize = 'trigram', content = '', contentless_delete = 1, detail = none);
INSERT INTO devices_search(rowid, t) SELECT id, coalesce(asset_id, '') || char(10) || coalesce(vendor, '') || char(10) || coalesce(model, '') || char(10) || coalesce(device_type, '') || char(10) || coalesce(hostname, '') || char(10) || coalesce(serial, '') || char(10) || coalesce(site, '') || char(10) || coalesce(location, '') || char(10) || coalesce(department, '') || char(10) || coalesce(macs, '') || char(10) || coalesce(ips, '') FROM devices;
CREATE TRIGGER devices_search_ai AFTER INSERT ON devices BEGIN
  INSERT INTO devices_search(rowid, t) VALUES (new.id, coalesce(new.asset_id, '') || char(10) || coalesce(new.vendor, '') || char(10) || coalesce(new.model, '') || char(10) || coalesce(new.device_type, '') || char(10) || coalesce(new.hostname, '') || char(10) || coalesce(new.serial, '') || char(10) || coalesce(new.site, '') || char(10) || coalesce(new.location, '') || char(10) || coalesce(new.department, '') || char(10) || coalesce(new.macs, '') || char(10) || coalesce(new.ips, ''));
END;
CREATE TRIGGER devices_search_ad AFTER DELETE ON devices BEGIN
  DELETE FROM devices_search WHERE rowid = old.id;
END;
CREATE TRIGGER devices_search_au AFTER UPDATE OF asset_id, vendor, model, device_type, hostname, serial, site, location, department, macs, ips ON devices BEGIN
  DELETE FROM devices_search WHERE rowid = old.id;
  INSERT INTO devices_search(rowid, t) VALUES (new.id, coalesce(new.asset_id, '') || char(10) || coalesce(new.vendor, '') || char(10) || coalesce(new.model, '') || char(10) || coalesce(new.device_type, '') || char(10) || coalesce(new.hostname, '') || char(10) || coalesce(new.serial, '') || char(10) || coalesce(new.site, '') || char(10) || coalesce(new.location, '') || char(10) || coalesce(new.department, '') || char(10) || coalesce(new.macs, '') || char(10) || coalesce(new.ips, ''));
END;
-- Two more (filter, sort, id) list indexes (issue 2, same scheme as 0009):
-- a site's most recently changed devices (bench/load.lua's
-- "site=NBR&sort=-updated_at" cost 405 CPU-ms at 100,000 devices: the
-- newest devices are another site's, so the sort-index walk found none and
-- the fallback sorted a third of the table) and a device type by model
-- (32 CPU-ms). Bulk imports drop and rebuild them with the others.
CREATE INDEX devices_site_updated ON devices(site COLLATE NOCASE, updated_at, id);
CREATE INDEX devices_type_model ON devices(device_type COLLATE NOCASE, model COLLATE NOCASE, id);
