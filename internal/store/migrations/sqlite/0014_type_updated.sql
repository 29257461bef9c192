-- A device type's most recently changed devices (issue 9, session 4),
-- same (filter, sort, id) scheme as 0009/0010/0013: bench/load.lua's
-- "device_type=X&sort=-updated_at" for a type other than the newest
-- devices' walked past every newer device of other types (its API writes
-- are all infusion pumps), then sorted every match: 3.0-3.8 CPU-ms per
-- 50-device page at 100,000 devices after a 20-s mixed load, 0.4 with the
-- index. Bulk imports drop and rebuild it with the others
-- (sqldb/devices_bulk.go).
CREATE INDEX devices_type_updated ON devices(device_type COLLATE NOCASE, updated_at, id);
