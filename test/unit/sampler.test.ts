/** The accounting sampler writes the billing counters of a reading that moved since its last sample, by scope and subject. */
import { describe, expect, it } from 'vitest';
import { Store } from '../../mgmt/store/store.js';
import { AccountingSampler } from '../../mgmt/accounting/sampler.js';
import { CounterLedger } from '../../mgmt/accounting/ledger.js';
import type { Billing } from '../../mgmt/accounting/billing.js';
import { usageReport } from '../../mgmt/accounting/report.js';

describe('AccountingSampler', () => {
  it('writes each counter of the ledger once, 64-bit values as signed integers', async () => {
    const store = Store.open(':memory:');
    const at = Date.now();
    const ledger = new CounterLedger(store.db);
    ledger.observe(
      [
        ['svc/web/80/in', { packets: 3, bytes: 300 }],
        ['hop/web/80/f1', { packets: 2n ** 63n + 5n, bytes: 7 }],
        ['client/acl/web/10', { packets: 1, bytes: 60 }],
        ['other/x', { packets: 1, bytes: 1 }],
      ],
      1000,
    );
    const billing = { fresh: async () => ({ at, ruleset: {}, values: ledger }) } as unknown as Billing;
    await new AccountingSampler(store, billing, { everyMs: 60_000 }).sample();
    const rows = store.db.prepare('SELECT time, scope, subject, packets, bytes FROM accounting ORDER BY subject').safeIntegers().all();
    expect(rows).toEqual([
      { time: BigInt(at), scope: 'client', subject: 'acl/web/10', packets: 1n, bytes: 60n },
      { time: BigInt(at), scope: 'hop', subject: 'web/80/f1', packets: BigInt.asIntN(64, 2n ** 63n + 5n), bytes: 7n },
      { time: BigInt(at), scope: 'service-port', subject: 'web/80/in', packets: 3n, bytes: 300n },
    ]);
  });

  it('writes only the counters that moved (or are new) since its last sample; usage over the range is unchanged', async () => {
    const store = Store.open(':memory:');
    const ledger = new CounterLedger(store.db);
    let at = 1_000;
    const billing = { fresh: async () => ({ at, ruleset: {}, values: ledger }) } as unknown as Billing;
    const sampler = new AccountingSampler(store, billing, { everyMs: 60_000 });
    const read = async (web: number, idle: number, extra?: number) => {
      const reading: [string, { packets: number; bytes: number }][] = [
        ['svc/web/80/in', { packets: web, bytes: web * 100 }],
        ['svc/idle/9/in', { packets: idle, bytes: idle * 100 }],
      ];
      if (extra !== undefined) reading.push(['svc/new/1/in', { packets: extra, bytes: extra * 100 }]);
      ledger.observe(reading, at);
      await sampler.sample();
      at += 60_000;
    };
    await read(1, 5);
    await read(2, 5);
    await read(2, 5);
    await read(4, 5, 0);
    const rows = store.db.prepare('SELECT time, subject, packets FROM accounting ORDER BY time, subject').all();
    expect(rows).toEqual([
      { time: 1_000, subject: 'idle/9/in', packets: 5 },
      { time: 1_000, subject: 'web/80/in', packets: 1 },
      { time: 61_000, subject: 'web/80/in', packets: 2 },
      { time: 181_000, subject: 'new/1/in', packets: 0 },
      { time: 181_000, subject: 'web/80/in', packets: 4 },
    ]);
    // Rises between samples: web 1 → 4, idle none, though idle wrote one sample only.
    const r = usageReport(store.db, 1_000, 181_000);
    expect(r.servicePorts.map((p) => [p.service, p.inPackets])).toEqual([
      ['idle', 0n],
      ['new', 0n],
      ['web', 3n],
    ]);
  });
});