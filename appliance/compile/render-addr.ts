/**
 * Addresses, prefixes, ranges and MACs as the text nft prints them, so that a
 * rendered element reads the same as `nft list` shows it. Pure.
 */
import { isIP } from 'node:net';

export type Family = 4 | 6;

/** An address or a block of addresses: [lo, hi] of one family. */
export interface Span {
  family: Family;
  lo: bigint;
  hi: bigint;
}

export const bitsOf = (family: Family): number => (family === 6 ? 128 : 32);

export function familyOf(address: string): Family | undefined {
  const kind = isIP(address.split('/')[0]);
  return kind === 4 ? 4 : kind === 6 ? 6 : undefined;
}

function ipv4ToBigInt(addr: string): bigint {
  const parts = addr.split('.');
  let n = 0n;
  for (const p of parts) n = (n << 8n) | BigInt(Number(p));
  return n;
}

function ipv6ToBigInt(addr: string): bigint {
  let text = addr;
  if (text.includes('.')) {
    const i = text.lastIndexOf(':');
    const v4 = text.slice(i + 1).split('.').map(Number);
    text = `${text.slice(0, i + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

export function addressToBigInt(addr: string, family: Family): bigint {
  return family === 4 ? ipv4ToBigInt(addr) : ipv6ToBigInt(addr);
}

/** RFC 5952 text (what inet_ntop prints): lower case, longest zero run as "::". */
export function formatAddress(n: bigint, family: Family): string {
  if (family === 4) return `${(n >> 24n) & 255n}.${(n >> 16n) & 255n}.${(n >> 8n) & 255n}.${n & 255n}`;
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

const IPV4_CANONICAL = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An address or prefix ("10.0.0.0/8", "2001:db8::1") as a span; throws on bad input. */
export function parseSpan(value: string): Span {
  const [addr, lenText] = value.split('/');
  const family = familyOf(addr);
  if (!family) throw new Error(`not an IP address or prefix: ${value}`);
  const bits = bitsOf(family);
  const len = lenText === undefined ? bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bits) throw new Error(`bad prefix length in ${value}`);
  const host = BigInt(bits - len);
  const lo = (addressToBigInt(addr, family) >> host) << host;
  return { family, lo, hi: lo + (1n << host) - 1n };
}

/** The prefix length of a span if it is exactly one prefix, else undefined. */
export function prefixLength(span: Span): number | undefined {
  const size = span.hi - span.lo + 1n;
  if (size <= 0n || (size & (size - 1n)) !== 0n) return undefined;
  if (span.lo % size !== 0n) return undefined;
  let host = 0;
  for (let s = size; s > 1n; s >>= 1n) host++;
  return bitsOf(span.family) - host;
}

/** A span as nft prints it in an interval set: address, prefix, or "lo-hi". */
export function formatSpan(span: Span): string {
  const len = prefixLength(span);
  if (len === bitsOf(span.family)) return formatAddress(span.lo, span.family);
  if (len !== undefined) return `${formatAddress(span.lo, span.family)}/${len}`;
  return `${formatAddress(span.lo, span.family)}-${formatAddress(span.hi, span.family)}`;
}

const canonicalCache = new Map<string, string>();

/** Canonical text of an address or prefix (cached: services share addresses across rows). */
export function canonicalAddress(value: string): string {
  if (IPV4_CANONICAL.test(value)) return value;
  let text = canonicalCache.get(value);
  if (text === undefined) {
    text = formatSpan(parseSpan(value));
    if (canonicalCache.size > 100_000) canonicalCache.clear();
    canonicalCache.set(value, text);
  }
  return text;
}

export interface AddressInfo {
  family: Family;
  /** Canonical text (address, prefix, or range). */
  text: string;
  /** One address, not a block. */
  single: boolean;
}

const infoCache = new Map<string, AddressInfo>();

/** Empties the address caches: they serve one render (at 100k services ~11 MB, idle until the next commit). */
export function clearAddressCaches(): void {
  infoCache.clear();
  canonicalCache.clear();
}

/** Family, canonical text and single-ness of an address or prefix, cached (services repeat their address on every row). */
export function addressInfo(value: string): AddressInfo {
  let info = infoCache.get(value);
  if (info) return info;
  if (IPV4_CANONICAL.test(value)) info = { family: 4, text: value, single: true };
  else {
    const span = parseSpan(value);
    info = { family: span.family, text: formatSpan(span), single: span.lo === span.hi };
  }
  if (infoCache.size > 500_000) infoCache.clear();
  infoCache.set(value, info);
  return info;
}

/** True when the value is one address (not a prefix shorter than the address). */
export function isSingleAddress(value: string): boolean {
  if (IPV4_CANONICAL.test(value)) return true;
  const s = parseSpan(value);
  return s.lo === s.hi;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function normalizeMac(mac: string): string {
  const m = mac.toLowerCase().replace(/-/g, ':');
  if (MAC.test(m)) return m;
  const parts = m.split(':');
  if (parts.length === 6 && parts.every((p) => /^[0-9a-f]{1,2}$/.test(p))) return parts.map((p) => p.padStart(2, '0')).join(':');
  throw new Error(`not a MAC address: ${mac}`);
}

/** The smallest list of prefixes/ranges covering [lo, hi]: one "lo-hi" range unless it is a prefix. */
export function spanText(family: Family, lo: bigint, hi: bigint): string {
  return formatSpan({ family, lo, hi });
}
