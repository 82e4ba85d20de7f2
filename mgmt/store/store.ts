/**
 * The appliance's SQLite store (better-sqlite3, WAL, synchronous=FULL):
 * datastores (running, startup, shared and per-session candidates), the
 * commit history as full snapshots, the pending confirmed commit, the audit
 * log, events and accounting samples. Every write that belongs together is
 * one SQLite transaction; a crash leaves either all of it or none.
 */
import { internConfig, unsharedCopy } from './config-intern.js';
import Database from 'better-sqlite3';
import { VcnError } from '../../appliance/errors.js';
import type { Config } from '../../appliance/model/config.generated.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { decodeSnapshot, encodeSnapshot, manifestChunks } from './snapshot-codec.js';
import { HOUR_MS, pruneAccountingTable, type AccountingRetention } from './accounting-retention.js';


const SNAPSHOT_CACHE_ENTRIES = 4;
const SNAPSHOT_CACHE_SERVICES = 40_000;
export type Client = 'netconf' | 'tui' | 'cli' | 'system';
export type CommitKind = 'commit' | 'confirmed' | 'rollback' | 'revert' | 'startup' | 'failover' | 'failback';

export interface CommitInfo {
  id: number;
  time: number;
  user: string;
  client: Client;
  comment: string;
  kind: CommitKind;
  parent: number | null;
}

export interface Actor {
  user: string;
  client: Client;
  session?: string;
}

export interface PendingConfirm {
  commitId: number;
  revertTo: number;
  /** ms since the epoch. */
  deadline: number;
  user: string;
  session: string | null;
}

export interface NewCommit {
  actor: Actor;
  comment?: string;
  kind: CommitKind;
  config: Config;
  /** The running commit this one replaces (null for the first). */
  parent: number | null;
  /** Set a pending confirmation (confirmed commit), clear it (null), or leave it (undefined). */
  pending?: Omit<PendingConfirm, 'commitId'> | null;
  /** Candidate datastores to re-base on the new commit (their content becomes the new running). */
  rebase?: string[];
  audit?: string;
}

export interface StoreOptions {
  /** Commits kept (default 1000); older ones are dropped with their snapshots. */
  historyLimit?: number;
  /** Accounting samples older than this many ms are dropped by pruneAccounting, but each counter's last one (default 90 days). */
  accountingRetentionMs?: number;
  /** Accounting samples older than this many ms are thinned to one per counter and hour (default 48 hours). */
  accountingFullResolutionMs?: number;
  now?: () => number;
}

/** Setting: the hour (ms) up to which accounting samples are thinned. */
const THINNED_UNTIL = 'accounting-thinned-until';

export interface StoreStats {
  commits: number;
  snapshots: number;
  chunks: number;
  chunkBytes: number;
  chunkRawBytes: number;
  manifestBytes: number;
  fileBytes: number;
}

export interface AccountingSample {
  scope: 'service-port' | 'hop' | 'client';
  subject: string;
  packets: number;
  bytes: number;
}

export class Store {
  readonly db: Database.Database;
  private readonly historyLimit: number;
  private readonly retention: AccountingRetention;
  /** The hour when samples were last pruned (pruning runs once an hour). */
  private prunedHour?: number;
  private readonly now: () => number;
  /** Decoded snapshots by id (a snapshot never changes once written). */
  private readonly cache = new Map<number, Config>();

  private constructor(db: Database.Database, opts: StoreOptions) {
    this.db = db;
    this.historyLimit = opts.historyLimit ?? 1000;
    this.retention = { retentionMs: opts.accountingRetentionMs ?? 90 * 24 * HOUR_MS, fullResolutionMs: opts.accountingFullResolutionMs ?? 48 * HOUR_MS };
    this.now = opts.now ?? Date.now;
  }

