/**
 * Golden nft scripts: hand-built sequence tables (one per data-plane feature)
 * and the compiler's figure fixtures, rendered and printed. Review a changed
 * .nft file before accepting it:
 *   UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/render-golden.test.ts
 * The integration test datapath-nft loads every golden file into a namespace with `nft -c`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../appliance/compile/compile.js';
import { deviceLegsOf, type DataplaneFacts } from '../../appliance/compile/render-facts.js';
import type { RenderedRuleset } from '../../appliance/compile/render-model.js';
import { rowElements } from '../../appliance/compile/render-model.js';
import { renderRuleset } from '../../appliance/compile/render-nft.js';
import { printRuleset } from '../../appliance/compile/render-print.js';
import { expectGolden } from '../helpers/golden.js';
import { loadFixture } from '../helpers/config.js';
import { GOLDEN_TABLES } from './render-tables.js';

const goldenDir = join(import.meta.dirname, '..', 'golden', 'render');
const fixtureDir = join(import.meta.dirname, '..', 'golden', 'compile');

export function goldenText(r: RenderedRuleset): string {
  const head = [
    '# Rendered by test/unit/render-golden.test.ts (UPDATE_GOLDEN=1 to regenerate).',
    `# ${r.stats.rows} rows, ${r.stats.elements} elements, ${r.stats.actionChains} action chains, at most ${r.stats.maxRulesPerPass} rules per packet and pass.`,
    '# Row counters (id role: map key):',
    ...[...r.rows.values()].flatMap((row) => rowElements(row).map((e) => `#   ${row.id} ${row.role}: ${e.map} ${e.key}`)),
    ...r.unresolved.map((u) => `# unresolved: ${u.row}: ${u.reason}`),
  ];
  return `${head.join('\n')}\n${printRuleset(r)}`;
}

const CASES = GOLDEN_TABLES;

/** Engine interface MACs for a fixture: 02:ee:00:00:00:<n> in interface order. */
export function fixtureFacts(config: ReturnType<typeof loadFixture>): DataplaneFacts {
  const interfaceMacs: Record<string, string> = {};
  config.interfaces.interface.forEach((i, n) => (interfaceMacs[i.name] = `02:ee:00:00:00:${n.toString(16).padStart(2, '0')}`));
  return { interfaceMacs, deviceLegs: deviceLegsOf(config) };
}

describe('golden rulesets of hand-built tables', () => {
  for (const [name, [table, facts]] of Object.entries(CASES)) {
    it(`${name} renders to its golden script`, () => {
      const r = renderRuleset(table(), facts, { tableName: 'vcn' });
      expect(r.unresolved).toEqual([]);
      expect(r.stats.maxRulesPerPass).toBeLessThanOrEqual(10);
      expectGolden(goldenText(r), join(goldenDir, `${name}.nft`));
    });
  }
});

describe('golden rulesets of the compiler fixtures', () => {
  const fixtures = readdirSync(fixtureDir).filter((f) => f.endsWith('.json')).sort();
  for (const file of fixtures) {
    it(`${file} compiles and renders to its golden script`, () => {
      const config = loadFixture(join(fixtureDir, file));
      const r = renderRuleset(compile(config), fixtureFacts(config), { tableName: 'vcn' });
      expect(r.stats.maxRulesPerPass).toBeLessThanOrEqual(10);
      expectGolden(goldenText(r), join(goldenDir, `compiled-${file.replace('.json', '')}.nft`));
    });
  }
});
