/**
 * Rules a packet of a given row meets in one pass through the engine, read off
 * the rendered ruleset: the hook chain of its interface, the dispatch chain up
 * to the lookup that holds its element (via the MAC dispatch when the element
 * is MAC-keyed), and its action chain up to the `fwd`. The element's data is
 * either the verdict itself or a value looked up again in a verdict map named
 * by the same rule (`… map @v4_ddp meta mark vmap @act`). The count does not
 * depend on how many services are loaded unless a chain grows per service.
 */
import { locateElement, type NftChain, type RenderedRuleset } from '../../appliance/compile/render-model.js';

export interface PassCost {
  row: string;
  iif: string;
  /** Chain names walked, each with the rules evaluated in it. */
  chains: { name: string; rules: number }[];
  /** The rules themselves, in order. */
  texts: string[];
  rules: number;
  /** Hash or verdict-map lookups among those rules (`vmap`, `@set`). */
  lookups: number;
}

const goesTo = (rs: RenderedRuleset, rule: string, chain: string): boolean => {
  const direct = new RegExp(`\\b(goto|jump) ${chain}\\b|: (goto|jump) ${chain}\\b`);
  if (direct.test(rule)) return true;
  // A rule that looks up a map whose elements lead there (the MAC dispatch `snd4`).
  for (const m of rule.matchAll(/@(\w+)/g)) {
    const set = rs.sets.get(m[1]);
    if (set && [...set.elements.values()].some((v) => direct.test(` ${v}`))) return true;
  }
  return false;
};

function upTo(chain: NftChain, until: (rule: string) => boolean): string[] {
  const i = chain.rules.findIndex(until);
  if (i < 0) throw new Error(`rule path: nothing in chain ${chain.name} leads on`);
  return chain.rules.slice(0, i + 1);
}

const lookupsIn = (rules: string[]): number => rules.reduce((n, r) => n + (r.match(/@\w+|\bvmap \{/g)?.length ?? 0), 0);

/** The chain an element's data leads to, through further verdict maps of the same rule if need be. */
function actionOf(rs: RenderedRuleset, rule: string, map: string, data: string): string {
  const direct = /^(?:goto|jump) (\w+)/.exec(data)?.[1];
  if (direct) return direct;
  for (const m of rule.matchAll(/vmap @(\w+)/g)) {
    if (m[1] === map) continue;
    const next = rs.sets.get(m[1])?.elements.get(data);
    if (next !== undefined) return actionOf(rs, rule, m[1], next);
  }
  throw new Error(`rule path: element data ${data} of ${map} leads to no chain`);
}

/** The pass of a row's first element (the row must receive IPv4 on `iif`). */
export function passCost(rs: RenderedRuleset, rowId: string): PassCost {
  const row = rs.rows.get(rowId);
  if (!row) throw new Error(`rule path: no row ${rowId}`);
  // A row of a direct map that a diff added lives in the map's overflow until the next full apply.
  const { map, key } = locateElement(rs, row) ?? row;
  const holds = (r: string): boolean => r.includes(`@${map} `) || r.endsWith(`@${map}`);
  // A per-interface map's key has no interface: the one hook chain that looks the map up names it.
  const hookOf = [...rs.chains.values()].find((c) => c.kind === 'hook' && c.rules.some(holds))?.device;
  const iif = /^"([^"]+)"/.exec(key)?.[1] ?? hookOf;
  const verdict = rs.sets.get(map)?.elements.get(key);
  if (!iif || !verdict) throw new Error(`rule path: no element ${key} in ${map}`);
  const chain = (name: string): NftChain => {
    const c = rs.chains.get(name);
    if (!c) throw new Error(`rule path: no chain ${name}`);
    return c;
  };
  // From the hook chain to the rule that looks the map up, through dispatch chains (a goto, or a jump out of the
  // MAC dispatch map) where the lookup is not in the hook chain itself.
  const walk = (c: NftChain, depth: number): { name: string; rules: string[] }[] | undefined => {
    const at = c.rules.findIndex(holds);
    if (at >= 0) return [{ name: c.name, rules: c.rules.slice(0, at + 1) }];
    if (depth > 3) return undefined;
    for (let i = 0; i < c.rules.length; i++) {
      for (const next of rs.chains.values()) {
        if (next.kind !== 'dispatch' || !goesTo(rs, c.rules[i], next.name)) continue;
        const rest = walk(next, depth + 1);
        if (rest) return [{ name: c.name, rules: c.rules.slice(0, i + 1) }, ...rest];
      }
    }
    return undefined;
  };
  const walked = walk(chain(`in_${iif}`), 0);
  if (!walked) throw new Error(`rule path: nothing from in_${iif} looks up ${map}`);
  const action = actionOf(rs, walked[walked.length - 1].rules.at(-1)!, map, verdict);
  walked.push({ name: action, rules: upTo(chain(action), (r) => /\bfwd to\b/.test(r)) });
  return {
    row: rowId,
    iif,
    chains: walked.map((w) => ({ name: w.name, rules: w.rules.length })),
    texts: walked.flatMap((w) => w.rules.map((r) => `${w.name}: ${r}`)),
    rules: walked.reduce((n, w) => n + w.rules.length, 0),
    lookups: walked.reduce((n, w) => n + lookupsIn(w.rules), 0),
  };
}

/** A printable summary: the worst pass of the given rows against the ≤ 10 target, each pass, and optionally the rules of the first. */
export function describePasses(rs: RenderedRuleset, rowIds: string[], label: string, withRules: boolean): string {
  const passes = rowIds.map((id) => passCost(rs, id));
  const worst = Math.max(...passes.map((p) => p.rules));
  const ok = worst <= 10 && rs.stats.maxRulesPerPass <= 10;
  const lines = [
    `rules per pass with ${label}: measured paths ≤ ${worst}, renderer's worst case ${rs.stats.maxRulesPerPass} (target ≤ 10) — ${ok ? 'ok' : 'MISSED'}`,
    ...passes.map((p) => `    ${p.row}@${p.iif}: ${p.chains.map((c) => `${c.name} ${c.rules}`).join(' + ')} = ${p.rules} (${p.lookups} lookups)`),
  ];
  if (withRules) lines.push(`  the rules of one pass (${passes[0].row}):`, ...passes[0].texts.map((t) => `      ${t}`));
  return lines.join('\n');
}
