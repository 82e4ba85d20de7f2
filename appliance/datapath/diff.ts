/**
 * Two rendered rulesets → one nft transaction that turns the first into the
 * second without touching what stays: element adds and deletes, new and unused
 * chains, sets and named objects. A one-service change costs the same with 10
 * or 100k services, and nothing that stays is recreated, so counters of
 * unchanged rows and ACL rules keep counting. Pure.
 *
 * Order inside the transaction (nft applies it atomically or not at all):
 *   1 add objects, sets, new chains      (what new elements and rules refer to)
 *   2 delete removed and changed elements
 *   3 add new and changed elements       (changed rows may carry their old counts)
 *   4 rewrite dispatch and hook chains whose rules changed (flush + add)
 *   5 delete hook chains, action chains nothing refers to any more, then sets (emptied in 2), then objects
 */
import type { NftChain, NftObject, NftSet, RenderedRuleset } from '../compile/render-model.js';
import { locateElement, overflowName, rowElements } from '../compile/render-model.js';
import {
  chainBlock,
  elementStatements,
  elementText,
  hookLine,
  objectAdd,
  setSpec,
  type CounterValue,
  type ElementCounters,
} from '../compile/render-print.js';

export interface DiffStats {
  elementsAdded: number;
  elementsDeleted: number;
  chainsAdded: number;
  chainsDeleted: number;
  chainsRewritten: number;
  setsAdded: number;
  setsDeleted: number;
  objectsAdded: number;
  objectsDeleted: number;
}

/** A row whose elements are all replaced: its old elements' counts go to its first new element. */
export interface CarriedRow {
  id: string;
  from: { map: string; key: string }[];
  to: { map: string; key: string };
}

export interface RulesetDiff {
  table: string;
  empty: boolean;
  stats: DiffStats;
  carry: CarriedRow[];
  /** Only elements change (no object, set or chain is added, deleted or rewritten): a batch of element messages can carry it. */
  elementsOnly: boolean;
  /**
   * Set when, besides elements, only action and dispatch chains and named objects are added or deleted (a
   * service behind a device no running service uses, one with an ACL or a rate limit): what a netlink
   * transaction of our own can carry (netlink-chains.ts). `del` in the order the chains can go (latest first).
   */
  chainsAndElements?: { add: NftChain[]; del: string[]; addObjects: NftObject[]; delObjects: NftObject[] };
  /** Element keys deleted and added per set (a changed element is in both). */
  deleted: Map<string, string[]>;
  added: Map<string, string[]>;
  /** The transaction; `counters` gives carried element counts (map → key → value). */
  script(counters?: ElementCounters): string;
}

export type DiffPlan = { kind: 'diff'; diff: RulesetDiff } | { kind: 'full'; reason: string };

const sameSet = (a: NftSet, b: NftSet) => a.keyType === b.keyType && a.dataType === b.dataType && a.interval === b.interval && a.counter === b.counter;
const sameRules = (a: NftChain, b: NftChain) => a.rules.length === b.rules.length && a.rules.every((r, i) => r === b.rules[i]);

export interface DiffOptions {
  /**
   * Sets whose every element in `next` is known to be in `prev` with the same data (the direct maps
   * after overflow placement, datapath/overflow.ts): only their removed elements are looked for.
   */
  subsetOfPrev?: ReadonlySet<string>;
}

