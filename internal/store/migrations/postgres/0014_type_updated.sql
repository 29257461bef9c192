-- A device type's most recently changed devices (issue 9, session 4),
-- same (filter, sort, id) scheme as 0009/0010/0013 (see the SQLite
-- migration for the measurement). Bulk imports drop and rebuild it with
-- the others (sqldb/devices_bulk.go).
CREATE INDEX devices_type_updated ON devices(lower(device_type), updated_at, id);
