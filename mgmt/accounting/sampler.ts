/**
 * The accounting sampler: every interval, one billing reading is written to
 * the store's accounting table (one SQLite transaction), and samples older
 * than the retention are dropped. Samples hold the monotonic billing
 * counters, so usage over a time range is the rise between two samples
 * (mgmt/accounting/report.ts).
 */
import type { Config } from '../../appliance/model/config.generated.js';
import { HOUR_MS, type AccountingRetention } from '../store/accounting-retention.js';
import type { Store } from '../store/store.js';
import type { Billing } from './billing.js';
import { CounterLedger } from './ledger.js';

export interface SamplerOptions {
  /** A fixed interval (ms), over the configuration's system/accounting/sample-interval (tests, benchmarks). */
  everyMs?: number;
  log?: (line: string) => void;
}

/** system/accounting of the running configuration, with the schema's defaults for a configuration stored before it existed. */
export function accountingSettings(config: Config | undefined): { everyMs: number; policy: AccountingRetention } {
  const a = config?.system.accounting;
  return {
    everyMs: (a?.['sample-interval'] ?? 60) * 1000,
    policy: { fullResolutionMs: (a?.['full-resolution'] ?? 48) * HOUR_MS, retentionMs: (a?.retention ?? 90) * 24 * HOUR_MS },
  };
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

  private stopped = false;
  /** The ledger reading the last sample wrote (0: none yet, every counter is written). */
  private sampledReading = 0;
  private settingsCache?: { id: number | null; settings: ReturnType<typeof accountingSettings> };

  /** The running configuration's accounting settings (read again only after a commit). */
  private settings(): ReturnType<typeof accountingSettings> {
    const id = this.store.runningId();
    if (this.settingsCache?.id !== id) this.settingsCache = { id, settings: accountingSettings(this.store.running().config) };
    return this.settingsCache.settings;
  }

  /** Samples at the configured interval; a commit that changes it takes effect from the next sample. */
  start(): void {
    const arm = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.sample().finally(arm), this.o.everyMs ?? this.settings().everyMs);
      this.timer.unref();
    };
    arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
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
        // A counter that did not move since the last sample writes nothing: its last sample still holds its value.
        if (r.values instanceof CounterLedger) {
          r.values.forEachChangedSince(this.sampledReading, write);
          this.sampledReading = r.values.readings;
        } else for (const [id, v] of r.values) write(id, v.packets, v.bytes);
      })();
      this.store.pruneAccounting(undefined, this.settings().policy);
    } catch (e) {
      this.o.log?.(`accounting sample failed: ${(e as Error).message}`);
    }
  }
}
