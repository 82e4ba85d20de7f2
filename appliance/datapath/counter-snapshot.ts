/**
 * A counter reading as views over typed arrays (by slot, counter-index.ts)
 * rather than Maps of objects: at 100k services a reading has ~410k rows and
 * ~200k service ports, and their Maps were tens of MB per reading. Rows and
 * service ports are in the ruleset's order; get() by name builds its lookup
 * once per ruleset, on first use. Pure.
 */
import type { RenderedRuleset } from '../compile/render-model.js';
import type { CounterValue } from '../compile/render-print.js';
import type { CounterIndex } from './counter-index.js';
import type { CounterSnapshot, CounterTable, ServicePortCounters } from './datapath.js';

/** Lookups by name, made on first use: most readers (billing, state) only iterate. */
const rowNumbers = new WeakMap<CounterIndex, Map<string, number>>();
const spNumbers = new WeakMap<CounterIndex, Map<string, number>>();

function numbers(cache: WeakMap<CounterIndex, Map<string, number>>, index: CounterIndex, names: readonly string[]): Map<string, number> {
  let m = cache.get(index);
  if (!m) {
    m = new Map();
    for (let i = 0; i < names.length; i++) m.set(names[i], i);
    cache.set(index, m);
  }
  return m;
}

/** Row counts: each row sums its elements' slots. */
export class RowCounts implements CounterTable<CounterValue> {
  constructor(
    readonly index: CounterIndex,
    private readonly packets: Float64Array,
    private readonly bytes: Float64Array,
  ) {}

  get size(): number {
    return this.index.rowIds.length;
  }

  packetsAt(r: number): number {
    return this.sum(this.packets, r);
  }

  bytesAt(r: number): number {
    return this.sum(this.bytes, r);
  }

  private sum(a: Float64Array, r: number): number {
    const s = this.index.rowSlot[r];
    let v = s >= 0 ? a[s] : 0;
    const more = this.index.rowMore.get(r);
    if (more) for (const m of more) if (m >= 0) v += a[m];
    return v;
  }

  get(id: string): CounterValue | undefined {
    const r = numbers(rowNumbers, this.index, this.index.rowIds).get(id);
    return r === undefined ? undefined : { packets: this.packetsAt(r), bytes: this.bytesAt(r) };
  }

  *entries(): IterableIterator<[string, CounterValue]> {
    const ids = this.index.rowIds;
    for (let r = 0; r < ids.length; r++) yield [ids[r], { packets: this.packetsAt(r), bytes: this.bytesAt(r) }];
  }

  *keys(): IterableIterator<string> {
    yield* this.index.rowIds;
  }

  *values(): IterableIterator<CounterValue> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[string, CounterValue]> {
    return this.entries();
  }
}

/** Service-port counts, summed from the in and out rows. */
export class ServicePortCounts implements CounterTable<ServicePortCounters> {
  /** Per service port: in packets, in bytes, out packets, out bytes. */
  readonly sums: Float64Array;

  constructor(
    readonly index: CounterIndex,
    rows: RowCounts,
  ) {
    this.sums = new Float64Array(4 * index.spKeys.length);
    const side = index.rowSide;
    for (let r = 0; r < side.length; r++) {
      const s = side[r];
      if (s < 0) continue;
      // 2 × port + (out ? 1 : 0) → 4 × port + (out ? 2 : 0)
      this.sums[2 * s] += rows.packetsAt(r);
      this.sums[2 * s + 1] += rows.bytesAt(r);
    }
  }

  get size(): number {
    return this.index.spKeys.length;
  }

  at(i: number): ServicePortCounters {
    const s = this.sums;
    return {
      service: this.index.spService[i],
      servicePort: this.index.spPort[i],
      in: { packets: s[4 * i], bytes: s[4 * i + 1] },
      out: { packets: s[4 * i + 2], bytes: s[4 * i + 3] },
    };
  }

  get(key: string): ServicePortCounters | undefined {
    const i = numbers(spNumbers, this.index, this.index.spKeys).get(key);
    return i === undefined ? undefined : this.at(i);
  }

  *entries(): IterableIterator<[string, ServicePortCounters]> {
    for (let i = 0; i < this.index.spKeys.length; i++) yield [this.index.spKeys[i], this.at(i)];
  }

  *keys(): IterableIterator<string> {
    yield* this.index.spKeys;
  }

  *values(): IterableIterator<ServicePortCounters> {
    for (let i = 0; i < this.index.spKeys.length; i++) yield this.at(i);
  }

  [Symbol.iterator](): IterableIterator<[string, ServicePortCounters]> {
    return this.entries();
  }
}

export interface IndexedSnapshot extends CounterSnapshot {
  rows: RowCounts;
  servicePorts: ServicePortCounts;
  acl: Map<string, CounterValue>;
}

/** A snapshot from counts by slot and the named counters. */
export function indexedSnapshot(
  model: Pick<RenderedRuleset, 'aclCounters' | 'shareCounters'>,
  index: CounterIndex,
  packets: Float64Array,
  bytes: Float64Array,
  objects: Map<string, CounterValue>,
  at: Date,
): IndexedSnapshot {
  const rows = new RowCounts(index, packets, bytes);
  const acl = new Map<string, CounterValue>();
  for (const name of model.aclCounters.keys()) acl.set(name, objects.get(name) ?? { packets: 0, bytes: 0 });
  const share = new Map<string, CounterValue>();
  for (const name of model.shareCounters?.keys() ?? []) share.set(name, objects.get(name) ?? { packets: 0, bytes: 0 });
  return { at, rows, servicePorts: new ServicePortCounts(index, rows), acl, share };
}

/** The snapshot's typed views, when it has them (the readers' fast path). */
export function indexedCounts(snap: CounterSnapshot): IndexedSnapshot | undefined {
  return snap.rows instanceof RowCounts && snap.servicePorts instanceof ServicePortCounts ? (snap as IndexedSnapshot) : undefined;
}
