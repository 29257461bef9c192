-- Sensor ingestion (issues 6.5, 6.6): aggregated communication edges per
-- interval, and the sensor batches applied (dedupe: each (sensor, seq)
-- at most once). Times are RFC 3339 UTC text with fixed-width nanoseconds,
-- so text order is time order.
CREATE TABLE edges (
  id          INTEGER PRIMARY KEY,
  bucket      TEXT NOT NULL,
  interval_s  INTEGER NOT NULL,
  src_mac     TEXT NOT NULL DEFAULT '',
  src_ip      TEXT NOT NULL DEFAULT '',
  src_device  INTEGER,
  dst_mac     TEXT NOT NULL DEFAULT '',
  dst_ip      TEXT NOT NULL DEFAULT '',
  dst_device  INTEGER,
  proto       TEXT NOT NULL,
  port        INTEGER NOT NULL DEFAULT 0,
  app         TEXT NOT NULL DEFAULT '',
  packets     INTEGER NOT NULL DEFAULT 0,
  bytes       INTEGER NOT NULL DEFAULT 0,
  first_seen  TEXT NOT NULL,
  last_seen   TEXT NOT NULL,
  sensor      TEXT NOT NULL,
  UNIQUE (bucket, src_mac, src_ip, dst_mac, dst_ip, proto, port, app)
);
CREATE INDEX edges_src_device ON edges(src_device, bucket, id) WHERE src_device IS NOT NULL;
CREATE INDEX edges_dst_device ON edges(dst_device, bucket, id) WHERE dst_device IS NOT NULL;
CREATE INDEX edges_bucket ON edges(bucket, id);

CREATE TABLE sensor_batches (
  sensor        TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  received_at   TEXT NOT NULL,
  devices       INTEGER NOT NULL DEFAULT 0,
  edges         INTEGER NOT NULL DEFAULT 0,
  observations  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (sensor, seq)
);
