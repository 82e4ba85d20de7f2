/**
 * The netlink element batch against the real kernel: elements written by our
 * encoder list exactly like the same elements written by `nft` into a twin
 * table (every key, data and counter type the renderer uses); a check batch
 * changes nothing; a rejected batch changes nothing and names the set.
 */
import { describe, expect, it } from 'vitest';
import type { NftSet } from '../../appliance/compile/render-model.js';
import { elementBatch } from '../../appliance/datapath/netlink-batch.js';
import { NetlinkWriter } from '../../appliance/datapath/netlink-writer.js';
import { MiniNet, run } from './helpers/netns-mini.js';
import { miniNetHooks } from './helpers/mini-net-hooks.js';

const net = new MiniNet();
let ns: string;
let writer: NetlinkWriter;
let i0: string;

const set = (name: string, keyType: string, dataType: string | undefined, interval: boolean, counter: boolean, elements: [string, string][]): NftSet => ({
  name,
  keyType,
  dataType,
  interval,
  counter,
  elements: new Map(elements),
});

/** Every shape of set the renderer emits, with elements in the renderer's text form. */
function sets(): NftSet[] {
  return [
    set('v4_ddp', 'ifname . ipv4_addr . inet_service', 'mark', false, true, [
      [`"${i0}" . 203.0.113.1 . 80`, '0x90382a80'],
      [`"${i0}" . 203.0.113.2 . 443`, '0x00000002'],
    ]),
    set('v4_mssp', 'ifname . ether_addr . ipv4_addr . inet_service', 'mark', false, true, [[`"${i0}" . 02:00:00:00:0a:01 . 10.1.2.3 . 8080`, '0x41d81289']]),
    set('v4_ddp_r', 'ifname . ipv4_addr . inet_service', 'mark', true, true, [
      [`"${i0}" . 203.0.113.9 . 1000-2000`, '0x00000003'],
      [`"${i0}" . 198.51.100.0/24 . 53`, '0x00000004'],
    ]),
    set('acl4', 'ifname . ipv4_addr . inet_service . ipv4_addr', 'verdict', true, false, [
      [`"${i0}" . 203.0.113.1 . 80 . 0.0.0.0-192.0.1.255`, 'drop'],
      [`"${i0}" . 203.0.113.1 . 80 . 192.0.2.0/24`, 'continue'],
    ]),
    set('acl4_cnt', 'ifname . ipv4_addr . inet_service . ipv4_addr', 'counter', true, false, [[`"${i0}" . 203.0.113.1 . 80 . 192.0.2.0/24`, '"acl/web/10"']]),
    set('snd4', 'ifname . ether_addr', 'verdict', false, false, [[`"${i0}" . 02:00:00:00:0a:01`, 'jump m4']]),
    set('act', 'mark', 'verdict', false, false, [['0x90382a80', 'goto a_1'], ['0x00000002', 'drop']]),
    set('v4_d_nat', 'ifname . ipv4_addr . inet_service', 'ipv4_addr', false, false, [[`"${i0}" . 203.0.113.1 . 80`, '10.0.3.1']]),
    set('v6_ddp', 'ifname . ipv6_addr . inet_service', 'mark', false, true, [[`"${i0}" . 2001:db8::1 . 80`, '0x00000005']]),
    // The protocol in the key (a shape the renderer may take): padded to 32 bits like every concatenated field.
    set('v4_pddp', 'ifname . inet_proto . ipv4_addr . inet_service', 'mark', false, true, [
      [`"${i0}" . tcp . 203.0.113.1 . 80`, '0x00000006'],
      [`"${i0}" . udp . 203.0.113.1 . 53`, '0x00000007'],
    ]),
  ];
}

/** The twin tables' structure: the sets empty, the chains and objects the elements name. */
function structure(table: string, all: NftSet[]): string {
  const decl = all.map((s) => {
    const type = `type ${s.keyType}${s.dataType ? ` : ${s.dataType}` : ''};`;
    return `  ${s.dataType ? 'map' : 'set'} ${s.name} { ${type}${s.interval ? ' flags interval;' : ''}${s.counter ? ' counter;' : ''} }`;
  });
  return `table netdev ${table} {\n  counter acl/web/10 { }\n  chain a_1 { drop; }\n  chain m4 { }\n${decl.join('\n')}\n}\n`;
}

const nft = async (args: string[], input?: string) => (await run(['ip', 'netns', 'exec', ns, 'nft', ...args], { input })).stdout;
/** The table's listing with its name taken out, so two tables compare. */
const listing = async (table: string) => (await nft(['list', 'table', 'netdev', table])).replace(new RegExp(`\\b${table}\\b`, 'g'), 'T');

