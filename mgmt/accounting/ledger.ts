/**
 * Billing-grade counters: turns kernel counter readings (which restart at
 * zero when a ruleset is reloaded, an element replaced, the machine
 * rebooted) into counters that never go backwards while their row exists.
 * Per counter the store keeps a base and the last kernel reading:
 *
 *   value = (base + reading) mod 2^64
 *
 * When a reading is lower than the last one, the kernel lost counts (reset
 * or a contributing element went away): the base grows by the difference,
 * so the value continues from where it was instead of falling back, and
 * nothing is counted twice. Traffic the kernel counted between a reset and
 * the next reading is the only thing lost; readings come every few seconds
 * (SNMP requests, the sampler) and at daemon start.
 *
 * A counter whose row disappears from the data plane is forgotten; when the
 * row comes back it starts at zero with a new discontinuity time.
 */
import type Database from 'better-sqlite3';
import { IdTable } from './id-table.js';

export interface RawCount {
  packets: number | bigint;
  bytes: number | bigint;
}

export interface Billed {
  packets: bigint;
  bytes: bigint;
  /** Discontinuity time: ms since the epoch when this counter (re)started at zero. */
  since: number;
}

/** The counters as a read-only map: what SNMP and the sampler read. */
export interface BilledCounters extends Iterable<[string, Billed]> {
  get(id: string): Billed | undefined;
  readonly size: number;
}

/** Ledger slots of a reading's counters by position (CounterLedger.bind). */
export interface SlotBinding {
  slots: Int32Array;
  layout: number;
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);
const big = (v: number | bigint) => (typeof v === 'bigint' ? v : BigInt(v));

/**
 * Per counter a slot in typed arrays rather than an object with four BigInts:
 * at 100k services there are ~620k counters, and as objects (plus a Map of
 * Billed values per reading) they held ~200 MB of heap; the slots take 40
 * bytes each outside it. Values are computed when read.
 */
export class CounterLedger implements BilledCounters {
  /** Counter id ↔ slot (id-table.ts: a Map of 620k ids cost ~28 MB, and as much again in garbage while it grew). */
  private readonly slots = new IdTable();
  private readonly free: number[] = [];
  private used = 0;
  /** The reading each slot was last seen in: what is not in the latest one is forgotten. */
  private seen = new Uint32Array(1024);
  private epoch = 0;
  /** Bumped whenever slots are freed: a SlotBinding made before is stale. */
  private layout = 0;
  private basePackets = new BigUint64Array(1024);
  private baseBytes = new BigUint64Array(1024);
  private lastPackets = new BigUint64Array(1024);
  private lastBytes = new BigUint64Array(1024);
  private since = new Float64Array(1024);
  /** The reading (epoch) in which each counter last changed or was made: what a sample since an epoch must write. */
  private changedAt = new Uint32Array(1024);

  constructor(private readonly db: Database.Database) {
    const all = db.prepare('SELECT id, base_packets, base_bytes, last_packets, last_bytes, since FROM counter_base').all() as {
      id: string;
      base_packets: string;
      base_bytes: string;
      last_packets: string;
      last_bytes: string;
      since: number;
    }[];
    this.reserve(all.length + (all.length >> 3));
    for (const r of all) {
      const i = this.slotFor(r.id);
      this.basePackets[i] = BigInt(r.base_packets);
      this.baseBytes[i] = BigInt(r.base_bytes);
      this.lastPackets[i] = BigInt(r.last_packets);
      this.lastBytes[i] = BigInt(r.last_bytes);
      this.since[i] = r.since;
    }
  }

  get size(): number {
    return this.slots.size;
  }

  get(id: string): Billed | undefined {
    const i = this.slots.get(id);
    return i === undefined ? undefined : this.valueAt(i);
  }

  *[Symbol.iterator](): Iterator<[string, Billed]> {
    for (const [id, i] of this.slots.entries()) yield [id, this.valueAt(i)];
  }

  /**
   * Every counter's id and value, without an object per counter (the
   * sampler writes 620k of them per sample at 100k services).
   */
  forEach(fn: (id: string, packets: bigint, bytes: bigint) => void): void {
    for (let i = 0; i < this.used; i++) {
      const id = this.slots.idOf(i);
      if (id !== undefined) fn(id, U64(this.basePackets[i] + this.lastPackets[i]), U64(this.baseBytes[i] + this.lastBytes[i]));
    }
  }

