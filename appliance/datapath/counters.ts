/**
 * Counters read back from the kernel and attributed: element counters of the
 * verdict maps are the row counters; named counters are the ACL counters.
 * Keys printed by nft are brought to the renderer's canonical text so that
 * they can be looked up in the rendered model. Pure.
 */
import { overflowName, type NftSet, type RenderedRuleset, type RowElement } from '../compile/render-model.js';
import type { CounterValue, ElementCounters } from '../compile/render-print.js';
import { canonicalAddress, formatSpan, normalizeMac, parseSpan } from '../compile/render-addr.js';
import type { CounterSnapshot } from './datapath.js';
import { counterIndexOf } from './counter-index.js';
import { indexedSnapshot } from './counter-snapshot.js';

type Json = Record<string, unknown>;

const portText = (lo: number, hi: number) => (lo === hi ? `${lo}` : `${lo}-${hi}`);

function addressRange(a: string, b: string): string {
  const lo = parseSpan(a);
  const hi = parseSpan(b);
  return formatSpan({ family: lo.family, lo: lo.lo, hi: hi.hi });
}

/** One key component of nft JSON output as the renderer prints it. */
function jsonComponent(type: string, v: unknown): string {
  if (v && typeof v === 'object') {
    const o = v as Json;
    if (o.prefix) {
      const p = o.prefix as { addr: string; len: number };
      return canonicalAddress(`${p.addr}/${p.len}`);
    }
    if (o.range) {
      const [a, b] = o.range as [unknown, unknown];
      if (type === 'inet_service') return portText(Number(a), Number(b));
      return addressRange(String(a), String(b));
    }
    throw new Error(`unexpected key component ${JSON.stringify(v)}`);
  }
  switch (type) {
    case 'ifname':
      return `"${String(v)}"`;
    case 'ether_addr':
      return normalizeMac(String(v));
    case 'ipv4_addr':
    case 'ipv6_addr':
      return canonicalAddress(String(v));
    case 'mark':
      // The renderer writes marks as 8-digit hex; nft -j reports them as numbers.
      return `0x${Number(v).toString(16).padStart(8, '0')}`;
    default:
      return String(v);
  }
}

/** One key component of nft text output ("10.0.0.0/8", "1025-1125", "2001:db8::1-2001:db8::9") as the renderer prints it. */
function textComponent(type: string, text: string): string {
  switch (type) {
    case 'ifname':
      return text.startsWith('"') ? text : `"${text}"`;
    case 'ether_addr':
      return normalizeMac(text);
    case 'ipv4_addr':
    case 'ipv6_addr': {
      const dash = text.indexOf('-');
      return dash > 0 ? addressRange(text.slice(0, dash), text.slice(dash + 1)) : canonicalAddress(text);
    }
    case 'inet_service': {
      const [a, b] = text.split('-');
      return portText(Number(a), Number(b ?? a));
    }
    default:
      return text;
  }
}

export function keyFromJson(keyType: string, val: unknown): string {
  const types = keyType.split(' . ');
  const parts = val && typeof val === 'object' && 'concat' in (val as Json) ? ((val as Json).concat as unknown[]) : [val];
  return parts.map((p, i) => jsonComponent(types[i], p)).join(' . ');
}

export function keyFromText(keyType: string, text: string): string {
  const types = keyType.split(' . ');
  return text
    .trim()
    .split(' . ')
    .map((p, i) => textComponent(types[i], p.trim()))
    .join(' . ');
}

export interface KernelCounters {
  /** Element counters of the model's counting maps: map → key → counts. */
  elements: ElementCounters;
  /** Named counters: name → counts. */
  objects: Map<string, CounterValue>;
}

/** Counters from `nft -j list table netdev <t>` for the sets the model declares with counters. */
export function countersFromJson(json: unknown, model: Pick<RenderedRuleset, 'sets'>): KernelCounters {
  const elements: ElementCounters = new Map();
  const objects = new Map<string, CounterValue>();
  const items = ((json as Json)?.nftables as Json[] | undefined) ?? [];
  for (const item of items) {
    if (item.counter) {
      const c = item.counter as Json;
      objects.set(String(c.name), { packets: Number(c.packets ?? 0), bytes: Number(c.bytes ?? 0) });
      continue;
    }
    const m = (item.map ?? item.set) as Json | undefined;
    if (!m) continue;
    const set = model.sets.get(String(m.name));
    if (!set || !set.counter) continue;
    const out = new Map<string, CounterValue>();
    for (const e of (m.elem as unknown[] | undefined) ?? []) {
      // A map element is [key, data]; a key with expressions is { elem: { val, counter } }.
      const keyPart = Array.isArray(e) ? e[0] : e;
      const wrapped = keyPart && typeof keyPart === 'object' && 'elem' in (keyPart as Json) ? ((keyPart as Json).elem as Json) : undefined;
      const val = wrapped ? wrapped.val : keyPart;
      const counter = wrapped?.counter as Json | undefined;
      out.set(keyFromJson(set.keyType, val), { packets: Number(counter?.packets ?? 0), bytes: Number(counter?.bytes ?? 0) });
    }
    elements.set(set.name, out);
  }
  return { elements, objects };
}

/** Element counters from the text `nft get element` prints ("KEY counter packets N bytes M : DATA, ..."). */
export function countersFromElementText(text: string, set: Pick<NftSet, 'keyType'>): Map<string, CounterValue> {
  const out = new Map<string, CounterValue>();
  const start = text.indexOf('elements = {');
  if (start < 0) return out;
  const body = text.slice(start + 'elements = {'.length);
  const re = /([^{},]+?)\s+counter packets (\d+) bytes (\d+)/g;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    out.set(keyFromText(set.keyType, m[1]), { packets: Number(m[2]), bytes: Number(m[3]) });
  }
  return out;
}

/**
 * Attribute kernel counters (Maps by key text: the `nft -j list` fallback and
 * tests) to the model's rows, ACL rules and service ports.
 */
export function snapshotCounters(model: RenderedRuleset, kernel: KernelCounters, at = new Date()): CounterSnapshot {
  const index = counterIndexOf(model);
  const packets = new Float64Array(index.slots);
  const bytes = new Float64Array(index.slots);
  const put = (slot: number, e: RowElement) => {
    // Rows of a direct map added by a diff live in its overflow until compacted (datapath/overflow.ts).
    const v = slot >= 0 ? (kernel.elements.get(e.map)?.get(e.key) ?? kernel.elements.get(overflowName(e.map))?.get(e.key)) : undefined;
    if (!v) return;
    // Rows may share an element: set, not add.
    packets[slot] = v.packets;
    bytes[slot] = v.bytes;
  };
  let r = 0;
  for (const row of model.rows.values()) {
    put(index.rowSlot[r], row);
    const more = index.rowMore.get(r);
    if (more) row.more!.forEach((e, i) => put(more[i], e));
    r++;
  }
  return indexedSnapshot(model, index, packets, bytes, kernel.objects, at);
}
