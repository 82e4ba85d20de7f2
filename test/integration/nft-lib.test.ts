/**
 * nft scripts through libnftables in a co-process (appliance/datapath/nft-lib.ts), on the real kernel in a
 * namespace of its own: a check changes nothing, an apply does, a refusal carries nft's own message and
 * changes nothing, the co-process survives refusals; without python3-nftables the runner uses nft processes.
 */
import { describe, expect, it } from 'vitest';
import { DatapathError } from '../../appliance/datapath/datapath.js';
import { NftRunnerProcess } from '../../appliance/datapath/nft-driver.js';
import { MiniNet, run } from './helpers/netns-mini.js';
import { miniNetHooks } from './helpers/mini-net-hooks.js';

const net = new MiniNet();
let ns: string;
let runner: NftRunnerProcess;

const ruleset = async () => (await run(['ip', 'netns', 'exec', ns, 'nft', 'list', 'ruleset'])).stdout;
const table = (name: string, chain = 'c') => `table netdev ${name} {\n  chain ${chain} {\n    drop\n  }\n}\n`;

miniNetHooks(net, async () => {
  ns = await net.addNs('nlib');
  runner = new NftRunnerProcess({ netns: ns });
}, { teardown: () => runner?.close(), setupMs: 60_000 });

describe('nft scripts through libnftables', () => {
  it('check changes nothing, apply does, a refusal names the line and changes nothing; the co-process keeps serving', async () => {
    await runner.script(table('t1'), true);
    expect(await ruleset()).toBe('');
    await runner.script(table('t1'), false);
    expect(await ruleset()).toContain('table netdev t1 {');
    const before = await ruleset();
    // A script nft refuses as a whole: the good table in front of the bad line is not created either.
    const bad = `${table('t2')}add rule netdev t1 c meta nonsense 7 drop\n`;
    for (const check of [true, false]) {
      const e = await runner.script(bad, check).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(DatapathError);
      expect((e as DatapathError).code).toBe('NFT_REJECTED');
      expect((e as DatapathError).message).toMatch(check ? /^nft -c rejected the ruleset:\n/ : /^nft rejected the ruleset; the running one is unchanged:\n/);
      // nft's own text: the error and the offending line.
      expect((e as DatapathError).stderr).toMatch(/^script:6:\d+-\d+: Error: syntax error, unexpected nonsense.*\nadd rule netdev t1 c meta nonsense 7 drop\n/);
      expect((e as DatapathError).argv).toEqual(['libnftables', check ? '-c' : '-f']);
    }
    expect(await ruleset()).toBe(before);
    expect(runner.libOff).toBeUndefined();
    // Each request has its own context: a dry run's chain is not taken for existing by the next script.
    await runner.script('add chain netdev t1 only_checked\n', true);
    await expect(runner.script('add rule netdev t1 only_checked drop\n', false)).rejects.toThrow(/No such file or directory/);
    await runner.script('delete table netdev t1\n', false);
    expect(await ruleset()).toBe('');
  });

  it('without python3-nftables the scripts go to nft processes, with the same errors', async () => {
    // An interpreter that exits at once, as python3 does when it cannot import the module.
    const fallback = new NftRunnerProcess({ netns: ns, python: '/bin/false' });
    try {
      await fallback.script(table('t3'), false);
      expect(fallback.libOff).toMatch(/libnftables runner: exited/);
      expect(await ruleset()).toContain('table netdev t3 {');
      await expect(fallback.script('add rule netdev t3 c meta nonsense 7 drop\n', true)).rejects.toThrow(/^nft -c rejected the ruleset \(exit 1\):\n/);
      await fallback.script('delete table netdev t3\n', false);
    } finally {
      fallback.close();
    }
  });
});
