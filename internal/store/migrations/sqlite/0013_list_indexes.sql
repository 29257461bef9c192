-- Device-list indexes for bench/load.lua's lists (issue 9, session 3):
-- (filter, sort, id) like 0009/0010, so a site or a device type sorted by
-- manufacturer or model, or a device type by asset tag, is one index range
-- scan. Without them the sort-index walk (sqldb/list.go, phase 1) rarely
-- fills a page and the fallback sorted every match: 3.5-4.6 CPU-ms per
-- 50-device page at 100,000 devices, 15 ms for device_type=workstation
-- sorted by asset_id (docs/benchmarks/inventory.md, "session 3, late").
-- Bulk imports drop and rebuild them with the others (sqldb/devices_bulk.go).
CREATE INDEX devices_site_vendor ON devices(site COLLATE NOCASE, vendor COLLATE NOCASE, id);
CREATE INDEX devices_site_model ON devices(site COLLATE NOCASE, model COLLATE NOCASE, id);
CREATE INDEX devices_type_vendor ON devices(device_type COLLATE NOCASE, vendor COLLATE NOCASE, id);
CREATE INDEX devices_type_asset ON devices(device_type COLLATE NOCASE, asset_id, id);
