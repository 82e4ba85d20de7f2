/**
 * Netlink messages written in place into one growing buffer: a nested
 * attribute is opened at an offset and its length patched when it closes, so
 * encoding 470k set elements (100k services) is one pass over the text with no
 * Buffer per attribute (the Buffer.concat per nest it replaces took ~15 s at
 * 100k services; this takes well under a second). Also the nf_tables element
 * encoding itself, generic over the set's key and data types. Pure.
 */
import type { NftSet } from '../compile/render-model.js';
import type { CounterValue } from '../compile/render-print.js';
import { addressToBigInt, familyOf, parseSpan } from '../compile/render-addr.js';

export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 0x10;
export const NFNL_MSG_BATCH_END = 0x11;
/** nf_tables message types (without the subsystem byte). */
export const NFT_MSG = {
  NEWTABLE: 0,
  DELTABLE: 2,
  NEWCHAIN: 3,
  DELCHAIN: 5,
  NEWRULE: 6,
  NEWSET: 9,
  NEWSETELEM: 12,
  DELSETELEM: 14,
  NEWOBJ: 18,
  DELOBJ: 20,
} as const;
export const nftType = (msg: number): number => (NFNL_SUBSYS_NFTABLES << 8) | msg;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_APPEND = 0x800;
export const NLM_F_CREATE = 0x400;
export const NLA_F_NESTED = 0x8000;
export const NFPROTO_NETDEV = 5;

const SET_ELEM = { KEY: 1, DATA: 2, OBJREF: 9, KEY_END: 10, EXPRESSIONS: 11 } as const;
const LIST_ELEM = 1;
const DATA = { VALUE: 1, VERDICT: 2 } as const;
const VERDICT = { CODE: 1, CHAIN: 2 } as const;
const EXPR = { NAME: 1, DATA: 2 } as const;
const COUNTER = { BYTES: 1, PACKETS: 2 } as const;
const VERDICT_CODE: Record<string, number> = { drop: 0, accept: 1, continue: -1, return: -5, jump: -3, goto: -4 };

export class BatchEncodeError extends Error {
  override name = 'BatchEncodeError';
}

/** A growing byte buffer with netlink framing helpers (little-endian host: x86, arm64). */
export class NlWriter {
  buf: Buffer;
  pos = 0;

  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Opens a message: nlmsghdr + nfgenmsg; returns its offset for end(). */
  begin(type: number, flags: number, seq: number, family: number, resId = 0): number {
    this.ensure(20);
    const at = this.pos;
    const b = this.buf;
    b.writeUInt32LE(0, at);
    b.writeUInt16LE(type, at + 4);
    b.writeUInt16LE(flags, at + 6);
    b.writeUInt32LE(seq, at + 8);
    b.writeUInt32LE(0, at + 12);
    b[at + 16] = family;
    b[at + 17] = 0;
    b.writeUInt16BE(resId, at + 18);
    this.pos += 20;
    return at;
  }

  end(at: number): void {
    this.buf.writeUInt32LE(this.pos - at, at);
  }

  /** Opens an attribute (nested when `nested`); close with close(). */
  open(type: number, nested = false): number {
    this.ensure(4);
    const at = this.pos;
    this.buf.writeUInt16LE(nested ? type | NLA_F_NESTED : type, at + 2);
    this.pos += 4;
    return at;
  }

  close(at: number): void {
    const len = this.pos - at;
    if (len > 0xffff) throw new BatchEncodeError(`netlink attribute of ${len} bytes is over the 64 KiB limit`);
    this.buf.writeUInt16LE(len, at);
    this.pad();
  }

  pad(): void {
    const p = -this.pos & 3;
    if (p) {
      this.ensure(p);
      this.buf.fill(0, this.pos, this.pos + p);
      this.pos += p;
    }
  }

  str(type: number, s: string): void {
    const n = Buffer.byteLength(s, 'latin1');
    this.ensure(4 + n + 4);
    const at = this.open(type);
    this.buf.write(s, this.pos, 'latin1');
    this.buf[this.pos + n] = 0;
    this.pos += n + 1;
    this.close(at);
  }

  be32(type: number, n: number): void {
    this.ensure(8);
    const at = this.open(type);
    this.buf.writeInt32BE(n | 0, this.pos);
    this.pos += 4;
    this.close(at);
  }

  be64(type: number, n: number): void {
    this.ensure(12);
    const at = this.open(type);
    this.buf.writeBigUInt64BE(BigInt(n), this.pos);
    this.pos += 8;
    this.close(at);
  }

