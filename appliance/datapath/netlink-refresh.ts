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
import { objectKey, type NftObject, type NftSet, type RenderedRuleset } from '../compile/render-model.js';
import type { CounterValue } from '../compile/render-print.js';
import { batchMark, writeElements, type BatchMessage, type ElementBatch, type ElementChange } from './netlink-batch.js';
import { canonData, encodable, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFPROTO_NETDEV, nftType, NLM_F_ACK, NLM_F_REQUEST, NlWriter, SetEncoder } from './netlink-encode.js';
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

/** A live element: its key attributes (for a delete) and its data, comparable. */
interface LiveElement {
  buf: Buffer;
  key: Attr;
  keyEnd?: Attr;
  data: string;
  /** SET_ELEM_EXPR (one expression: the kernel's dump of a single one) or _EXPRESSIONS (a list): the counter, carried when the data changes. */
  exprs?: Attr;
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

  // The live elements of the sets the encoder carries, by key bytes.
  const liveSets = new Map<string, Map<string, LiveElement>>();
  for (const m of live.elements) {
    const name = nameOf(m, 2);
    if (!big(name)) continue;
    let into = liveSets.get(name);
    if (!into) liveSets.set(name, (into = new Map()));
    const list = attrsOf(m.buf, m.start, m.end).find((a) => a[0] === 3);
    if (!list) continue;
    for (const el of attrsOf(m.buf, list[1], list[2])) {
      let key: Attr | undefined;
      let keyEnd: Attr | undefined;
      let exprs: Attr | undefined;
      let data = '';
      for (const a of attrsOf(m.buf, el[1], el[2])) {
        if (a[0] === 1) key = a;
        else if (a[0] === 10) keyEnd = a;
        else if (a[0] === 2 || a[0] === 9) data = canonData(m.buf, a[1] - 4, a[2]);
        else if (a[0] === 7 || a[0] === 11) exprs = a;
      }
      if (!key) continue;
      const value = (x: Attr) => attrsOf(m.buf, x[1], x[2]).find((v) => v[0] === 1);
      const kv = value(key);
      if (!kv) continue;
      const ke = keyEnd ? value(keyEnd) : undefined;
      const k = m.buf.toString('latin1', kv[1], kv[2]) + (ke ? m.buf.toString('latin1', ke[1], ke[2]) : '');
      into.set(k, { buf: m.buf, key, keyEnd, data, exprs });
    }
  }

  // Far apart in size: a new table is cheaper than the diff (and than working the diff out).
  let want = 0;
  let have = 0;
  for (const s of r.sets.values()) if (encodable(s)) want += s.elements.size;
  for (const m of liveSets.values()) have += m.size;
  if (Math.abs(want - have) > Math.max(1000, Math.min(want, have) / 4)) return undefined;

  const adds: ElementChange[] = [];
  const deletes: { set: NftSet; elements: LiveElement[] }[] = [];
  let kept = 0;
  let added = 0;
  let deleted = 0;
  for (const s of r.sets.values()) {
    if (!encodable(s)) continue;
    const enc = new SetEncoder(s);
    const had = liveSets.get(s.name) ?? new Map<string, LiveElement>();
    const keys: string[] = [];
    const gone: LiveElement[] = [];
    const counters = new Map<string, CounterValue>();
    s.elements.forEach((data, key) => {
      const k = enc.keyString(key);
      const l = had.get(k);
      if (l) {
        had.delete(k);
        if (l.data === enc.dataSignature(data)) {
          kept++;
          return;
        }
        // Same key, new data (the row's next hop changed): replaced, and keeps its count.
        gone.push(l);
        const c = l.exprs && s.counter ? counterOf(l.buf, l.exprs) : undefined;
        if (c) counters.set(key, c);
      }
      keys.push(key);
    });
    for (const l of had.values()) gone.push(l);
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
  for (const d of deletes) writeDeletes(w, t, d.set.name, d.elements, () => seq++, messages);
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
function writeDeletes(w: NlWriter, table: string, set: string, elements: LiveElement[], nextSeq: () => number, messages: BatchMessage[]): void {
  let msg = -1;
  let list = -1;
  let count = 0;
  const finish = () => {
    if (msg < 0) return;
    w.close(list);
    w.end(msg);
    messages[messages.length - 1].elements = count;
    msg = -1;
  };
  for (const e of elements) {
    if (msg < 0) {
      const s = nextSeq();
      msg = w.begin(nftType(MSG.DELSETELEM), NLM_F_REQUEST | NLM_F_ACK, s, NFPROTO_NETDEV);
      w.str(1, table);
      w.str(2, set);
      list = w.open(3, true);
      messages.push({ seq: s, op: 'delete', set, elements: 0 });
      count = 0;
    }
    const el = w.open(1, true);
    w.raw(e.buf, e.key[1] - 4, e.key[2]);
    w.pad();
    if (e.keyEnd) {
      w.raw(e.buf, e.keyEnd[1] - 4, e.keyEnd[2]);
      w.pad();
    }
    w.close(el);
    count++;
    if (w.pos - list > 48 * 1024) finish();
  }
  finish();
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

