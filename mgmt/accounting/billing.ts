/**
 * Billing counters from the data plane: one kernel read (netlink) attributed
 * to service ports, hops (sequence-table rows) and client ACL rules, passed
 * through the ledger so each is monotonic. Readers (SNMP, the accounting
 * sampler) share one read: a reading younger than maxAgeMs is reused and
 * concurrent callers wait for the same read.
 *
 * Counter ids: svc/<service>/<port|->/in, svc/<service>/<port|->/out,
 * hop/<row id>, client/<acl counter name>.
 */
import type { Datapath } from '../../appliance/datapath/datapath.js';
import type { RenderedRuleset } from '../../appliance/compile/render-model.js';
import { CounterLedger, type Billed, type RawCount } from './ledger.js';
import type Database from 'better-sqlite3';

export interface BillingReading {
  /** When the kernel was read (ms since the epoch). */
  at: number;
  /** The ruleset the counters belong to (undefined: the data plane is not loaded). */
  ruleset: RenderedRuleset | undefined;
  values: Map<string, Billed>;
}

export const svcCounterId = (service: string, port: number | undefined, side: 'in' | 'out') => `svc/${service}/${port ?? '-'}/${side}`;
export const hopCounterId = (row: string) => `hop/${row}`;
export const clientCounterId = (aclCounter: string) => `client/${aclCounter}`;

export class Billing {
  readonly ledger: CounterLedger;
  private last: BillingReading | undefined;
  private inflight: Promise<BillingReading> | undefined;

  constructor(
    db: Database.Database,
    private readonly datapath: Datapath,
    private readonly now: () => number = Date.now,
  ) {
    this.ledger = new CounterLedger(db);
  }

  read(maxAgeMs = 1000): Promise<BillingReading> {
    // A new ruleset (commit, reload) invalidates the reading: its rows are other rows.
    if (this.last && this.last.ruleset === this.datapath.running() && this.now() - this.last.at <= maxAgeMs) return Promise.resolve(this.last);
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
    const reading = new Map<string, RawCount>();
    for (const sp of snap.servicePorts.values()) {
      reading.set(svcCounterId(sp.service, sp.servicePort, 'in'), sp.in);
      reading.set(svcCounterId(sp.service, sp.servicePort, 'out'), sp.out);
    }
    for (const [row, c] of snap.rows) reading.set(hopCounterId(row), c);
    for (const [name, c] of snap.acl) reading.set(clientCounterId(name), c);
    const at = snap.at.getTime();
    this.last = { at, ruleset, values: this.ledger.observe(reading, at) };
    return this.last;
  }
}
