/**
 * A full apply against what the kernel actually holds: when the engine's
 * table already has the new ruleset's skeleton (the same chains, rules, sets
 * and small sets' elements as nft builds in the scratch table), only the
 * elements and objects that differ are changed, in one transaction. That is
 * the usual full apply — a daemon restart, a restore, a startup load — and it
 * costs a dump of the table instead of re-inserting every element: the
 * kernel needs ~4–6 µs per counted element (3 s for the 470k of 100k
 * services, docs/full-apply-feasibility.md). Elements that stay keep their
 * counters. Any difference in the skeleton: undefined, and the caller
 * replaces the table. Pure.
 */
import { isDirect, objectKey, overflowName, type NftObject, type NftSet, type RenderedRuleset } from '../compile/render-model.js';
import type { CounterValue } from '../compile/render-print.js';
import { batchMark, SetElementMessages, writeElements, type BatchMessage, type ElementBatch, type ElementChange } from './netlink-batch.js';
import { encodable, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFPROTO_NETDEV, nftType, NLM_F_ACK, NLM_F_REQUEST, NlWriter, SetEncoder } from './netlink-encode.js';
import { ownObjects, writeObject, type Skeleton } from './netlink-full.js';
import { attrsOf, dumpedMessages, strAttr, type Attr, type DumpedMessage } from './netlink-table-dump.js';

const MSG = { NEWCHAIN: 3, NEWRULE: 6, NEWSET: 9, NEWSETELEM: 12, DELSETELEM: 14, NEWOBJ: 18, DELOBJ: 20 } as const;
/** Attributes left out of a comparison: the table (renamed), handles, use counts, positions, padding, dump-only set facts. */
const IGNORE: Record<number, Set<number>> = {
  [MSG.NEWOBJ]: new Set([1, 5, 6, 7]),
  [MSG.NEWSET]: new Set([1, 10, 14, 16, 19, 20]),
  [MSG.NEWCHAIN]: new Set([1, 2, 6, 8, 9]),
  [MSG.NEWRULE]: new Set([1, 3, 6, 8]),
};
const OBJ_TYPE: Record<number, string> = { 1: 'counter', 4: 'limit' };

/** A rule's expressions with the state of counters left out (a running rule counts). */
function canonExpressions(buf: Buffer, a: Attr): string {
  let out = '';
  for (const e of attrsOf(buf, a[1], a[2])) {
    const parts = attrsOf(buf, e[1], e[2]);
    const name = strAttr(buf, parts.find((p) => p[0] === 1));
    out += name === 'counter' ? '|counter' : `|${buf.toString('latin1', e[1], e[2])}`;
  }
  return out;
}

/** A skeleton message as a string to compare (what a NEW message would carry, counter state aside). */
function canon(m: DumpedMessage): string {
  const skip = IGNORE[m.msg] ?? new Set([1]);
  let out = '';
  for (const a of attrsOf(m.buf, m.start, m.end)) {
    if (skip.has(a[0])) continue;
    if (m.msg === MSG.NEWRULE && a[0] === 4) out += `#4${canonExpressions(m.buf, a)}`;
    else out += `#${a[0]}:${m.buf.toString('latin1', a[1], a[2])}`;
  }
  return out;
}

const nameOf = (m: DumpedMessage, attr: number) => strAttr(m.buf, attrsOf(m.buf, m.start, m.end).find((a) => a[0] === attr)) ?? '';

/** The skeleton as comparable text: sets, chains, rules per chain in order, objects, small sets' elements. */
function skeletonText(sk: Skeleton, smallSet: (name: string) => boolean): string {
  const sets = sk.sets.map((m) => `${nameOf(m, 2)}=${canon(m)}`).sort();
  const chains = sk.chains.map((m) => `${nameOf(m, 3)}=${canon(m)}`).sort();
  const rules = new Map<string, string[]>();
  for (const m of sk.rules) {
    const chain = nameOf(m, 2);
    const l = rules.get(chain) ?? [];
    l.push(canon(m));
    rules.set(chain, l);
  }
  const objects = sk.objects.map((m) => `${nameOf(m, 2)}=${canon(m)}`).sort();
  const elements = new Map<string, string>();
  for (const m of sk.elements) {
    const set = nameOf(m, 2);
    if (!smallSet(set)) continue;
    const list = attrsOf(m.buf, m.start, m.end).find((a) => a[0] === 3);
    if (list) elements.set(set, (elements.get(set) ?? '') + m.buf.toString('latin1', list[1], list[2]));
  }
  return JSON.stringify([sets, chains, [...rules].sort(), objects, [...elements].sort()]);
}

