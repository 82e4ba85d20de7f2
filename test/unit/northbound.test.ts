/**
 * Transactions over the dry datapath: commit, stale-candidate refusal, bad
 * input leaving everything untouched, rollback, compare, confirmed commit
 * (revert on a fake clock, confirm, cancel, surviving a restart), startup,
 * serialised commits and provisioning.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scaleConfig } from '../../bench/scale-config.js';
import { DryDriver } from '../../appliance/datapath/dry-driver.js';
import { VcnError } from '../../appliance/errors.js';
import type { Config } from '../../appliance/model/config.generated.js';
import { Store } from '../../mgmt/store/store.js';
import { EngineDataplane } from '../../mgmt/northbound/dataplane.js';
import { Northbound, type Clock } from '../../mgmt/northbound/northbound.js';
import { allocateServiceIp, instantiatePackage } from '../../mgmt/northbound/provision.js';

const MACS = { e0: '02:ee:00:00:00:01', e1: '02:ee:00:00:00:02', e2: '02:ee:00:00:00:03', e3: '02:ee:00:00:00:04' };

class FakeClock implements Clock {
  t = 1_800_000_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now = () => this.t;
  setTimer = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimer = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  advance(ms: number) {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
  }
  pending() {
    return this.timers.length;
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: { file?: string; clock?: FakeClock; dry?: DryDriver } = {}) {
  const dry = opts.dry ?? new DryDriver();
  const store = Store.open(opts.file ?? ':memory:', { now: opts.clock?.now });
  const nb = new Northbound({ store, dataplane: new EngineDataplane({ datapath: dry, facts: async () => ({ interfaceMacs: MACS }) }), clock: opts.clock });
  return { dry, store, nb };
}

const withService = (c: Config, i: number, ip: string): Config => {
  const next = structuredClone(c);
  const s = structuredClone(next.services.service[0]);
  next.services.service.push({ ...s, name: `extra${i}`, 'service-ip': ip });
  return next;
};

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<VcnError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(VcnError);
    expect((e as VcnError).code).toBe(code);
    return e as VcnError;
  }
  throw new Error(`expected ${code}`);
}

describe('northbound transactions', () => {
  it('commits a candidate: data plane, running, history and audit move together', async () => {
    const { nb, dry, store } = setup();
    await nb.start();
    const s = nb.openSession('alice', 'cli');
    nb.setCandidate(s.id, scaleConfig(3));
    const r = await nb.commit(s.id, { comment: 'three services' });
    expect(r.commit).toMatchObject({ id: 1, user: 'alice', client: 'cli', comment: 'three services', kind: 'commit', parent: null });
    expect(r.changes.filter((c) => c.path.startsWith('/services/service[')).length).toBe(3);
    expect(nb.getConfig(s.id, 'running').services.service.map((x) => x.name)).toEqual(['svc0', 'svc1', 'svc2']);
    expect(dry.dry.applied().at(-1)).toContain('10.100.0.2');
    expect(store.auditLog().map((a) => a.action)).toContain('commit');
    expect(store.events().map((e) => e.kind)).toContain('commit');

    // The next edit goes out as a diff naming only the changed service.
    nb.editCandidate(s.id, (c) => {
      c.services.service[1]['service-ip'] = '10.200.0.9';
    });
    const r2 = await nb.commit(s.id);
    expect(r2.apply.mode).toBe('diff');
    expect(r2.changes).toEqual([{ op: 'changed', path: "/services/service[name='svc1']/service-ip", old: '10.100.0.1', new: '10.200.0.9' }]);
    const script = dry.dry.applied().at(-1)!;
    expect(script).toContain('10.200.0.9');
    expect(script).not.toContain('10.100.0.2');
  });

  it('refuses a candidate based on an older running commit with STALE_CANDIDATE naming both ids', async () => {
    const { nb } = setup();
    await nb.start();
    const a = nb.openSession('alice', 'cli');
    const b = nb.openSession('bob', 'netconf');
    nb.setCandidate(a.id, scaleConfig(2));
    await nb.commit(a.id);
    nb.setCandidate(b.id, scaleConfig(4)); // based on commit 1
    nb.setCandidate(a.id, scaleConfig(3));
    await nb.commit(a.id); // running is now 2
    const e = await expectCode(nb.commit(b.id), 'STALE_CANDIDATE');
    expect(e.message).toMatch(/commit 1 .*commit 2/);
    expect(nb.runningCommit()).toBe(2);
    // Discarding and re-editing on the new running works.
    nb.discardChanges(b.id);
    nb.setCandidate(b.id, scaleConfig(4));
    expect((await nb.commit(b.id)).commit.id).toBe(3);
  });

  it('a config that fails validation leaves running, history and data plane untouched, with the codes', async () => {
    const { nb, dry, store } = setup();
    await nb.start();
    const s = nb.openSession('alice', 'tui');
    nb.setCandidate(s.id, scaleConfig(2));
    await nb.commit(s.id);
    const scripts = dry.dry.scripts.length;
    const bad = scaleConfig(2);
    bad.services.service[1]['service-ip'] = bad.services.service[0]['service-ip']; // duplicate service address
    bad.services.service[0].port[0].step[0].pool = 'no-such-pool';
    nb.setCandidate(s.id, bad);
    expect((await nb.validate(s.id)).map((i) => i.code)).toContain('UNKNOWN_POOL');
    const e = await expectCode(nb.commit(s.id), 'CONFIG_INVALID');
    expect(e.issues.map((i) => i.code)).toContain('UNKNOWN_POOL');
    expect(dry.dry.scripts.length).toBe(scripts);
    expect(store.history()).toHaveLength(1);
    expect(nb.getConfig(s.id, 'running')).toEqual(store.commitConfig(1));
  });

  it('a ruleset nft -c rejects leaves running, history and data plane untouched', async () => {
    const { nb, dry, store } = setup();
    await nb.start();
    const s = nb.openSession('alice', 'cli');
    nb.setCandidate(s.id, scaleConfig(2));
    await nb.commit(s.id);
    const applied = dry.dry.applied().length;
    dry.dry.reject = /10\.100\.0\.7/;
    nb.setCandidate(s.id, scaleConfig(8));
    const e = await expectCode(nb.commit(s.id), 'NFT_CHECK_FAILED');
    expect(e.issues[0].message).toMatch(/rejected/);
    expect(dry.dry.applied().length).toBe(applied);
    expect(store.history()).toHaveLength(1);
    expect(nb.getConfig(s.id, 'running').services.service).toHaveLength(2);
    expect(dry.running()!.rows.size).toBeGreaterThan(0);
  });

  it('rolls back to any kept commit as a new commit, and compares any two commits', async () => {
    const { nb, dry } = setup();
    await nb.start();
    const s = nb.openSession('alice', 'cli');
    const c1 = scaleConfig(2);
    nb.setCandidate(s.id, c1);
    await nb.commit(s.id);
    nb.setCandidate(s.id, withService(c1, 1, '10.201.0.1'));
    await nb.commit(s.id);
    nb.setCandidate(s.id, withService(withService(c1, 1, '10.201.0.1'), 2, '10.201.0.2'));
    await nb.commit(s.id);
    expect(nb.compare(s.id, 1, 3).map((c) => `${c.op} ${c.path}`)).toEqual([
      "added /services/service[name='extra1']",
      "added /services/service[name='extra2']",
    ]);
    const r = await nb.rollback(s.id, 1, { comment: 'back to two' });
    expect(r.commit).toMatchObject({ id: 4, kind: 'rollback', parent: 3, comment: 'back to two' });
    expect(r.apply.mode).toBe('diff');
    expect(dry.dry.applied().at(-1)).toContain('delete element');
    expect(nb.compare(s.id, 1, 'running')).toEqual([]);
    await expectCode(nb.rollback(s.id, 99), 'NO_SUCH_COMMIT');
    // The session's own candidate was re-based on the commit it made, so it is stale after the rollback.
    await expectCode(nb.commit(s.id), 'STALE_CANDIDATE');
  });

  it('reverts a confirmed commit in place when its timeout passes', async () => {
    const clock = new FakeClock();
    const { nb, dry, store } = setup({ clock });
    await nb.start();
    const s = nb.openSession('alice', 'netconf');
    nb.setCandidate(s.id, scaleConfig(2));
    await nb.commit(s.id);
    nb.setCandidate(s.id, withService(scaleConfig(2), 1, '10.201.0.1'));
    const r = await nb.commit(s.id, { confirmTimeout: 60, comment: 'risky' });
    expect(r.commit.kind).toBe('confirmed');
    expect(r.confirmDeadline).toBe(clock.t + 60_000);
    expect(store.pending()).toMatchObject({ commitId: 2, revertTo: 1 });
    // Other commits wait for the confirmation.
    nb.setCandidate(s.id, scaleConfig(5));
    await expectCode(nb.commit(s.id), 'CONFIRMED_COMMIT_PENDING');
    clock.advance(59_000);
    await nb.idle();
    expect(nb.runningCommit()).toBe(2);
    clock.advance(1_000);
    await nb.idle();
    expect(nb.runningCommit()).toBe(3);
    expect(store.commitInfo(3)).toMatchObject({ kind: 'revert', user: 'system', parent: 2 });
    expect(nb.compare(s.id, 1, 'running')).toEqual([]);
    expect(store.pending()).toBeUndefined();
    expect(dry.dry.applied().at(-1)).toMatch(/^delete element/m); // in place: a diff, not a table reload
    expect(dry.dry.applied().at(-1)).not.toContain('delete table');
    expect(store.events().map((e) => e.kind)).toContain('revert');
  });

  it('confirm keeps a confirmed commit; cancel reverts it at once', async () => {
    const clock = new FakeClock();
    const { nb, store } = setup({ clock });
    await nb.start();
    const s = nb.openSession('alice', 'cli');
    nb.setCandidate(s.id, scaleConfig(2));
    await nb.commit(s.id, { confirmTimeout: 30 });
    await nb.confirm(s.id);
    expect(clock.pending()).toBe(0);
    clock.advance(60_000);
    await nb.idle();
    expect(nb.runningCommit()).toBe(1);
    await expectCode(nb.confirm(s.id), 'NO_PENDING_CONFIRM');

    nb.setCandidate(s.id, scaleConfig(3));
    await nb.commit(s.id, { confirmTimeout: 30 });
    const r = await nb.cancelCommit(s.id);
    expect(r.commit).toMatchObject({ id: 3, kind: 'revert' });
    expect(nb.getConfig(s.id, 'running').services.service).toHaveLength(2);
    expect(store.auditLog().map((a) => a.action)).toEqual(expect.arrayContaining(['confirm', 'cancel-commit']));
  });

  it('a pending confirmation survives a daemon restart and reverts at its deadline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcn-nb-'));
    dirs.push(dir);
    const file = join(dir, 'vcn.db');
    const clock = new FakeClock();
    const first = setup({ file, clock });
    await first.nb.start();
    const s = first.nb.openSession('alice', 'cli');
    first.nb.setCandidate(s.id, scaleConfig(2));
    await first.nb.commit(s.id);
    first.nb.setCandidate(s.id, scaleConfig(6));
    await first.nb.commit(s.id, { confirmTimeout: 120 });
    await first.nb.stop();
    first.store.close();

    clock.advance(30_000);
    const second = setup({ file, clock });
    const report = await second.nb.start();
    expect(report).toMatchObject({ loaded: 'running', commit: 2, pending: { commitId: 2, revertTo: 1 } });
    expect(report.apply!.mode).toBe('full');
    expect(second.dry.dry.applied()[0]).toContain('delete table netdev vcn');
    clock.advance(89_000);
    await second.nb.idle();
    expect(second.nb.runningCommit()).toBe(2);
    clock.advance(1_000);
    await second.nb.idle();
    expect(second.nb.runningCommit()).toBe(3);
    expect(second.store.running().config!.services.service).toHaveLength(2);
    await second.nb.stop();
    second.store.close();
  });

  it('loads startup at boot and copies running to startup', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcn-nb-'));
    dirs.push(dir);
    const file = join(dir, 'vcn.db');
    const a = setup({ file });
    await a.nb.start();
    const s = a.nb.openSession('alice', 'cli');
    a.nb.setCandidate(s.id, scaleConfig(2));
    await a.nb.commit(s.id);
    a.nb.copyRunningToStartup(s.id);
    a.nb.setCandidate(s.id, scaleConfig(5));
    await a.nb.commit(s.id);
    await a.nb.stop();
    a.store.close();

    const b = setup({ file });
    const report = await b.nb.start({ boot: true });
    expect(report.loaded).toBe('startup');
    expect(b.store.commitInfo(report.commit!)).toMatchObject({ kind: 'startup', user: 'system' });
    expect(b.store.running().config!.services.service).toHaveLength(2);
    b.store.close();
  });

  it('serialises concurrent commits: the second one of two racing sessions is stale', async () => {
    const { nb } = setup();
    await nb.start();
    const a = nb.openSession('alice', 'cli');
    const b = nb.openSession('bob', 'cli');
    nb.setCandidate(a.id, scaleConfig(2));
    nb.setCandidate(b.id, scaleConfig(3));
    const results = await Promise.allSettled([nb.commit(a.id), nb.commit(b.id)]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1].status).toBe('rejected');
    expect(((results[1] as PromiseRejectedResult).reason as VcnError).code).toBe('STALE_CANDIDATE');
    nb.setCandidate(a.id, scaleConfig(4));
    const slow = nb.commit(a.id);
    await expectCode(nb.commit(b.id, { noWait: true }), 'COMMIT_IN_PROGRESS');
    await slow;
  });

  it('keeps per-session candidates apart from the shared candidate', async () => {
    const { nb } = setup();
    await nb.start();
    const a = nb.openSession('alice', 'cli');
    const b = nb.openSession('bob', 'tui');
    nb.setCandidate(a.id, scaleConfig(2), { shared: true });
    expect(nb.getConfig(b.id, 'candidate', { shared: true }).services.service).toHaveLength(2);
    expect(nb.getConfig(b.id, 'candidate').services.service).toHaveLength(0);
    await nb.commit(b.id, { shared: true });
    expect(nb.getConfig(a.id, 'running').services.service).toHaveLength(2);
    nb.closeSession(a.id);
    await expectCode(() => nb.getConfig(a.id, 'running'), 'NO_SUCH_SESSION');
  });
});

describe('provisioning', () => {
  const base = (): Config => {
    const c = scaleConfig(3);
    c['service-ip-pools'] = { pool: [{ name: 'public', prefix: ['10.100.0.0/30', '10.150.0.0/24'] }] };
    c.devices.device.push({ name: 'fw-b', function: 'firewall', 'delivery-mode': 'transparent', 'admin-state': 'in-service', leg: [{ name: 'b0', interface: 'e1' }, { name: 'b1', interface: 'e2' }] });
    c.packages.package.push({ name: 'secure-web', function: ['firewall', 'ids', 'server'] });
    return c;
  };

  it('allocates the first free address of a pool, skipping used ones, network and broadcast', () => {
    const c = base();
    // 10.100.0.0/30: .1 and .2 are usable; svc1 and svc2 hold 10.100.0.1 and .2 → next prefix.
    expect(allocateServiceIp(c, 'public')).toBe('10.150.0.1');
    c.services.service[1]['service-ip'] = '10.99.0.1';
    expect(allocateServiceIp(c, 'public')).toBe('10.100.0.1');
    expect(() => allocateServiceIp(c, 'nope')).toThrow(/does not exist/);
    c['service-ip-pools']!.pool[0].prefix = ['10.100.0.2/32'];
    expect(() => allocateServiceIp(c, 'public')).toThrow(/no free address/);
  });

  it('instantiates a package with a device or pool per function, none, and a reordered sequence', () => {
    const c = base();
    const { service } = instantiatePackage(c, {
      service: 'shop',
      package: 'secure-web',
      choices: [{ pool: 'firewalls' }, 'none', { device: 'srv7' }],
      port: 443,
      protocol: 'tcp',
      serviceIpPool: 'public',
    });
    expect(service).toMatchObject({ name: 'shop', package: 'secure-web', 'service-ip': '10.150.0.1' });
    expect(service.port[0].step.map((s) => [s.seq, s.pool ?? s.device])).toEqual([
      [1, 'firewalls'],
      [2, 'srv7'],
    ]);
    const swapped = instantiatePackage(c, {
      service: 'odd',
      package: 'secure-web',
      choices: [{ device: 'fw-b' }, 'none', { device: 'srv1' }],
      order: [2, 0],
      port: 8080,
      serviceIp: '192.0.2.10',
    }).service;
    expect(swapped.port[0].step.map((s) => s.device)).toEqual(['srv1', 'fw-b']);
    expect(() =>
      instantiatePackage(c, { service: 'x', package: 'secure-web', choices: [{ device: 'srv1' }, 'none', 'none'], port: 1, serviceIp: '192.0.2.1' }),
    ).toThrow(/is firewall; device 'srv1' is server/);
  });

  it('creates a service from a package in the candidate and commits it', async () => {
    const { nb } = setup();
    await nb.start();
    const s = nb.openSession('alice', 'cli');
    nb.setCandidate(s.id, base());
    await nb.commit(s.id);
    nb.createServiceFromPackage(s.id, { service: 'shop', package: 'secure-web', choices: [{ pool: 'firewalls' }, 'none', { device: 'srv7' }], port: 443, serviceIpPool: 'public' });
    const r = await nb.commit(s.id, { comment: 'new customer' });
    expect(r.changes.map((c) => `${c.op} ${c.path}`)).toEqual(["added /services/service[name='shop']"]);
    expect(nb.getConfig(s.id, 'running').services.service.find((x) => x.name === 'shop')!['service-ip']).toBe('10.150.0.1');
  });
});
