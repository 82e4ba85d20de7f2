/**
 * The sequence table as text, in the columns of the patent's figures (SPEC §5):
 * receive (interface, source MAC, source IP, destination IP, port, direction)
 * → send (interface, mode, MAC, IP, port). Copies are marked "(copy)". A symbol
 * map turns addresses into names (W1, FW0_M) so the text reads like the figures.
 */
import type { PortMatch, Row, SequenceTable } from './sequence-table.js';

export type Symbols = Map<string, string>;

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export function formatTable(table: SequenceTable, symbols: Symbols = new Map()): string {
  const sym = (v: string | undefined) => (v === undefined ? '' : symbols.get(v) ?? v);
  const port = (p: PortMatch | undefined) => (p ? `${p.port}${p.range ? ` or ${p.range.low}-${p.range.high}` : ''}` : 'any');
  const header = ['service', 'from', 'recv', 'src MAC', 'src IP', 'dst IP', 'port', 'dir', '->', 'send via', 'mode', 'send MAC', 'send IP', 'port'];
  const lines: string[][] = [header];
  for (const row of table.rows) lines.push(...formatRow(row));
  function formatRow(row: Row): string[][] {
    const r = row.receive;
    const recv = [
      `${row.service}${row.servicePort !== undefined ? `:${row.servicePort}` : ''}`,
      row.origin,
      r.interface,
      sym(r.srcMac),
      sym(r.srcIp),
      sym(r.dstIp),
      `${port(r.port)}${r.protocol !== 'any' ? `/${r.protocol}` : ''}`,
      r.direction === 'forward' ? 'fwd' : 'rev',
      '->',
    ];
    // A load-shared row lists every member's sends, each with the hash buckets that pick it.
    const sends = row.share
      ? row.share.members.flatMap((m) => {
          const own = row.share!.buckets.flatMap((d, b) => (d === m.device ? [b] : []));
          const tag = ` [hash ${row.share!.by} ${own.join(',')}/${row.share!.buckets.length}]`;
          return m.sends.map((s) => ({ s, tag: s.copy ? '' : tag }));
        })
      : row.sends.map((s) => ({ s, tag: '' }));
    return sends.map(({ s, tag }, i) => [
      ...(i === 0 ? recv : recv.map(() => '')),
      s.interface,
      `${s.mode}${s.copy ? ' (copy)' : ''}${tag}`,
      sym(s.mac),
      s.ip !== undefined ? sym(s.ip) : s.mode === 'router' ? 'default route' : '',
      s.port === undefined ? '' : s.port === r.port?.port ? port(r.port) : String(s.port),
    ]);
  }
  const unavailable = table.services.filter((s) => s.unavailable).map((s) => `unavailable: ${s.service}: ${s.unavailable}`);
  return [pad(lines), ...unavailable].join('\n') + '\n';
}
