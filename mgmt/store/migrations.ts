/**
 * The store's schema as versioned code: migration N brings a database from
 * version N-1 to N inside one transaction. Never edit a released migration;
 * append a new one.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'snapshots (content-addressed chunks), commits, datastores, confirmed commit, audit, events, accounting, settings',
    sql: `
      -- Deflated JSON of a run of list entries, addressed by the SHA-256 of the JSON.
      CREATE TABLE chunk (
        hash  TEXT PRIMARY KEY,
        data  BLOB NOT NULL,
        raw_bytes INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- One full configuration: a deflated manifest naming its chunks.
      CREATE TABLE snapshot (
        id        INTEGER PRIMARY KEY,
        manifest  BLOB NOT NULL,
        raw_bytes INTEGER NOT NULL
      );
      CREATE TABLE snapshot_chunk (
        snapshot_id INTEGER NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
        hash        TEXT NOT NULL REFERENCES chunk(hash),
        PRIMARY KEY (snapshot_id, hash)
      ) WITHOUT ROWID;
      CREATE INDEX snapshot_chunk_hash ON snapshot_chunk(hash);
      -- Commit history: every commit is a full snapshot.
      CREATE TABLE commit_log (
        id          INTEGER PRIMARY KEY,
        time        INTEGER NOT NULL,            -- ms since the epoch
        user        TEXT NOT NULL,
        client      TEXT NOT NULL CHECK (client IN ('netconf','tui','cli','system')),
        comment     TEXT NOT NULL DEFAULT '',
        kind        TEXT NOT NULL CHECK (kind IN ('commit','confirmed','rollback','revert','startup')),
        parent      INTEGER,                     -- running commit id before this one
        snapshot_id INTEGER NOT NULL REFERENCES snapshot(id)
      );
      -- running, startup, candidate (shared) and candidate:<session>.
      CREATE TABLE datastore (
        name        TEXT PRIMARY KEY,
        snapshot_id INTEGER NOT NULL REFERENCES snapshot(id),
        base_commit INTEGER,                     -- running commit id the datastore was taken from
        user        TEXT,
        updated     INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- At most one confirmed commit waits for its confirmation.
      CREATE TABLE pending_confirm (
        one         INTEGER PRIMARY KEY CHECK (one = 1),
        commit_id   INTEGER NOT NULL,
        revert_to   INTEGER NOT NULL,
        deadline    INTEGER NOT NULL,            -- ms since the epoch
        user        TEXT NOT NULL,
        session     TEXT
      );
      CREATE TABLE audit (
        id      INTEGER PRIMARY KEY,
        time    INTEGER NOT NULL,
        user    TEXT NOT NULL,
        client  TEXT NOT NULL,
        session TEXT,
        action  TEXT NOT NULL,
        target  TEXT,
        detail  TEXT
      );
      CREATE INDEX audit_time ON audit(time);
      CREATE TABLE event (
        id      INTEGER PRIMARY KEY,
        time    INTEGER NOT NULL,
        kind    TEXT NOT NULL,                   -- device-up, device-down, failover, commit, revert, ...
        subject TEXT,
        detail  TEXT
      );
      CREATE INDEX event_time ON event(time);
      -- Periodic counter readings: per service·port, per hop (row) and per client (ACL rule).
      CREATE TABLE accounting (
        time    INTEGER NOT NULL,
        scope   TEXT NOT NULL CHECK (scope IN ('service-port','hop','client')),
        subject TEXT NOT NULL,
        packets INTEGER NOT NULL,
        bytes   INTEGER NOT NULL
      );
      CREATE INDEX accounting_subject ON accounting(scope, subject, time);
      CREATE INDEX accounting_time ON accounting(time);
      CREATE TABLE setting (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    description: 'management users (NETCONF, TUI, vcn command): role, customer, scrypt password hash, public keys',
    sql: `
      CREATE TABLE mgmt_user (
        name        TEXT PRIMARY KEY,
        role        TEXT NOT NULL CHECK (role IN ('admin','operator','customer')),
        customer    TEXT,                        -- for role customer: the services' customer leaf it may touch
        password    TEXT,                        -- scrypt$N$r$p$salt$hash (base64), NULL: no password login
        public_keys TEXT NOT NULL DEFAULT '[]',  -- JSON array of OpenSSH public key lines
        created     INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    description: 'billing counters: per counter row the base that keeps it monotonic across ruleset reloads and restarts, and its discontinuity time',
    sql: `
      -- One row per billing counter (svc/<service>/<port>/in|out, hop/<row>, acl/<service>/<rule>).
      -- Values are unsigned 64-bit decimals (TEXT: SQLite integers are signed).
      -- value = (base + kernel reading) mod 2^64; last_* is the kernel reading last seen.
      CREATE TABLE counter_base (
        id           TEXT PRIMARY KEY,
        base_packets TEXT NOT NULL,
        base_bytes   TEXT NOT NULL,
        last_packets TEXT NOT NULL,
        last_bytes   TEXT NOT NULL,
        since        INTEGER NOT NULL            -- ms since the epoch: the row's discontinuity time
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    description: "commit kinds 'failover' and 'failback': health checking recomputes services with failed devices out of service as commits (issue 7)",
    sql: `
      -- SQLite cannot change a CHECK constraint in place: rebuild commit_log (nothing references it by foreign key).
      CREATE TABLE commit_log_v4 (
        id          INTEGER PRIMARY KEY,
        time        INTEGER NOT NULL,
        user        TEXT NOT NULL,
        client      TEXT NOT NULL CHECK (client IN ('netconf','tui','cli','system')),
        comment     TEXT NOT NULL DEFAULT '',
        kind        TEXT NOT NULL CHECK (kind IN ('commit','confirmed','rollback','revert','startup','failover','failback')),
        parent      INTEGER,
        snapshot_id INTEGER NOT NULL REFERENCES snapshot(id)
      );
      INSERT INTO commit_log_v4 SELECT id, time, user, client, comment, kind, parent, snapshot_id FROM commit_log;
      DROP TABLE commit_log;
      ALTER TABLE commit_log_v4 RENAME TO commit_log;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
