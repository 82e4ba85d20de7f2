/**
 * Element changes as one nf_tables netlink batch (NFT_MSG_NEWSETELEM /
 * DELSETELEM between BATCH_BEGIN and BATCH_END), built here byte by byte so
 * that a change of a few elements never goes through `nft`: nft 1.0.6 starts
 * in ~5 ms and then fetches the table's interval maps before every
 * transaction, which made a one-service change cost 170 ms at 100k services.
 * The kernel applies a batch atomically, like `nft -f`; without BATCH_END it
 * validates and aborts it, like `nft -c`. Pure: the socket I/O is the
 * runner's (netlink-writer.ts).
 *
 * Supported: hash and concatenated-interval (pipapo) maps and sets, keys of
 * ifname, ether_addr, ipv4_addr, ipv6_addr, inet_service, mark; data of
 * verdicts, marks, addresses, ports and object references; per-element
 * counters with initial values. Single-field interval sets (rbtree: start and
 * end elements) are not: `encodable` says no and the caller uses nft.
 */
import type { NftSet } from '../compile/render-model.js';
import type { CounterValue } from '../compile/render-print.js';
import { addressToBigInt, familyOf, parseSpan } from '../compile/render-addr.js';

const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG_BATCH_BEGIN = 0x10;
const NFNL_MSG_BATCH_END = 0x11;
const NFT_MSG_NEWSETELEM = (NFNL_SUBSYS_NFTABLES << 8) | 12;
const NFT_MSG_DELSETELEM = (NFNL_SUBSYS_NFTABLES << 8) | 14;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_CREATE = 0x400;
const NLA_F_NESTED = 0x8000;
const NFPROTO_NETDEV = 5;

const SET_ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3 } as const;
const SET_ELEM = { KEY: 1, DATA: 2, OBJREF: 9, KEY_END: 10, EXPRESSIONS: 11 } as const;
const LIST_ELEM = 1;
const DATA = { VALUE: 1, VERDICT: 2 } as const;
const VERDICT = { CODE: 1, CHAIN: 2 } as const;
const EXPR = { NAME: 1, DATA: 2 } as const;
const COUNTER = { BYTES: 1, PACKETS: 2 } as const;
const VERDICT_CODE: Record<string, number> = { drop: 0, accept: 1, continue: -1, return: -5, jump: -3, goto: -4 };

/** A nested attribute's payload may not pass 64 KiB (u16 length): elements are split over messages well below it. */
const MAX_ELEMENTS_BYTES = 48 * 1024;

const FIELD_BYTES: Record<string, number> = { ifname: 16, ether_addr: 6, ipv4_addr: 4, ipv6_addr: 16, inet_service: 2, mark: 4 };

export class BatchEncodeError extends Error {
  override name = 'BatchEncodeError';
}

/** Whether changes to this set can go into a netlink batch (else: nft). */
export function encodable(set: NftSet): boolean {
  const fields = set.keyType.split(' . ');
  if (!fields.every((f) => f in FIELD_BYTES)) return false;
  if (set.interval && fields.length < 2) return false;
  return set.dataType === undefined || ['verdict', 'mark', 'ipv4_addr', 'ipv6_addr', 'inet_service', 'counter', 'limit'].includes(set.dataType);
}

function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}
const nested = (type: number, parts: Buffer[]) => attr(type | NLA_F_NESTED, Buffer.concat(parts));
const str = (type: number, s: string) => attr(type, Buffer.from(`${s}\0`, 'latin1'));
const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const be64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