  /** Bytes as they are (already framed attributes). */
  raw(src: Buffer, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    if (n > 64) src.copy(this.buf, this.pos, start, end);
    else {
      // A byte loop: Buffer.copy costs more than the copy for a few bytes.
      const b = this.buf;
      const p = this.pos - start;
      for (let i = start; i < end; i++) b[p + i] = src[i];
    }
    this.pos += n;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Bytes of a key field type; a concatenation pads each field to 32 bits. */
export const FIELD_BYTES: Record<string, number> = { ifname: 16, ether_addr: 6, ipv4_addr: 4, ipv6_addr: 16, inet_service: 2, mark: 4, inet_proto: 1 };
const DATA_TYPES = new Set(['verdict', 'mark', 'ipv4_addr', 'ipv6_addr', 'inet_service', 'counter', 'limit']);
const PROTO: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 };

/** Whether elements of this set can be encoded here (else: nft). Single-field intervals (rbtree start/end pairs) cannot. */
export function encodable(set: NftSet): boolean {
  const fields = set.keyType.split(' . ');
  if (!fields.every((f) => f in FIELD_BYTES)) return false;
  if (set.interval && fields.length < 2) return false;
  return set.dataType === undefined || DATA_TYPES.has(set.dataType);
}

function bigInto(n: bigint, out: Buffer, at: number, bytes: number): void {
  for (let i = bytes - 1; i >= 0; i--) {
    out[at + i] = Number(n & 0xffn);
    n >>= 8n;
  }
}

/** A dotted quad without prefix or range, fast; undefined for anything else. */
function quad(text: string, from: number, to: number): number | undefined {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + c - 48;
      if (++digits > 3 || part > 255) return undefined;
    } else if (c === 46 && digits) {
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return undefined;
  }
  if (dots !== 3 || !digits) return undefined;
  return n * 256 + part;
}

/**
 * Encodes element keys and data of one set. Repeated field values (interface
 * names, MACs) and data values (marks, verdicts) are encoded once.
 */
export class SetEncoder {
  readonly types: string[];
  /** Offsets of each field in the key; total key length. */
  private readonly offsets: number[] = [];
  readonly keyLen: number;
  /** Where field() writes a key's start (lo) and end (hi) values: the output buffer itself, or scratch. */
  private readonly lo: Buffer;
  private readonly hi: Buffer;
  private out: Buffer;
  private loBase = 0;
  private hiOut: Buffer;
  private hiBase = 0;
  private readonly fieldCache = new Map<string, Buffer>();
  private readonly dataCache = new Map<string, Buffer>();

  constructor(readonly set: NftSet) {
    if (!encodable(set)) throw new BatchEncodeError(`set ${set.name} (${set.keyType}${set.interval ? ', interval' : ''}) cannot be encoded over netlink`);
    this.types = set.keyType.split(' . ');
    let o = 0;
    for (const t of this.types) {
      this.offsets.push(o);
      o += this.types.length === 1 ? FIELD_BYTES[t] : (FIELD_BYTES[t] + 3) & ~3;
    }
    this.keyLen = o;
    this.lo = Buffer.alloc(o);
    this.hi = Buffer.alloc(o);
    this.out = this.lo;
    this.hiOut = this.hi;
  }

  /** Copies a small cached value into lo and hi (a byte loop: Buffer.copy costs more for a few bytes). */
  private both(b: Buffer, at: number): void {
    const lo = this.out;
    const hi = this.hiOut;
    const l = this.loBase + at;
    const h = this.hiBase + at;
    for (let i = 0; i < b.length; i++) lo[l + i] = hi[h + i] = b[i];
  }

