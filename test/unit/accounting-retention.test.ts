/**
 * Accounting samples past the full resolution are thinned to one per counter
 * and hour, and past the retention to each counter's last one, without
 * changing the usage of any whole-hour range (mgmt/store/accounting-retention.ts).
 */
import { describe, expect, it } from 'vitest';
import { usageReport } from '../../mgmt/accounting/report.js';
import { accountingSettings } from '../../mgmt/accounting/sampler.js';
import { HOUR_MS } from '../../mgmt/store/accounting-retention.js';
import { Store } from '../../mgmt/store/store.js';
import { defaultSystem } from '../../mgmt/schema/defaults.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);

/** Six hours of per-minute samples: web/80 in and out rising unevenly, an ACL counter, and an idle counter written once. */
function sampled(store: Store): void {
  let inBytes = 0;
  let outBytes = 0;
  let acl = 0;
  store.addAccounting([{ scope: 'service-port', subject: 'idle/9/in', packets: 7, bytes: 700 }], T0);
  for (let m = 0; m < 6 * 60; m++) {
    inBytes += (m * 37) % 1500;
    outBytes += (m * 91) % 900;
    acl += m % 3 === 0 ? 100 : 0;
    store.addAccounting(
      [
        { scope: 'service-port', subject: 'web/80/in', packets: m, bytes: inBytes },
        { scope: 'service-port', subject: 'web/80/out', packets: m, bytes: outBytes },
        { scope: 'client', subject: 'acl/web/10', packets: m, bytes: acl },
        { scope: 'hop', subject: 'web/80/1/in', packets: m, bytes: inBytes },
      ],
      T0 + m * MIN,
    );
  }
}

const rows = (store: Store, from: number, to: number) => store.db.prepare('SELECT count(*) FROM accounting WHERE time >= ? AND time < ?').pluck().get(from, to) as number;

describe('accounting retention', () => {
  it('thins samples past the full resolution to the last per counter and hour; whole-hour usage is unchanged', () => {
    const store = Store.open(':memory:', { accountingFullResolutionMs: 2 * HOUR_MS });
    sampled(store);
    const now = T0 + 6 * HOUR_MS;
    const ranges = [
      [T0, T0 + HOUR_MS],
      [T0 + HOUR_MS, T0 + 3 * HOUR_MS],
      [T0, now],
      [T0 + 2 * HOUR_MS, T0 + 5 * HOUR_MS + 17 * MIN],
    ];
    const before = ranges.map(([a, b]) => usageReport(store.db, a, b));
    const recent = rows(store, T0 + 4 * HOUR_MS, now);
    expect(store.pruneAccounting(now)).toBeGreaterThan(0);
    // Hours 0..3 are past the 2 h resolution: one sample per counter and hour (the idle counter's one in hour 0).
    expect(rows(store, T0, T0 + HOUR_MS)).toBe(5);
    for (let h = 1; h < 4; h++) expect(rows(store, T0 + h * HOUR_MS, T0 + (h + 1) * HOUR_MS)).toBe(4);
    expect(rows(store, T0 + 4 * HOUR_MS, now)).toBe(recent);
    const after = ranges.map(([a, b]) => usageReport(store.db, a, b));
    expect(after.map((r) => [r.servicePorts, r.clients])).toEqual(before.map((r) => [r.servicePorts, r.clients]));
    // Once an hour: a second call in the same hour does nothing.
    expect(store.pruneAccounting(now + MIN)).toBe(0);
  });

  it('drops samples past the retention but each counter last one, so a counter idle since then still rises from it', () => {
    let now = T0 + 6 * HOUR_MS;
    const store = Store.open(':memory:', { accountingFullResolutionMs: 2 * HOUR_MS, accountingRetentionMs: 24 * HOUR_MS, now: () => now });
    sampled(store);
    store.pruneAccounting();
    now = T0 + 40 * 24 * HOUR_MS;
    store.pruneAccounting();
    const left = store.db.prepare('SELECT scope, subject, packets FROM accounting ORDER BY subject').all();
    expect(left).toEqual([
      { scope: 'client', subject: 'acl/web/10', packets: 359 },
      { scope: 'service-port', subject: 'idle/9/in', packets: 7 },
      { scope: 'hop', subject: 'web/80/1/in', packets: 359 },
      { scope: 'service-port', subject: 'web/80/in', packets: 359 },
      { scope: 'service-port', subject: 'web/80/out', packets: 359 },
    ]);
    // The idle counter moves 40 days later: the rise over the last day is measured from its one old sample.
    store.addAccounting([{ scope: 'service-port', subject: 'idle/9/in', packets: 10, bytes: 1000 }], now);
    const r = usageReport(store.db, now - 24 * HOUR_MS, now);
    expect(r.servicePorts.find((p) => p.service === 'idle')).toMatchObject({ inPackets: 3n, inBytes: 300n });
  });

  it('follows system/accounting of the running configuration, with the defaults for one stored before it existed', () => {
    const system = defaultSystem();
    expect(accountingSettings({ system } as never)).toEqual({ everyMs: 60_000, policy: { fullResolutionMs: 48 * HOUR_MS, retentionMs: 90 * 24 * HOUR_MS } });
    system.accounting = { 'sample-interval': 300, 'full-resolution': 24, retention: 400 };
    expect(accountingSettings({ system } as never)).toEqual({ everyMs: 300_000, policy: { fullResolutionMs: 24 * HOUR_MS, retentionMs: 400 * 24 * HOUR_MS } });
    const { accounting: _gone, ...old } = system;
    expect(accountingSettings({ system: old } as never).everyMs).toBe(60_000);
  });
});
