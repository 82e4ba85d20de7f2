/**
 * What every daemon-facing subcommand of `vcn` shares: the socket to use,
 * the exit codes scripts rely on, and turning a failure into one of them.
 *
 *   0 ok · 1 the daemon rejected the request (its error code is printed)
 *   2 usage error · 3 cannot reach the daemon · 4 not available in this daemon
 */
import { DEFAULT_SOCKET, NetconfClient } from '../netconf-client/client.js';
import { NetconfConnectError, NetconfRpcError } from '../netconf-client/errors.js';
import type { CommandIo } from '../compile-command.js';

export const EXIT = { ok: 0, rejected: 1, usage: 2, unreachable: 3, notAvailable: 4 } as const;

export class UsageError extends Error {}

export function socketPath(flag: string | undefined): string {
  return flag ?? process.env.VCN_SOCKET ?? DEFAULT_SOCKET;
}

/** Connects, runs `body`, closes; maps failures to exit codes with a message on stderr. */
export async function withClient(socket: string, io: CommandIo, body: (c: NetconfClient) => Promise<number | void>): Promise<number> {
  let client: NetconfClient;
  try {
    client = await NetconfClient.connect({ socket });
  } catch (e) {
    io.err(`vcn: ${(e as Error).message}\n`);
    return EXIT.unreachable;
  }
  try {
    return (await body(client)) ?? EXIT.ok;
  } catch (e) {
    return reportError(e, io);
  } finally {
    await client.close();
  }
}

export function reportError(e: unknown, io: CommandIo): number {
  if (e instanceof NetconfRpcError) {
    for (const x of e.errors) io.err(`vcn: error ${x.appTag ?? x.tag}${x.path ? ` at ${x.path}` : ''}: ${x.message}\n`);
    return e.code === 'NOT_AVAILABLE' ? EXIT.notAvailable : EXIT.rejected;
  }
  if (e instanceof NetconfConnectError) {
    io.err(`vcn: ${e.message}\n`);
    return EXIT.unreachable;
  }
  if (e instanceof UsageError) {
    io.err(`vcn: ${e.message}\n`);
    return EXIT.usage;
  }
  throw e;
}

/** Fixed-width text columns (the last one is not padded). */
export function columns(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}
