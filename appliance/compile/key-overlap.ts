/**
 * Whether two rows' receive keys can match the same packet: the test behind
 * AMBIGUOUS_STEP. A key without a source MAC (uplink, bridge leg) matches
 * frames from any MAC, so it overlaps every key on its interface.
 */
import { addressToBigInt, bitsOf, familyOf } from './render-addr.js';
import type { PortMatch, Receive } from './sequence-table.js';

function portIntervals(p: PortMatch | undefined): [number, number][] {
  if (!p) return [[0, 65535]];
  return p.range ? [[p.port, p.port], [p.range.low, p.range.high]] : [[p.port, p.port]];
}

export function portsOverlap(a: PortMatch | undefined, b: PortMatch | undefined): boolean {
  return portIntervals(a).some(([l1, h1]) => portIntervals(b).some(([l2, h2]) => l1 <= h2 && l2 <= h1));
}

/** An address or prefix as [family, first, last] over bigint. */
export function addressSpan(value: string): [number, bigint, bigint] {
  const [addr, len] = value.split('/');
  const family = familyOf(addr) ?? 4;
  const bits = bitsOf(family);
  const hostBits = BigInt(bits - (len === undefined ? bits : Number(len)));
  const first = (addressToBigInt(addr, family) >> hostBits) << hostBits;
  return [family, first, first + (1n << hostBits) - 1n];
}

export function addressesOverlap(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  const [fa, a1, a2] = addressSpan(a);
  const [fb, b1, b2] = addressSpan(b);
  return fa === fb && a1 <= b2 && b1 <= a2;
}

export function keysOverlap(a: Receive, b: Receive): boolean {
  if (a.interface !== b.interface || a.direction !== b.direction) return false;
  if (a.srcMac && b.srcMac && a.srcMac !== b.srcMac) return false;
  if (a.protocol !== 'any' && b.protocol !== 'any' && a.protocol !== b.protocol) return false;
  // Rows keyed on different address fields are told apart by the data plane's lookup order.
  if ((a.dstIp === undefined) !== (b.dstIp === undefined)) return false;
  return addressesOverlap(a.dstIp ?? a.srcIp, b.dstIp ?? b.srcIp) && portsOverlap(a.port, b.port);
}

export function describeKey(r: Receive): string {
  const addr = r.dstIp !== undefined ? `dst ${r.dstIp}` : `src ${r.srcIp}`;
  const port = r.port ? `port ${r.port.port}${r.port.range ? ` or ${r.port.range.low}-${r.port.range.high}` : ''}` : 'any port';
  return `(${r.interface}, ${r.srcMac ? `MAC ${r.srcMac}` : 'any MAC'}, ${addr}, ${port}, ${r.protocol}, ${r.direction})`;
}
