/**
 * Atomic change (issue 3, SPEC §3 Transactions): a stream to one service loses
 * nothing while 100 commits add and remove other services, and a ruleset the
 * kernel rejects leaves the old one running with a clear error.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { DatapathError } from '../../appliance/datapath/datapath.js';
import { engineLab, validated, type EngineLab } from './helpers/engine-lab.js';
import { requireRoot } from './helpers/root.js';

let t: EngineLab;
let base: Config;

beforeAll(async () => {
  requireRoot();
  t = await engineLab({ tcpPorts: [80], udpPorts: [9] });
  base = t.lab.demoConfig();
  await t.load(base);
}, 120_000);

afterAll(async () => {
  await t?.down();
});

/** The demo plus `extra` services at addresses no traffic uses. */
function withExtra(extra: number, offset: number): Config {
  const config = structuredClone(base);
  for (let i = 0; i < extra; i++) {
    const n = offset + i;
    config.services.service.push({
      name: `extra${n}`,
      'service-ip': `10.${t.lab.plan.net}.${150 + (n >> 8)}.${n & 255}`,
      port: [{ port: 80, protocol: 'tcp', step: [{ seq: 1, device: 'fw', 'copy-to': [] }, { seq: 2, device: 'slo', 'copy-to': [] }] }],
      acl: { 'default-action': 'permit', rule: [] },
    });
  }
  return config;
}

describe('atomic commits on a live data plane', () => {
  it('a UDP stream loses no packet while 100 commits add and remove other services', async () => {
    const { W4 } = t.lab.plan.service;
    await t.lab.clearServerLog('slo');
    // The stream runs until the commits are done (a stop file), bounded in count and time; it prints how many it sent.
    const stopFile = `${t.lab.plan.workDir}/stop-stream`;
    const sender = `const fs=require('fs');const s=require('dgram').createSocket('udp4');let i=0;const t0=Date.now();
function next(){if(i>=60000||Date.now()-t0>150000||(i%50===0&&fs.existsSync('${stopFile}'))){s.close();console.log(i);return}
const b=Buffer.from('seq '+(i++));s.send(b,9,'${W4}',()=>setTimeout(next,1))}next();`;
    // Generous bounds: on a loaded 2-core machine node's start and 100 commits can take minutes.
    const stream = t.lab.run('cl', ['node', '-e', sender], { timeoutMs: 200_000 });
    const modes: string[] = [];
    for (let c = 0; c < 100; c++) {
      const result = await t.engine.load(validated(withExtra(1 + (c % 5), c * 5)));
      modes.push(result.mode);
    }
    writeFileSync(stopFile, '');
    const sent = Number((await stream).stdout.trim());
    expect(sent).toBeGreaterThan(100);
    expect(sent).toBeLessThan(60000);
    await expect
      .poll(async () => new Set((await t.lab.serverLog('slo')).filter((l) => l.proto === 'udp' && l.local === W4).map((l) => l.data)).size, { timeout: 10_000 })
      .toBe(sent);
    // The changes after the first load went in as diffs, not full reloads.
    expect(modes.filter((m) => m === 'diff').length).toBeGreaterThanOrEqual(99);
  }, 300_000);

  it('a UDP stream loses no packet while the whole table is replaced (netlink full apply) again and again', async () => {
    const { W4 } = t.lab.plan.service;
    await t.lab.clearServerLog('slo');
    const stopFile = `${t.lab.plan.workDir}/stop-stream-full`;
    const sender = `const fs=require('fs');const s=require('dgram').createSocket('udp4');let i=0;const t0=Date.now();
function next(){if(i>=60000||Date.now()-t0>150000||(i%50===0&&fs.existsSync('${stopFile}'))){s.close();console.log(i);return}
const b=Buffer.from('seq '+(i++));s.send(b,9,'${W4}',()=>setTimeout(next,1))}next();`;
    const stream = t.lab.run('cl', ['node', '-e', sender], { timeoutMs: 200_000 });
    // 2000 more services: each replace recreates some 10k elements while the stream runs.
    const prepared = [await t.engine.prepare(validated(withExtra(2000, 0))), await t.engine.prepare(validated(withExtra(1999, 1)))];
    const vias: string[] = [];
    let kernelDiffs = 0;
    for (let c = 0; c < 6; c++) {
      // Carrying counters, the full apply is a diff against the kernel's table; without, a new table in one transaction.
      const result = await t.engine.apply(prepared[c % 2], { full: true, carryCounters: c % 3 === 0 });
      vias.push(`${result.mode}/${result.via}`);
      if (result.kernelDiff) kernelDiffs++;
    }
    writeFileSync(stopFile, '');
    const sent = Number((await stream).stdout.trim());
    expect(sent).toBeGreaterThan(100);
    await expect
      .poll(async () => new Set((await t.lab.serverLog('slo')).filter((l) => l.proto === 'udp' && l.local === W4).map((l) => l.data)).size, { timeout: 10_000 })
      .toBe(sent);
    expect(vias).toEqual(Array(6).fill('full/netlink'));
    // The first one changes too much for a diff (2000 services come): a new table.
    expect(kernelDiffs).toBe(1);
  }, 300_000);

  it('a ruleset the kernel rejects leaves the old one running and says why', async () => {
    await t.load(base);
    const before = JSON.stringify(await t.driver.listRuleset());
    const prepared = await t.engine.prepare(validated(withExtra(1, 900)));
    // A statement the kernel refuses: forwarding to an interface that does not exist.
    prepared.ruleset.chains.set('broken', { name: 'broken', kind: 'action', rules: ['fwd to "no-such-if0"'] });
    const err = await t.engine.apply(prepared, { full: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatapathError);
    expect((err as DatapathError).code).toBe('NFT_REJECTED');
    expect((err as DatapathError).message).toMatch(/no-such-if0|No such|rror/);
    expect(JSON.stringify(await t.driver.listRuleset())).toBe(before);
    const r = await t.lab.tryExec('cl', ['curl', '-sS', '--max-time', '3', `http://${t.lab.plan.service.W1}/`], { timeoutMs: 5000 });
    expect(r.code, r.stderr).toBe(0);
  });
});
