/**
 * The console TUI driven through a real pseudo-terminal at 80×24 (node-pty,
 * read back through @xterm/headless) against a real daemon: the first-boot
 * wizard (weak password refused, a daemon error shown with its code without
 * losing the form, then completed); on the namespace lab with real nftables,
 * a service created from a package and committed, its counters moving while
 * UDP traffic flows through it, a refused commit that keeps the edit, and a
 * rollback from the history screen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../cli/lab/index.js';
import { startDaemon, type Daemon } from '../../mgmt/daemon.js';
import { isRoot, NEEDS_ROOT } from './helpers/root.js';
import { field, pick, startTui, type Tui } from './helpers/tui-pty.js';

const NET = 60;
const W1 = `10.${NET}.100.1`;
const W5 = `10.${NET}.100.5`;

describe.skipIf(!isRoot)(`vcn tui at 80x24 (${isRoot ? 'root' : NEEDS_ROOT})`, { timeout: 300_000 }, () => {
  let lab: Lab | undefined;
  let daemon: Daemon | undefined;
  let tui: Tui | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vcn-tui-'));
  const socket = join(dir, 'netconf.sock');

  beforeAll(async () => {
    // slo also holds W5 on its loopback: the service the TUI creates answers there.
    lab = await Lab.up({ net: NET, loopbackIps: [W1, `10.${NET}.100.4`, `fd00:${NET}:100::1`, W5] });
    daemon = await startDaemon({ db: join(dir, 'vcn.db'), netns: lab.ns('eng'), log: () => undefined, netconf: { unix: socket } });
    const nb = daemon.northbound;
    const s = nb.openSession('setup', 'cli');
    nb.setCandidate(s.id, lab.demoConfig());
    await nb.commit(s.id, { comment: 'lab demo' });
    nb.closeSession(s.id);
    tui = startTui(['--socket', socket, '--refresh-ms', '1000']);
  });

  afterAll(async () => {
    await tui?.close();
    await daemon?.stop();
    await lab?.down();
    rmSync(dir, { recursive: true, force: true });
  });

  it('first-boot wizard: refuses a weak password, shows a daemon error with its code keeping the form, then commits', async () => {
    const t = tui!;
    await t.waitFor('[ Apply and commit ]');
    await field(t, 4, 'admin'); // weak admin password
    await field(t, 5, 'admin');
    await pick(t, 10); // Apply and commit
    await t.waitFor('ERROR WEAK_PASSWORD');
    await field(t, 4, 'Tr4ffic-Steer!');
    await field(t, 5, 'Tr4ffic-Steer!');
    await field(t, 0, 'bad_host');
    await field(t, 2, '192.0.2.10/24');
    await field(t, 3, '192.0.2.1');
    await field(t, 7, 'auth-pass-phrase');
    await field(t, 8, 'priv-pass-phrase');
    await pick(t, 10);
    // The daemon refuses the host name (schema pattern): the code is shown, and what was typed stays.
    const screen = await t.waitFor('ERROR SCHEMA_PATTERN');
    expect(screen).toContain('Host name               : bad_host');
    expect(screen).toContain('Management address/len  : 192.0.2.10/24');
    expect(screen).toMatch(/Admin password again\s+: \*{14}/);
    await field(t, 0, 'edge1');
    await pick(t, 10);
    const dash = await t.waitFor('Setup committed as commit 2');
    expect(dash).toMatch(/^ VCN edge1 \| Dashboard/);
    const running = daemon!.northbound.getConfig(daemon!.northbound.openSession('check', 'cli').id, 'running');
    expect(running.system.hostname).toBe('edge1');
    expect(running.system.management.gateway).toBe('192.0.2.1');
    expect(running.system.login.user.map((u) => u.name)).toEqual(['admin']);
    expect(running.system.snmp['v3-user'].map((u) => u.name)).toEqual(['nms']);
  });

  it('creates a service from a package, sees its chain hop by hop, and commits it with a comment', async () => {
    const t = tui!;
    t.send('s');
    await t.waitFor('Enter:chain+ACL');
    t.send('p');
    await t.waitFor('New service from a package');
    await field(t, 0, 'shop');
    await field(t, 2, '9'); // port
    await pick(t, 3); // protocol tcp -> udp
    await field(t, 4, W5);
    await pick(t, 7); // Next
    await t.waitFor('Pick a device or pool per function');
    await pick(t, 2); // Create in candidate (firewall: device fw, server: device slo)
    const detail = await t.waitFor('added to the candidate');
    expect(detail).toContain(`Service shop  ${W5}  package secure-web`);
    expect(detail).toContain('Port 9/udp');
    expect(detail).toMatch(/--> \[1\] fw \(firewall, transparent/);
    expect(detail).toMatch(/--> \[2\] slo \(server, loopback/);
    t.send('c');
    await t.waitFor('[ Commit ]');
    await t.waitFor(/\+ .*shop/);
    await field(t, 0, 'add shop');
    await pick(t, 2);
    await t.waitFor(/Commit 3 complete/);
    expect(t.text()).toContain('Changes running -> candidate: 0');
  });

  it('live counters of the new service move while UDP traffic flows through the lab', async () => {
    const t = tui!;
    t.send('n');
    await t.waitFor(/shop\s+9\s+\d+/);
    const inPkts = () => Number(/shop\s+9\s+(\d+)/.exec(t.text())?.[1] ?? -1);
    const before = inPkts();
    const send = `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(300):\n  s.sendto(b'x'*100,('${W5}',9)); time.sleep(0.02)`;
    const b0 = t.bytes();
    const t0 = Date.now();
    const flow = lab!.run('cl', ['/usr/bin/python3', '-c', send], { timeoutMs: 60_000 });
    await t.waitFor(() => inPkts() >= before + 50);
    await flow;
    expect(inPkts()).toBeGreaterThan(before);
    // Only the changed digits are redrawn: far below a full 80×24 repaint (~2 kB) per refresh.
    const perSecond = ((t.bytes() - b0) * 1000) / (Date.now() - t0);
    console.log(`live counters under traffic: ${perSecond.toFixed(0)} bytes/s written to the terminal`);
    expect(perSecond).toBeLessThan(1500);
  });

  it('a commit the daemon refuses shows its code and keeps the edit and the comment', async () => {
    const t = tui!;
    t.send('s');
    await t.waitFor('Enter:chain+ACL');
    t.send('p');
    await t.waitFor('New service from a package');
    await field(t, 0, 'dup');
    await field(t, 4, W1); // the web service's address
    await pick(t, 7);
    await t.waitFor('Pick a device or pool per function');
    await pick(t, 2);
    await t.waitFor('added to the candidate');
    t.send('c');
    await t.waitFor(/\+ .*dup/);
    await field(t, 0, 'try dup');
    await pick(t, 2);
    const s = await t.waitFor('ERROR DUPLICATE_SERVICE_ADDRESS');
    expect(s).toContain('Comment             : try dup');
    expect(s).toMatch(/\+ .*dup/);
    await pick(t, 3); // Discard
    await t.type('y\r');
    await t.waitFor('Candidate discarded.');
  });

  it('rolls back from the history screen', async () => {
    const t = tui!;
    t.send('h');
    await t.waitFor(/3 .* add shop/);
    await pick(t, 1); // commit 2 (the wizard), shows its changes
    await t.waitFor('Commit 2 vs 1');
    t.send('r');
    await t.waitFor('Roll back to commit 2?');
    await t.type('y\r');
    await t.waitFor('Rolled back to commit 2 as commit 4.');
    const s = daemon!.northbound.openSession('check2', 'cli');
    expect(daemon!.northbound.getConfig(s.id, 'running').services.service.map((x) => x.name)).not.toContain('shop');
    t.send('s');
    await t.waitFor('Enter:chain+ACL');
    expect(t.text()).not.toContain('shop');
  });
});
