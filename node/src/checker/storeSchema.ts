/**
 * The checker database's schema: its versions and the migrations that take a file from one to the
 * next (see store.ts). A file from a newer version is refused.
 */
import type Database from "better-sqlite3";

/** The schema this code writes; `MIGRATIONS[v]` takes a file from version v to v + 1. */
export const SCHEMA_VERSION = 3;

const MIGRATIONS: readonly string[] = [
  // 0 -> 1: samples and the latest sample of each (node, kind).
  `
  CREATE TABLE IF NOT EXISTS samples (
    id          INTEGER PRIMARY KEY,
    epoch       INTEGER NOT NULL CHECK (epoch >= 0),
    node_id     INTEGER NOT NULL CHECK (node_id BETWEEN 0 AND 4294967295),
    kind        TEXT    NOT NULL CHECK (kind IN ('heartbeat', 'bandwidth', 'challenge', 'hardware')),
    at          INTEGER NOT NULL,           -- Unix milliseconds, when the probe started
    ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
    latency_ms  REAL    NOT NULL,
    mbps        REAL,                       -- bandwidth
    n           INTEGER,                    -- challenge size
    elapsed_ms  REAL,                       -- challenge time measured by the checker
    passed      INTEGER CHECK (passed IN (0, 1)),
    match       INTEGER CHECK (match IN (0, 1)), -- hardware: NULL when the node did not answer
    error_code  TEXT,
    error       TEXT,
    evidence    TEXT                        -- JSON
  ) STRICT;
  CREATE INDEX IF NOT EXISTS samples_by_epoch_node ON samples (epoch, node_id, kind, at);
  CREATE TABLE IF NOT EXISTS latest (
    node_id     INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    sample_id   INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (node_id, kind)
  ) STRICT, WITHOUT ROWID;
  `,
  // 1 -> 2: the epoch-end exchange. This checker's own signed observations of each finished epoch
  // (frozen once signed: peers see one bundle per epoch) and the signed report of each epoch (first
  // write wins: a checker never signs two roots for one epoch, which the oracle slashes).
  `
  CREATE TABLE IF NOT EXISTS own_bundles (
    epoch       INTEGER PRIMARY KEY CHECK (epoch >= 0),
    bundle      TEXT    NOT NULL,           -- JSON of the signed message's object
    signature   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL            -- Unix milliseconds
  ) STRICT;
  CREATE TABLE IF NOT EXISTS epoch_results (
    epoch          INTEGER PRIMARY KEY CHECK (epoch >= 0),
    root           TEXT    NOT NULL,
    config_version TEXT    NOT NULL,        -- decimal
    report         TEXT    NOT NULL,        -- JSON, bigints as decimal strings
    signature      TEXT    NOT NULL,
    signer         TEXT    NOT NULL,
    bundles        TEXT    NOT NULL,        -- JSON: the signed bundles scored, by checker
    excluded       TEXT    NOT NULL,        -- JSON: the peers left out and why
    created_at     INTEGER NOT NULL
  ) STRICT;
  `,
  // 2 -> 3: the reward tree of each signed report (its leaves with node metrics), which keepers fetch to
  // check the root, publish proofs and apply SLA credits. Written with the report, in the same row.
  `ALTER TABLE epoch_results ADD COLUMN tree TEXT;`,
];

export function readVersion(db: Database.Database): number {
  const row = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").get();
  return row ? Number(row.value) : 0;
}

/** Brings the file's schema to `SCHEMA_VERSION`, one migration per transaction. */
export function migrate(db: Database.Database, file: string): void {
  db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT");
  const current = readVersion(db);
  if (!Number.isInteger(current) || current < 0) {
    throw new Error(`${file}: schema_version ${current} in its meta table is not a version`);
  }
  if (current > SCHEMA_VERSION) {
    throw new Error(
      `${file} has schema version ${current}, newer than this checker's ${SCHEMA_VERSION}: upgrade kaisar, ` +
        "or point `database` at another file",
    );
  }
  const setVersion = db.prepare(
    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      setVersion.run(String(v + 1));
    })();
  }
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)").run(new Date().toISOString());
}
