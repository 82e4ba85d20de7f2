/**
 * AgentX (RFC 2741) PDUs: encode what a subagent sends, decode what the
 * master sends, and cut a socket byte stream into whole PDUs. Our own codec
 * instead of the npm net-snmp subagent, whose reader handles only the first
 * PDU of each socket read and cannot encode Counter64 above 2^53 (see
 * ../shared/notes/snmp-agentx.md). Counter64 values are BigInts, encoded
 * as two 32-bit halves, so every value up to 2^64-1 is exact.
 */

export const PDU = {
  open: 1,
  close: 2,
  register: 3,
  unregister: 4,
  get: 5,
  getNext: 6,
  getBulk: 7,
  testSet: 8,
  commitSet: 9,
  undoSet: 10,
  cleanupSet: 11,
  notify: 12,
  ping: 13,
  indexAllocate: 14,
  indexDeallocate: 15,
  addAgentCaps: 16,
  removeAgentCaps: 17,
  response: 18,
} as const;

export const FLAG = { instanceRegistration: 0x01, newIndex: 0x02, anyIndex: 0x04, nonDefaultContext: 0x08, networkByteOrder: 0x10 } as const;

/** Varbind value types (SNMP tags for the data, AgentX tags for the exceptions). */
export const VT = {
  integer: 2,
  octetString: 4,
  null: 5,
  oid: 6,
  ipAddress: 64,
  counter32: 65,
  gauge32: 66,
  timeTicks: 67,
  opaque: 68,
  counter64: 70,
  noSuchObject: 128,
  noSuchInstance: 129,
  endOfMibView: 130,
} as const;

/** AgentX response error codes (RFC 2741 §6.2.16) and the SNMP ones a subagent may use. */
export const ERR = {
  noError: 0,
  genErr: 5,
  noAccess: 6,
  notWritable: 17,
  openFailed: 256,
  notOpen: 257,
  duplicateRegistration: 263,
  unknownRegistration: 264,
  parseError: 266,
  requestDenied: 267,
  processingError: 268,
} as const;

export type Oid = number[];

export type Value =
  | { type: typeof VT.integer | typeof VT.counter32 | typeof VT.gauge32 | typeof VT.timeTicks; value: number }
  | { type: typeof VT.counter64; value: bigint }
  | { type: typeof VT.octetString | typeof VT.opaque; value: Buffer }
  | { type: typeof VT.ipAddress; value: Buffer }
  | { type: typeof VT.oid; value: Oid }
  | { type: typeof VT.null | typeof VT.noSuchObject | typeof VT.noSuchInstance | typeof VT.endOfMibView };

export interface VarBind {
  oid: Oid;
  value: Value;
}

export interface SearchRange {
  start: Oid;
  /** The start itself may be returned (include bit). */
  include: boolean;
  /** Exclusive upper bound; empty: none. */
  end: Oid;
}

export interface Header {
  version: number;
  type: number;
  flags: number;
  sessionId: number;
  transactionId: number;
  packetId: number;
}

export interface Pdu extends Header {
  /** Get, GetNext, GetBulk. */
  ranges?: SearchRange[];
  nonRepeaters?: number;
  maxRepetitions?: number;
  /** Response. */
  sysUpTime?: number;
  error?: number;
  index?: number;
  varbinds?: VarBind[];
  /** Close. */
  reason?: number;
}

export const HEADER_BYTES = 20;
const U64_MASK = (1n << 64n) - 1n;

export class AgentxParseError extends Error {}

// ---- encoding (always network byte order) --------------------------------

