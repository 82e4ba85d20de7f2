/**
 * Apply benchmark (not a test): in a temporary network namespace, the time to
 * render and fully apply 10k and 100k services, and to apply a one-service
 * change (add, then remove) with 10, 10k and 100k services running; plus the
 * time to read the counters back. Ratios are against the floor measured in the
 * same run: starting `nft` for an empty transaction.
 *
 *   node --expose-gc --max-semi-space-size=64 --import tsx scripts/bench-apply.ts [sizes...]
 *
 * The namespaces are named vd<random>-* and deleted at the end (also on Ctrl-C).
 */
import { renderRuleset } from '../appliance/compile/render-nft.js';
import type { DataplaneFacts } from '../appliance/compile/render-facts.js';
import { NftDriver, NftRunnerProcess, readInterfaceMacs } from '../appliance/datapath/nft-driver.js';
import { syntheticService, syntheticTable, type SyntheticInterfaces } from '../test/unit/render-synthetic.js';
import { MiniNet } from '../test/integration/helpers/netns-mini.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [10, 10_000, 100_000];
const REPEAT = 5;

const net = new MiniNet();
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await net.cleanup();
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void cleanup().then(() => process.exit(130));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => `${x.toFixed(0).padStart(6)} ms`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench-apply needs root (network namespaces)');
  const eng = await net.addNs('bench');
  const peer = await net.addNs('peer');
  const ifs: SyntheticInterfaces = { up: net.ifname('e0'), fw0: net.ifname('e1'), fw1: net.ifname('e2'), srv: net.ifname('e3') };
  let i = 0;
  for (const name of Object.values(ifs)) {
    await net.veth({ ns: eng, name, mac: `02:88:00:00:00:0${i}` }, { ns: peer, name: net.ifname(`p${i}`), mac: `02:88:00:00:01:0${i}` });
    i++;
  }
  const facts: DataplaneFacts = { interfaceMacs: await readInterfaceMacs(eng), deviceLegs: { fw: [ifs.fw0, ifs.fw1] } };
  const runner = new NftRunnerProcess({ netns: eng });

  // Floor: nft started for an (almost) empty transaction, check and apply.
  const floors: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    await runner.script('table netdev vcnfloor {}\ndelete table netdev vcnfloor\n', false);
    floors.push(performance.now() - t0);
  }
  const floor = median(floors);
  console.log(`nft floor (start nft, empty transaction): ${ms(floor)}`);
  console.log(`machine: ${(await import('node:os')).cpus().length} CPUs, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('');
  console.log('services    rows  elements  script   render   full: check + apply        one-service add (check+apply)   remove        read counters');

  const fullLines: string[] = [];
  for (const n of SIZES) {
    const driver = new NftDriver({ netns: eng });
    global.gc?.();
    const r0 = performance.now();
    const table = syntheticTable(n, { ifs, features: true });
    const base = renderRuleset(table, facts, { tableName: 'vcn' });
    const renderMs = performance.now() - r0;
    // The same kind of change at every size: a service like one already running (the mix repeats every 80),
    // so that it needs no new action chain — a first-of-its-kind service adds one, which nft must do.
    const one = syntheticService(n >= 80 ? n : 80, { ifs, features: true });
    const plus = renderRuleset({ rows: [...table.rows, ...one.rows], services: [...table.services, one.policy] }, facts, { tableName: 'vcn' });
    // A service behind a server no running service uses (a new device MAC): new action chains, their act
    // elements and a sender-map element — goto/jump elements, for which the kernel re-validates the table.
    // Another new MAC each time: no chain nft compiled before (netlink-chains.ts) comes again.
    const plusNew = (k: number) => {
      const fresh = structuredClone(one);
      const oldMac = fresh.rows[1].sends[0].mac;
      const mac = `02:5e:00:00:02:${(k + 1).toString(16).padStart(2, '0')}`;
      for (const r of fresh.rows) {
        for (const snd of r.sends) if (snd.mac === oldMac) snd.mac = mac;
        if (r.receive.srcMac === oldMac) r.receive.srcMac = mac;
      }
      return renderRuleset({ rows: [...table.rows, ...fresh.rows], services: [...table.services, fresh.policy] }, facts, { tableName: 'vcn' });
    };
    // Full apply the old way (nft -c + nft -f of the whole script), then over netlink (one transaction of ours).
    const viaNft = new NftDriver({ netns: eng, netlinkFull: false });
    const nftFull = await viaNft.apply(base, { full: true, carryCounters: false });
    viaNft.close();
    const full = await driver.apply(base, { full: true, carryCounters: false });
    const adds: number[] = [];
    const dels: number[] = [];
    const parts: string[] = [];
    let via = '';
    // The first change starts the netlink writer (a python3 co-process, once per daemon): timed apart.
    const w0 = performance.now();
    await driver.apply(plus);
    await driver.apply(base);
    const firstMs = performance.now() - w0;
    const walls: number[] = [];
    for (let k = 0; k < REPEAT; k++) {
      const w1 = performance.now();
      const a = await driver.apply(plus);
      walls.push(performance.now() - w1);
      if (a.mode !== 'diff') throw new Error(`expected a diff, got ${a.mode}`);
      adds.push(a.checkMs + a.applyMs);
      parts.push(`${a.checkMs.toFixed(0)}+${a.applyMs.toFixed(0)}`);
      via = a.via === 'netlink' ? 'netlink' : `nft ${a.scriptBytes} B`;
      const d = await driver.apply(base);
      dels.push(d.checkMs + d.applyMs);
    }
    // Services of the same kind with an ACL rule that counts (a counter object) and with a rate limit (a limit object):
    // k % 10 = 3 and 2 in the features mix; services beyond the table, so not running.
    const objectAdds: string[] = [];
    for (const [label, k] of [['ACL', 3], ['rate limit', 2]] as const) {
      const svc = syntheticService(Math.max(n, 80) + 10 + k, { ifs, features: true });
      const with1 = renderRuleset({ rows: [...table.rows, ...svc.rows], services: [...table.services, svc.policy] }, facts, { tableName: 'vcn' });
      const times: number[] = [];
      let how = '';
      for (let r = 0; r < REPEAT; r++) {
        const a = await driver.apply(with1);
        if (a.mode !== 'diff') throw new Error(`expected a diff, got ${a.mode}`);
        times.push(a.checkMs + a.applyMs);
        how = `${a.via}${a.fallback ? `: ${a.fallback}` : ''}`;
        await driver.apply(base);
      }
      objectAdds.push(`add with ${label} ${ms(median(times))} (${how})`);
    }
    const newAct: number[] = [];
    let newVia = '';
    for (let k = 0; k < REPEAT; k++) {
      const a = await driver.apply(plusNew(k));
      if (a.mode !== 'diff') throw new Error(`expected a diff, got ${a.mode}`);
      newAct.push(a.checkMs + a.applyMs);
      newVia = `${a.via}${a.fallback ? `: ${a.fallback}` : ''}`;
      await driver.apply(base);
    }
    // Removing a service loaded by the full apply: deletes from the direct maps (goto elements; a delete does not
    // make the kernel re-validate the table).
    const keep = { rows: table.rows.filter((r) => r.service !== 's1'), services: table.services.filter((x) => x.service !== 's1') };
    const delDirect: number[] = [];
    for (let k = 0; k < REPEAT; k++) {
      await driver.apply(renderRuleset(table, facts, { tableName: 'vcn' }), { full: true, carryCounters: false });
      const d = await driver.apply(renderRuleset(keep, facts, { tableName: 'vcn' }));
      if (d.mode !== 'diff') throw new Error(`expected a diff, got ${d.mode}`);
      delDirect.push(d.checkMs + d.applyMs);
    }
    await driver.apply(base, { full: true, carryCounters: false });
    driver.close();
    const c0 = performance.now();
    await driver.readCounters();
    const readMs = performance.now() - c0;
    // A daemon restart: a datapath that knows no running ruleset loads the same one, carrying counters.
    const restarted = new NftDriver({ netns: eng });
    const again = await restarted.apply(base, { full: true });
    restarted.close();
    const p = full.phases;
    const kd = again.kernelDiff;
    fullLines.push(
      `${String(n).padStart(8)}  nft ${ms(nftFull.checkMs)} + ${ms(nftFull.applyMs)}   netlink ${ms(full.applyMs)} (${full.via}${full.fallback ? `: ${full.fallback}` : ''}; ` +
        `skeleton ${p ? p.skeletonMs.toFixed(0) : '-'} + encode ${p ? p.encodeMs.toFixed(0) : '-'} + kernel ${p ? p.kernelMs.toFixed(0) : '-'} ms)   ` +
        `restart ${ms(again.readMs + again.applyMs)} (${again.via}, ${kd ? `diff against the kernel's table: ${kd.kept} kept, ${kd.added} added, ${kd.deleted} deleted` : 'new table'})`,
    );
    console.log(
      `${String(n).padStart(8)} ${String(base.stats.rows).padStart(7)} ${String(base.stats.elements).padStart(9)} ${(full.scriptBytes / 1e6).toFixed(1).padStart(5)} MB ${ms(renderMs)}  ${ms(full.checkMs)} + ${ms(full.applyMs)}` +
        `     ${ms(median(adds))} (${via}; check+apply ${parts.join(', ')})  ${ms(median(dels))}  ${ms(readMs)}   first add+remove ${ms(firstMs)}` +
        `   add with a new action ${ms(median(newAct))} (${newVia}; ${newAct.map((x) => x.toFixed(0)).join(', ')})   add wall time (diff worked out + applied) ${ms(median(walls))}   remove a fully applied service ${ms(median(delDirect))}   ${objectAdds.join('   ')}`,
    );
  }
  console.log('');
  console.log('full apply, services: nft -c + nft -f (before) | one netlink transaction (now) | a restart\'s full apply (new datapath, counters carried)');
  for (const l of fullLines) console.log(l);
  console.log('');
  console.log(
    `one-service change = check + apply of the diff (median of ${REPEAT}, target ≤ 30 ms): element-only diffs go to the kernel as one netlink batch\n` +
      '(check = the same batch without BATCH_END, which the kernel validates and aborts). A service with a new action (another device MAC each\n' +
      'time), an ACL counter or a rate limit also adds chains or objects: nft compiles the new chains in a namespace of its own\n' +
      '(appliance/datapath/compile-apart.ts) and they go with the elements in one netlink transaction of ours (netlink-chains.ts); its check\n' +
      'checks every message without the walk over the table, which the apply does. Anything else goes as a check and an apply of the diff\n' +
      'script through libnftables in a co-process (an nft process each without python3-nftables).\n' +
      'full = delete and recreate the table in one transaction: one netlink transaction built by the engine (nft builds only the skeleton, in a\n' +
        'dormant scratch table), without a separate check; the table below compares it with nft -c + nft -f of the whole script.',
  );
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
