/**
 * Writes text captures of every TUI screen at 80×24 into docs/tui/ (run as
 * root: it brings up the namespace lab so the counters are real):
 *
 *   node --import tsx scripts/capture-tui.ts [OUTDIR]
 *
 * The TUI runs in a real pty (TERM=vt220) against a daemon (with health
 * checks) on the lab; UDP traffic flows through the `web` service while the
 * captures are taken.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../cli/lab/index.js';
import { startDaemon } from '../mgmt/daemon.js';
import { field, pick, startTui, type Tui } from '../test/integration/helpers/tui-pty.js';

const out = process.argv[2] ?? join(import.meta.dirname, '..', 'docs', 'tui');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const index: string[] = [];

function save(t: Tui, name: string, what: string): void {
  const lines = t.lines().map((l) => l.replace(/\s+$/, ''));
  writeFileSync(join(out, `${name}.txt`), `${lines.join('\n')}\n`);
  index.push(`| [${name}.txt](${name}.txt) | ${what} |`);
  process.stdout.write(`captured ${name}\n`);
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'vcn-capture-'));
  const socket = join(dir, 'netconf.sock');
  const lab = await Lab.up();
  let t: Tui | undefined;
  const daemon = await startDaemon({ db: join(dir, 'vcn.db'), netns: lab.ns('eng'), log: () => undefined, netconf: { unix: socket }, health: { passiveMs: 0 } });
  try {
    const nb = daemon.northbound;
    const s = nb.openSession('setup', 'cli');
    nb.setCandidate(s.id, lab.demoConfig());
    await nb.commit(s.id, { comment: 'lab demo' });
    nb.closeSession(s.id);
    const W1 = lab.plan.service.W1;
    const traffic = `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nend=time.time()+600\nwhile time.time()<end:\n  s.sendto(b'x'*200,('${W1}',9)); time.sleep(0.01)`;
    // Killed by lab.down() if still running.
    lab.spawn('cl', ['/usr/bin/python3', '-c', traffic]);

    t = startTui(['--socket', socket, '--refresh-ms', '1000']);
    await t.waitFor('[ Apply and commit ]');
    save(t, '01-wizard', 'first-boot wizard (no admin user yet)');
    await field(t, 4, 'admin');
    await field(t, 5, 'admin');
    await pick(t, 10);
    await t.waitFor('ERROR WEAK_PASSWORD');
    save(t, '02-wizard-weak-password', 'the wizard refuses a weak admin password');
    await field(t, 0, 'edge1');
    await field(t, 2, '192.0.2.10/24');
    await field(t, 3, '192.0.2.1');
    await field(t, 4, 'Tr4ffic-Steer!');
    await field(t, 5, 'Tr4ffic-Steer!');
    await field(t, 7, 'auth-pass-phrase');
    await field(t, 8, 'priv-pass-phrase');
    await pick(t, 10);
    await t.waitFor('Setup committed');
    await t.waitFor(/commit 2[\s\S]*Top services by traffic[\s\S]*web\s+\d/, 60_000);
    await pause(1500);
    save(t, '03-dashboard', 'dashboard: engine, interfaces, top services by traffic, devices, events');

    t.send('s');
    await t.waitFor(/web-ids\s+10\./);
    save(t, '04-services', 'services (from the candidate)');
    await pick(t, 3); // web-ids: chain with an IDS copy
    await t.waitFor('Service web-ids');
    save(t, '05-service-detail', 'a service: each chain hop by hop, and its ACL');
    t.send('p');
    await t.waitFor(/Every hop of web-ids answered|is broken at/);
    save(t, '05b-service-probe', 'p in the detail: every hop probed (daemon with --health)');
    t.send('\x1b');
    await t.waitFor(/web-ids\s+10\./);
    t.send('p');
    await t.waitFor('New service from a package');
    await field(t, 0, 'shop');
    await field(t, 2, '8080');
    await field(t, 4, lab.plan.service.W4.replace(/\.4$/, '.9'));
    save(t, '06-service-new', 'new service from a package: name, port, address');
    await pick(t, 7); // Next
    await t.waitFor('Pick a device or pool per function');
    await pick(t, 0); // firewall: device fw -> device oa
    save(t, '07-service-new-devices', 'new service: a device or pool per package function');
    await pick(t, 2);
    await t.waitFor('added to the candidate');
    save(t, '08-service-created', 'the new service in the candidate, chain drawn');

    t.send('v');
    await t.waitFor('POOLS');
    save(t, '09-devices', 'devices and pools');
    t.send('i');
    await t.waitFor('ROLE');
    save(t, '10-interfaces', 'interfaces and the device legs on them');

    t.send('c');
    await t.waitFor(/\+ .*shop/);
    await field(t, 0, 'add shop');
    await field(t, 1, '300');
    save(t, '11-commit', 'commit: diff preview, comment, confirmed N');
    await pick(t, 2);
    await t.waitFor('reverts unless confirmed');
    t.send('d');
    await t.waitFor('CONFIRM IN');
    await pause(2000);
    save(t, '12-dashboard-confirm-pending', 'dashboard with a confirmed commit counting down');
    t.send('c');
    await t.waitFor('[ Commit ]');
    await pick(t, 4);
    await t.waitFor('Confirmed.');

    t.send('h');
    await t.waitFor('add shop');
    await pick(t, 0);
    await t.waitFor(/Commit \d+ vs/);
    save(t, '13-history', 'history: commits, and what the selected one changed');

    t.send('n');
    await t.waitFor(/web\s+9\s+\d+/);
    await pause(2500);
    save(t, '14-counters', 'live counters per service port (UDP flowing to web port 9)');
    t.send('q');
    await t.exited();
  } finally {
    await t?.close();
    await daemon.stop();
    await lab.down();
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(
    join(out, 'README.md'),
    `# Console TUI screens (80×24)\n\nText captures of \`vcn tui\` on a VT220-class terminal (TERM=vt220) at 80×24,\n` +
      `taken by \`scripts/capture-tui.ts\` through a real pty against the daemon running on the\nnamespace lab while UDP traffic flows through the \`web\` service. Regenerate with\n` +
      `\`sudo node --import tsx scripts/capture-tui.ts\`.\n\n` +
      `Keys: the help line (last row) lists the screen's keys, then the global ones:\n` +
      `d dashboard, s services, v devices and pools, i interfaces, c commit, h history,\nn counters, w first-boot wizard, q quit. Arrow keys move, Enter selects or edits,\nEsc goes back.\n\n| screen | what it shows |\n|---|---|\n${index.join('\n')}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`capture-tui: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
