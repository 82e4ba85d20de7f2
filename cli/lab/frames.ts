/**
 * Ethernet frames, built and parsed by hand: the engine speaks only MAC, so
 * tests inject exact frames (from a namespace without IPs) and read captures.
 */
import { isIP } from 'node:net';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_ARP = 0x0806;

const macBytes = (mac: string): Buffer => Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
const macText = (b: Buffer, off: number): string =>
  [...b.subarray(off, off + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

export function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return b;
}

function ipv6Text(b: Buffer, off: number): string {
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(off + i * 2).toString(16));
  // Compress the longest run of zero groups, as `ip` and tcpdump print it.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

function checksum(...parts: Buffer[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += p.readUInt16BE(i);
    if (p.length % 2) sum += p[p.length - 1] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface L4Spec {
  srcMac: string;
  dstMac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload?: Buffer | string;
  ttl?: number;
}

export interface TcpSpec extends L4Spec {
  /** Letters of S, A, F, R, P, U; e.g. 'R' or 'RA'. */
  flags: string;
  seq?: number;
  ack?: number;
}

/** Where each protocol keeps its checksum. */
const CSUM_AT: Record<number, number> = { 6: 16, 17: 6, 58: 2 };

function ipPacket(
  spec: Pick<L4Spec, 'src' | 'dst' | 'ttl'>,
  proto: number,
  l4: Buffer,
): { ethertype: number; packet: Buffer } {
  const at = CSUM_AT[proto];
  const fam = isIP(spec.src);
  if (fam === 0 || fam !== isIP(spec.dst)) throw new Error(`frames: bad address pair ${spec.src} → ${spec.dst}`);
  if (fam === 4) {
    const src = ipv4Bytes(spec.src);
    const dst = ipv4Bytes(spec.dst);
    const pseudo = Buffer.concat([src, dst, Buffer.from([0, proto]), u16(l4.length)]);
    l4.writeUInt16BE(0, at);
    l4.writeUInt16BE(checksum(pseudo, l4) || (proto === 17 ? 0xffff : 0), at);
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + l4.length, 2);
    h.writeUInt16BE(0x4000, 6); // DF
    h[8] = spec.ttl ?? 64;
    h[9] = proto;
    src.copy(h, 12);
    dst.copy(h, 16);
    h.writeUInt16BE(checksum(h), 10);
    return { ethertype: ETH_IPV4, packet: Buffer.concat([h, l4]) };
  }
  const src = ipv6Bytes(spec.src);
  const dst = ipv6Bytes(spec.dst);
  const pseudo = Buffer.concat([src, dst, u32(l4.length), Buffer.from([0, 0, 0, proto])]);
  l4.writeUInt16BE(0, at);
  l4.writeUInt16BE(checksum(pseudo, l4) || 0xffff, at);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(l4.length, 4);
  h[6] = proto;
  h[7] = spec.ttl ?? 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return { ethertype: ETH_IPV6, packet: Buffer.concat([h, l4]) };
}

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export function ethernet(dstMac: string, srcMac: string, ethertype: number, payload: Buffer): Buffer {
  const frame = Buffer.concat([macBytes(dstMac), macBytes(srcMac), u16(ethertype), payload]);
  // veth carries frames shorter than 60 bytes, but a real NIC would pad them.
  return frame.length < 60 ? Buffer.concat([frame, Buffer.alloc(60 - frame.length)]) : frame;
}

export function udpFrame(spec: L4Spec): Buffer {
  const data = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const l4 = Buffer.concat([u16(spec.sport), u16(spec.dport), u16(8 + data.length), u16(0), data]);
  const { ethertype, packet } = ipPacket(spec, 17, l4);
  return ethernet(spec.dstMac, spec.srcMac, ethertype, packet);
}

const TCP_FLAGS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20 };

export function tcpFrame(spec: TcpSpec): Buffer {
  const data = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  let flags = 0;
  for (const c of spec.flags.toUpperCase()) {
    const f = TCP_FLAGS[c];
    if (f === undefined) throw new Error(`frames: unknown TCP flag '${c}'`);
    flags |= f;
  }
  const h = Buffer.alloc(20);
  h.writeUInt16BE(spec.sport, 0);
  h.writeUInt16BE(spec.dport, 2);
  h.writeUInt32BE((spec.seq ?? 1) >>> 0, 4);
  h.writeUInt32BE((spec.ack ?? 0) >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  const { ethertype, packet } = ipPacket(spec, 6, Buffer.concat([h, data]));
  return ethernet(spec.dstMac, spec.srcMac, ethertype, packet);
}

/** An ARP request "who has targetIp, tell senderIp", broadcast. */
export function arpRequest(srcMac: string, senderIp: string, targetIp: string): Buffer {
  const p = Buffer.concat([
    Buffer.from([0, 1, 8, 0, 6, 4, 0, 1]),
    macBytes(srcMac),
    ipv4Bytes(senderIp),
    Buffer.alloc(6),
    ipv4Bytes(targetIp),
  ]);
  return ethernet('ff:ff:ff:ff:ff:ff', srcMac, ETH_ARP, p);
}

/** An IPv6 neighbour solicitation for `target`, sent to its solicited-node group. */
export function ndSolicit(srcMac: string, src: string, target: string): Buffer {
  const t = ipv6Bytes(target);
  const group = `ff02::1:ff${t[13].toString(16).padStart(2, '0')}:${t.readUInt16BE(14).toString(16)}`;
  const groupMac = `33:33:ff:${[...t.subarray(13)].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
  const icmp = Buffer.concat([Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]), t, Buffer.from([1, 1]), macBytes(srcMac)]);
  const { ethertype, packet } = ipPacket({ src, dst: group, ttl: 255 }, 58, icmp);
  return ethernet(groupMac, srcMac, ethertype, packet);
}

export interface ParsedPacket {
  /** Capture time in seconds (pcap timestamp). */
  time: number;
  /** Length on the wire (the capture may hold less). */
  length: number;
  srcMac: string;
  dstMac: string;
  ethertype: number;
  proto?: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'arp' | number;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  /** TCP flags as letters, e.g. 'SA'. */
  tcpFlags?: string;
  /** ARP: 1 request, 2 reply; src/dst are the sender and target IPs. */
  arpOp?: number;
  /** DSCP of an IPv4 or IPv6 packet (the upper six bits of TOS / traffic class). */
  dscp?: number;
  /** L4 payload bytes that were captured. */
  payload?: Buffer;
}

export function parseFrame(frame: Buffer, time = 0, length = frame.length): ParsedPacket {
  const p: ParsedPacket = { time, length, dstMac: macText(frame, 0), srcMac: macText(frame, 6), ethertype: frame.readUInt16BE(12) };
  let off = 14;
  if (p.ethertype === 0x8100 && frame.length >= 18) {
    p.ethertype = frame.readUInt16BE(16);
    off = 18;
  }
  let proto: number | undefined;
  // Where the IP packet ends: short frames carry Ethernet padding after it.
  let end = frame.length;
  if (p.ethertype === ETH_IPV4 && frame.length >= off + 20) {
    const ihl = (frame[off] & 0x0f) * 4;
    end = Math.min(end, off + frame.readUInt16BE(off + 2));
    proto = frame[off + 9];
    p.dscp = frame[off + 1] >> 2;
    p.src = [...frame.subarray(off + 12, off + 16)].join('.');
    p.dst = [...frame.subarray(off + 16, off + 20)].join('.');
    off += ihl;
  } else if (p.ethertype === ETH_IPV6 && frame.length >= off + 40) {
    proto = frame[off + 6];
    p.dscp = (frame.readUInt16BE(off) >> 6) & 0x3f;
    end = Math.min(end, off + 40 + frame.readUInt16BE(off + 4));
    p.src = ipv6Text(frame, off + 8);
    p.dst = ipv6Text(frame, off + 24);
    off += 40;
    // Hop-by-hop (MLD) is the only extension header the lab meets.
    if (proto === 0 && frame.length >= off + 2) {
      proto = frame[off];
      off += (frame[off + 1] + 1) * 8;
    }
  } else if (p.ethertype === ETH_ARP && frame.length >= off + 28) {
    p.proto = 'arp';
    p.arpOp = frame.readUInt16BE(off + 6);
    p.src = [...frame.subarray(off + 14, off + 18)].join('.');
    p.dst = [...frame.subarray(off + 24, off + 28)].join('.');
    return p;
  }
  if (proto === undefined) return p;
  p.proto = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : proto === 1 ? 'icmp' : proto === 58 ? 'icmpv6' : proto;
  if ((proto === 6 || proto === 17) && frame.length >= off + 4) {
    p.sport = frame.readUInt16BE(off);
    p.dport = frame.readUInt16BE(off + 2);
  }
  if (proto === 6 && frame.length >= off + 14) {
    const f = frame[off + 13];
    p.tcpFlags = Object.entries(TCP_FLAGS)
      .filter(([, bit]) => f & bit)
      .map(([c]) => c)
      .join('');
    p.payload = frame.subarray(Math.min(end, off + (frame[off + 12] >> 4) * 4), end);
  } else if (proto === 17) {
    p.payload = frame.subarray(Math.min(end, off + 8), end);
  } else {
    p.payload = frame.subarray(Math.min(end, off), end);
  }
  return p;
}
