/**
 * `vcn accounting --db FILE [--from T] [--to T] [--format csv|json]`: usage per
 * service·port and per client rule for a time range, from the accounting
 * samples the daemon writes (mgmt/accounting/sampler.ts). T is an ISO 8601
 * time or ms since the epoch; the range defaults to everything up to now.
 *
 * It reads the store file read-only (SQLite WAL lets it run beside the
 * daemon); the daemon's NETCONF API has no accounting operation yet.
 */
import Database from 'better-sqlite3';
import { parseArgs } from 'node:util';
import { VcnError } from '../appliance/errors.js';
import { reportCsv, reportJson, usageReport } from '../mgmt/accounting/report.js';
import type { CommandIo } from './compile-command.js';

const USAGE = 'usage: vcn accounting --db FILE [--from TIME] [--to TIME] [--format csv|json]\n';

function parseTime(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new VcnError('ACCOUNTING_RANGE', `'${v}' is not a time (ISO 8601 or ms since the epoch)`);
  return t;
}

export function accountingCommand(argv: string[], io: CommandIo): number {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { db: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string', default: 'csv' } } }));
  } catch (e) {
    io.err(`vcn accounting: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.db || (values.format !== 'csv' && values.format !== 'json')) {
    io.err(USAGE);
    return 2;
  }
  let db: Database.Database;
  try {
    db = new Database(values.db, { readonly: true, fileMustExist: true });
  } catch (e) {
    io.err(`STORE_OPEN: cannot open the store ${values.db}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const report = usageReport(db, parseTime(values.from, 0), parseTime(values.to, Date.now()));
    io.out(values.format === 'json' ? reportJson(report) : reportCsv(report));
    return 0;
  } catch (e) {
    if (e instanceof VcnError) {
      io.err(`${e.code}: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    db.close();
  }
}
