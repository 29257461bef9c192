-- No schema change: reserved for the API/audit work of session 3 (issue 9),
-- which needed none. Kept as a no-op so the version numbers stay
-- contiguous (stores at version 12 and later exist).
SELECT 1;
