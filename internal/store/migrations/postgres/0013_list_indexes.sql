-- Device-list indexes for bench/load.lua's lists (issue 9, session 3):
-- (filter, sort, id) like 0009/0010, so a site or a device type sorted by
-- manufacturer or model, or a device type by asset tag, is one index range
-- scan instead of sorting every match (docs/benchmarks/inventory.md,
-- "session 3, late"). Bulk imports drop and rebuild them with the others
-- (sqldb/devices_bulk.go).
CREATE INDEX devices_site_vendor ON devices(lower(site), lower(vendor), id);
CREATE INDEX devices_site_model ON devices(lower(site), lower(model), id);
CREATE INDEX devices_type_vendor ON devices(lower(device_type), lower(vendor), id);
CREATE INDEX devices_type_asset ON devices(lower(device_type), asset_id, id);
