/**
 * Direct row maps and their overflow on the real kernel (appliance/datapath/overflow.ts):
 * a service port added by a diff after a full apply lands in the overflow map
 * (no goto element added), forwards and counts exactly from there; the next
 * full apply moves it into the direct map with its count, and the count goes
 * on from there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../appliance/model/config.generated.js';
import { locateElement } from '../../appliance/compile/render-model.js';
import { engineLab, type EngineLab } from './helpers/engine-lab.js';
import { requireRoot } from './helpers/root.js';
import { udpBurst } from './helpers/udp-burst.js';

let t: EngineLab;
let config: Config;


/** The kernel's element of `key` in `map` as nft lists it ("… counter packets N bytes M : …"), or undefined. */
async function kernelElement(map: string, key: string): Promise<string | undefined> {
  const r = await t.lab.tryExec('eng', ['nft', 'list', 'map', 'netdev', t.driver.table, map], { timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(r.stderr);
  const [addr, port] = key.split(' . ');
  return r.stdout
    .split(/,|\n/)
    .find((l) => l.includes(`${addr} . ${port} `))
    ?.replace(/^.*\{/, '')
    .replace(/\}.*$/, '')
    .trim();
}

beforeAll(async () => {
  requireRoot();
  t = await engineLab({ udpPorts: [9] });
  config = t.lab.demoConfig();
}, 120_000);

afterAll(async () => {
  await t?.down();
});

describe('direct maps and overflow on the kernel', () => {
  it('a port added by a diff forwards and counts exactly from the overflow; the next full apply compacts it with its count', async () => {
    const { W1 } = t.lab.plan.service;
    const web = config.services.service.find((s) => s.name === 'web')!;
    const udp9 = web.port.find((p) => p.port === 9)!;
    web.port = web.port.filter((p) => p !== udp9);
    const first = await t.engine.load(structuredClone(config), {}, { full: true });
    expect(first.mode).toBe('full');

    // Added by a diff: the client row goes to the overflow of its direct map, by action id.
    web.port.push(udp9);
    const added = await t.engine.load(structuredClone(config));
    expect(added.mode).toBe('diff');
    const row = t.driver.running()!.rows.get('web/9/in')!;
    const at = locateElement(t.driver.running()!, row)!;
    expect(at.map).toBe(`${row.map}_o`);
    expect(await kernelElement(row.map, row.key)).toBeUndefined();
    expect(await kernelElement(at.map, row.key)).toMatch(/: 0x[0-9a-f]+$/);

    const count = 120;
    const payload = 100;
    const bytes = 20 + 8 + payload;
    const delivered = async () => (await t.lab.serverLog('slo')).filter((l) => l.local === W1 && l.lport === 9).length;
    await t.lab.exec('cl', 'node', '-e', udpBurst(W1, 9, count, payload));
    await expect.poll(delivered, { timeout: 10_000 }).toBeGreaterThanOrEqual(count);
    const before = (await t.engine.readCounters()).servicePorts.get('web/9')!;
    expect(before.in).toEqual({ packets: count, bytes: count * bytes });

    // The next full apply: the row is back in the direct map (a goto), with the count it had.
    const full = await t.engine.load(structuredClone(config), {}, { full: true });
    expect(full.mode).toBe('full');
    expect(locateElement(t.driver.running()!, row)!.map).toBe(row.map);
    expect(await kernelElement(`${row.map}_o`, row.key)).toBeUndefined();
    expect(await kernelElement(row.map, row.key)).toMatch(new RegExp(`counter packets ${count} bytes ${count * bytes} : goto a_[0-9a-f]{14}$`));
    expect((await t.engine.readCounters()).servicePorts.get('web/9')!.in).toEqual(before.in);

    // And it goes on counting from there.
    await t.lab.exec('cl', 'node', '-e', udpBurst(W1, 9, count, payload));
    await expect.poll(delivered, { timeout: 10_000 }).toBeGreaterThanOrEqual(2 * count);
    expect((await t.engine.readCounters()).servicePorts.get('web/9')!.in).toEqual({ packets: 2 * count, bytes: 2 * count * bytes });
  });

  it('compaction between commits moves an overflow row into the direct map in one diff, with its count', async () => {
    const { W1 } = t.lab.plan.service;
    const web = config.services.service.find((s) => s.name === 'web')!;
    const udp9 = web.port.find((p) => p.port === 9)!;
    web.port = web.port.filter((p) => p !== udp9);
    await t.engine.load(structuredClone(config));
    web.port.push(udp9);
    expect((await t.engine.load(structuredClone(config))).mode).toBe('diff');
    const row = t.driver.running()!.rows.get('web/9/in')!;
    expect(locateElement(t.driver.running()!, row)!.map).toBe(`${row.map}_o`);

    const count = 80;
    const payload = 60;
    const bytes = 20 + 8 + payload;
    const delivered = async () => (await t.lab.serverLog('slo')).filter((l) => l.local === W1 && l.lport === 9 && l.len === payload).length;
    await t.lab.exec('cl', 'node', '-e', udpBurst(W1, 9, count, payload));
    await expect.poll(delivered, { timeout: 10_000 }).toBeGreaterThanOrEqual(count);
    const before = (await t.engine.readCounters()).rows.get('web/9/in')!;
    expect(before).toEqual({ packets: count, bytes: count * bytes });

    const r = await t.engine.compact();
    expect(r).toMatchObject({ mode: 'diff', via: 'netlink' });
    expect(await t.engine.compact()).toBeUndefined();
    expect(locateElement(t.driver.running()!, row)!.map).toBe(row.map);
    expect(await kernelElement(row.map, row.key)).toMatch(new RegExp(`counter packets ${count} bytes ${count * bytes} : goto a_[0-9a-f]{14}$`));
    await t.lab.exec('cl', 'node', '-e', udpBurst(W1, 9, count, payload));
    await expect.poll(delivered, { timeout: 10_000 }).toBeGreaterThanOrEqual(2 * count);
    expect((await t.engine.readCounters()).rows.get('web/9/in')).toEqual({ packets: 2 * count, bytes: 2 * count * bytes });
  });
});