class Writer {
  private parts: Buffer[] = [];
  private length = 0;

  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u8s(...v: number[]): void {
    this.push(Buffer.from(v));
  }
  u16(v: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    this.push(b);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.push(b);
  }
  oid(oid: Oid, include = false): void {
    let prefix = 0;
    let ids = oid;
    if (oid.length >= 5 && oid[0] === 1 && oid[1] === 3 && oid[2] === 6 && oid[3] === 1 && oid[4] > 0 && oid[4] < 256) {
      prefix = oid[4];
      ids = oid.slice(5);
    }
    this.u8s(ids.length, prefix, include ? 1 : 0, 0);
    const b = Buffer.alloc(4 * ids.length);
    ids.forEach((id, i) => b.writeUInt32BE(id >>> 0, 4 * i));
    this.push(b);
  }
  octets(data: Buffer): void {
    this.u32(data.length);
    this.push(data);
    const pad = (4 - (data.length % 4)) % 4;
    if (pad) this.push(Buffer.alloc(pad));
  }
  varbind(vb: VarBind): void {
    this.u16(vb.value.type);
    this.u16(0);
    this.oid(vb.oid);
    const v = vb.value;
    switch (v.type) {
      case VT.integer:
      case VT.counter32:
      case VT.gauge32:
      case VT.timeTicks:
        this.u32(v.value);
        break;
      case VT.counter64: {
        const n = BigInt.asUintN(64, v.value) & U64_MASK;
        this.u32(Number(n >> 32n));
        this.u32(Number(n & 0xffffffffn));
        break;
      }
      case VT.octetString:
      case VT.opaque:
      case VT.ipAddress:
        this.octets(v.value);
        break;
      case VT.oid:
        this.oid(v.value);
        break;
      default:
        break; // null and the exceptions carry no data
    }
  }
  buffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

function frame(h: Omit<Header, 'version'>, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_BYTES);
  out.writeUInt8(1, 0);
  out.writeUInt8(h.type, 1);
  out.writeUInt8(h.flags | FLAG.networkByteOrder, 2);
  out.writeUInt32BE(h.sessionId >>> 0, 4);
  out.writeUInt32BE(h.transactionId >>> 0, 8);
  out.writeUInt32BE(h.packetId >>> 0, 12);
  out.writeUInt32BE(body.length, 16);
  return Buffer.concat([out, body]);
}

type Ids = { sessionId: number; transactionId: number; packetId: number };

export function encodeOpen(ids: Ids, timeoutSeconds: number, id: Oid, descr: string): Buffer {
  const w = new Writer();
  w.u8s(timeoutSeconds, 0, 0, 0);
  w.oid(id);
  w.octets(Buffer.from(descr, 'utf8'));
  return frame({ sessionId: ids.sessionId, transactionId: ids.transactionId, packetId: ids.packetId, type: PDU.open, flags: 0 }, w.buffer());
}

export function encodeClose(ids: Ids, reason: number): Buffer {
  const w = new Writer();
  w.u8s(reason, 0, 0, 0);
  return frame({ sessionId: ids.sessionId, transactionId: ids.transactionId, packetId: ids.packetId, type: PDU.close, flags: 0 }, w.buffer());
}

export function encodeRegister(ids: Ids, subtree: Oid, timeoutSeconds = 0, priority = 127): Buffer {
  const w = new Writer();
  w.u8s(timeoutSeconds, priority, 0, 0);
  w.oid(subtree);
  return frame({ sessionId: ids.sessionId, transactionId: ids.transactionId, packetId: ids.packetId, type: PDU.register, flags: 0 }, w.buffer());
}

export function encodePing(ids: Ids): Buffer {
  return frame({ sessionId: ids.sessionId, transactionId: ids.transactionId, packetId: ids.packetId, type: PDU.ping, flags: 0 }, Buffer.alloc(0));
}

export function encodeNotify(ids: Ids, varbinds: VarBind[]): Buffer {
  const w = new Writer();
  for (const vb of varbinds) w.varbind(vb);
  return frame({ sessionId: ids.sessionId, transactionId: ids.transactionId, packetId: ids.packetId, type: PDU.notify, flags: 0 }, w.buffer());
}

export function encodeResponse(ids: Ids, error: number, index: number, varbinds: VarBind[]): Buffer {
  const w = new Writer();
  w.u32(0); // sysUpTime: meaningful only from the master
  w.u16(error);
  w.u16(index);
  for (const vb of varbinds) w.varbind(vb);
  return frame({ sessionId: ids.sessionId, transactionId: ids.transactionId, packetId: ids.packetId, type: PDU.response, flags: 0 }, w.buffer());
}

// ---- decoding -------------------------------------------------------------

