/**
 * A full apply as one netlink transaction of our own, without nft parsing the
 * set elements (at 100k services nft spends ~5 s of CPU parsing and
 * evaluating 470k elements, see docs/full-apply-feasibility.md).
 *
 * 1. nft builds the skeleton — objects, sets (the large, encodable ones
 *    empty), chains and rules — in a scratch table that is dormant (its hook
 *    chains are not attached, so it sees no packet): nft stays the only
 *    compiler of rule text, so any rule the renderer writes works here.
 * 2. The scratch table is dumped over netlink and deleted.
 * 3. One transaction, built here: create-if-missing and delete the engine's
 *    table, create it again, then the dumped objects, sets, chains, elements
 *    of the small sets, rules (table name rewritten, kernel handles dropped),
 *    then every element of the encodable sets from the rendered ruleset.
 *
 * The kernel applies the transaction atomically, like `nft -f` of the same
 * ruleset (which sends the same messages): until it commits, packets see the
 * old table; a rejected one changes nothing. Without BATCH_END it is a check.
 */
import { objectKey, type NftChain, type NftObject, type NftSet, type RenderedRuleset } from '../compile/render-model.js';
import { chainBlock, elementStatements, elementText, objectDeclaration, setDeclaration, type ElementCounters } from '../compile/render-print.js';
import type { BatchMessage, ElementBatch, ElementChange } from './netlink-batch.js';
import { batchMark, writeElements } from './netlink-batch.js';
import type {
  SetEncoder} from './netlink-encode.js';
import {
  BatchEncodeError,
  encodable,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFPROTO_NETDEV,
  NFT_MSG,
  nftType,
  NLM_F_ACK,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_REQUEST,
  NlWriter
} from './netlink-encode.js';
import { attrsOf, dumpedMessages, strAttr, type DumpedMessage } from './netlink-table-dump.js';

/** The scratch table's name for the engine's table. */
export const scratchName = (table: string): string => `${table}__next`;

/** Elements whose sets nft fills in the scratch table (small sets the encoder cannot carry, e.g. single-field intervals). */
const viaScratch = (s: NftSet) => !encodable(s);

const LIMIT_UNIT: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };

/** A limit object's spec as the renderer writes it ("rate 100/second burst 5 packets"), or undefined when it says more. */
function limitSpec(spec: string): { rate: number; unit: number; burst: number } | undefined {
  const m = /^rate (\d+)\/(second|minute|hour|day|week)(?: burst (\d+) packets)?$/.exec(spec.trim());
  return m ? { rate: Number(m[1]), unit: LIMIT_UNIT[m[2]], burst: Number(m[3] ?? 5) } : undefined;
}

/**
 * Objects the transaction declares itself (counters, packet limits): at 100k
 * services there are 20k of them, which would make nft's scratch run and the
 * skeleton's cache key grow with the services. Objects named in rule text
 * (a load-shared row's counters) go through the scratch table: nft needs them
 * there to accept the rules.
 */
export function ownObjects(r: RenderedRuleset): NftObject[] {
  // One pass over the rule text (20k objects at 100k services), not a search per object.
  const named = quotedWords(r.chains.values());
  return [...r.objects.values()].filter((o) => encodableObject(o) && !named.has(o.name));
}

/** An object writeObject can encode: a counter from zero or a packet limit. */
export const encodableObject = (o: NftObject): boolean => (o.type === 'counter' ? !o.spec : o.type === 'limit' && !!limitSpec(o.spec));

/** Every quoted word of these chains' rules (object names, interface names). */
function quotedWords(chains: Iterable<NftChain>): Set<string> {
  const words = new Set<string>();
  for (const c of chains) for (const rule of c.rules) for (const m of rule.matchAll(/"([^"]*)"/g)) words.add(m[1]);
  return words;
}

/**
 * The nft script that builds the skeleton of `r` in the dormant scratch table (deleting a leftover one first).
 * With `only`, just those chains, and the other chains their rules name as empty ones (so that nft accepts
 * the jumps and gotos): the new chains of a diff (netlink-chains.ts).
 */
export function skeletonScript(r: RenderedRuleset, only?: readonly NftChain[]): string {
  const t = scratchName(r.table);
  const out: string[] = [`table netdev ${t} {}`, `delete table netdev ${t}`, `table netdev ${t} {`, '  flags dormant;'];
  if (only) {
    // Only the objects, sets and other chains these chains' rules name: 20k objects at 100k services, and every
    // declaration costs nft time.
    for (const name of quotedWords(only)) {
      for (const type of ['counter', 'limit'] as const) {
        const o = r.objects.get(objectKey({ type, name }));
        if (o) out.push(`  ${objectDeclaration(o)}`);
      }
    }
    const text = only.map((c) => c.rules.join('\n')).join('\n');
    for (const m of new Set([...text.matchAll(/@(\w+)(?![\w,])/g)].map((x) => x[1]))) {
      const s = r.sets.get(m);
      if (s) out.push(`  ${setDeclaration(s)}`);
    }
    const chains = new Set(only.map((c) => c.name));
    for (const m of text.matchAll(/\b(?:jump|goto) (\w+)/g)) {
      if (chains.has(m[1])) continue;
      chains.add(m[1]);
      out.push(`  chain ${m[1]} {}`);
    }
  } else {
    const own = new Set(ownObjects(r));
    for (const o of r.objects.values()) if (!own.has(o)) out.push(`  ${objectDeclaration(o)}`);
    for (const s of r.sets.values()) out.push(`  ${setDeclaration(s)}`);
  }
  for (const c of only ?? r.chains.values()) out.push(chainBlock(c));
  out.push('}');
  // New chains need the sets they name, not their elements (which the engine's table holds).
  if (only) return `${out.join('\n')}\n`;
  for (const s of r.sets.values()) {
    if (!s.elements.size || !viaScratch(s)) continue;
    elementStatements('add', t, s.name, [...s.elements].map(([k, v]) => elementText(k, v)), out);
  }
  return `${out.join('\n')}\n`;
}