/**
 * The live elements of one set, by key bytes (start, then end for intervals):
 * where each element's attributes lie in the dump, and its data payload.
 * Flat arrays, not an object per element: there are 470k at 100k services.
 */
interface LiveSet {
  index: Map<string, number>;
  start: number[];
  end: number[];
  data: string[];
}

/** A live element's attributes of one type (undefined when absent). */
function elementAttr(buf: Buffer, start: number, end: number, type: number): Attr | undefined {
  for (let p = start; p + 4 <= end; ) {
    const len = buf.readUInt16LE(p);
    if (len < 4) break;
    if ((buf.readUInt16LE(p + 2) & 0x3fff) === type) return [type, p + 4, p + len];
    p += (len + 3) & ~3;
  }
  return undefined;
}

/** The packets and bytes of a dumped element's counter expression. */
function counterOf(buf: Buffer, exprs: Attr): CounterValue | undefined {
  for (const e of exprs[0] === 7 ? [exprs] : attrsOf(buf, exprs[1], exprs[2])) {
    const parts = attrsOf(buf, e[1], e[2]);
    if (strAttr(buf, parts.find((p) => p[0] === 1)) !== 'counter') continue;
    const data = parts.find((p) => p[0] === 2);
    if (!data) continue;
    let bytes = 0;
    let packets = 0;
    for (const a of attrsOf(buf, data[1], data[2])) {
      if (a[0] === 1) bytes = Number(buf.readBigUInt64BE(a[1]));
      else if (a[0] === 2) packets = Number(buf.readBigUInt64BE(a[1]));
    }
    return packets || bytes ? { packets, bytes } : undefined;
  }
  return undefined;
}

export interface KernelDiff {
  batch: ElementBatch;
  kept: number;
  added: number;
  deleted: number;
  objectsAdded: number;
  objectsDeleted: number;
}

/**
 * The transaction that turns the live table (its dump) into `r`, or undefined
 * when their skeletons differ (or the table is not there). `skeleton` is the
 * scratch table's, for `r`.
 */
