-- Device-list performance (issue 2): composite indexes for the console's
-- common filtered, sorted views, so that such a page is one index range
-- scan instead of "every match, then sort" (hundreds of ms at 1 M devices).
-- Each is (filter column, sort column, id), the same folding as 0001:
-- a site by asset tag, a device type by version or end of support, a
-- criticality by end of support or manufacturer.
-- Bulk imports drop and rebuild these with the others (sqldb/devices_bulk.go).
CREATE INDEX devices_site_asset ON devices(site COLLATE NOCASE, asset_id, id);
CREATE INDEX devices_type_version ON devices(device_type COLLATE NOCASE, version COLLATE NOCASE, id);
CREATE INDEX devices_type_eos ON devices(device_type COLLATE NOCASE, end_of_support, id);
CREATE INDEX devices_crit_eos ON devices(criticality_rank, end_of_support, id);
CREATE INDEX devices_crit_vendor ON devices(criticality_rank, vendor COLLATE NOCASE, id);