/** Attributes the kernel reports but a NEW message must not carry: handles, use counts, positions, padding. */
const DROP: Record<number, Set<number>> = {
  [NFT_MSG.NEWOBJ]: new Set([5, 6, 7]), // USE, HANDLE, PAD
  [NFT_MSG.NEWSET]: new Set([14, 16, 19, 20]), // PAD, HANDLE, TYPE (the backend) and COUNT (of elements): dump-only
  [NFT_MSG.NEWSETELEM]: new Set(),
  [NFT_MSG.NEWCHAIN]: new Set([2, 6, 8, 9]), // HANDLE, USE, COUNTERS, PAD
  [NFT_MSG.NEWRULE]: new Set([3, 6, 8]), // HANDLE, POSITION (the previous rule's handle), PAD
};
/** The attribute holding the table's name (1 in every message type), and the one naming the object / set / chain. */
const TABLE_ATTR = 1;
const NAME_ATTR: Record<number, number> = { [NFT_MSG.NEWOBJ]: 2, [NFT_MSG.NEWSET]: 2, [NFT_MSG.NEWSETELEM]: 2, [NFT_MSG.NEWCHAIN]: 3, [NFT_MSG.NEWRULE]: 2 };
const WHAT: Record<number, string> = { [NFT_MSG.NEWOBJ]: 'object', [NFT_MSG.NEWSET]: 'set', [NFT_MSG.NEWSETELEM]: 'elements of', [NFT_MSG.NEWCHAIN]: 'chain', [NFT_MSG.NEWRULE]: 'rule in chain' };

/** The skeleton of a table as its dump describes it, grouped by message type. */
export interface Skeleton {
  objects: DumpedMessage[];
  sets: DumpedMessage[];
  elements: DumpedMessage[];
  chains: DumpedMessage[];
  rules: DumpedMessage[];
}

/** The scratch table's messages from a dump (other tables' chains, which the chain dump includes, left out). */
export function skeletonOf(dump: Buffer, table: string): Skeleton {
  const sk: Skeleton = { objects: [], sets: [], elements: [], chains: [], rules: [] };
  for (const m of dumpedMessages(dump)) {
    if (strAttr(m.buf, attrsOf(m.buf, m.start, m.end).find((a) => a[0] === TABLE_ATTR)) !== table) continue;
    if (m.msg === NFT_MSG.NEWOBJ) sk.objects.push(m);
    else if (m.msg === NFT_MSG.NEWSET) sk.sets.push(m);
    else if (m.msg === NFT_MSG.NEWSETELEM) {
      // A set's dump of no elements still answers with its list header: keep only lists with elements.
      if (attrsOf(m.buf, m.start, m.end).some((a) => a[0] === 3 && a[2] > a[1])) sk.elements.push(m);
    } else if (m.msg === NFT_MSG.NEWCHAIN) sk.chains.push(m);
    else if (m.msg === NFT_MSG.NEWRULE) sk.rules.push(m);
  }
  return sk;
}

/** The name a dumped message carries: of the object, set or chain; for a rule, its chain's. */
export function messageName(m: DumpedMessage): string {
  return strAttr(m.buf, attrsOf(m.buf, m.start, m.end).find((a) => a[0] === NAME_ATTR[m.msg])) ?? '';
}

/** A dumped message as a NEW message for `table`: the table renamed, kernel-only attributes dropped. */
export function copyMessage(w: NlWriter, m: DumpedMessage, table: string, seq: number, messages: BatchMessage[]): void {
  const flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | (m.msg === NFT_MSG.NEWRULE ? NLM_F_APPEND : 0);
  const at = w.begin(nftType(m.msg), flags, seq, NFPROTO_NETDEV);
  const drop = DROP[m.msg];
  let name = '';
  for (const a of attrsOf(m.buf, m.start, m.end)) {
    if (drop.has(a[0])) continue;
    if (a[0] === TABLE_ATTR) {
      w.str(TABLE_ATTR, table);
      continue;
    }
    if (a[0] === NAME_ATTR[m.msg]) name = strAttr(m.buf, a) ?? '';
    // The attribute as it came, header included (its nested flag too).
    w.raw(m.buf, a[1] - 4, a[2]);
    w.pad();
  }
  // The kernel requires a transaction-local id on every new set (rules could name it by id; ours name it).
  if (m.msg === NFT_MSG.NEWSET) w.be32(10, seq);
  w.end(at);
  messages.push({ seq, op: 'add', set: `${WHAT[m.msg]} ${name}`, elements: 0 });
}

