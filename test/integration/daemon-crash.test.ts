/**
 * Crash safety of the daemon against the real kernel: 50 commits, the daemon
 * SIGKILLed at random points during many of them. After every kill the store
 * holds exactly the old or the new configuration (never a mix), and after the
 * restart the kernel's table matches the store's running configuration.
 * Also: SIGTERM stops it cleanly, and a confirmed commit reverts after a restart.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleConfig } from '../../bench/scale-config.js';
import type { Config } from '../../appliance/model/config.generated.js';
import { DryDriver } from '../../appliance/datapath/dry-driver.js';
import { keyFromJson } from '../../appliance/datapath/counters.js';
import { isDirect, overflowName } from '../../appliance/compile/render-model.js';
import { readInterfaceMacs } from '../../appliance/datapath/nft-driver.js';
import { Engine } from '../../appliance/engine.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';
import { Store } from '../../mgmt/store/store.js';
import { diffConfigs } from '../../mgmt/northbound/config-diff.js';
import { isRoot, NEEDS_ROOT } from './helpers/root.js';

const ROOT = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reply {
  id?: number;
  event?: string;
  result?: unknown;
  error?: { code: string; message: string };
  started?: { commit: number | null; error?: string };
}

class DaemonProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  private nextId = 1;
  private waiting = new Map<number, (r: Reply) => void>();
  readonly ready: Promise<Reply>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';

  constructor(db: string, ns: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'mgmt/daemon.ts'), '--db', db, '--netns', ns, '--stdio'], { cwd: ROOT, stdio: 'pipe' });
    this.pid = this.child.pid!;
    this.child.stderr.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.exited = new Promise((r) => this.child.on('exit', (code, signal) => r({ code, signal })));
    let readyResolve!: (r: Reply) => void;
    this.ready = new Promise((r, reject) => {
      readyResolve = r;
      void this.exited.then(() => reject(new Error(`daemon exited before ready: ${this.stderr}`)));
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const r = JSON.parse(line) as Reply;
      if (r.event === 'ready') readyResolve(r);
      else if (r.id !== undefined) this.waiting.get(r.id)?.(r);
    });
  }

  call(method: string, ...params: unknown[]): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, resolve);
      void this.exited.then(() => reject(new Error('daemon exited')));
      this.child.stdin.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  kill(sig: NodeJS.Signals): void {
    // Only the PID we started.
    try {
      process.kill(this.pid, sig);
    } catch {
      /* already gone */
    }
  }
}

const nftJson = (ns: string) => JSON.parse(execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'netdev', 'vcn'], { maxBuffer: 64 << 20 }).toString());

/** Sets and their element keys, and chains with their names, of nft JSON output. */
function kernelShape(json: { nftables: Record<string, Record<string, unknown>>[] }, keyTypes: Map<string, string>) {
  const sets = new Map<string, string[]>();
  const chains: string[] = [];
  for (const item of json.nftables) {
    if (item.chain) chains.push(String(item.chain.name));
    const m = item.map ?? item.set;
    if (!m) continue;
    const kt = keyTypes.get(String(m.name));
    const keys = ((m.elem as unknown[]) ?? []).map((e) => {
      const k = Array.isArray(e) ? e[0] : e;
      const v = k && typeof k === 'object' && 'elem' in k ? (k as { elem: { val: unknown } }).elem.val : k;
      return kt ? keyFromJson(kt, v) : JSON.stringify(v);
    });
    sets.set(String(m.name), keys.sort());
  }
  return { sets, chains: chains.sort() };
}

async function expectKernelMatches(ns: string, config: Config | undefined) {
  const engine = new Engine({ datapath: new DryDriver(), facts: async () => ({ interfaceMacs: await readInterfaceMacs(ns) }) });
  const { ruleset } = await engine.prepare(config ?? checkConfig({}).config);
  const keyTypes = new Map([...ruleset.sets].map(([n, s]) => [n, s.keyType]));
  const kernel = kernelShape(nftJson(ns), keyTypes);
  const want = new Map([...ruleset.sets].map(([n, s]) => [n, [...s.elements.keys()].sort()]));
  // Rows that commits added since the last full apply sit in the overflow of their direct map
  // (appliance/datapath/overflow.ts): the kernel holds the rendered rows when both maps together do.
  for (const name of ruleset.sets.keys()) {
    if (!isDirect(ruleset, name)) continue;
    const spill = kernel.sets.get(overflowName(name)) ?? [];
    kernel.sets.set(name, [...(kernel.sets.get(name) ?? []), ...spill].sort());
    kernel.sets.set(overflowName(name), []);
  }
  expect(kernel.chains).toEqual([...ruleset.chains.keys()].sort());
  expect(new Map([...kernel.sets].sort())).toEqual(new Map([...want].sort()));
}

