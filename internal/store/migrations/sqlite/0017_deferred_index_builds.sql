-- Device index builds that a large bulk import left for after its commit
-- (store/sqldb/index_builds.go). The import's transaction writes a row for
-- each devices index (and, on SQLite, each search trigger and the search
-- index) it drops; the transaction that builds one again deletes its row.
-- So the table always names exactly what is missing, whatever crashed.
-- kind: 'index' (ddl recreates it), 'trigger' (ddl recreates a search
-- trigger; built with the search index), 'search' (the SQLite search
-- index is refilled, a chunk per transaction; ddl holds the progress),
-- 'merge' (its segments merged), 'analyze' (planner statistics,
-- PostgreSQL).
CREATE TABLE deferred_index_builds (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('index', 'trigger', 'search', 'merge', 'analyze')),
  ddl  TEXT NOT NULL DEFAULT '',
  seq  INTEGER NOT NULL
);
