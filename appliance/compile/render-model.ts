/**
 * The rendered nftables ruleset as data: what the engine's own table holds
 * (named objects, sets and maps with their elements, chains with their rules)
 * and which row or ACL rule each counter belongs to. The renderer builds it,
 * render-print turns it into one nft script, datapath/diff compares two.
 */
import type { Direction } from './sequence-table.js';

export interface NftObject {
  type: 'counter' | 'limit';
  name: string;
  /** What goes between the braces of the declaration ("rate 100/second burst 5 packets"); empty for a counter. */
  spec: string;
}

export interface NftSet {
  name: string;
  /** The key's type, e.g. "ifname . ipv4_addr . inet_service". */
  keyType: string;
  /** The data type of a map ("verdict", "counter", "limit", "ipv4_addr"); absent for a plain set. */
  dataType?: string;
  /** Elements may be prefixes and ranges (flags interval). */
  interval: boolean;
  /** Every element carries its own counter (the row counters live here). */
  counter: boolean;
  /** Element key text → data text ("" for a plain set). Insertion order is print order. */
  elements: Map<string, string>;
}

export type ChainKind = 'hook' | 'dispatch' | 'action';

export interface NftChain {
  name: string;
  kind: ChainKind;
  /** Hook chains: the interface whose ingress they hook (policy drop). */
  device?: string;
  rules: string[];
}

export type RowRole = 'in' | 'out' | 'hop';

/** Where a row's packet and byte counts live, and what the row is. */
export interface RowCounter {
  /** Stable name: service/port/role, e.g. "web/80/in", "web/80/f1", "web/80/r2", "isp/-/out"; ".N" for a repeat. */
  id: string;
  service: string;
  servicePort?: number;
  direction: Direction;
  fromStep: number;
  origin: string;
  /** in: the client's packets entering the chain; out: the packets delivered back to the client; hop: the rest. */
  role: RowRole;
  /** Devices the row delivers to (copies included). */
  devices: readonly string[];
  /** The row-map element whose counter is the row's. Inline rather than a list: 410k rows at 100k services. */
  map: string;
  key: string;
  /** Further elements whose counters add to the row's (a dynamic range that does not contain the port). */
  more?: readonly RowElement[];
}

export interface RowElement {
  map: string;
  key: string;
}

/** Every row-map element of a row, its own first. */
export const rowElements = (row: RowCounter): RowElement[] => [{ map: row.map, key: row.key }, ...(row.more ?? [])];

export interface AclCounter {
  /** The named counter. */
  name: string;
  service: string;
  /** The ACL rule, or "deny" for denied addresses no counting rule names (default action deny, uncounted deny rules). */
  rule: number | 'deny';
}

/** The per-member counter of a load-shared row (the row's own counter covers every member). */
export interface ShareCounter {
  /** The named counter. */
  name: string;
  /** The row id. */
  row: string;
  service: string;
  device: string;
}

export interface UnresolvedHop {
  row: string;
  service: string;
  interface: string;
  reason: string;
}

export interface RenderStats {
  rows: number;
  elements: number;
  actionChains: number;
  /** Rules a steered packet meets at most in one pass through the engine (hook → dispatch → action; a dropped packet may meet one more). */
  maxRulesPerPass: number;
  /** Time the renderer took, in milliseconds (not part of the ruleset's identity). */
  renderMs: number;
}

export interface RenderedRuleset {
  family: 'netdev';
  table: string;
  objects: Map<string, NftObject>;
  sets: Map<string, NftSet>;
  /** Print order: action chains, dispatch chains, hook chains (each refers only to what precedes it). */
  chains: Map<string, NftChain>;
  rows: Map<string, RowCounter>;
  aclCounters: Map<string, AclCounter>;
  /** Per-member counters of load-shared rows, by counter name. */
  shareCounters: Map<string, ShareCounter>;
  /** Rows whose next hop has no MAC yet: rendered as counted drops until the facts resolve them. */
  unresolved: UnresolvedHop[];
  stats: RenderStats;
}

/** Key of the objects map: objects of different types may share a name. */
export const objectKey = (o: Pick<NftObject, 'type' | 'name'>): string => `${o.type} ${o.name}`;

/**
 * Direct row maps and their overflow. A direct map (verdict, counted) holds
 * `goto a_<hash>` per row: one lookup per pass, no action id. Adding a goto
 * element makes the kernel re-validate every jump and goto of the table in
 * that transaction (~20 ms per 100k elements), so rows added or changed after
 * a full apply go to the map's overflow (`<name>_o`, mark → `act`), looked up
 * right after it; the next full apply compacts them back (datapath/overflow.ts).
 */
export const overflowName = (direct: string): string => `${direct}_o`;

/** Whether `name` is a direct row map of `r` (a counted verdict map with its overflow map). */
export const isDirect = (r: Pick<RenderedRuleset, 'sets'>, name: string): boolean => {
  const s = r.sets.get(name);
  return !!s && s.dataType === 'verdict' && s.counter && r.sets.has(overflowName(name));
};

/** Where a row element lives in `r`: its own map, or the overflow of that map (undefined: in neither). */
export function locateElement(r: Pick<RenderedRuleset, 'sets'>, e: RowElement): RowElement | undefined {
  if (r.sets.get(e.map)?.elements.has(e.key)) return e;
  const o = overflowName(e.map);
  if (r.sets.get(o)?.elements.has(e.key)) return { map: o, key: e.key };
  return undefined;
}
