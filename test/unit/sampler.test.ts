/** The accounting sampler writes every billing counter of a reading, by scope and subject. */
import { describe, expect, it } from 'vitest';
import { Store } from '../../mgmt/store/store.js';
import { AccountingSampler } from '../../mgmt/accounting/sampler.js';
import { CounterLedger } from '../../mgmt/accounting/ledger.js';
import type { Billing } from '../../mgmt/accounting/billing.js';

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
});
