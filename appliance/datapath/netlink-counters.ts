/**
 * Counters read straight from the kernel over netlink, without `nft list`:
 * nft 1.0.6 spends ~50 µs per set element formatting a listing (25 s for
 * 100k services), while a raw dump of the same elements takes well under a
 * second. Node cannot open a netlink socket, so a few lines of Python (in
 * Debian's python3) do the socket I/O and pass the raw messages through; the
 * parsing is here. Falls back to `nft -j list table` when python3 is missing.
 */
import type { NftSet } from '../compile/render-model.js';
import type { CounterValue, ElementCounters } from '../compile/render-print.js';
import { formatAddress, formatSpan, type Family } from '../compile/render-addr.js';
import type { KernelCounters } from './counters.js';

/**
 * argv: table set... — dumps the elements of each set (NFT_MSG_GETSETELEM),
 * then the table's counter objects (NFT_MSG_GETOBJ, type counter), writing
 * every received datagram as <u32 length><bytes> to stdout. A set or table
 * that does not exist (ENOENT) dumps nothing.
 */
export const NETLINK_DUMP_PY = `
import socket, struct, sys
table, sets = sys.argv[1], sys.argv[2:]
out = sys.stdout.buffer
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
s.bind((0, 0))
def attr(t, v):
    v = v.encode() + b'\\0'
    n = 4 + len(v)
    return struct.pack('=HH', n, t) + v + b'\\0' * (-n % 4)
def dump(msgtype, attrs, seq):
    payload = struct.pack('=BBH', 5, 0, 0) + attrs
    s.send(struct.pack('=IHHII', 16 + len(payload), msgtype, 0x301, seq, 0) + payload)
    while True:
        data = s.recv(1 << 20)
        out.write(struct.pack('=I', len(data)))
        out.write(data)
        off = 0
        while off + 16 <= len(data):
            n, t = struct.unpack_from('=IH', data, off)
            if t == 3:
                return
            if t == 2:
                err = struct.unpack_from('=i', data, off + 16)[0]
                if err == -2:
                    return
                if err:
                    sys.stderr.write('netlink dump of %s failed: errno %d\\n' % (attrs[8:].split(b'\\0')[0].decode(errors='replace'), -err))
                    sys.exit(1)
                return
            off += (n + 3) & ~3
seq = 1
for name in sets:
    dump(0x0a0d, attr(1, table) + attr(2, name), seq)
    seq += 1
dump(0x0a13, attr(1, table) + struct.pack('=HH', 8, 3) + struct.pack('>I', 1), seq)
out.flush()
`;

const NFT_MSG_NEWSETELEM = 0x0a0c;
const NFT_MSG_GETSETELEM = 0x0a0d;
const NFT_MSG_NEWOBJ = 0x0a12;
const NFT_MSG_GETOBJ = 0x0a13;

type Attr = [type: number, start: number, end: number];

function attrs(buf: Buffer, start: number, end: number): Attr[] {
  const list: Attr[] = [];
  let o = start;
  while (o + 4 <= end) {
    const len = buf.readUInt16LE(o);
    if (len < 4) break;
    list.push([buf.readUInt16LE(o + 2) & 0x3fff, o + 4, o + len]);
    o += (len + 3) & ~3;
  }
  return list;
}

const find = (list: Attr[], type: number) => list.find((a) => a[0] === type);
const u64 = (buf: Buffer, at: number) => Number(buf.readBigUInt64BE(at));

function counterOf(buf: Buffer, expr: Attr): CounterValue | undefined {
  const e = attrs(buf, expr[1], expr[2]);
  const name = find(e, 1);
  const data = find(e, 2);
  if (!name || !data || buf.toString('latin1', name[1], name[2]).replace(/\0+$/, '') !== 'counter') return undefined;
  const d = attrs(buf, data[1], data[2]);
  const bytes = find(d, 1);
  const packets = find(d, 2);
  return { packets: packets ? u64(buf, packets[1]) : 0, bytes: bytes ? u64(buf, bytes[1]) : 0 };
}

const FIELD_SIZE: Record<string, number> = { ifname: 16, ether_addr: 6, ipv4_addr: 4, ipv6_addr: 16, inet_service: 2, mark: 4, inet_proto: 1, ether_type: 2 };

