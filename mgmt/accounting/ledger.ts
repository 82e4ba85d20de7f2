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

interface Row {
  basePackets: bigint;
  baseBytes: bigint;
  lastPackets: bigint;
  lastBytes: bigint;
  since: number;
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);

export class CounterLedger {
  private rows = new Map<string, Row>();

  constructor(private readonly db: Database.Database) {
    const all = db.prepare('SELECT id, base_packets, base_bytes, last_packets, last_bytes, since FROM counter_base').all() as {
      id: string;
      base_packets: string;
      base_bytes: string;
      last_packets: string;
      last_bytes: string;
      since: number;
    }[];
    for (const r of all) {
      this.rows.set(r.id, {
        basePackets: BigInt(r.base_packets),
        baseBytes: BigInt(r.base_bytes),
        lastPackets: BigInt(r.last_packets),
        lastBytes: BigInt(r.last_bytes),
        since: r.since,
      });
    }
  }

  /**
   * One complete reading of every counter the data plane has. Counters not
   * in it are forgotten. The changed rows are persisted (one transaction)
   * before the values are returned, so a value once shown is never shown
   * lower, even after a crash.
   */
  observe(reading: Map<string, RawCount>, now: number): Map<string, Billed> {
    const out = new Map<string, Billed>();
    const changed: [string, Row][] = [];
    for (const [id, raw] of reading) {
      const p = BigInt(raw.packets);
      const b = BigInt(raw.bytes);
      let r = this.rows.get(id);
      if (!r) {
        r = { basePackets: 0n, baseBytes: 0n, lastPackets: p, lastBytes: b, since: now };
        this.rows.set(id, r);
        changed.push([id, r]);
      } else if (p !== r.lastPackets || b !== r.lastBytes) {
        if (p < r.lastPackets) r.basePackets = U64(r.basePackets + r.lastPackets - p);
        if (b < r.lastBytes) r.baseBytes = U64(r.baseBytes + r.lastBytes - b);
        r.lastPackets = p;
        r.lastBytes = b;
        changed.push([id, r]);
      }
      out.set(id, { packets: U64(r.basePackets + p), bytes: U64(r.baseBytes + b), since: r.since });
    }
    const gone = [...this.rows.keys()].filter((id) => !reading.has(id));
    for (const id of gone) this.rows.delete(id);
    if (changed.length || gone.length) {
      const put = this.db.prepare('INSERT OR REPLACE INTO counter_base (id, base_packets, base_bytes, last_packets, last_bytes, since) VALUES (?, ?, ?, ?, ?, ?)');
      const del = this.db.prepare('DELETE FROM counter_base WHERE id = ?');
      this.db.transaction(() => {
        for (const [id, r] of changed) put.run(id, String(r.basePackets), String(r.baseBytes), String(r.lastPackets), String(r.lastBytes), r.since);
        for (const id of gone) del.run(id);
      })();
    }
    return out;
  }

  /** The counters as last observed (no kernel reading). */
  current(): Map<string, Billed> {
    const out = new Map<string, Billed>();
    for (const [id, r] of this.rows) out.set(id, { packets: U64(r.basePackets + r.lastPackets), bytes: U64(r.baseBytes + r.lastBytes), since: r.since });
    return out;
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