miniNetHooks(net, async () => {
  ns = await net.addNs('nlb');
  const peer = await net.addNs('nlp');
  i0 = net.ifname('e0');
  await net.veth({ ns, name: i0, mac: '02:99:00:00:00:01' }, { ns: peer, name: net.ifname('p0'), mac: '02:99:00:00:00:02' });
  writer = new NetlinkWriter({ netns: ns });
}, { teardown: () => writer?.close(), setupMs: 60_000 });

describe('netlink element batches on the real kernel', () => {
  it('elements sent as a batch list exactly like the same elements sent by nft', async () => {
    const all = sets();
    await nft(['-f', '-'], structure('ours', all) + structure('theirs', all));
    const counters = new Map([[`"${i0}" . 203.0.113.1 . 80`, { packets: 7, bytes: 700 }]]);
    const adds = all.map((s) => ({ set: s, keys: [...s.elements.keys()], counters: s.name === 'v4_ddp' ? counters : undefined }));
    expect(await writer.send(elementBatch('ours', [], adds, false))).toEqual([]);
    const script = all
      .map((s) => {
        const items = [...s.elements].map(([k, v]) => {
          const c = s.counter ? ` counter packets ${counters.get(k)?.packets ?? 0} bytes ${counters.get(k)?.bytes ?? 0}` : '';
          return s.dataType ? `${k}${c} : ${v}` : `${k}${c}`;
        });
        return `add element netdev theirs ${s.name} { ${items.join(', ')} }`;
      })
      .join('\n');
    await nft(['-f', '-'], `${script}\n`);
    const ours = await listing('ours');
    expect(ours).toContain('counter packets 7 bytes 700 : 0x90382a80');
    expect(ours).toContain('1000-2000');
    expect(ours).toBe(await listing('theirs'));

    // Deletes: every set emptied by one batch.
    const dels = all.map((s) => ({ set: s, keys: [...s.elements.keys()] }));
    expect(await writer.send(elementBatch('ours', dels, [], false))).toEqual([]);
    expect(await listing('ours')).not.toMatch(/elements =/);
  });

  it('a check batch (no BATCH_END) is validated and changes nothing', async () => {
    const before = await listing('ours');
    const all = sets();
    const ok = elementBatch('ours', [], [{ set: all[0], keys: [...all[0].elements.keys()] }], true);
    expect(await writer.send(ok)).toEqual([]);
    expect(await listing('ours')).toBe(before);
    // The same check of a delete of elements that are not there: the kernel says so, per message.
    const bad = elementBatch('ours', [{ set: all[0], keys: [...all[0].elements.keys()] }], [], true);
    const errors = await writer.send(bad);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0][1]).toBe(2); // ENOENT
    expect(await listing('ours')).toBe(before);
  });

  it('a rejected batch changes nothing, and the error names the message', async () => {
    const all = sets();
    const before = await listing('ours');
    // Good adds to v4_ddp, then an add to a set that does not exist: all or nothing.
    const ghost = { ...all[0], name: 'nosuch' };
    const batch = elementBatch('ours', [], [{ set: all[0], keys: [...all[0].elements.keys()] }, { set: ghost, keys: [...ghost.elements.keys()] }], false);
    const errors = await writer.send(batch);
    expect(errors).toHaveLength(1);
    const failed = batch.messages.find((m) => m.seq === errors[0][0]);
    expect(failed).toMatchObject({ op: 'add', set: 'nosuch' });
    expect(await listing('ours')).toBe(before);
    // The writer keeps serving after a rejection.
    expect(await writer.send(elementBatch('ours', [], [{ set: all[5], keys: [...all[5].elements.keys()] }], false))).toEqual([]);
  });

  it('splits large changes over several messages of one batch', async () => {
    const many = set('v4_ddp', 'ifname . ipv4_addr . inet_service', 'mark', false, true, []);
    for (let n = 0; n < 5000; n++) many.elements.set(`"${i0}" . 10.${(n >> 8) & 255}.${n & 255}.1 . 80`, `0x${(n + 16).toString(16).padStart(8, '0')}`);
    const batch = elementBatch('ours', [], [{ set: many, keys: [...many.elements.keys()] }], false);
    expect(batch.messages.length).toBeGreaterThan(1);
    expect(await writer.send(batch)).toEqual([]);
    const count = (await nft(['-j', 'list', 'map', 'netdev', 'ours', 'v4_ddp'])).split('"concat"').length - 1;
    expect(count).toBe(5000);
  });
});