  /** The reading last observed (an epoch for forEachChangedSince). */
  get readings(): number {
    return this.epoch;
  }

  /** forEach over the counters that changed (or were made) in a reading after `epoch`. */
  forEachChangedSince(epoch: number, fn: (id: string, packets: bigint, bytes: bigint) => void): void {
    for (let i = 0; i < this.used; i++) {
      if (this.changedAt[i] <= epoch) continue;
      const id = this.slots.idOf(i);
      if (id !== undefined) fn(id, U64(this.basePackets[i] + this.lastPackets[i]), U64(this.baseBytes[i] + this.lastBytes[i]));
    }
  }

  /** A new counter in slot i: billed from its first raw count. */
  private start(i: number, p: bigint, b: bigint, now: number): void {
    this.basePackets[i] = 0n;
    this.baseBytes[i] = 0n;
    this.lastPackets[i] = p;
    this.lastBytes[i] = b;
    this.since[i] = now;
  }

  /** A raw count for slot i; a fall (the element was made again) raises the base by it. Whether anything changed. */
  private move(i: number, p: bigint, b: bigint): boolean {
    if (p === this.lastPackets[i] && b === this.lastBytes[i]) return false;
    if (p < this.lastPackets[i]) this.basePackets[i] = U64(this.basePackets[i] + this.lastPackets[i] - p);
    if (b < this.lastBytes[i]) this.baseBytes[i] = U64(this.baseBytes[i] + this.lastBytes[i] - b);
    this.lastPackets[i] = p;
    this.lastBytes[i] = b;
    return true;
  }

  private valueAt(i: number): Billed {
    return { packets: U64(this.basePackets[i] + this.lastPackets[i]), bytes: U64(this.baseBytes[i] + this.lastBytes[i]), since: this.since[i] };
  }

  private slotFor(id: string): number {
    let i = this.free.pop();
    if (i === undefined) {
      i = this.used++;
      if (i >= this.since.length) this.grow();
    }
    this.slots.set(id, i);
    return i;
  }

  private grow(): void {
    this.reserve(this.since.length * 2);
  }

  /** Room for n slots in all. Sized to what is asked (doubling left ~40% of 1M slots unused at 620k counters). */
  private reserve(n: number): void {
    this.slots.reserve(n);
    if (n <= this.since.length) return;
    const more = <T extends BigUint64Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.basePackets = more(this.basePackets, (k) => new BigUint64Array(k));
    this.baseBytes = more(this.baseBytes, (k) => new BigUint64Array(k));
    this.lastPackets = more(this.lastPackets, (k) => new BigUint64Array(k));
    this.lastBytes = more(this.lastBytes, (k) => new BigUint64Array(k));
    this.since = more(this.since, (k) => new Float64Array(k));
    const seen = new Uint32Array(n);
    seen.set(this.seen);
    this.seen = seen;
    const changedAt = new Uint32Array(n);
    changedAt.set(this.changedAt);
    this.changedAt = changedAt;
  }

  /**
   * One complete reading of every counter the data plane has. Counters not
   * in it are forgotten. The changed rows are persisted (one transaction)
   * before the values are returned, so a value once shown is never shown
   * lower, even after a crash. The values are the ledger itself (read when
   * asked: a later reading shows later values, never lower ones).
   */
  observe(reading: Iterable<readonly [string, RawCount]>, now: number): BilledCounters {
    // Slots, not [id, slot] pairs, and no Map of the reading: at 620k counters those
    // intermediates survived long enough to grow the old generation by ~100 MB per reading.
    const changed: number[] = [];
    const epoch = ++this.epoch;
    for (const [id, raw] of reading) {
      const p = big(raw.packets);
      const b = big(raw.bytes);
      let i = this.slots.get(id);
      if (i === undefined) {
        i = this.slotFor(id);
        this.start(i, p, b, now);
        changed.push(i);
      } else if (this.move(i, p, b)) changed.push(i);
      this.seen[i] = epoch;
    }
    const gone: string[] = [];
    for (const [id, i] of this.slots.entries()) if (this.seen[i] !== epoch) gone.push(id);
    this.forget(gone, epoch);
    this.persist(changed, gone);
    return this;
  }

