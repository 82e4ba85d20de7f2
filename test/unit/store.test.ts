/** The SQLite store: migrations, integrity check, snapshots with shared chunks, history cap, datastores, audit, accounting. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scaleConfig } from '../../bench/scale-config.js';
import { Store, type Actor } from '../../mgmt/store/store.js';
import { SCHEMA_VERSION } from '../../mgmt/store/migrations.js';
import { decodeSnapshot, encodeSnapshot } from '../../mgmt/store/snapshot-codec.js';
import { VcnError } from '../../appliance/errors.js';

const alice: Actor = { user: 'alice', client: 'cli' };
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vcn-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('store', () => {
  it('creates the schema at its newest version, in WAL mode with synchronous FULL', () => {
    const store = Store.open(join(tmp(), 'vcn.db'));
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    store.close();
  });

  it('refuses a file that is not a database with STORE_CORRUPT', () => {
    const file = join(tmp(), 'bad.db');
    writeFileSync(file, Buffer.alloc(8192, 0x41));
    expect(() => Store.open(file)).toThrow(VcnError);
    try {
      Store.open(file);
    } catch (e) {
      expect((e as VcnError).code).toBe('STORE_CORRUPT');
    }
  });

  it('round-trips a snapshot and shares the chunks of unchanged services', () => {
    const a = scaleConfig(500);
    const encA = encodeSnapshot(a);
    const known = new Set(encA.chunks.map((c) => c.hash));
    const b = structuredClone(a);
    b.services.service[250]['service-ip'] = '10.200.0.1';
    const encB = encodeSnapshot(b, (h) => known.has(h));
    expect(encB.chunks.length).toBe(1);
    const all = new Map([...encA.chunks, ...encB.chunks].map((c) => [c.hash, c.data]));
    expect(decodeSnapshot(encB.manifest, (h) => all.get(h))).toEqual(b);
    // Inserting a service in the middle only touches the run it lands in.
    const c = structuredClone(a);
    c.services.service.splice(100, 0, { ...structuredClone(a.services.service[0]), name: 'inserted', 'service-ip': '10.201.0.1' });
    expect(encodeSnapshot(c, (h) => known.has(h)).chunks.length).toBeLessThanOrEqual(2);
  });

  it('records commits in history with running pointing at the newest, and caps the history', () => {
    const store = Store.open(join(tmp(), 'vcn.db'), { historyLimit: 3 });
    let parent: number | null = null;
    for (let i = 0; i < 5; i++) {
      const config = scaleConfig(20 + i);
      const info = store.recordCommit({ actor: alice, comment: `c${i}`, kind: 'commit', config, parent });
      parent = info.id;
    }
    expect(store.runningId()).toBe(5);
    expect(store.history().map((h) => h.id)).toEqual([5, 4, 3]);
    expect(store.running().config!.services.service).toHaveLength(24);
    expect(store.commitConfig(3).services.service).toHaveLength(22);
    expect(() => store.commitConfig(1)).toThrow(/not in the history/);
    expect(store.stats().snapshots).toBe(3);
    store.close();
  });

  it('refuses to record a commit on top of a running commit that moved (STALE_CANDIDATE)', () => {
    const store = Store.open(':memory:');
    store.recordCommit({ actor: alice, kind: 'commit', config: scaleConfig(1), parent: null });
    expect(() => store.recordCommit({ actor: alice, kind: 'commit', config: scaleConfig(2), parent: null })).toThrow(/STALE|running is commit 1/);
    expect(store.history()).toHaveLength(1);
  });

  it('keeps startup when the commit it came from is pruned, and reopens with the same content', () => {
    const file = join(tmp(), 'vcn.db');
    const store = Store.open(file, { historyLimit: 2 });
    const first = store.recordCommit({ actor: alice, kind: 'commit', config: scaleConfig(3), parent: null });
    store.copyRunningToStartup(alice);
    let parent = first.id;
    for (let i = 0; i < 3; i++) parent = store.recordCommit({ actor: alice, kind: 'commit', config: scaleConfig(4 + i), parent }).id;
    store.close();
    const again = Store.open(file, { historyLimit: 2 });
    expect(again.datastore('startup')!.config.services.service).toHaveLength(3);
    expect(again.running().config!.services.service).toHaveLength(6);
    expect(again.auditLog().map((a) => a.action)).toContain('copy-config');
    again.close();
  });

  it('stores events and accounting samples, and drops samples past the retention', () => {
    let now = 1_000_000;
    const store = Store.open(':memory:', { accountingRetentionMs: 1000, now: () => now });
    store.event('device-down', 'fw-a', { reason: 'probe' });
    store.addAccounting([
      { scope: 'service-port', subject: 'web/80', packets: 10, bytes: 1000 },
      { scope: 'client', subject: 'web/acl1', packets: 1, bytes: 60 },
    ]);
    now += 500;
    store.addAccounting([{ scope: 'service-port', subject: 'web/80', packets: 15, bytes: 1500 }]);
    now += 2000;
    store.addAccounting([{ scope: 'service-port', subject: 'web/80', packets: 20, bytes: 2000 }]);
    expect(store.accounting('service-port', 'web/80').map((s) => s.packets)).toEqual([10, 15, 20]);
    // Past the retention each counter keeps its last sample (the base of its next rise): web/80's first one goes.
    expect(store.pruneAccounting()).toBe(1);
    expect(store.accounting('service-port', 'web/80').map((s) => s.packets)).toEqual([15, 20]);
    expect(store.accounting('client', 'web/acl1')).toHaveLength(1);
    expect(store.events()[0]).toMatchObject({ kind: 'device-down', subject: 'fw-a' });
  });
});
