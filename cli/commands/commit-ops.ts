/**
 * `commit [confirmed N] [-m comment]`, `confirm`, `cancel-commit`, `discard`,
 * `rollback N`, `compare A B`, `validate [SERVICE]`.
 */
import type { CommandIo } from '../compile-command.js';
import type { Change, ConfigRef, NetconfClient } from '../netconf-client/client.js';
import { changeLines } from '../views/change-lines.js';
import { columns, UsageError } from './common.js';

function ref(s: string | undefined): ConfigRef {
  if (s === undefined) throw new UsageError('compare needs two configurations: commit ids, running, candidate or startup');
  if (/^\d+$/.test(s)) return Number(s);
  if (s === 'running' || s === 'candidate' || s === 'startup') return s;
  throw new UsageError(`'${s}' is neither a commit id nor running, candidate or startup`);
}

function wholeNumber(s: string | undefined, what: string): number {
  if (s === undefined || !/^\d+$/.test(s) || Number(s) < 1) throw new UsageError(`${what} must be a positive whole number, not '${s ?? ''}'`);
  return Number(s);
}

/** One line per changed leaf, in the words of `vcn set` (cli/views/change-lines.ts). */
export function formatChanges(changes: Change[]): string {
  return changeLines(changes)
    .map((l) => `${l}\n`)
    .join('');
}

export async function commitCommand(c: NetconfClient, args: string[], comment: string | undefined, json: boolean, io: CommandIo): Promise<number> {
  let confirmed: number | undefined;
  if (args[0] === 'confirmed') confirmed = wholeNumber(args[1] ?? '10', 'confirmed N (seconds)');
  else if (args.length) throw new UsageError(`commit takes 'confirmed N' and -m COMMENT, not '${args.join(' ')}'`);
  const r = await c.commit({ confirmed, comment });
  if (json) io.out(`${JSON.stringify(r)}\n`);
  else io.out(`commit ${r.commitId} complete${r.confirmDeadline ? `; reverts at ${r.confirmDeadline} unless confirmed (vcn confirm)` : ''}\n`);
  return 0;
}

export async function rollbackCommand(c: NetconfClient, args: string[], comment: string | undefined, json: boolean, io: CommandIo): Promise<number> {
  const id = await c.rollback(wholeNumber(args[0], 'rollback N (a commit id)'), comment);
  io.out(json ? `${JSON.stringify({ commitId: id })}\n` : `rolled back to commit ${args[0]} as commit ${id}\n`);
  return 0;
}

export async function compareCommand(c: NetconfClient, args: string[], json: boolean, io: CommandIo): Promise<number> {
  const changes = await c.compare(ref(args[0]), ref(args[1] ?? 'candidate'));
  io.out(json ? `${JSON.stringify(changes, null, 2)}\n` : formatChanges(changes) || 'no differences\n');
  return 0;
}

export async function validateCommand(c: NetconfClient, args: string[], json: boolean, io: CommandIo): Promise<number> {
  if (!args.length) {
    await c.validate();
    io.out('candidate is valid\n');
    return 0;
  }
  const port = args[1] !== undefined ? wholeNumber(args[1], 'PORT') : undefined;
  const r = await c.validateService(args[0], port);
  if (json) io.out(`${JSON.stringify(r, null, 2)}\n`);
  else {
    const rows = [['PORT', 'SEQ', 'DEVICE', 'CHECK', 'RESULT', 'LATENCY', 'ERROR']];
    for (const h of r.hops) rows.push([h.port ?? '-', String(h.seq), `${h.device}${h.copy ? ' (copy)' : ''}`, h.check ?? '-', h.result, h.latencyUs !== undefined ? `${(h.latencyUs / 1000).toFixed(2)} ms` : '-', h.error ?? '']);
    io.out(columns(rows) + (r.broken ? `broken hop: ${r.broken}\n` : 'every hop answered\n'));
  }
  if (r.broken) {
    io.err(`vcn: error HOP_FAILED: service ${args[0]} is broken at ${r.broken}\n`);
    return 1;
  }
  return 0;
}

export async function traceCommand(c: NetconfClient, args: string[], json: boolean, io: CommandIo): Promise<number> {
  const [client, serviceIp, secs] = args;
  if (!client || !serviceIp) throw new UsageError('usage: vcn trace CLIENT-IP SERVICE-IP [SECONDS]');
  const hops = await c.trace(client, serviceIp, secs !== undefined ? wholeNumber(secs, 'SECONDS') : undefined);
  if (json) io.out(`${JSON.stringify(hops, null, 2)}\n`);
  else if (!hops.length) io.out(`no packet from ${client} to ${serviceIp} was seen\n`);
  else io.out(columns([['MS', 'IN', 'OUT', 'SRC', 'DST'], ...hops.map((h) => [String(h.ms), h.iif, h.out.join(',') || '-', h.src, h.dst])]));
  return 0;
}