function fieldValue(type: string, buf: Buffer, at: number): string | bigint | number {
  switch (type) {
    case 'ifname': {
      const end = buf.indexOf(0, at);
      return buf.toString('latin1', at, end < 0 || end > at + 16 ? at + 16 : end);
    }
    case 'ether_addr':
      return [...buf.subarray(at, at + 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
    case 'ipv4_addr':
      return BigInt(buf.readUInt32BE(at));
    case 'ipv6_addr':
      return (buf.readBigUInt64BE(at) << 64n) | buf.readBigUInt64BE(at + 8);
    case 'inet_service':
      return buf.readUInt16BE(at);
    default:
      return buf.subarray(at, at + (FIELD_SIZE[type] ?? 4)).toString('hex');
  }
}

/** The renderer's key text of a raw key (and closing key of an interval element). */
export function keyText(types: string[], buf: Buffer, key: [number, number], keyEnd?: [number, number]): string {
  const parts: string[] = [];
  let o = 0;
  for (const type of types) {
    const lo = fieldValue(type, buf, key[0] + o);
    const hi = keyEnd ? fieldValue(type, buf, keyEnd[0] + o) : lo;
    if (type === 'ifname') parts.push(`"${lo}"`);
    else if (type === 'ipv4_addr' || type === 'ipv6_addr') {
      const family: Family = type === 'ipv4_addr' ? 4 : 6;
      parts.push(lo === hi ? formatAddress(lo as bigint, family) : formatSpan({ family, lo: lo as bigint, hi: hi as bigint }));
    } else if (type === 'inet_service') parts.push(lo === hi ? `${lo}` : `${lo}-${hi}`);
    else parts.push(String(lo));
    o += ((FIELD_SIZE[type] ?? 4) + 3) & ~3;
  }
  return parts.join(' . ');
}

/** Parse the framed datagrams NETLINK_DUMP_PY printed into element and object counters. */
export function parseNetlinkDump(out: Buffer, sets: Map<string, NftSet>): KernelCounters {
  const elements: ElementCounters = new Map();
  const objects = new Map<string, CounterValue>();
  const typesOf = new Map<string, string[]>();
  for (const s of sets.values()) typesOf.set(s.name, s.keyType.split(' . '));
  let f = 0;
  while (f + 4 <= out.length) {
    const len = out.readUInt32LE(f);
    const end = f + 4 + len;
    let m = f + 4;
    while (m + 16 <= end) {
      const n = out.readUInt32LE(m);
      const type = out.readUInt16LE(m + 4);
      if (n < 16) break;
      const body = attrs(out, m + 20, m + n);
      if (type === NFT_MSG_NEWSETELEM || type === NFT_MSG_GETSETELEM) {
        const setAttr = find(body, 2);
        const list = find(body, 3);
        const name = setAttr ? out.toString('latin1', setAttr[1], setAttr[2]).replace(/\0+$/, '') : '';
        const types = typesOf.get(name);
        if (list && types) {
          let into = elements.get(name);
          if (!into) elements.set(name, (into = new Map()));
          for (const el of attrs(out, list[1], list[2])) {
            const e = attrs(out, el[1], el[2]);
            const key = find(e, 1);
            if (!key) continue;
            const value = find(attrs(out, key[1], key[2]), 1);
            const endKey = find(e, 10);
            const endValue = endKey ? find(attrs(out, endKey[1], endKey[2]), 1) : undefined;
            let counter: CounterValue | undefined;
            const expr = find(e, 7);
            if (expr) counter = counterOf(out, expr);
            const exprs = find(e, 11);
            if (!counter && exprs) for (const x of attrs(out, exprs[1], exprs[2])) counter ??= counterOf(out, x);
            if (!value) continue;
            const text = keyText(types, out, [value[1], value[2]], endValue ? [endValue[1], endValue[2]] : undefined);
            into.set(text, counter ?? { packets: 0, bytes: 0 });
          }
        }
      } else if (type === NFT_MSG_NEWOBJ || type === NFT_MSG_GETOBJ) {
        const name = find(body, 2);
        const data = find(body, 4);
        if (name && data) {
          const d = attrs(out, data[1], data[2]);
          const bytes = find(d, 1);
          const packets = find(d, 2);
          objects.set(out.toString('latin1', name[1], name[2]).replace(/\0+$/, ''), {
            packets: packets ? u64(out, packets[1]) : 0,
            bytes: bytes ? u64(out, bytes[1]) : 0,
          });
        }
      }
      m += (n + 3) & ~3;
    }
    f = end;
  }
  return { elements, objects };
}