export function kernelDiff(r: RenderedRuleset, skeleton: Skeleton, liveDump: Buffer, opts: { check: boolean }): KernelDiff | undefined {
  const t = r.table;
  const own = ownObjects(r);
  const ownKeys = new Set(own.map((o) => objectKey(o)));
  const live: Skeleton = { objects: [], sets: [], elements: [], chains: [], rules: [] };
  const liveOwn = new Map<string, DumpedMessage>();
  for (const m of dumpedMessages(liveDump)) {
    if (nameOf(m, 1) !== t) continue;
    if (m.msg === MSG.NEWOBJ) {
      const type = attrsOf(m.buf, m.start, m.end).find((a) => a[0] === 3);
      const key = `${type ? OBJ_TYPE[m.buf.readUInt32BE(type[1])] ?? '?' : '?'} ${nameOf(m, 2)}`;
      // Objects the transaction declares itself are diffed; the others are skeleton (nft's scratch has them).
      if (ownKeys.has(key) || !skeleton.objects.some((s) => nameOf(s, 2) === nameOf(m, 2))) liveOwn.set(key, m);
      else live.objects.push(m);
    } else if (m.msg === MSG.NEWSET) live.sets.push(m);
    else if (m.msg === MSG.NEWSETELEM) live.elements.push(m);
    else if (m.msg === MSG.NEWCHAIN) live.chains.push(m);
    else if (m.msg === MSG.NEWRULE) live.rules.push(m);
  }
  if (!live.sets.length && !live.chains.length) return undefined;
  const big = (name: string) => {
    const s = r.sets.get(name);
    return !!s && encodable(s);
  };
  if (skeletonText(live, (n) => !big(n)) !== skeletonText(skeleton, (n) => !big(n))) return undefined;
  // Limits are compared by what they say; a changed one is a skeleton change.
  for (const o of own) {
    const m = liveOwn.get(objectKey(o));
    if (m && o.type === 'limit' && objectData(m) !== ownData(t, o)) return undefined;
  }

  // The live elements of the sets the encoder carries, by key bytes. One buffer holds the whole dump.
  const buf = liveDump;
  const liveSets = new Map<string, LiveSet>();
  for (const m of live.elements) {
    const name = nameOf(m, 2);
    if (!big(name)) continue;
    let into = liveSets.get(name);
    if (!into) liveSets.set(name, (into = { index: new Map(), start: [], end: [], data: [] }));
    const list = attrsOf(buf, m.start, m.end).find((x) => x[0] === 3);
    if (!list) continue;
    for (let o = list[1]; o + 4 <= list[2]; ) {
      const len = buf.readUInt16LE(o);
      if (len < 4) break;
      const elEnd = o + len;
      let k0 = -1;
      let k1 = -1;
      let e0 = -1;
      let e1 = -1;
      let data = '';
      for (let p = o + 4; p + 4 <= elEnd; ) {
        const alen = buf.readUInt16LE(p);
        if (alen < 4) break;
        const type = buf.readUInt16LE(p + 2) & 0x3fff;
        // KEY and KEY_END hold one VALUE attribute: its payload follows its 4-byte header.
        if (type === 1) {
          k0 = p + 8;
          k1 = p + 4 + buf.readUInt16LE(p + 4);
        } else if (type === 10) {
          e0 = p + 8;
          e1 = p + 4 + buf.readUInt16LE(p + 4);
        } else if (type === 2 || type === 9) data = buf.toString('latin1', p + 4, p + alen);
        p += (alen + 3) & ~3;
      }
      if (k0 >= 0) {
        const key = e0 >= 0 ? buf.toString('latin1', k0, k1) + buf.toString('latin1', e0, e1) : buf.toString('latin1', k0, k1);
        into.index.set(key, into.start.length);
        into.start.push(o + 4);
        into.end.push(elEnd);
        into.data.push(data);
      }
      o += (len + 3) & ~3;
    }
  }

  // Far apart in size: a new table is cheaper than the diff (and than working the diff out).
  let want = 0;
  let have = 0;
  for (const s of r.sets.values()) if (encodable(s)) want += s.elements.size;
  for (const m of liveSets.values()) have += m.index.size;
  if (Math.abs(want - have) > Math.max(1000, Math.min(want, have) / 4)) return undefined;

  const adds: ElementChange[] = [];
  const deletes: { set: NftSet; elements: number[][] }[] = [];
  let kept = 0;
  let added = 0;
  let deleted = 0;
  for (const s of r.sets.values()) {
    if (!encodable(s)) continue;
    const enc = new SetEncoder(s);
    const had = liveSets.get(s.name) ?? { index: new Map<string, number>(), start: [], end: [], data: [] };
    const keys: string[] = [];
    const gone: number[][] = [];
    const counters = new Map<string, CounterValue>();
    // A direct map's rows that a diff put in its overflow come back here with their counts (datapath/overflow.ts).
    const spill = isDirect(r, s.name) ? liveSets.get(overflowName(s.name)) : undefined;
    s.elements.forEach((data, key) => {
      const k = enc.keyString(key);
      const i = had.index.get(k);
      const j = i === undefined ? spill?.index.get(k) : undefined;
      if (j !== undefined) {
        const x = elementAttr(buf, spill!.start[j], spill!.end[j], 7) ?? elementAttr(buf, spill!.start[j], spill!.end[j], 11);
        const c = x ? counterOf(buf, x) : undefined;
        if (c) counters.set(key, c);
      }
      if (i !== undefined) {
        had.index.delete(k);
        if (had.data[i] === enc.dataSignature(data)) {
          kept++;
          return;
        }
        // Same key, new data (the row's next hop changed): replaced, and keeps its count.
        gone.push([had.start[i], had.end[i]]);
        const x = elementAttr(buf, had.start[i], had.end[i], 7) ?? elementAttr(buf, had.start[i], had.end[i], 11);
        const c = x && s.counter ? counterOf(buf, x) : undefined;
        if (c) counters.set(key, c);
      }
      keys.push(key);
    });
    for (const i of had.index.values()) gone.push([had.start[i], had.end[i]]);
    if (keys.length) adds.push({ set: s, keys, counters });
    if (gone.length) deletes.push({ set: s, elements: gone });
    added += keys.length;
    deleted += gone.length;
  }
  // Many changes cost the kernel more one by one than a new table (a pipapo delete is ~1 ms at 10k elements):
  // beyond a quarter of what stays, replace the table.
  if (added + deleted > Math.max(1000, kept / 4)) return undefined;
  const addObjects = own.filter((o) => !liveOwn.has(objectKey(o)));
  const delObjects = [...liveOwn].filter(([k]) => !ownKeys.has(k)).map(([, m]) => m);

  const w = new NlWriter(added * 96 + deleted * 64 + 4096);
  const messages: BatchMessage[] = [];
  let seq = 1;
  batchMark(w, NFNL_MSG_BATCH_BEGIN, seq++);
  for (const o of addObjects) {
    const s = seq++;
    writeObject(w, t, o, s);
    messages.push({ seq: s, op: 'add', set: `${o.type} ${o.name}`, elements: 0 });
  }
  for (const d of deletes) writeDeletes(w, t, d.set.name, buf, d.elements, () => seq++, messages);
  writeElements(w, t, 'add', adds, () => seq++, messages);
  for (const m of delObjects) {
    const s = seq++;
    const at = w.begin(nftType(MSG.DELOBJ), NLM_F_REQUEST | NLM_F_ACK, s, NFPROTO_NETDEV);
    w.str(1, t);
    w.str(2, nameOf(m, 2));
    const type = attrsOf(m.buf, m.start, m.end).find((a) => a[0] === 3)!;
    w.raw(m.buf, type[1] - 4, type[2]);
    w.end(at);
    messages.push({ seq: s, op: 'delete', set: `object ${nameOf(m, 2)}`, elements: 0 });
  }
  if (!opts.check) batchMark(w, NFNL_MSG_BATCH_END, seq++);
  return { batch: { bytes: w.bytes(), messages }, kept, added, deleted, objectsAdded: addObjects.length, objectsDeleted: delObjects.length };
}

/** DELSETELEM messages naming live elements by their dumped key attributes. */
function writeDeletes(w: NlWriter, table: string, set: string, buf: Buffer, elements: number[][], nextSeq: () => number, messages: BatchMessage[]): void {
  const out = new SetElementMessages(w, table, set, 'delete', nextSeq, messages);
  for (const e of elements) {
    out.element(() => {
      const el = w.open(1, true);
      for (const type of [1, 10]) {
        const a = elementAttr(buf, e[0], e[1], type);
        if (!a) continue;
        w.raw(buf, a[1] - 4, a[2]);
        w.pad();
      }
      w.close(el);
    });
  }
  out.finish();
}

/** A dumped object's DATA attribute, comparable. */
function objectData(m: DumpedMessage): string {
  const d = attrsOf(m.buf, m.start, m.end).find((a) => a[0] === 4);
  return d ? m.buf.toString('latin1', d[1], d[2]) : '';
}

/** The DATA of the NEWOBJ we would send for `o`, comparable with objectData. */
function ownData(table: string, o: NftObject): string {
  const w = new NlWriter(256);
  writeObject(w, table, o, 0);
  const b = w.bytes();
  return objectData({ msg: MSG.NEWOBJ, buf: b, start: 20, end: b.length });
}

