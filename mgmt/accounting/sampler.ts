/**
 * The accounting sampler: every interval, one billing reading is written to
 * the store's accounting table (one SQLite transaction), and samples older
 * than the retention are dropped. Samples hold the monotonic billing
 * counters, so usage over a time range is the rise between two samples
 * (mgmt/accounting/report.ts).
 */
import type { Store } from '../store/store.js';
import type { Billing } from './billing.js';
import { CounterLedger } from './ledger.js';

export interface SamplerOptions {
  everyMs: number;
  log?: (line: string) => void;
}

/** scope and subject of a billing counter id (svc/<s>/<p>/<in|out>, hop/<row>, client/<acl>). */
export function sampleSubject(id: string): { scope: 'service-port' | 'hop' | 'client'; subject: string } | undefined {
  const slash = id.indexOf('/');
  const kind = id.slice(0, slash);
  const subject = id.slice(slash + 1);
  if (kind === 'svc') return { scope: 'service-port', subject };
  if (kind === 'hop') return { scope: 'hop', subject };
  if (kind === 'client') return { scope: 'client', subject };
  return undefined;
}

const scopeOf = (kind: string) => (kind === 'svc' ? 'service-port' : kind === 'hop' || kind === 'client' ? kind : undefined);

export class AccountingSampler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly billing: Billing,
    private readonly o: SamplerOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.o.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Takes one sample now. */
  sample(): Promise<void> {
    return (this.running ??= this.write().finally(() => (this.running = undefined)));
  }

  private async write(): Promise<void> {
    try {
      const r = await this.billing.fresh();
      if (!r.ruleset || !this.store.db.open) return;
      // 64-bit counters as signed SQLite integers (same bits); the report reads them back unsigned.
      const ins = this.store.db.prepare('INSERT INTO accounting (time, scope, subject, packets, bytes) VALUES (?, ?, ?, ?, ?)');
      const write = (id: string, packets: bigint, bytes: bigint) => {
        const slash = id.indexOf('/');
        const scope = scopeOf(id.slice(0, slash));
        if (scope) ins.run(r.at, scope, id.slice(slash + 1), BigInt.asIntN(64, packets), BigInt.asIntN(64, bytes));
      };
      this.store.db.transaction(() => {
        // The ledger's own walk when it is one: no [id, value] objects for 620k counters.
        if (r.values instanceof CounterLedger) r.values.forEach(write);
        else for (const [id, v] of r.values) write(id, v.packets, v.bytes);
      })();
      this.store.pruneAccounting();
    } catch (e) {
      this.o.log?.(`accounting sample failed: ${(e as Error).message}`);
    }
  }
}