  /** Writes [start, end] of one field, key.slice(from, to), at `at` in lo and hi. */
  private field(type: string, key: string, from: number, to: number, at: number): void {
    const lo = this.out;
    const hi = this.hiOut;
    const l = this.loBase + at;
    const h = this.hiBase + at;
    switch (type) {
      case 'ifname':
      case 'ether_addr': {
        const text = key.slice(from, to);
        let b = this.fieldCache.get(text);
        if (!b) {
          b = Buffer.alloc(FIELD_BYTES[type]);
          if (type === 'ifname') {
            const name = /^"(.*)"$/.exec(text)?.[1] ?? text;
            if (name.length > 15) throw new BatchEncodeError(`interface name too long: ${name}`);
            b.write(name, 'latin1');
          } else {
            const parts = text.split(':');
            if (parts.length !== 6 || parts.some((h) => !/^[0-9a-f]{1,2}$/i.test(h))) throw new BatchEncodeError(`bad MAC ${text}`);
            parts.forEach((h, i) => (b![i] = parseInt(h, 16)));
          }
          this.fieldCache.set(text, b);
        }
        this.both(b, at);
        return;
      }
      case 'ipv4_addr': {
        const q = quad(key, from, to);
        if (q !== undefined) {
          lo.writeUInt32BE(q, l);
          hi.writeUInt32BE(q, h);
          return;
        }
        this.span(key.slice(from, to), 4, at);
        return;
      }
      case 'ipv6_addr':
        this.span(key.slice(from, to), 16, at);
        return;
      case 'inet_service': {
        let a = 0;
        let z = -1;
        let digits = 0;
        for (let i = from; i < to; i++) {
          const c = key.charCodeAt(i);
          if (c >= 48 && c <= 57 && digits < 6) {
            if (z < 0) a = a * 10 + c - 48;
            else z = z * 10 + c - 48;
            digits++;
          } else if (c === 45 && z < 0 && digits) {
            z = 0;
            digits = 0;
          } else throw new BatchEncodeError(`bad port ${key.slice(from, to)}`);
        }
        if (z < 0) z = a;
        if (!digits || a > 65535 || z > 65535) throw new BatchEncodeError(`bad port ${key.slice(from, to)}`);
        lo.writeUInt16BE(a, l);
        hi.writeUInt16BE(z, h);
        return;
      }
      case 'mark': {
        const text = key.slice(from, to);
        const n = Number(text);
        if (!text || !Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new BatchEncodeError(`bad mark ${text}`);
        // meta mark is host-endian in the registers (x86: little-endian).
        lo.writeUInt32LE(n, l);
        hi.writeUInt32LE(n, h);
        return;
      }
      case 'inet_proto': {
        const text = key.slice(from, to);
        const n = PROTO[text] ?? (text ? Number(text) : NaN);
        if (!Number.isInteger(n) || n < 0 || n > 255) throw new BatchEncodeError(`bad protocol ${text}`);
        lo[l] = n;
        hi[h] = n;
        return;
      }
      default:
        throw new BatchEncodeError(`key type ${type} is not supported in a netlink batch`);
    }
  }

  /** An address, a prefix, or a range "lo-hi" (nft's text for an interval that is no prefix). */
  private span(text: string, bytes: number, at: number): void {
    const [from, to] = text.split('-');
    let lo;
    let hi;
    try {
      lo = parseSpan(from);
      hi = to === undefined ? lo : parseSpan(to);
    } catch {
      throw new BatchEncodeError(`${text} is not an address`);
    }
    if (lo.family !== (bytes === 4 ? 4 : 6) || hi.family !== lo.family) throw new BatchEncodeError(`${text} is not an ${bytes === 4 ? 'ipv4_addr' : 'ipv6_addr'}`);
    bigInto(lo.lo, this.out, this.loBase + at, bytes);
    bigInto(hi.hi, this.hiOut, this.hiBase + at, bytes);
  }

  /** Parses a key into out at loBase (start) and hiOut at hiBase (end); the caller zeroes the padding. */
  private key(key: string): void {
    const types = this.types;
    let from = 0;
    while (from < key.length && key.charCodeAt(from) === 32) from++;
    let end = key.length;
    while (end > from && key.charCodeAt(end - 1) === 32) end--;
    for (let i = 0; i < types.length; i++) {
      const last = i === types.length - 1;
      const to = last ? end : key.indexOf(' . ', from);
      if (to < 0 || (last && key.indexOf(' . ', from) >= 0)) throw new BatchEncodeError(`key ${key} does not fit ${this.set.keyType}`);
      this.field(types[i], key, from, to, this.offsets[i]);
      from = to + 3;
    }
  }

  /**
   * The bytes keyString() returns, without making a string: the encoder's own
   * buffers (the start, and for an interval the end), valid until the next call.
   */
  keyBytes(key: string): { lo: Buffer; hi: Buffer | undefined } {
    this.out = this.lo;
    this.loBase = 0;
    this.hiOut = this.hi;
    this.hiBase = 0;
    this.key(key);
    return { lo: this.lo, hi: this.set.interval ? this.hi : undefined };
  }

  /** The key (and, for intervals, its end) as one string of bytes: what the kernel's dump of the element holds. */
  keyString(key: string): string {
    this.out = this.lo;
    this.loBase = 0;
    this.hiOut = this.hi;
    this.hiBase = 0;
    this.key(key);
    return this.set.interval ? this.lo.toString('latin1') + this.hi.toString('latin1') : this.lo.toString('latin1');
  }

  private readonly sigCache = new Map<string, string>();

  /**
   * The data attribute's payload as the kernel dumps it, to compare with a
   * dumped element's: the kernel writes nests without the nested flag, so the
   * flag of an inner VERDICT nest is cleared.
   */
  dataSignature(text: string): string {
    if (this.set.dataType === undefined) return '';
    let sig = this.sigCache.get(text);
    if (sig === undefined) {
      const b = this.data(text);
      const p = Buffer.from(b.subarray(4, b.readUInt16LE(0)));
      if ((b.readUInt16LE(2) & 0x3fff) === SET_ELEM.DATA && p.length >= 4) p.writeUInt16LE(p.readUInt16LE(2) & 0x3fff, 2);
      sig = p.toString('latin1');
      this.sigCache.set(text, sig);
    }
    return sig;
  }

  /** The element's data attributes (SET_ELEM_DATA or OBJREF), encoded once per distinct value. */
  private data(text: string): Buffer {
    let b = this.dataCache.get(text);
    if (b) return b;
    const w = new NlWriter(64);
    const v = text.trim();
    switch (this.set.dataType) {
      case 'verdict': {
        const [word, chain] = v.split(/\s+/);
        const code = VERDICT_CODE[word];
        if (code === undefined) throw new BatchEncodeError(`bad verdict ${text}`);
        const d = w.open(SET_ELEM.DATA, true);
        const vd = w.open(DATA.VERDICT, true);
        w.be32(VERDICT.CODE, code);
        if (chain) w.str(VERDICT.CHAIN, chain);
        w.close(vd);
        w.close(d);
        break;
      }
      case 'counter':
      case 'limit':
        w.str(SET_ELEM.OBJREF, /^"(.*)"$/.exec(v)?.[1] ?? v);
        break;
      case 'ipv4_addr':
      case 'ipv6_addr': {
        const family = familyOf(v);
        if (!family || (family === 4) !== (this.set.dataType === 'ipv4_addr')) throw new BatchEncodeError(`${text} is not an ${this.set.dataType}`);
        const bytes = family === 4 ? 4 : 16;
        const d = w.open(SET_ELEM.DATA, true);
        const val = w.open(DATA.VALUE);
        w.ensure(bytes);
        bigInto(addressToBigInt(v, family), w.buf, w.pos, bytes);
        w.pos += bytes;
        w.close(val);
        w.close(d);
        break;
      }
      default: {
        // mark, inet_service: the key field encoding, one field.
        const type = this.set.dataType!;
        const sub = new SetEncoder({ name: this.set.name, keyType: type, interval: false, counter: false, elements: new Map() });
        sub.out = sub.lo;
        sub.loBase = 0;
        sub.key(v);
        const d = w.open(SET_ELEM.DATA, true);
        const val = w.open(DATA.VALUE);
        w.raw(sub.lo);
        w.close(val);
        w.close(d);
      }
    }
    b = Buffer.from(w.bytes());
    this.dataCache.set(text, b);
    return b;
  }

  /** The header of KEY or KEY_END { VALUE <keyLen bytes> } at w.pos, the value zeroed; returns where the value goes. */
  private keyHeader(w: NlWriter, type: number): number {
    const b = w.buf;
    const n = this.keyLen;
    const padded = (n + 3) & ~3;
    const p = w.pos;
    b.writeUInt16LE(8 + padded, p);
    b.writeUInt16LE(type | NLA_F_NESTED, p + 2);
    b.writeUInt16LE(4 + n, p + 4);
    b.writeUInt16LE(DATA.VALUE, p + 6);
    for (let i = p + 8; i < p + 8 + padded; i++) b[i] = 0;
    w.pos = p + 8 + padded;
    return p + 8;
  }

  /**
   * One element (LIST_ELEM nest) into `w`. `data` undefined: a key only (a
   * delete). A counter that starts from zero is left out: the kernel gives the
   * element a copy of the set's counter template (cheaper than parsing ours).
   */
  element(w: NlWriter, key: string, data: string | undefined, counter?: CounterValue): void {
    w.ensure(this.keyLen * 2 + 64);
    const el = w.open(LIST_ELEM, true);
    // The key's fields are parsed straight into the message: start into KEY, end into KEY_END (or scratch).
    this.out = w.buf;
    this.loBase = this.keyHeader(w, SET_ELEM.KEY);
    // Concatenated interval sets (pipapo) take a closing key on every element, single values included.
    if (this.set.interval) {
      this.hiOut = w.buf;
      this.hiBase = this.keyHeader(w, SET_ELEM.KEY_END);
    } else {
      this.hiOut = this.hi;
      this.hiBase = 0;
    }
    this.key(key);
    if (data !== undefined) {
      if (this.set.dataType !== undefined) w.raw(this.data(data));
      if (this.set.counter && counter && (counter.packets || counter.bytes)) {
        const x = w.open(SET_ELEM.EXPRESSIONS, true);
        const le = w.open(LIST_ELEM, true);
        w.str(EXPR.NAME, 'counter');
        const d = w.open(EXPR.DATA, true);
        w.be64(COUNTER.BYTES, counter.bytes);
        w.be64(COUNTER.PACKETS, counter.packets);
        w.close(d);
        w.close(le);
        w.close(x);
      }
    }
    w.close(el);
  }
}
