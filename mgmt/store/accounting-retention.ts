/**
 * Keeps the accounting table bounded. Samples are monotonic counter values,
 * so usage over a range is the rise between samples (mgmt/accounting/report.ts)
 * and any sample a rise does not start or end on can go:
 * - older than the full resolution, each counter keeps its last sample at or
 *   before each hour's end (usage between hour boundaries stays exact);
 * - older than the retention, each counter keeps only its last sample, the
 *   value its next rise is measured from (a counter that stands still writes
 *   nothing, so that sample may be older than any range asked for).
 * Both run over whole hours, once an hour: the work is one hour of samples,
 * not the table.
 */
import type Database from 'better-sqlite3';

export interface AccountingRetention {
  /** Samples at every interval are kept this long (ms). */
  fullResolutionMs: number;
  /** Samples older than this are dropped but each counter's last one (ms). */
  retentionMs: number;
}

export const HOUR_MS = 3600_000;

/**
 * Thins every hour (h, h + 1 h] in (from, until] that holds samples; returns
 * rows deleted. The hour's last sample is the one at or before its end, so the
 * last sample at or before any hour boundary (where a report's rise starts or
 * ends) is the same before and after.
 */
function thin(db: Database.Database, from: number, until: number): number {
  const next = db.prepare('SELECT min(time) FROM accounting WHERE time > ? AND time <= ?').pluck();
  const del = db.prepare(
    'DELETE FROM accounting WHERE time > @from AND time <= @until AND rowid NOT IN (SELECT max(rowid) FROM accounting WHERE time > @from AND time <= @until GROUP BY scope, subject)',
  );
  let deleted = 0;
  for (let t = next.get(from, until) as number | null; t !== null; ) {
    const end = Math.ceil(t / HOUR_MS) * HOUR_MS;
    deleted += del.run({ from: end - HOUR_MS, until: end }).changes;
    t = next.get(end, until) as number | null;
  }
  return deleted;
}

/**
 * Thins the hours that left the full resolution since `thinnedUntil` and
 * applies the retention. Returns rows deleted and the new `thinnedUntil`.
 */
export function pruneAccountingTable(db: Database.Database, now: number, policy: AccountingRetention, thinnedUntil: number): { deleted: number; thinnedUntil: number } {
  const until = Math.floor((now - policy.fullResolutionMs) / HOUR_MS) * HOUR_MS;
  let deleted = 0;
  db.transaction(() => {
    if (until > thinnedUntil) deleted += thin(db, thinnedUntil, until);
    const cutoff = now - policy.retentionMs;
    deleted += db
      .prepare('DELETE FROM accounting WHERE time < @cutoff AND rowid NOT IN (SELECT max(rowid) FROM accounting WHERE time < @cutoff GROUP BY scope, subject)')
      .run({ cutoff }).changes;
  })();
  return { deleted, thinnedUntil: Math.max(until, thinnedUntil) };
}
