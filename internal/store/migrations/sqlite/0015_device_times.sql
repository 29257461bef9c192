-- Device times as fixed-width text (sqldb.timeLayout,
-- "2006-01-02T15:04:05.000000000Z"), so that text order is time order.
-- Until now they were written as RFC 3339 with trailing zeros trimmed:
-- "…:05Z" sorted after "…:05.5Z", and "…:05.5Z" after "…:05.50001Z",
-- which misordered sort=updated_at lists and their cursor pages within a
-- second. Rewrites the UTC stamps of other lengths (20–29 characters,
-- ending in Z); empty values and values already 30 long are left alone.
UPDATE devices SET created_at = CASE WHEN substr(created_at, 20, 1) = 'Z' THEN substr(created_at, 1, 19) || '.000000000Z' ELSE substr(created_at, 1, length(created_at) - 1) || substr('000000000', 1, 30 - length(created_at)) || 'Z' END WHERE length(created_at) BETWEEN 20 AND 29 AND substr(created_at, length(created_at), 1) = 'Z';
UPDATE devices SET updated_at = CASE WHEN substr(updated_at, 20, 1) = 'Z' THEN substr(updated_at, 1, 19) || '.000000000Z' ELSE substr(updated_at, 1, length(updated_at) - 1) || substr('000000000', 1, 30 - length(updated_at)) || 'Z' END WHERE length(updated_at) BETWEEN 20 AND 29 AND substr(updated_at, length(updated_at), 1) = 'Z';
UPDATE devices SET first_seen = CASE WHEN substr(first_seen, 20, 1) = 'Z' THEN substr(first_seen, 1, 19) || '.000000000Z' ELSE substr(first_seen, 1, length(first_seen) - 1) || substr('000000000', 1, 30 - length(first_seen)) || 'Z' END WHERE length(first_seen) BETWEEN 20 AND 29 AND substr(first_seen, length(first_seen), 1) = 'Z';
UPDATE devices SET last_seen = CASE WHEN substr(last_seen, 20, 1) = 'Z' THEN substr(last_seen, 1, 19) || '.000000000Z' ELSE substr(last_seen, 1, length(last_seen) - 1) || substr('000000000', 1, 30 - length(last_seen)) || 'Z' END WHERE length(last_seen) BETWEEN 20 AND 29 AND substr(last_seen, length(last_seen), 1) = 'Z';
