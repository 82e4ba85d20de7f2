/** The lint rule keeps dependencies pointing down: cli → mgmt → appliance. */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const eslint = new ESLint({ cwd: root });

async function layerMessages(filePath: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'vcn/layers').map((m) => m.message);
}

describe('vcn/layers lint rule', () => {
  it('rejects appliance importing mgmt', async () => {
    expect(await layerMessages('appliance/compile/x.ts', "import { a } from '../../mgmt/schema/load-config.js';\nexport const b = a;\n")).toEqual([
      "'appliance/compile/x.ts' must not import '../../mgmt/schema/load-config.js': appliance sits below mgmt (cli → mgmt → appliance).",
    ]);
  });

  it('rejects mgmt importing cli, also through re-exports and dynamic imports', async () => {
    const msgs = await layerMessages('mgmt/x.ts', "export * from '../cli/vcn.js';\nexport const m = () => import('../cli/tui/app.js');\n");
    expect(msgs).toHaveLength(2);
  });

  it('allows downward and same-layer imports', async () => {
    expect(await layerMessages('cli/x.ts', "import { a } from '../mgmt/schema/load-config.js';\nimport { b } from '../appliance/errors.js';\nimport { c } from './y.js';\nexport const d = [a, b, c];\n")).toEqual([]);
  });
});
