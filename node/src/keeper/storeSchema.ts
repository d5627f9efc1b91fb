/**
 * The keeper database's tables (see store.ts for what each holds), versioned in SQLite's
 * `user_version`: a file written by a newer keeper is refused.
 */
import type Database from "better-sqlite3";

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS intents (
  id          INTEGER PRIMARY KEY,
  key         TEXT    NOT NULL UNIQUE,
  kind        TEXT    NOT NULL,
  contract    TEXT    NOT NULL,
  to_addr     TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  sender      TEXT    NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'done', 'failed')),
  outcome     TEXT,             -- done: 'mined' or 'already: <error>'; failed: the reason
  tx_hash     TEXT,             -- the transaction that was mined
  block       INTEGER,
  created_at  INTEGER NOT NULL, -- Unix ms
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS intents_by_status ON intents (status);
CREATE TABLE IF NOT EXISTS txs (
  hash          TEXT    PRIMARY KEY,
  intent_id     INTEGER NOT NULL REFERENCES intents (id),
  nonce         INTEGER NOT NULL,
  gas_limit     TEXT    NOT NULL,
  max_fee       TEXT    NOT NULL,
  max_priority  TEXT    NOT NULL,
  raw           TEXT    NOT NULL,
  sent_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS txs_by_intent ON txs (intent_id, sent_at);
CREATE TABLE IF NOT EXISTS signatures (
  epoch       INTEGER NOT NULL,
  signer      TEXT    NOT NULL, -- checksummed
  digest      TEXT    NOT NULL,
  content     TEXT    NOT NULL, -- hash of what the report says, without its config version
  report      TEXT    NOT NULL, -- JSON
  signature   TEXT    NOT NULL,
  source      TEXT    NOT NULL, -- checker URL
  seen_at     INTEGER NOT NULL,
  PRIMARY KEY (epoch, signer, digest)
) STRICT;
CREATE TABLE IF NOT EXISTS reports (
  epoch       INTEGER PRIMARY KEY,
  root        TEXT    NOT NULL,
  report      TEXT    NOT NULL, -- JSON
  signers     TEXT    NOT NULL, -- JSON list of checksummed addresses
  status      TEXT    NOT NULL CHECK (status IN ('verified', 'onchain')),
  tx_hash     TEXT,
  recorded_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS leaves (
  epoch    INTEGER NOT NULL,
  idx      INTEGER NOT NULL,
  root     TEXT    NOT NULL,
  kind     INTEGER NOT NULL,
  account  TEXT    NOT NULL, -- lower case
  node_id  TEXT    NOT NULL,
  leaf     TEXT    NOT NULL, -- JSON (LeafJson, with metrics)
  proof    TEXT    NOT NULL, -- JSON list
  PRIMARY KEY (epoch, idx)
) STRICT;
CREATE INDEX IF NOT EXISTS leaves_by_node ON leaves (epoch, kind, node_id);
CREATE INDEX IF NOT EXISTS leaves_by_account ON leaves (epoch, kind, account);
CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, done_at INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS chain_reports (
  epoch          INTEGER PRIMARY KEY,
  root           TEXT    NOT NULL,
  config_version TEXT    NOT NULL,
  node_count     TEXT    NOT NULL,
  total_reward   TEXT    NOT NULL,
  signers        TEXT    NOT NULL, -- the event's signer bitmap, decimal
  tx_hash        TEXT    NOT NULL,
  block          INTEGER NOT NULL
) STRICT;
`;

/** Creates the tables a file lacks and stamps its version; throws on a file of a newer keeper. */
export function applySchema(db: Database.Database, file: string): void {
  const version = Number((db.pragma("user_version", { simple: true }) as number | undefined) ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `${file} was written by a newer keeper (schema ${version} > ${SCHEMA_VERSION}): upgrade, or point dataDir elsewhere`,
    );
  }
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}
