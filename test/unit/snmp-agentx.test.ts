/**
 * The AgentX codec, the MIB tree lookups and the billing ledger, without snmpd
 * (the integration tests run them against the real one).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { decodePdu, encodeResponse, ERR, FLAG, PDU, PduSplitter, VT, type Pdu } from '../../mgmt/snmp/agentx-pdu.js';
import { answerRequest } from '../../mgmt/snmp/agentx-session.js';
import { counter64, fixedRow, int, MibTree, str } from '../../mgmt/snmp/mib-tree.js';
import { CounterLedger } from '../../mgmt/accounting/ledger.js';
import { MIGRATIONS } from '../../mgmt/store/migrations.js';
import { addressIndex } from '../../mgmt/snmp/vcn-mib.js';

const ROOT = [1, 3, 6, 1, 4, 1, 32473, 1];
const ids = { sessionId: 7, transactionId: 8, packetId: 9 };

/** A GetNext PDU as snmpd sends it (little-endian when the NBO flag is clear). */
function getNext(start: number[], littleEndian: boolean): Buffer {
  const body: number[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    if (littleEndian) b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    body.push(...b);
  };
  body.push(start.length - 5, start[4], 0, 0);
  for (const id of start.slice(5)) u32(id);
  body.push(0, 0, 0, 0); // end: null OID
  const h = Buffer.alloc(20);
  h[0] = 1;
  h[1] = PDU.getNext;
  h[2] = littleEndian ? 0 : FLAG.networkByteOrder;
  const w = (o: number, v: number) => (littleEndian ? h.writeUInt32LE(v, o) : h.writeUInt32BE(v, o));
  w(4, 5);
  w(8, 1);
  w(12, 2);
  w(16, body.length);
  return Buffer.concat([h, Buffer.from(body)]);
}

const tree = new MibTree(
  {
    scalars: [{ oid: [...ROOT, 1, 1, 1], value: str('v') }],
    tables: [
      {
        entry: [...ROOT, 1, 2, 1],
        columns: [4, 7],
        rows: [
          fixedRow([...addressIndex('10.0.0.9'), 443], [str('a'), counter64(2n ** 64n - 1n)]),
          fixedRow([...addressIndex('10.0.0.10'), 80], [str('b'), counter64(2n ** 53n + 1n)]),
          fixedRow([...addressIndex('10.0.0.10'), 8080], [str('c'), undefined]),
        ],
      },
    ],
  },
  ROOT,
);

describe('AgentX codec', () => {
  it('splits PDUs that arrive together in one read and one that arrives in pieces', () => {
    const a = getNext([...ROOT, 1], false);
    const b = getNext([...ROOT, 2], true);
    const sp = new PduSplitter();
    const both = Buffer.concat([a, b, a.subarray(0, 7)]);
    const got = sp.push(both);
    expect(got.map((p) => decodePdu(p).ranges![0].start)).toEqual([
      [...ROOT, 1],
      [...ROOT, 2],
    ]);
    expect(sp.push(a.subarray(7))).toHaveLength(1);
  });

  it('encodes Counter64 exactly above 2^53 and at 2^64-1', () => {
    for (const v of [2n ** 53n + 1n, 2n ** 64n - 1n, 0n]) {
      const buf = encodeResponse(ids, ERR.noError, 0, [{ oid: [...ROOT, 5], value: { type: VT.counter64, value: v } }]);
      const pdu = decodePdu(buf);
      expect(pdu.type).toBe(PDU.response);
      expect(pdu.varbinds![0].value).toEqual({ type: VT.counter64, value: v });
    }
  });
});

describe('MIB tree', () => {
  const pdu = (type: number, starts: number[][], extra: Partial<Pdu> = {}): Pdu => ({
    version: 1,
    type,
    flags: 0,
    ...ids,
    ranges: starts.map((s) => ({ start: s, include: false, end: [] })),
    ...extra,
  });

  it('orders rows by index (10.0.0.9.443 < 10.0.0.10.80 < 10.0.0.10.8080) and skips empty cells', () => {
    const col7 = [...ROOT, 1, 2, 1, 7];
    let at = [...ROOT, 1, 2];
    const seen: string[] = [];
    for (;;) {
      const [vb] = answerRequest(tree, pdu(PDU.getNext, [at]));
      if (vb.value.type === VT.endOfMibView) break;
      seen.push(vb.oid.slice(ROOT.length + 3).join('.'));
      at = vb.oid;
    }
    expect(seen).toEqual(['4.1.4.10.0.0.9.443', '4.1.4.10.0.0.10.80', '4.1.4.10.0.0.10.8080', '7.1.4.10.0.0.9.443', '7.1.4.10.0.0.10.80']);
    expect(answerRequest(tree, pdu(PDU.get, [[...col7, 1, 4, 10, 0, 0, 10, 80]]))[0].value).toEqual({ type: VT.counter64, value: 2n ** 53n + 1n });
  });

  it('a missing row is noSuchInstance, an unknown object noSuchObject', () => {
    const [a, b, c] = answerRequest(tree, pdu(PDU.get, [[...ROOT, 1, 2, 1, 4, 1, 4, 10, 9, 9, 9, 80], [...ROOT, 1, 1, 1, 1], [...ROOT, 1, 9, 1, 0]]));
    expect(a.value.type).toBe(VT.noSuchInstance);
    expect(b.value.type).toBe(VT.noSuchInstance);
    expect(c.value.type).toBe(VT.noSuchObject);
  });

  it('GetBulk repeats GetNext', () => {
    const vbs = answerRequest(tree, pdu(PDU.getBulk, [[...ROOT, 1, 1]], { nonRepeaters: 0, maxRepetitions: 3 }));
    expect(vbs.map((v) => v.value)).toEqual([str('v'), str('a'), str('b')]);
    expect(int(3)).toEqual({ type: VT.integer, value: 3 });
  });
});

describe('billing ledger', () => {
  const db = () => {
    const d = new Database(':memory:');
    for (const m of MIGRATIONS) d.exec(m.sql);
    return d;
  };

  it('never goes backwards when the kernel resets, and continues across a reopen', () => {
    const d = db();
    let l = new CounterLedger(d);
    const seq = [100, 250, 0, 40, 400, 10];
    const out: bigint[] = [];
    for (const [i, b] of seq.entries()) {
      if (i === 3) l = new CounterLedger(d); // daemon restart: the base comes from the store
      out.push(l.observe(new Map([['svc/w/80/in', { packets: b, bytes: b }]]), i).get('svc/w/80/in')!.bytes);
    }
    expect(out).toEqual([100n, 250n, 250n, 290n, 650n, 650n]);
    for (let i = 1; i < out.length; i++) expect(out[i] >= out[i - 1]).toBe(true);
  });

  it('a row that disappears and comes back starts at zero with a new discontinuity time', () => {
    const l = new CounterLedger(db());
    l.observe(new Map([['hop/x', { packets: 5, bytes: 500 }]]), 1000);
    l.observe(new Map(), 2000);
    const back = l.observe(new Map([['hop/x', { packets: 1, bytes: 60 }]]), 3000).get('hop/x')!;
    expect(back).toEqual({ packets: 1n, bytes: 60n, since: 3000 });
  });
});