class Reader {
  off: number;
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly end: number,
    private readonly be: boolean,
  ) {
    this.off = start;
  }
  private need(n: number): void {
    if (this.off + n > this.end) throw new AgentxParseError('AgentX PDU truncated');
  }
  get left(): number {
    return this.end - this.off;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.off++];
  }
  u16(): number {
    this.need(2);
    const v = this.be ? this.buf.readUInt16BE(this.off) : this.buf.readUInt16LE(this.off);
    this.off += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.be ? this.buf.readUInt32BE(this.off) : this.buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }
  oid(): { oid: Oid; include: boolean } {
    const n = this.u8();
    const prefix = this.u8();
    const include = this.u8() !== 0;
    this.u8();
    const ids: number[] = prefix ? [1, 3, 6, 1, prefix] : [];
    for (let i = 0; i < n; i++) ids.push(this.u32());
    return { oid: ids, include };
  }
  octets(): Buffer {
    const n = this.u32();
    this.need(n);
    const b = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n + ((4 - (n % 4)) % 4);
    if (this.off > this.end) throw new AgentxParseError('AgentX octet string padding truncated');
    return b;
  }
  varbind(): VarBind {
    const type = this.u16();
    this.u16();
    const { oid } = this.oid();
    switch (type) {
      case VT.integer:
      case VT.counter32:
      case VT.gauge32:
      case VT.timeTicks:
        return { oid, value: { type, value: this.u32() } };
      case VT.counter64: {
        const hi = BigInt(this.u32());
        const lo = BigInt(this.u32());
        return { oid, value: { type, value: (hi << 32n) | lo } };
      }
      case VT.octetString:
      case VT.opaque:
      case VT.ipAddress:
        return { oid, value: { type, value: this.octets() } };
      case VT.oid:
        return { oid, value: { type, value: this.oid().oid } };
      case VT.null:
      case VT.noSuchObject:
      case VT.noSuchInstance:
      case VT.endOfMibView:
        return { oid, value: { type } };
      default:
        throw new AgentxParseError(`unknown varbind type ${type}`);
    }
  }
}

/** Bytes of the first whole PDU in `buf`, or 0 when it is not complete yet. */
export function pduLength(buf: Buffer): number {
  if (buf.length < HEADER_BYTES) return 0;
  const be = (buf[2] & FLAG.networkByteOrder) !== 0;
  const payload = be ? buf.readUInt32BE(16) : buf.readUInt32LE(16);
  const total = HEADER_BYTES + payload;
  return buf.length >= total ? total : 0;
}

export function decodeHeader(buf: Buffer): Header {
  const be = (buf[2] & FLAG.networkByteOrder) !== 0;
  const u32 = (o: number) => (be ? buf.readUInt32BE(o) : buf.readUInt32LE(o));
  return { version: buf[0], type: buf[1], flags: buf[2], sessionId: u32(4), transactionId: u32(8), packetId: u32(12) };
}

/** Decodes one whole PDU (as cut by pduLength). Throws AgentxParseError on malformed input. */
export function decodePdu(buf: Buffer): Pdu {
  const h = decodeHeader(buf);
  if (h.version !== 1) throw new AgentxParseError(`AgentX version ${h.version}`);
  const r = new Reader(buf, HEADER_BYTES, buf.length, (h.flags & FLAG.networkByteOrder) !== 0);
  const pdu: Pdu = { ...h };
  const context = () => {
    if (h.flags & FLAG.nonDefaultContext) r.octets();
  };
  const ranges = () => {
    const out: SearchRange[] = [];
    while (r.left > 0) {
      const s = r.oid();
      const e = r.oid();
      out.push({ start: s.oid, include: s.include, end: e.oid });
    }
    return out;
  };
  switch (h.type) {
    case PDU.get:
    case PDU.getNext:
      context();
      pdu.ranges = ranges();
      break;
    case PDU.getBulk:
      context();
      pdu.nonRepeaters = r.u16();
      pdu.maxRepetitions = r.u16();
      pdu.ranges = ranges();
      break;
    case PDU.response: {
      pdu.sysUpTime = r.u32();
      pdu.error = r.u16();
      pdu.index = r.u16();
      const vbs: VarBind[] = [];
      while (r.left > 0) vbs.push(r.varbind());
      pdu.varbinds = vbs;
      break;
    }
    case PDU.testSet: {
      context();
      const vbs: VarBind[] = [];
      while (r.left > 0) vbs.push(r.varbind());
      pdu.varbinds = vbs;
      break;
    }
    case PDU.close:
      pdu.reason = r.u8();
      break;
    default:
      break; // commit/undo/cleanup set, ping and the rest carry nothing a subagent needs
  }
  return pdu;
}

/** Accumulates socket reads and yields every whole PDU in them (several may arrive in one read). */
export class PduSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const n = pduLength(this.pending);
      if (!n) break;
      out.push(this.pending.subarray(0, n));
      this.pending = this.pending.subarray(n);
    }
    return out;
  }

  reset(): void {
    this.pending = Buffer.alloc(0);
  }
}

// ---- OIDs -----------------------------------------------------------------

export function compareOid(a: Oid, b: Oid): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

export function startsWith(oid: Oid, prefix: Oid): boolean {
  if (oid.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (oid[i] !== prefix[i]) return false;
  return true;
}

export const parseOid = (s: string): Oid => s.replace(/^\./, '').split('.').map(Number);
export const formatOid = (o: Oid): string => o.join('.');