export interface FullBatchOptions {
  /** Leave out BATCH_END: the kernel validates every message, then aborts. */
  check: boolean;
  /** Initial element counters (carried across the replace). */
  counters?: ElementCounters;
}

/** The transaction that replaces the engine's table by `r`, the skeleton taken from the scratch table's dump. */
export function fullBatch(r: RenderedRuleset, skeleton: Skeleton, opts: FullBatchOptions): ElementBatch & { elements: number } {
  const t = r.table;
  const encoded = [...r.sets.values()].filter((s) => !viaScratch(s) && s.elements.size);
  let elements = 0;
  for (const s of encoded) elements += s.elements.size;
  // ~56 bytes per element for the 470k of 100k services; the buffer grows if not enough.
  const w = new NlWriter(elements * 64 + 1_000_000);
  const messages: BatchMessage[] = [];
  let seq = 1;
  batchMark(w, NFNL_MSG_BATCH_BEGIN, seq++);
  const table = (msg: number, what: string) => {
    const s = seq++;
    const at = w.begin(nftType(msg), NLM_F_REQUEST | NLM_F_ACK | (msg === NFT_MSG.NEWTABLE ? NLM_F_CREATE : 0), s, NFPROTO_NETDEV);
    w.str(1, t);
    w.end(at);
    messages.push({ seq: s, op: msg === NFT_MSG.NEWTABLE ? 'add' : 'delete', set: what, elements: 0 });
  };
  // Like nft's `table x {}; delete table x; table x {...}`: the delete never fails for a missing table.
  table(NFT_MSG.NEWTABLE, `table ${t}`);
  table(NFT_MSG.DELTABLE, `table ${t}`);
  table(NFT_MSG.NEWTABLE, `table ${t}`);
  // Order: what later messages refer to comes first. Verdict data and rules name chains; rules bind
  // anonymous sets, which must hold their elements by then.
  for (const o of ownObjects(r)) {
    const s = seq++;
    writeObject(w, t, o, s);
    messages.push({ seq: s, op: 'add', set: `${o.type} ${o.name}`, elements: 0 });
  }
  for (const group of [skeleton.objects, skeleton.sets, skeleton.chains, skeleton.elements, skeleton.rules]) {
    for (const m of group) copyMessage(w, m, t, seq++, messages);
  }
  const changes: ElementChange[] = encoded.map((s) => ({ set: s, keys: 'all' as const, counters: opts.counters?.get(s.name) }));
  const encoders = new Map<NftSet, SetEncoder>();
  writeElements(w, t, 'add', changes, () => seq++, messages, encoders);
  if (!opts.check) batchMark(w, NFNL_MSG_BATCH_END, seq++);
  return { bytes: w.bytes(), messages, elements };
}

/** NEWOBJ of a counter (from zero) or a packet limit, as nft sends it. */
export function writeObject(w: NlWriter, table: string, o: NftObject, seq: number): void {
  const at = w.begin(nftType(NFT_MSG.NEWOBJ), NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, seq, NFPROTO_NETDEV);
  w.str(1, table);
  w.str(2, o.name);
  const d = (open: () => void) => {
    const n = w.open(4, true);
    open();
    w.close(n);
  };
  if (o.type === 'counter') {
    w.be32(3, 1); // NFT_OBJECT_COUNTER
    d(() => {
      w.be64(1, 0); // NFTA_COUNTER_BYTES
      w.be64(2, 0); // NFTA_COUNTER_PACKETS
    });
  } else {
    const l = limitSpec(o.spec)!;
    w.be32(3, 4); // NFT_OBJECT_LIMIT
    d(() => {
      w.be64(1, l.rate); // NFTA_LIMIT_RATE
      w.be64(2, l.unit); // NFTA_LIMIT_UNIT (seconds)
      w.be32(3, l.burst); // NFTA_LIMIT_BURST
      w.be32(4, 0); // NFTA_LIMIT_TYPE: packets
      w.be32(5, 0); // NFTA_LIMIT_FLAGS
    });
  }
  w.end(at);
}

/** A transaction that deletes the scratch table. */
export function dropScratchBatch(table: string): ElementBatch {
  const w = new NlWriter(256);
  batchMark(w, NFNL_MSG_BATCH_BEGIN, 1);
  const at = w.begin(nftType(NFT_MSG.DELTABLE), NLM_F_REQUEST | NLM_F_ACK, 2, NFPROTO_NETDEV);
  w.str(1, scratchName(table));
  w.end(at);
  batchMark(w, NFNL_MSG_BATCH_END, 3);
  return { bytes: w.bytes(), messages: [{ seq: 2, op: 'delete', set: `table ${scratchName(table)}`, elements: 0 }] };
}

export { BatchEncodeError };