  /** Slots of counter ids given by position (-1: not a counter yet), for observeSlots(). */
  bind(n: number, idAt: (p: number) => string): SlotBinding {
    const slots = new Int32Array(n);
    let missing = 0;
    // An empty ledger (the first reading) knows none of them: no id strings to look up.
    if (this.slots.size === 0) {
      slots.fill(-1);
      missing = n;
    } else for (let p = 0; p < n; p++) if ((slots[p] = this.slots.get(idAt(p)) ?? -1) < 0) missing++;
    this.reserve(this.used + Math.max(0, missing - this.free.length) + (n >> 4));
    return { slots, layout: this.layout };
  }

  /** Whether a binding's slots are still the counters' (no slot freed since it was made). */
  valid(b: SlotBinding): boolean {
    return b.layout === this.layout;
  }

  /**
   * observe() for a reading given by position: counts in two arrays, the
   * counters' slots in a binding (made once per ruleset) — a reading of 620k
   * counters then creates no id strings and no objects. `idAt` names a
   * position whose counter is new.
   */
  observeSlots(b: SlotBinding, idAt: (p: number) => string, packets: Float64Array, bytes: Float64Array, now: number): BilledCounters {
    if (!this.valid(b)) throw new Error('the ledger binding is stale');
    const changed: number[] = [];
    const epoch = ++this.epoch;
    const slots = b.slots;
    for (let at = 0; at < slots.length; at++) {
      const p = BigInt(packets[at]);
      const c = BigInt(bytes[at]);
      let i = slots[at];
      if (i < 0) {
        // Not a counter when the binding was made (positions name distinct counters: none made since).
        i = this.slotFor(idAt(at));
        this.start(i, p, c, now);
        changed.push(i);
        slots[at] = i;
      }
      if (this.seen[i] !== epoch && this.move(i, p, c)) changed.push(i);
      this.seen[i] = epoch;
    }
    const gone: string[] = [];
    for (const [id, i] of this.slots.entries()) if (this.seen[i] !== epoch) gone.push(id);
    this.forget(gone, epoch);
    // The binding's own slots were all seen: it stays valid.
    b.layout = this.layout;
    this.persist(changed, gone);
    return this;
  }

  private forget(gone: string[], epoch: number): void {
    for (const id of gone) {
      const i = this.slots.get(id)!;
      if (this.seen[i] === epoch) continue;
      this.free.push(i);
      this.slots.delete(id);
    }
    if (gone.length) this.layout++;
  }

  private persist(changed: number[], gone: string[]): void {
    for (const i of changed) this.changedAt[i] = this.epoch;
    if (changed.length || gone.length) {
      const put = this.db.prepare('INSERT OR REPLACE INTO counter_base (id, base_packets, base_bytes, last_packets, last_bytes, since) VALUES (?, ?, ?, ?, ?, ?)');
      const del = this.db.prepare('DELETE FROM counter_base WHERE id = ?');
      this.db.transaction(() => {
        for (const i of changed)
          put.run(this.slots.idOf(i), String(this.basePackets[i]), String(this.baseBytes[i]), String(this.lastPackets[i]), String(this.lastBytes[i]), this.since[i]);
        for (const id of gone) del.run(id);
      })();
    }
  }

  /** The counters as last observed (no kernel reading). */
  current(): BilledCounters {
    return this;
  }
}

/**
 * Sets a counter's base in the store directly (the daemon must not be
 * running): for restoring counters from another appliance, and for tests of
 * values beyond 2^53 and near 2^64.
 */
export function setCounterBase(db: Database.Database, id: string, base: { packets: bigint; bytes: bigint }, last?: RawCount): void {
  const row = db.prepare('SELECT last_packets, last_bytes, since FROM counter_base WHERE id = ?').get(id) as
    | { last_packets: string; last_bytes: string; since: number }
    | undefined;
  db.prepare('INSERT OR REPLACE INTO counter_base (id, base_packets, base_bytes, last_packets, last_bytes, since) VALUES (?, ?, ?, ?, ?, ?)').run(
    id,
    String(U64(base.packets)),
    String(U64(base.bytes)),
    String(last?.packets ?? row?.last_packets ?? 0),
    String(last?.bytes ?? row?.last_bytes ?? 0),
    row?.since ?? Date.now(),
  );
}
