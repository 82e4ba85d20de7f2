/**
 * Reads the framed netlink dump NETLINK_DUMP_PY prints (netlink-counters.ts)
 * straight into a reading by slot (counter-index.ts) as the bytes arrive: no
 * copy of the whole dump (tens of MB at 100k services), no key text, no
 * object per element. Counts are read as numbers (exact below 2^53, as
 * before: the ledger keeps the 64-bit totals).
 */
import type { CounterValue } from '../compile/render-print.js';
import type { CounterIndex } from './counter-index.js';
import { keyText } from './netlink-counters.js';

const NFT_MSG_NEWSETELEM = 0x0a0c;
const NFT_MSG_GETSETELEM = 0x0a0d;
const NFT_MSG_NEWOBJ = 0x0a12;
const NFT_MSG_GETOBJ = 0x0a13;

const u64 = (buf: Buffer, at: number) => buf.readUInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);

/** NUL-terminated string payload of an attribute at buf[from, to). */
function str(buf: Buffer, from: number, to: number): string {
  const nul = buf.indexOf(0, from);
  return buf.toString('latin1', from, nul < 0 || nul > to ? to : nul);
}

/** "counter\0" */
const COUNTER = Buffer.from('counter\0', 'latin1');

export class CounterDumpReader {
  /** Packets and bytes per slot. */
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  /** Named counters: name → counts. */
  readonly objects = new Map<string, CounterValue>();
  /** Dumped elements of the index's sets that found their slot, and those that did not (no row counts them). */
  matched = 0;
  unmatched = 0;
  private parts: Buffer[] = [];
  private have = 0;
  /** Bytes needed before the next frame can be parsed. */
  private need = 4;
  private counterPackets = 0;
  private counterBytes = 0;

  constructor(readonly index: CounterIndex) {
    this.packets = new Float64Array(index.slots);
    this.bytes = new Float64Array(index.slots);
  }

