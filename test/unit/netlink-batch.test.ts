/** The netlink element batch encoder: framing, splitting, refusals. (Byte-exactness against nft: test/integration/netlink-batch.test.ts.) */
import { describe, expect, it } from 'vitest';
import type { NftSet } from '../../appliance/compile/render-model.js';
import { BatchEncodeError, elementBatch, encodable } from '../../appliance/datapath/netlink-batch.js';

const map = (over: Partial<NftSet> = {}): NftSet => ({
  name: 'v4_ddp',
  keyType: 'ifname . ipv4_addr . inet_service',
  dataType: 'mark',
  interval: false,
  counter: true,
  elements: new Map([['"e0" . 10.0.0.1 . 80', '0x00000010']]),
  ...over,
});

/** nlmsg types in order. */
function types(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let o = 0; o < bytes.length; o += bytes.readUInt32LE(o)) out.push(bytes.readUInt16LE(o + 4));
  return out;
}

describe('netlink element batch', () => {
  it('frames deletes before adds between BATCH_BEGIN and BATCH_END; a check leaves out the end', () => {
    const s = map();
    const b = elementBatch('vcn', [{ set: s, keys: ['"e0" . 10.0.0.1 . 80'] }], [{ set: s, keys: ['"e0" . 10.0.0.1 . 80'] }], false);
    expect(types(b.bytes)).toEqual([0x10, 0x0a0e, 0x0a0c, 0x11]);
    expect(b.messages.map((m) => [m.seq, m.op])).toEqual([
      [2, 'delete'],
      [3, 'add'],
    ]);
    expect(types(elementBatch('vcn', [], [{ set: s, keys: [...s.elements.keys()] }], true).bytes)).toEqual([0x10, 0x0a0c]);
  });

  it('keeps every message’s element list under the 64 KiB attribute limit', () => {
    const s = map();
    for (let n = 0; n < 3000; n++) s.elements.set(`"e0" . 10.0.${n >> 8}.${n & 255} . 80`, '0x00000010');
    const b = elementBatch('vcn', [], [{ set: s, keys: [...s.elements.keys()] }], false);
    expect(b.messages.length).toBeGreaterThan(1);
    expect(b.messages.reduce((n, m) => n + m.elements, 0)).toBe(3000);
    for (let o = 0; o < b.bytes.length; o += b.bytes.readUInt32LE(o)) expect(b.bytes.readUInt32LE(o)).toBeLessThan(65_535);
  });

  it('says which sets it cannot carry (single-field intervals, unknown types) and refuses bad values', () => {
    expect(encodable(map())).toBe(true);
    expect(encodable(map({ keyType: 'ifname . ipv4_addr . inet_service', interval: true }))).toBe(true);
    expect(encodable(map({ keyType: 'ipv4_addr', dataType: undefined, interval: true }))).toBe(false);
    expect(encodable(map({ keyType: 'ifname . ct_state' }))).toBe(false);
    const bad = map({ elements: new Map([['"e0" . 10.0.0.1 . 80', '0x1'], ['"e0" . 10.0.0.1', '0x2']]) });
    expect(() => elementBatch('vcn', [], [{ set: bad, keys: ['"e0" . 10.0.0.1'] }], false)).toThrow(BatchEncodeError);
    const mac = map({ keyType: 'ifname . ether_addr', elements: new Map([['"e0" . 02:zz:00:00:00:01', '0x1']]) });
    expect(() => elementBatch('vcn', [], [{ set: mac, keys: [...mac.elements.keys()] }], false)).toThrow(/bad MAC/);
  });
});