/** Commit i's configuration: a varying number of services, one address that moves every time. */
function configFor(i: number): Config {
  const c = scaleConfig(3 + (i % 9));
  c.services.service[0]['service-ip'] = `10.150.${i}.1`;
  c.services.service[0].description = `commit ${i}`;
  return checkConfig(c).config;
}

describe.skipIf(!isRoot)(`daemon crash safety (${isRoot ? 'root' : NEEDS_ROOT})`, () => {
  const ns = `vcnd-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  const dir = mkdtempSync(join(tmpdir(), 'vcnd-'));
  const db = join(dir, 'vcn.db');
  const started: DaemonProcess[] = [];
  const launch = async () => {
    const d = new DaemonProcess(db, ns);
    started.push(d);
    await d.ready;
    return d;
  };

  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    for (let i = 0; i < 4; i++) {
      execFileSync('ip', ['-n', ns, 'link', 'add', `e${i}`, 'type', 'veth', 'peer', 'name', `p${i}`]);
      execFileSync('ip', ['-n', ns, 'link', 'set', `e${i}`, 'up']);
      execFileSync('ip', ['-n', ns, 'link', 'set', `p${i}`, 'up']);
    }
  });

  afterAll(async () => {
    for (const d of started) d.kill('SIGKILL');
    await Promise.all(started.map((d) => d.exited));
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      /* already gone */
    }
    rmSync(dir, { recursive: true, force: true });
  });

  // Up to 50 daemon starts (each a Node process with tsx): minutes on a loaded 2-CPU machine.
  it('after SIGKILL at random points of 50 commits the store holds the old or the new config and the kernel matches it', { timeout: 300_000 }, async () => {
    let d = await launch();
    let committed: Config | undefined; // what the store must hold at least (old)
    let kills = 0;
    let sawOld = 0;
    let sawNew = 0;
    const durations: number[] = [];
    for (let i = 0; i < 50; i++) {
      const next = configFor(i);
      expect((await d.call('setCandidate', next)).error).toBeUndefined();
      const kill = i >= 3 && Math.random() < 0.6;
      const avg = durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : 50;
      const t0 = performance.now();
      const reply = d.call('commit', { comment: `commit ${i}` }).catch(() => undefined);
      if (!kill) {
        const r = await reply;
        expect(r?.error, r?.error?.message).toBeUndefined();
        durations.push(performance.now() - t0);
        committed = next;
        continue;
      }
      await sleep(Math.random() * avg * 1.2);
      d.kill('SIGKILL');
      await d.exited;
      kills++;
      // The store as the crash left it: exactly the old or the new configuration.
      const store = Store.open(db);
      const running = store.running().config;
      store.close();
      const isNew = diffConfigs(running, next).length === 0;
      const isOld = committed ? diffConfigs(running, committed).length === 0 : running === undefined;
      expect(isNew || isOld, `commit ${i}: the store holds neither the old nor the new configuration`).toBe(true);
      if (isNew) sawNew++;
      else sawOld++;
      committed = running;
      d = await launch();
      await expectKernelMatches(ns, committed);
    }
    await expectKernelMatches(ns, committed);
    d.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(kills).toBeGreaterThan(10);
    console.log(`crash test: ${kills} kills, store old ${sawOld} / new ${sawNew} times; commit ~${Math.round(durations.reduce((a, b) => a + b, 0) / durations.length)} ms`);
  });

  it('a confirmed commit left pending by a killed daemon reverts after the restart', async () => {
    let d = await launch();
    const before = (await d.call('runningCommit')).result as number;
    await d.call('setCandidate', configFor(100));
    // 20 s: the restart below (node + tsx + a full load) must come back before the window ends, even on a loaded machine.
    const r = await d.call('commit', { confirmTimeout: 20, comment: 'confirm me' });
    expect(r.error).toBeUndefined();
    d.kill('SIGKILL');
    await d.exited;
    d = await launch();
    expect(((await d.call('pendingConfirm')).result as { revertTo: number }).revertTo).toBe(before);
    for (let t = 0; t < 300 && (await d.call('pendingConfirm')).result; t++) await sleep(100);
    expect((await d.call('pendingConfirm')).result).toBeNull();
    const store = Store.open(db);
    const running = store.running();
    expect(diffConfigs(running.config, store.commitConfig(before))).toEqual([]);
    expect(store.commitInfo(running.id!)).toMatchObject({ kind: 'revert' });
    store.close();
    await expectKernelMatches(ns, running.config);
    d.kill('SIGTERM');
    await d.exited;
  });
});