  /** Opens (creating when needed) and checks the database; throws STORE_CORRUPT when quick_check fails. */
  static open(file: string, opts: StoreOptions = {}): Store {
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (e) {
      throw new VcnError('STORE_OPEN', `cannot open the store ${file}: ${(e as Error).message}`);
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      const check = db.pragma('quick_check', { simple: false }) as { quick_check: string }[];
      const bad = check.map((r) => r.quick_check).filter((r) => r !== 'ok');
      if (bad.length) throw new VcnError('STORE_CORRUPT', `the store ${file} fails its integrity check: ${bad.slice(0, 5).join('; ')}`);
    } catch (e) {
      db.close();
      if (e instanceof VcnError) throw e;
      throw new VcnError('STORE_CORRUPT', `the store ${file} cannot be read: ${(e as Error).message}`);
    }
    const store = new Store(db, opts);
    store.migrate();
    return store;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  schemaVersion(): number {
    const has = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").get();
    if (!has) return 0;
    return (this.db.prepare('SELECT max(version) v FROM schema_version').get() as { v: number | null }).v ?? 0;
  }

  private migrate(): void {
    const from = this.schemaVersion();
    if (from > SCHEMA_VERSION) {
      throw new VcnError('STORE_VERSION', `the store has schema version ${from}, newer than this software (${SCHEMA_VERSION})`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      this.db.transaction(() => {
        this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL, description TEXT NOT NULL)');
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_version VALUES (?, ?, ?)').run(m.version, this.now(), m.description);
      })();
    }
  }

  // ---- snapshots --------------------------------------------------------

  private writeSnapshot(config: Config): number {
    const has = this.db.prepare('SELECT 1 FROM chunk WHERE hash = ?').pluck();
    const enc = encodeSnapshot(config, (h) => has.get(h) !== undefined);
    const putChunk = this.db.prepare('INSERT OR IGNORE INTO chunk (hash, data, raw_bytes) VALUES (?, ?, ?)');
    for (const c of enc.chunks) putChunk.run(c.hash, c.data, c.rawBytes);
    const id = Number(this.db.prepare('INSERT INTO snapshot (manifest, raw_bytes) VALUES (?, ?)').run(enc.manifest, enc.rawBytes).lastInsertRowid);
    const link = this.db.prepare('INSERT OR IGNORE INTO snapshot_chunk (snapshot_id, hash) VALUES (?, ?)');
    for (const hash of new Set(manifestChunks(enc.manifest))) link.run(id, hash);
    this.remember(id, internConfig(unsharedCopy(config)));
    return id;
  }

  /**
   * A snapshot's configuration: a copy, or with `readonly` the cached object
   * itself, frozen, its equal parts shared (config-intern.ts).
   */
  private readSnapshot(id: number, readonly = false): Config {
    const hit = this.cache.get(id);
    if (hit) return readonly ? hit : unsharedCopy(hit);
    const row = this.db.prepare('SELECT manifest FROM snapshot WHERE id = ?').get(id) as { manifest: Buffer } | undefined;
    if (!row) throw new VcnError('NO_SUCH_COMMIT', `snapshot ${id} does not exist`);
    const get = this.db.prepare('SELECT data FROM chunk WHERE hash = ?').pluck();
    const config = internConfig(decodeSnapshot(row.manifest, (h) => get.get(h) as Buffer | undefined) as Config);
    this.remember(id, config);
    return readonly ? config : unsharedCopy(config);
  }

  /**
   * Keeps the few most recent snapshots decoded (running, a candidate, a
   * rollback target), within a budget of services: at 100k services one
   * decoded configuration weighs ~60 MB, and an appliance has little RAM. The
   * newest always stays.
   */
  private remember(id: number, config: Config): void {
    this.cache.delete(id);
    this.cache.set(id, config);
    const weight = (c: Config) => c.services?.service?.length ?? 0;
    let total = 0;
    for (const c of this.cache.values()) total += weight(c);
    while (this.cache.size > 1 && (this.cache.size > SNAPSHOT_CACHE_ENTRIES || total > SNAPSHOT_CACHE_SERVICES)) {
      const oldest = this.cache.keys().next().value as number;
      total -= weight(this.cache.get(oldest)!);
      this.cache.delete(oldest);
    }
  }

  /** Drops snapshots nothing refers to any more, and chunks no snapshot uses. */
  private collect(): void {
    const dead = this.db
      .prepare(
        `SELECT id FROM snapshot WHERE id NOT IN (SELECT snapshot_id FROM commit_log)
           AND id NOT IN (SELECT snapshot_id FROM datastore)`,
      )
      .pluck()
      .all() as number[];
    if (!dead.length) return;
    const hashes = this.db.prepare('SELECT hash FROM snapshot_chunk WHERE snapshot_id = ?').pluck();
    const maybe = new Set<string>();
    for (const id of dead) for (const h of hashes.all(id) as string[]) maybe.add(h);
    const del = this.db.prepare('DELETE FROM snapshot WHERE id = ?');
    for (const id of dead) {
      del.run(id);
      this.cache.delete(id);
    }
    const used = this.db.prepare('SELECT 1 FROM snapshot_chunk WHERE hash = ? LIMIT 1').pluck();
    const delChunk = this.db.prepare('DELETE FROM chunk WHERE hash = ?');
    for (const h of maybe) if (used.get(h) === undefined) delChunk.run(h);
  }

  // ---- datastores -------------------------------------------------------

  /** The running commit id (null before the first commit). */
  runningId(): number | null {
    const r = this.db.prepare("SELECT base_commit FROM datastore WHERE name = 'running'").get() as { base_commit: number } | undefined;
    return r ? r.base_commit : null;
  }

  /** The running configuration; with `readonly`, a shared object the caller must not change (no copy: big configs). */
  running(o: { readonly?: boolean } = {}): { id: number | null; config: Config | undefined } {
    const r = this.db.prepare("SELECT snapshot_id, base_commit FROM datastore WHERE name = 'running'").get() as
      | { snapshot_id: number; base_commit: number }
      | undefined;
    return r ? { id: r.base_commit, config: this.readSnapshot(r.snapshot_id, o.readonly) } : { id: null, config: undefined };
  }

  /** A datastore's content and the running commit it was based on. */
  datastore(name: string, o: { readonly?: boolean } = {}): { config: Config; base: number | null; user: string | null; updated: number } | undefined {
    const r = this.db.prepare('SELECT snapshot_id, base_commit, user, updated FROM datastore WHERE name = ?').get(name) as
      | { snapshot_id: number; base_commit: number | null; user: string | null; updated: number }
      | undefined;
    return r ? { config: this.readSnapshot(r.snapshot_id, o.readonly), base: r.base_commit, user: r.user, updated: r.updated } : undefined;
  }

  /** Writes a non-running datastore (candidate, candidate:<session>, startup). */
  putDatastore(name: string, config: Config, base: number | null, actor: Actor, action = 'edit'): void {
    if (name === 'running') throw new Error('store: running changes only by a commit');
    this.db.transaction(() => {
      const snap = this.writeSnapshot(config);
      this.db
        .prepare('INSERT OR REPLACE INTO datastore (name, snapshot_id, base_commit, user, updated) VALUES (?, ?, ?, ?, ?)')
        .run(name, snap, base, actor.user, this.now());
      this.auditRow(actor, action, name, null);
      this.collect();
    })();
  }

  /** Points startup at the running snapshot (no copy: snapshots are immutable). */
  copyRunningToStartup(actor: Actor): void {
    this.db.transaction(() => {
      const r = this.db.prepare("SELECT snapshot_id, base_commit FROM datastore WHERE name = 'running'").get() as
        | { snapshot_id: number; base_commit: number }
        | undefined;
      if (!r) throw new VcnError('NO_SUCH_COMMIT', 'there is no running configuration yet');
      this.db
        .prepare("INSERT OR REPLACE INTO datastore (name, snapshot_id, base_commit, user, updated) VALUES ('startup', ?, ?, ?, ?)")
        .run(r.snapshot_id, r.base_commit, actor.user, this.now());
      this.auditRow(actor, 'copy-config', 'startup', JSON.stringify({ from: 'running', commit: r.base_commit }));
      this.collect();
    })();
  }

  deleteDatastore(name: string, actor: Actor): void {
    if (name === 'running') throw new Error('store: running cannot be deleted');
    this.db.transaction(() => {
      const n = this.db.prepare('DELETE FROM datastore WHERE name = ?').run(name).changes;
      if (n) this.auditRow(actor, 'discard', name, null);
      this.collect();
    })();
  }

  /** Candidates based on commit `from` are based on `to` (same configuration: a failover commit). */
  carryBase(from: number | null, to: number): void {
    if (from === null) return;
    this.db.prepare("UPDATE datastore SET base_commit = ? WHERE base_commit = ? AND name LIKE 'candidate%'").run(to, from);
  }

  datastoreNames(): string[] {
    return this.db.prepare('SELECT name FROM datastore ORDER BY name').pluck().all() as string[];
  }

  // ---- commits ----------------------------------------------------------

  /**
   * Records a commit in ONE transaction: snapshot, history row, running
   * pointer, re-based candidates, pending confirmation, audit, event, and
   * the history cap. Refuses when running moved since `parent` was read.
   */
  recordCommit(c: NewCommit): CommitInfo {
    return this.db.transaction((): CommitInfo => {
      const current = this.runningId();
      if (current !== c.parent) throw new VcnError('STALE_CANDIDATE', `running is commit ${current}, not ${c.parent}`);
      const time = this.now();
      const snap = this.writeSnapshot(c.config);
      const id = Number(
        this.db
          .prepare('INSERT INTO commit_log (time, user, client, comment, kind, parent, snapshot_id) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(time, c.actor.user, c.actor.client, c.comment ?? '', c.kind, c.parent, snap).lastInsertRowid,
      );
      const put = this.db.prepare('INSERT OR REPLACE INTO datastore (name, snapshot_id, base_commit, user, updated) VALUES (?, ?, ?, ?, ?)');
      put.run('running', snap, id, c.actor.user, time);
      for (const name of c.rebase ?? []) put.run(name, snap, id, c.actor.user, time);
      if (c.pending === null) this.db.prepare('DELETE FROM pending_confirm').run();
      else if (c.pending) {
        this.db
          .prepare('INSERT OR REPLACE INTO pending_confirm (one, commit_id, revert_to, deadline, user, session) VALUES (1, ?, ?, ?, ?, ?)')
          .run(id, c.pending.revertTo, c.pending.deadline, c.pending.user, c.pending.session);
      }
      this.auditRow(c.actor, c.audit ?? c.kind, 'running', JSON.stringify({ commit: id, parent: c.parent, comment: c.comment ?? '' }));
      this.eventRow(time, 'commit', String(id), JSON.stringify({ kind: c.kind, user: c.actor.user, client: c.actor.client }));
      this.prune();
      return { id, time, user: c.actor.user, client: c.actor.client, comment: c.comment ?? '', kind: c.kind, parent: c.parent };
    })();
  }

  private prune(): void {
    const keep = this.historyLimit;
    const pending = this.pending();
    const protect = pending ? [pending.revertTo, pending.commitId] : [];
    // startup and candidates point at snapshots, not commits: they survive their commit being pruned.
    const except = protect.length ? ` AND id NOT IN (${protect.map(() => '?').join(',')})` : '';
    this.db.prepare(`DELETE FROM commit_log WHERE id NOT IN (SELECT id FROM commit_log ORDER BY id DESC LIMIT ?)${except}`).run(keep, ...protect);
    this.collect();
  }

  commitInfo(id: number): CommitInfo | undefined {
    return this.db.prepare('SELECT id, time, user, client, comment, kind, parent FROM commit_log WHERE id = ?').get(id) as CommitInfo | undefined;
  }

  commitConfig(id: number): Config {
    const snap = this.db.prepare('SELECT snapshot_id FROM commit_log WHERE id = ?').pluck().get(id) as number | undefined;
    if (snap === undefined) throw new VcnError('NO_SUCH_COMMIT', `commit ${id} is not in the history`);
    return this.readSnapshot(snap);
  }

  /** Newest first. */
  history(limit = 100, before?: number): CommitInfo[] {
    return this.db
      .prepare('SELECT id, time, user, client, comment, kind, parent FROM commit_log WHERE id < ? ORDER BY id DESC LIMIT ?')
      .all(before ?? Number.MAX_SAFE_INTEGER, limit) as CommitInfo[];
  }

  pending(): PendingConfirm | undefined {
    const r = this.db.prepare('SELECT commit_id, revert_to, deadline, user, session FROM pending_confirm').get() as
      | { commit_id: number; revert_to: number; deadline: number; user: string; session: string | null }
      | undefined;
    return r ? { commitId: r.commit_id, revertTo: r.revert_to, deadline: r.deadline, user: r.user, session: r.session } : undefined;
  }

  clearPending(actor: Actor, action: string): void {
    this.db.transaction(() => {
      const p = this.pending();
      this.db.prepare('DELETE FROM pending_confirm').run();
      if (p) this.auditRow(actor, action, 'running', JSON.stringify({ commit: p.commitId }));
    })();
  }

  // ---- audit, events, accounting ---------------------------------------

  private auditRow(actor: Actor, action: string, target: string | null, detail: string | null): void {
    this.db
      .prepare('INSERT INTO audit (time, user, client, session, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(this.now(), actor.user, actor.client, actor.session ?? null, action, target, detail);
  }

  audit(actor: Actor, action: string, target?: string, detail?: unknown): void {
    this.auditRow(actor, action, target ?? null, detail === undefined ? null : JSON.stringify(detail));
  }

  auditLog(limit = 100): { id: number; time: number; user: string; client: string; session: string | null; action: string; target: string | null; detail: string | null }[] {
    return this.db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit) as never;
  }

  private eventRow(time: number, kind: string, subject: string | null, detail: string | null): void {
    this.db.prepare('INSERT INTO event (time, kind, subject, detail) VALUES (?, ?, ?, ?)').run(time, kind, subject, detail);
  }

  event(kind: string, subject?: string, detail?: unknown): void {
    this.eventRow(this.now(), kind, subject ?? null, detail === undefined ? null : JSON.stringify(detail));
  }

  events(limit = 100): { id: number; time: number; kind: string; subject: string | null; detail: string | null }[] {
    return this.db.prepare('SELECT * FROM event ORDER BY id DESC LIMIT ?').all(limit) as never;
  }

  /** One reading of many counters, in one transaction. */
  addAccounting(samples: AccountingSample[], time = this.now()): void {
    const ins = this.db.prepare('INSERT INTO accounting (time, scope, subject, packets, bytes) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const s of samples) ins.run(time, s.scope, s.subject, s.packets, s.bytes);
    })();
  }

  accounting(scope: AccountingSample['scope'], subject: string, from = 0, to = Number.MAX_SAFE_INTEGER): { time: number; packets: number; bytes: number }[] {
    return this.db
      .prepare('SELECT time, packets, bytes FROM accounting WHERE scope = ? AND subject = ? AND time BETWEEN ? AND ? ORDER BY time')
      .all(scope, subject, from, to) as never;
  }

  /**
   * Thins samples past the full resolution and drops those past the
   * retention (accounting-retention.ts), at most once per hour unless
   * `force`; `policy` overrides the store's (the running configuration's
   * system/accounting). Returns how many samples went.
   */
  pruneAccounting(now = this.now(), policy: Partial<AccountingRetention> = {}, force = false): number {
    const hour = Math.floor(now / HOUR_MS);
    if (!force && hour === this.prunedHour) return 0;
    this.prunedHour = hour;
    const thinnedUntil = Number(this.setting(THINNED_UNTIL) ?? 0);
    const r = pruneAccountingTable(this.db, now, { ...this.retention, ...policy }, thinnedUntil);
    if (r.thinnedUntil !== thinnedUntil) this.setSetting(THINNED_UNTIL, String(r.thinnedUntil));
    return r.deleted;
  }

  setting(key: string): string | undefined {
    return this.db.prepare('SELECT value FROM setting WHERE key = ?').pluck().get(key) as string | undefined;
  }

  setSetting(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)').run(key, value);
  }

  stats(): StoreStats {
    const one = (sql: string) => Number(this.db.prepare(sql).pluck().get() ?? 0);
    const pageSize = Number(this.db.pragma('page_size', { simple: true }));
    const pages = Number(this.db.pragma('page_count', { simple: true }));
    return {
      commits: one('SELECT count(*) FROM commit_log'),
      snapshots: one('SELECT count(*) FROM snapshot'),
      chunks: one('SELECT count(*) FROM chunk'),
      chunkBytes: one('SELECT total(length(data)) FROM chunk'),
      chunkRawBytes: one('SELECT total(raw_bytes) FROM chunk'),
      manifestBytes: one('SELECT total(length(manifest)) FROM snapshot'),
      fileBytes: pageSize * pages,
    };
  }

  /** Folds the WAL into the database file (for size measurements and clean shutdown). */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }
}
