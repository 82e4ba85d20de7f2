/**
 * Billing counters from the data plane: one kernel read (netlink) attributed
 * to service ports, hops (sequence-table rows) and client ACL rules, passed
 * through the ledger so each is monotonic. Readers (SNMP, the accounting
 * sampler) share one read: concurrent callers wait for the same read, and
 * SNMP requests are answered from the last reading (recent()).
 *
 * Counter ids: svc/<service>/<port|->/in, svc/<service>/<port|->/out,
 * hop/<row id>, client/<acl counter name>.
 */
import type { CounterSnapshot, Datapath } from '../../appliance/datapath/datapath.js';
import type { RenderedRuleset } from '../../appliance/compile/render-model.js';
import { CounterLedger, type BilledCounters, type RawCount, type SlotBinding } from './ledger.js';
import { indexedCounts, type IndexedSnapshot } from '../../appliance/datapath/counter-snapshot.js';
import type { CounterIndex } from '../../appliance/datapath/counter-index.js';
import type Database from 'better-sqlite3';

export interface BillingReading {
  /** When the kernel was read (ms since the epoch). */
  at: number;
  /** The ruleset the counters belong to (undefined: the data plane is not loaded). */
  ruleset: RenderedRuleset | undefined;
  values: BilledCounters;
}

export const svcCounterId = (service: string, port: number | undefined, side: 'in' | 'out') => `svc/${service}/${port ?? '-'}/${side}`;
export const hopCounterId = (row: string) => `hop/${row}`;
export const clientCounterId = (aclCounter: string) => `client/${aclCounter}`;

export class Billing {
  readonly ledger: CounterLedger;
  private last: BillingReading | undefined;
  private inflight: Promise<BillingReading> | undefined;
  /** Ledger slots of the running ruleset's counters (observeIndexed). */
  private binding: { index: CounterIndex; acl: number; slots: SlotBinding } | undefined;

  constructor(
    db: Database.Database,
    private readonly datapath: Datapath,
    private readonly now: () => number = Date.now,
  ) {
    this.ledger = new CounterLedger(db);
  }

  /**
   * A reading for answering requests without waiting on the kernel: the last
   * one, and when it is older than maxAgeMs (or belongs to another ruleset) a
   * new read starts in the background for the next caller. Only the very
   * first call waits. Reading 10k services' counters costs a process start
   * and a netlink dump (up to seconds on a loaded machine): an SNMP request
   * must not pay that, or snmpd times the subagent out.
   */
  recent(maxAgeMs = 1000): Promise<BillingReading> {
    const last = this.last;
    if (!last) return this.fresh();
    if (last.ruleset !== this.datapath.running() || this.now() - last.at > maxAgeMs) void this.fresh().catch(() => undefined);
    return Promise.resolve(last);
  }

  /** A new reading (shared with a read already under way). */
  fresh(): Promise<BillingReading> {
    return (this.inflight ??= this.readNow().finally(() => (this.inflight = undefined)));
  }

  private async readNow(): Promise<BillingReading> {
    const ruleset = this.datapath.running();
    if (!ruleset) {
      this.last = { at: this.now(), ruleset: undefined, values: this.ledger.current() };
      return this.last;
    }
    const snap = await this.datapath.readCounters();
    if (this.datapath.running() !== ruleset) return this.readNow(); // a commit landed during the read
    const at = snap.at.getTime();
    const indexed = indexedCounts(snap);
    this.last = { at, ruleset, values: indexed ? this.observeIndexed(indexed, at) : this.ledger.observe(readingOf(snap), at) };
    return this.last;
  }

  /**
   * A reading with typed views (the netlink path): counts go to the ledger by
   * position, through slots bound once per ruleset. Positions: service ports
   * (in, out), then rows (hops), then ACL counters.
   */
  private observeIndexed(snap: IndexedSnapshot, at: number): BilledCounters {
    const index = snap.rows.index;
    const sp = index.spKeys;
    const rows = index.rowIds;
    const acl = [...snap.acl.keys()];
    const n = 2 * sp.length + rows.length + acl.length;
    const idAt = (p: number): string => {
      if (p < 2 * sp.length) return `svc/${sp[p >> 1]}/${p & 1 ? 'out' : 'in'}`;
      p -= 2 * sp.length;
      return p < rows.length ? hopCounterId(rows[p]) : clientCounterId(acl[p - rows.length]);
    };
    let b = this.binding?.index === index && this.binding.acl === acl.length ? this.binding.slots : undefined;
    if (!b || !this.ledger.valid(b)) {
      b = this.ledger.bind(n, idAt);
      this.binding = { index, acl: acl.length, slots: b };
    }
    const packets = new Float64Array(n);
    const bytes = new Float64Array(n);
    const sums = snap.servicePorts.sums;
    for (let i = 0; i < 2 * sp.length; i++) {
      packets[i] = sums[2 * i];
      bytes[i] = sums[2 * i + 1];
    }
    let p = 2 * sp.length;
    for (let r = 0; r < rows.length; r++, p++) {
      packets[p] = snap.rows.packetsAt(r);
      bytes[p] = snap.rows.bytesAt(r);
    }
    for (const c of snap.acl.values()) {
      packets[p] = c.packets;
      bytes[p++] = c.bytes;
    }
    return this.ledger.observeSlots(b, idAt, packets, bytes, at);
  }
}

/** Every billing counter of a kernel reading, as [counter id, raw count]. */
function* readingOf(snap: CounterSnapshot): Generator<readonly [string, RawCount]> {
  for (const sp of snap.servicePorts.values()) {
    yield [svcCounterId(sp.service, sp.servicePort, 'in'), sp.in];
    yield [svcCounterId(sp.service, sp.servicePort, 'out'), sp.out];
  }
  for (const [row, c] of snap.rows) yield [hopCounterId(row), c];
  for (const [name, c] of snap.acl) yield [clientCounterId(name), c];
}
