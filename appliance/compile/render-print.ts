/**
 * The rendered ruleset as nft script text. A full load is one transaction that
 * touches the engine's own table only: create it if missing, delete it, define
 * it again; `nft -f` applies the whole file atomically or not at all. The
 * statement builders here are shared with the diff (datapath/diff.ts).
 */
import type { NftChain, NftObject, NftSet, RenderedRuleset } from './render-model.js';

export interface CounterValue {
  packets: number;
  bytes: number;
}

/** Initial element counters: map name → element key → value (counters carried across a replace). */
export type ElementCounters = Map<string, Map<string, CounterValue>>;

export const HOOK_PRIORITY = 0;

export function objectDeclaration(o: NftObject): string {
  return `${o.type} ${o.name} { ${o.spec}${o.spec ? ' ' : ''}}`;
}

export function objectAdd(table: string, o: NftObject): string {
  return `add ${o.type} netdev ${table} ${o.name}${o.spec ? ` { ${o.spec} }` : ''}`;
}

export function setSpec(s: NftSet): string {
  const parts = [s.dataType ? `type ${s.keyType} : ${s.dataType};` : `type ${s.keyType};`];
  if (s.interval) parts.push('flags interval;');
  if (s.counter) parts.push('counter;');
  return `{ ${parts.join(' ')} }`;
}

export function setDeclaration(s: NftSet): string {
  return `${s.dataType ? 'map' : 'set'} ${s.name} ${setSpec(s)}`;
}

export function hookLine(device: string): string {
  return `type filter hook ingress device "${device}" priority ${HOOK_PRIORITY}; policy drop;`;
}

export function chainBlock(c: NftChain, indent = '  '): string {
  const inner = `${indent}  `;
  const lines = [`${indent}chain ${c.name} {`];
  if (c.kind === 'hook' && c.device !== undefined) lines.push(inner + hookLine(c.device));
  for (const r of c.rules) lines.push(inner + r);
  lines.push(`${indent}}`);
  return lines.join('\n');
}

export function elementText(key: string, data: string, counter?: CounterValue): string {
  const c = counter ? ` counter packets ${counter.packets} bytes ${counter.bytes}` : '';
  return data ? `${key}${c} : ${data}` : `${key}${c}`;
}

/**
 * `add element` / `delete element` statements, one element per line so that an
 * error message quotes one line, in blocks of `chunk` elements.
 */
export function elementStatements(
  verb: 'add' | 'delete',
  table: string,
  set: string,
  items: Iterable<string>,
  out: string[],
  chunk = 20_000,
): void {
  let block: string[] = [];
  const flush = () => {
    if (!block.length) return;
    out.push(`${verb} element netdev ${table} ${set} {\n\t${block.join(',\n\t')}\n}`);
    block = [];
  };
  for (const item of items) {
    block.push(item);
    if (block.length >= chunk) flush();
  }
  flush();
}

/** The whole ruleset as one nft script (a single atomic transaction). */
export function printRuleset(r: RenderedRuleset, counters?: ElementCounters): string {
  const t = r.table;
  const out: string[] = [`table netdev ${t} {}`, `delete table netdev ${t}`, `table netdev ${t} {`];
  for (const o of r.objects.values()) out.push(`  ${objectDeclaration(o)}`);
  for (const s of r.sets.values()) out.push(`  ${setDeclaration(s)}`);
  for (const c of r.chains.values()) out.push(chainBlock(c));
  out.push('}');
  for (const s of r.sets.values()) {
    if (!s.elements.size) continue;
    const init = counters?.get(s.name);
    const items = function* () {
      for (const [k, v] of s.elements) yield elementText(k, v, init?.get(k));
    };
    elementStatements('add', t, s.name, items(), out);
  }
  return `${out.join('\n')}\n`;
}