function bigBytes(n: bigint, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = bytes - 1; i >= 0; i--) {
    b[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return b;
}

/** One key field as [start, end] bytes, unpadded. */
function fieldBytes(type: string, text: string): [Buffer, Buffer] {
  switch (type) {
    case 'ifname': {
      const name = /^"(.*)"$/.exec(text)?.[1] ?? text;
      if (name.length > 15) throw new BatchEncodeError(`interface name too long: ${name}`);
      const b = Buffer.alloc(16);
      b.write(name, 'latin1');
      return [b, b];
    }
    case 'ether_addr': {
      const b = Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
      if (b.length !== 6 || text.split(':').some((h) => !/^[0-9a-f]{1,2}$/i.test(h))) throw new BatchEncodeError(`bad MAC ${text}`);
      return [b, b];
    }
    case 'ipv4_addr':
    case 'ipv6_addr': {
      const bytes = type === 'ipv4_addr' ? 4 : 16;
      // An address, a prefix, or a range "lo-hi" (nft's text for an interval that is no prefix).
      const [from, to] = text.split('-');
      const lo = parseSpan(from);
      const hi = to === undefined ? lo : parseSpan(to);
      if (lo.family !== (bytes === 4 ? 4 : 6) || hi.family !== lo.family) throw new BatchEncodeError(`${text} is not an ${type}`);
      return [bigBytes(lo.lo, bytes), bigBytes(hi.hi, bytes)];
    }
    case 'inet_service': {
      const m = /^(\d+)(?:-(\d+))?$/.exec(text);
      if (!m) throw new BatchEncodeError(`bad port ${text}`);
      const lo = Buffer.alloc(2);
      const hi = Buffer.alloc(2);
      lo.writeUInt16BE(Number(m[1]));
      hi.writeUInt16BE(Number(m[2] ?? m[1]));
      return [lo, hi];
    }
    case 'mark': {
      // meta mark is host-endian in the registers (x86: little-endian).
      const b = Buffer.alloc(4);
      b.writeUInt32LE(Number(text) >>> 0);
      return [b, b];
    }
    default:
      throw new BatchEncodeError(`key type ${type} is not supported in a netlink batch`);
  }
}

/** Key (and closing key) bytes: concatenated fields are each padded to 32 bits; a single field is not. */
function keyBytes(set: NftSet, key: string): { key: Buffer; end: Buffer } {
  const types = set.keyType.split(' . ');
  const parts = types.length === 1 ? [key] : key.split(' . ');
  if (parts.length !== types.length) throw new BatchEncodeError(`key ${key} does not fit ${set.keyType}`);
  const starts: Buffer[] = [];
  const ends: Buffer[] = [];
  types.forEach((t, i) => {
    const [lo, hi] = fieldBytes(t, parts[i].trim());
    const pad = types.length === 1 ? 0 : -lo.length & 3;
    starts.push(lo, Buffer.alloc(pad));
    ends.push(hi, Buffer.alloc(pad));
  });
  return { key: Buffer.concat(starts), end: Buffer.concat(ends) };
}

function dataAttrs(set: NftSet, data: string): Buffer[] {
  switch (set.dataType) {
    case undefined:
      return [];
    case 'verdict': {
      const [word, chain] = data.trim().split(/\s+/);
      const code = VERDICT_CODE[word];
      if (code === undefined) throw new BatchEncodeError(`bad verdict ${data}`);
      const v = [attr(VERDICT.CODE, be32(code))];
      if (chain) v.push(str(VERDICT.CHAIN, chain));
      return [nested(SET_ELEM.DATA, [nested(DATA.VERDICT, v)])];
    }
    case 'counter':
    case 'limit':
      return [str(SET_ELEM.OBJREF, /^"(.*)"$/.exec(data.trim())?.[1] ?? data.trim())];
    case 'ipv4_addr':
    case 'ipv6_addr': {
      const family = familyOf(data.trim());
      if (!family || (family === 4) !== (set.dataType === 'ipv4_addr')) throw new BatchEncodeError(`${data} is not an ${set.dataType}`);
      return [nested(SET_ELEM.DATA, [attr(DATA.VALUE, bigBytes(addressToBigInt(data.trim(), family), family === 4 ? 4 : 16))])];
    }
    default:
      return [nested(SET_ELEM.DATA, [attr(DATA.VALUE, fieldBytes(set.dataType, data.trim())[0])])];
  }
}

function elementAttr(set: NftSet, key: string, data: string | undefined, counter: CounterValue | undefined): Buffer {
  const k = keyBytes(set, key);
  const parts = [nested(SET_ELEM.KEY, [attr(DATA.VALUE, k.key)])];
  // Concatenated interval sets (pipapo) take a closing key on every element, single values included.
  if (set.interval) parts.push(nested(SET_ELEM.KEY_END, [attr(DATA.VALUE, k.end)]));
  if (data !== undefined) {
    parts.push(...dataAttrs(set, data));
    if (set.counter) {
      const c = counter ?? { packets: 0, bytes: 0 };
      const expr = nested(LIST_ELEM, [str(EXPR.NAME, 'counter'), nested(EXPR.DATA, [attr(COUNTER.BYTES, be64(c.bytes)), attr(COUNTER.PACKETS, be64(c.packets))])]);
      parts.push(nested(SET_ELEM.EXPRESSIONS, [expr]));
    }
  }
  return nested(LIST_ELEM, parts);
}

export interface BatchMessage {
  seq: number;
  op: 'add' | 'delete';
  set: string;
  elements: number;
}

export interface ElementBatch {
  bytes: Buffer;
  /** The messages that ask for an acknowledgement, in order (BEGIN and END do not). */
  messages: BatchMessage[];
}

export interface ElementChange {
  set: NftSet;
  keys: string[];
  /** Initial counter values of added elements, by key. */
  counters?: Map<string, CounterValue>;
}

function header(type: number, flags: number, seq: number, family: number, resId: number, body: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt32LE(20 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  h.writeUInt32LE(0, 12);
  h.writeUInt8(family, 16);
  h.writeUInt8(0, 17);
  h.writeUInt16BE(resId, 18);
  return Buffer.concat([h, body]);
}

/**
 * Deletes, then adds, in one batch. `check`: leave out BATCH_END, so the
 * kernel validates every message and then aborts (what `nft -c` does).
 */
export function elementBatch(table: string, deletes: ElementChange[], adds: ElementChange[], check: boolean): ElementBatch {
  const out: Buffer[] = [];
  const messages: BatchMessage[] = [];
  let seq = 1;
  out.push(header(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq++, 0, NFNL_SUBSYS_NFTABLES, Buffer.alloc(0)));
  const emit = (op: 'add' | 'delete', set: NftSet, elements: Buffer[]) => {
    const body = Buffer.concat([str(SET_ELEM_LIST.TABLE, table), str(SET_ELEM_LIST.SET, set.name), nested(SET_ELEM_LIST.ELEMENTS, elements)]);
    const type = op === 'add' ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM;
    const flags = NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE : 0);
    messages.push({ seq, op, set: set.name, elements: elements.length });
    out.push(header(type, flags, seq++, NFPROTO_NETDEV, 0, body));
  };
  const each = (op: 'add' | 'delete', changes: ElementChange[]) => {
    for (const c of changes) {
      if (!encodable(c.set)) throw new BatchEncodeError(`set ${c.set.name} (${c.set.keyType}) cannot be changed over netlink`);
      let pending: Buffer[] = [];
      let size = 0;
      for (const key of c.keys) {
        const data = op === 'add' ? c.set.elements.get(key) : undefined;
        if (op === 'add' && data === undefined) throw new BatchEncodeError(`no element ${key} in ${c.set.name}`);
        const e = elementAttr(c.set, key, data, c.counters?.get(key));
        if (size + e.length > MAX_ELEMENTS_BYTES && pending.length) {
          emit(op, c.set, pending);
          pending = [];
          size = 0;
        }
        pending.push(e);
        size += e.length;
      }
      if (pending.length) emit(op, c.set, pending);
    }
  };
  each('delete', deletes);
  each('add', adds);
  if (!check) out.push(header(NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq++, 0, NFNL_SUBSYS_NFTABLES, Buffer.alloc(0)));
  return { bytes: Buffer.concat(out), messages };
}