  /** The next bytes of the dump (frames may be cut anywhere). */
  push(chunk: Buffer): void {
    if (!chunk.length) return;
    this.parts.push(chunk);
    this.have += chunk.length;
    if (this.have < this.need) return;
    const buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.have);
    let f = 0;
    for (;;) {
      if (f + 4 > buf.length) break;
      const len = buf.readUInt32LE(f);
      if (f + 4 + len > buf.length) break;
      this.datagram(buf, f + 4, f + 4 + len);
      f += 4 + len;
    }
    // The unparsed rest is copied: a subarray would keep the whole chunk alive.
    this.parts = f < buf.length ? [Buffer.from(buf.subarray(f))] : [];
    this.have = buf.length - f;
    this.need = this.have >= 4 ? 4 + buf.readUInt32LE(f) : 4;
  }

  /** Whether the dump ended on a frame boundary (a cut one is an incomplete reading). */
  complete(): boolean {
    return this.have === 0;
  }

  private datagram(buf: Buffer, start: number, end: number): void {
    let m = start;
    while (m + 16 <= end) {
      const n = buf.readUInt32LE(m);
      if (n < 16 || m + n > end) break;
      const type = buf.readUInt16LE(m + 4);
      if (type === NFT_MSG_NEWSETELEM || type === NFT_MSG_GETSETELEM) this.elements(buf, m + 20, m + n);
      else if (type === NFT_MSG_NEWOBJ || type === NFT_MSG_GETOBJ) this.object(buf, m + 20, m + n);
      m += (n + 3) & ~3;
    }
  }

  private elements(buf: Buffer, start: number, end: number): void {
    let set: number | undefined;
    let l0 = -1;
    let l1 = -1;
    for (let p = start; p + 4 <= end; ) {
      const len = buf.readUInt16LE(p);
      if (len < 4) break;
      const type = buf.readUInt16LE(p + 2) & 0x3fff;
      if (type === 2) set = this.index.setOf(str(buf, p + 4, p + len));
      else if (type === 3) {
        l0 = p + 4;
        l1 = p + len;
      }
      p += (len + 3) & ~3;
    }
    if (set === undefined || l0 < 0) return;
    const byText = this.index.sets[set].byText;
    for (let o = l0; o + 4 <= l1; ) {
      const len = buf.readUInt16LE(o);
      if (len < 4) break;
      const elEnd = Math.min(o + len, l1);
      let k0 = -1;
      let k1 = -1;
      let e0 = -1;
      let e1 = -1;
      let counted = false;
      this.counterPackets = 0;
      this.counterBytes = 0;
      for (let p = o + 4; p + 4 <= elEnd; ) {
        const alen = buf.readUInt16LE(p);
        if (alen < 4) break;
        const type = buf.readUInt16LE(p + 2) & 0x3fff;
        // KEY and KEY_END hold one VALUE attribute: its payload follows its 4-byte header.
        if (type === 1 && alen >= 8) {
          k0 = p + 8;
          k1 = p + 4 + buf.readUInt16LE(p + 4);
        } else if (type === 10 && alen >= 8) {
          e0 = p + 8;
          e1 = p + 4 + buf.readUInt16LE(p + 4);
        } else if (type === 7) {
          if (!counted) counted = this.counter(buf, p + 4, p + alen);
        } else if (type === 11) {
          // EXPRESSIONS: a list of ELEM nests, each one expression.
          for (let x = p + 4; x + 4 <= p + alen && !counted; ) {
            const xlen = buf.readUInt16LE(x);
            if (xlen < 4) break;
            counted = this.counter(buf, x + 4, x + xlen);
            x += (xlen + 3) & ~3;
          }
        }
        p += (alen + 3) & ~3;
      }
      o += (len + 3) & ~3;
      if (k0 < 0) continue;
      const slot = byText
        ? this.index.slotOfText(set, keyText(this.index.sets[set].types, buf, [k0, k1], e0 >= 0 ? [e0, e1] : undefined))
        : this.index.slotOfBytes(set, buf, k0, k1, e0 >= 0 ? e0 : k1, e0 >= 0 ? e1 : k1);
      if (slot < 0) {
        this.unmatched++;
        continue;
      }
      this.matched++;
      this.packets[slot] += this.counterPackets;
      this.bytes[slot] += this.counterBytes;
    }
  }

  /** A counter expression's counts into counterPackets/counterBytes; false when it is another expression. */
  private counter(buf: Buffer, start: number, end: number): boolean {
    let isCounter = false;
    let d0 = -1;
    let d1 = -1;
    for (let p = start; p + 4 <= end; ) {
      const len = buf.readUInt16LE(p);
      if (len < 4) break;
      const type = buf.readUInt16LE(p + 2) & 0x3fff;
      if (type === 1) isCounter = len - 4 >= COUNTER.length && buf.compare(COUNTER, 0, COUNTER.length, p + 4, p + 4 + COUNTER.length) === 0;
      else if (type === 2) {
        d0 = p + 4;
        d1 = p + len;
      }
      p += (len + 3) & ~3;
    }
    if (!isCounter || d0 < 0) return false;
    for (let p = d0; p + 4 <= d1; ) {
      const len = buf.readUInt16LE(p);
      if (len < 4) break;
      const type = buf.readUInt16LE(p + 2) & 0x3fff;
      if (type === 1 && len >= 12) this.counterBytes = u64(buf, p + 4);
      else if (type === 2 && len >= 12) this.counterPackets = u64(buf, p + 4);
      p += (len + 3) & ~3;
    }
    return true;
  }

  private object(buf: Buffer, start: number, end: number): void {
    let name: string | undefined;
    let d0 = -1;
    let d1 = -1;
    for (let p = start; p + 4 <= end; ) {
      const len = buf.readUInt16LE(p);
      if (len < 4) break;
      const type = buf.readUInt16LE(p + 2) & 0x3fff;
      if (type === 2) name = str(buf, p + 4, p + len);
      else if (type === 4) {
        d0 = p + 4;
        d1 = p + len;
      }
      p += (len + 3) & ~3;
    }
    if (name === undefined || d0 < 0) return;
    let packets = 0;
    let bytes = 0;
    for (let p = d0; p + 4 <= d1; ) {
      const len = buf.readUInt16LE(p);
      if (len < 4) break;
      const type = buf.readUInt16LE(p + 2) & 0x3fff;
      if (type === 1 && len >= 12) bytes = u64(buf, p + 4);
      else if (type === 2 && len >= 12) packets = u64(buf, p + 4);
      p += (len + 3) & ~3;
    }
    this.objects.set(name, { packets, bytes });
  }
}