/** Plan the change from `prev` to `next`; a full replace when the two cannot be bridged by a diff. */
export function diffRulesets(prev: RenderedRuleset, next: RenderedRuleset, opts: DiffOptions = {}): DiffPlan {
  if (prev.table !== next.table) return { kind: 'full', reason: `table name changes (${prev.table} → ${next.table})` };
  for (const [name, s] of next.sets) {
    const p = prev.sets.get(name);
    if (p && !sameSet(p, s)) return { kind: 'full', reason: `set ${name} changes its type` };
  }
  for (const [name, c] of next.chains) {
    const p = prev.chains.get(name);
    if (p && (p.kind !== c.kind || p.device !== c.device || (c.kind === 'action' && !sameRules(p, c)))) {
      return { kind: 'full', reason: `chain ${name} changes its kind or body` };
    }
  }
  for (const [k, o] of next.objects) {
    const p = prev.objects.get(k);
    if (p && p.spec !== o.spec) return { kind: 'full', reason: `${k} changes` };
  }

  const t = next.table;
  const stats: DiffStats = {
    elementsAdded: 0,
    elementsDeleted: 0,
    chainsAdded: 0,
    chainsDeleted: 0,
    chainsRewritten: 0,
    setsAdded: 0,
    setsDeleted: 0,
    objectsAdded: 0,
    objectsDeleted: 0,
  };

  const addObjects = [...next.objects].filter(([k]) => !prev.objects.has(k)).map(([, o]) => o);
  const delObjects = [...prev.objects].filter(([k]) => !next.objects.has(k)).map(([, o]) => o);
  const addSets = [...next.sets.values()].filter((s) => !prev.sets.has(s.name));
  const delSets = [...prev.sets.values()].filter((s) => !next.sets.has(s.name));
  const addChains = [...next.chains.values()].filter((c) => !prev.chains.has(c.name));
  const delChains = [...prev.chains.values()].filter((c) => !next.chains.has(c.name));
  const rewrite = [...next.chains.values()].filter((c) => {
    const p = prev.chains.get(c.name);
    return p && c.kind !== 'action' && !sameRules(p, c);
  });

  // Element changes per set that exists on both sides (new sets get all their elements, deleted sets go whole).
  const delElements = new Map<string, string[]>();
  const addElements = new Map<string, string[]>();
  for (const s of next.sets.values()) {
    const p = prev.sets.get(s.name);
    const adds: string[] = [];
    const dels: string[] = [];
    if (!p) for (const k of s.elements.keys()) adds.push(k); // no spread: 100k keys overflow the argument stack
    else {
      const before = p.elements;
      const after = s.elements;
      if (!opts.subsetOfPrev?.has(s.name)) after.forEach((v, k) => {
        const old = before.get(k);
        if (old === undefined) adds.push(k);
        else if (old !== v) {
          dels.push(k);
          adds.push(k);
        }
      });
      // Same size and every next key found means nothing was removed: skip the second pass.
      if (before.size !== after.size - adds.length + dels.length) {
        before.forEach((_v, k) => {
          if (!after.has(k)) dels.push(k);
        });
      }
    }
    if (adds.length) addElements.set(s.name, adds);
    if (dels.length) delElements.set(s.name, dels);
  }

  // Rows none of whose old elements survive unchanged: carry their counts to the first new element.
  // Only rows with an added element can qualify, so look at those alone.
  const added = new Map<string, Set<string>>();
  for (const [set, keys] of addElements) if (next.sets.get(set)?.counter) added.set(set, new Set(keys));
  const carry: CarriedRow[] = [];
  if (added.size) {
    // A row names its element by the direct map; it may live in that map's overflow (overflow.ts).
    // Looked up by the direct map's name: no name built per row (400k rows at 100k services).
    const addedOverflow = new Map<string, { map: string; keys: Set<string> }>();
    for (const name of next.sets.keys()) {
      const keys = added.get(overflowName(name));
      if (keys) addedOverflow.set(name, { map: overflowName(name), keys });
    }
    for (const [id, row] of next.rows) {
      let to: string | undefined;
      if (added.get(row.map)?.has(row.key)) to = row.map;
      else {
        const o = addedOverflow.get(row.map);
        if (o?.keys.has(row.key)) to = o.map;
      }
      if (to === undefined) continue;
      const old = prev.rows.get(id);
      if (!old) continue;
      const from = rowElements(old).map((e) => locateElement(prev, e) ?? e);
      const survives = from.some((e) => {
        const before = prev.sets.get(e.map)?.elements.get(e.key);
        return before !== undefined && next.sets.get(e.map)?.elements.get(e.key) === before;
      });
      if (!survives) carry.push({ id, from, to: { map: to, key: row.key } });
    }
  }

  for (const v of addElements.values()) stats.elementsAdded += v.length;
  for (const v of delElements.values()) stats.elementsDeleted += v.length;
  stats.objectsAdded = addObjects.length;
  stats.objectsDeleted = delObjects.length;
  stats.setsAdded = addSets.length;
  stats.setsDeleted = delSets.length;
  stats.chainsAdded = addChains.length;
  stats.chainsDeleted = delChains.length;
  stats.chainsRewritten = rewrite.length;
  const empty = Object.values(stats).every((n) => n === 0);
  const noSets = !addSets.length && !delSets.length && !rewrite.length;
  const elementsOnly = noSets && !addObjects.length && !delObjects.length && !addChains.length && !delChains.length;
  const chainsAndElements =
    noSets && !elementsOnly && [...addChains, ...delChains].every((c) => c.kind !== 'hook')
      ? { add: addChains, del: [...delChains].reverse().map((c) => c.name), addObjects, delObjects }
      : undefined;

  const script = (counters?: ElementCounters): string => {
    if (empty) return '';
    const out: string[] = [];
    // 1. what new elements and rules refer to
    for (const o of addObjects) out.push(objectAdd(t, o));
    for (const s of addSets) out.push(`add ${s.dataType ? 'map' : 'set'} netdev ${t} ${s.name} ${setSpec(s)}`);
    const newChains = addChains.filter((c) => c.kind !== 'hook');
    if (newChains.length) out.push(`table netdev ${t} {\n${newChains.map((c) => chainBlock(c)).join('\n')}\n}`);
    // 2. deletes first, so a changed element can be added again; sets that go away are emptied
    //    now, so that the chains their elements name can be deleted before the sets themselves
    for (const s of delSets) if (s.elements.size) out.push(`flush ${s.dataType ? 'map' : 'set'} netdev ${t} ${s.name}`);
    for (const [set, keys] of delElements) {
      if (next.sets.has(set)) elementStatements('delete', t, set, keys, out);
    }
    // 3. adds, with carried counters
    for (const [set, keys] of addElements) {
      const s = next.sets.get(set)!;
      const init = counters?.get(set);
      elementStatements('add', t, set, keys.map((k) => elementText(k, s.elements.get(k)!, init?.get(k))), out);
    }
    // 4. dispatch and hook chains whose rules changed, then new hook chains
    for (const c of rewrite) {
      out.push(`flush chain netdev ${t} ${c.name}`);
      for (const r of c.rules) out.push(`add rule netdev ${t} ${c.name} ${r}`);
    }
    const newHooks = addChains.filter((c) => c.kind === 'hook');
    for (const c of newHooks) {
      out.push(`add chain netdev ${t} ${c.name} { ${hookLine(c.device!)} }`);
      for (const r of c.rules) out.push(`add rule netdev ${t} ${c.name} ${r}`);
    }
    // 5. what nothing refers to any more: hooks, action and dispatch chains, sets, objects
    for (const c of delChains.filter((x) => x.kind === 'hook')) out.push(`delete chain netdev ${t} ${c.name}`);
    // Latest first: a chain refers only to chains printed before it (a load-shared row's chain to its members').
    for (const c of delChains.filter((x) => x.kind !== 'hook').reverse()) out.push(`delete chain netdev ${t} ${c.name}`);
    for (const s of delSets) out.push(`delete ${s.dataType ? 'map' : 'set'} netdev ${t} ${s.name}`);
    for (const o of delObjects) out.push(`delete ${o.type} netdev ${t} ${o.name}`);
    return `${out.join('\n')}\n`;
  };

  return { kind: 'diff', diff: { table: t, empty, stats, carry, elementsOnly, chainsAndElements, deleted: delElements, added: addElements, script } };
}

/** Element counters to print for the carried rows, from counts read by (map, key). */
export function carriedCounters(carry: CarriedRow[], read: (map: string, key: string) => CounterValue | undefined): ElementCounters {
  const out: ElementCounters = new Map();
  for (const c of carry) {
    let packets = 0;
    let bytes = 0;
    for (const e of c.from) {
      const v = read(e.map, e.key);
      if (v) {
        packets += v.packets;
        bytes += v.bytes;
      }
    }
    if (!packets && !bytes) continue;
    let m = out.get(c.to.map);
    if (!m) out.set(c.to.map, (m = new Map()));
    m.set(c.to.key, { packets, bytes });
  }
  return out;
}
