/**
 * Golden tests: each intent configuration in compile/ compiles to the sequence
 * table of its figure (SPEC §5), printed with the figure's symbols. Review a
 * changed .table.txt against the SPEC before accepting it (UPDATE_GOLDEN=1).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../../appliance/compile/compile.js';
import { formatTable } from '../../appliance/compile/format-table.js';
import { expectGolden } from '../helpers/golden.js';
import { figureSymbols, loadFixture } from '../helpers/config.js';

const dir = join(import.meta.dirname, 'compile');
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('golden sequence tables', () => {
  it('covers every figure of SPEC §5 in each delivery variant it has', () => {
    const names = fixtures.map((f) => f.replace('.json', ''));
    for (const fig of ['fig6b', 'fig7b', 'fig8c', 'fig9b']) {
      for (const mode of ['loopback', 'alias', 'nat']) expect(names).toContain(`${fig}-${mode}`);
    }
    expect(names).toEqual(expect.arrayContaining(['fig9e-server-ip', 'fig15c-failover', 'fig6b-ipv6-nat', 'isp-source-keyed']));
  });

  for (const file of fixtures) {
    it(`${file} compiles to its golden table`, () => {
      const config = loadFixture(join(dir, file));
      expectGolden(formatTable(compile(config), figureSymbols(config)), join(dir, file.replace('.json', '.table.txt')));
    });
  }
});
