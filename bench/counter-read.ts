/**
 * Counter read benchmark (not a test): a synthetic ruleset of N services fully
 * applied in a scratch namespace, then readCounters() timed: the first read
 * after the apply (it builds the per-ruleset index) and the median of the
 * next five; with the JS heap and external memory a read leaves allocated
 * (before a collection) and retains (after one).
 *
 *   node --expose-gc --import tsx bench/counter-read.ts [100000]
 */
import { renderRuleset } from '../appliance/compile/render-nft.js';
import type { DataplaneFacts } from '../appliance/compile/render-facts.js';
import { NftDriver, readInterfaceMacs } from '../appliance/datapath/nft-driver.js';
import { syntheticTable, type SyntheticInterfaces } from '../test/unit/render-synthetic.js';
import { MiniNet } from '../test/integration/helpers/netns-mini.js';

const n = Number(process.argv[2] ?? 100_000);
const net = new MiniNet();
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const mb = (x: number) => `${(x / 1048576).toFixed(0)} MB`;

async function main(): Promise<void> {
  const eng = await net.addNs('cread');
  const peer = await net.addNs('cpeer');
  const ifs: SyntheticInterfaces = { up: net.ifname('e0'), fw0: net.ifname('e1'), fw1: net.ifname('e2'), srv: net.ifname('e3') };
  let i = 0;
  for (const name of Object.values(ifs)) {
    await net.veth({ ns: eng, name, mac: `02:89:00:00:00:0${i}` }, { ns: peer, name: net.ifname(`p${i}`), mac: `02:89:00:00:01:0${i}` });
    i++;
  }
  const facts: DataplaneFacts = { interfaceMacs: await readInterfaceMacs(eng), deviceLegs: { fw: [ifs.fw0, ifs.fw1] } };
  const model = renderRuleset(syntheticTable(n, { ifs, features: true }), facts, { tableName: 'vcn' });
  const driver = new NftDriver({ netns: eng });
  await driver.apply(model, { full: true, carryCounters: false });
  driver.close();
  const times: number[] = [];
  for (let k = 0; k < 6; k++) {
    gc();
    const m0 = process.memoryUsage();
    const t0 = performance.now();
    const snap = await driver.readCounters();
    times.push(performance.now() - t0);
    const m1 = process.memoryUsage();
    gc();
    const m2 = process.memoryUsage();
    if (k === 0 || k === 5)
      console.log(
        `read ${k + 1}: ${times[k].toFixed(0)} ms, ${snap.rows.size} rows; allocated heap +${mb(m1.heapUsed - m0.heapUsed)} external +${mb(m1.external - m0.external)}; kept after GC heap +${mb(m2.heapUsed - m0.heapUsed)} external +${mb(m2.external - m0.external)}`,
      );
  }
  const rest = times.slice(1).sort((a, b) => a - b);
  console.log(`${n} services (${model.rows.size} rows): first read ${times[0].toFixed(0)} ms, then median ${rest[2].toFixed(0)} ms; fallback: ${driver.counterFallback() ?? 'none (netlink)'}`);
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => void net.cleanup());
