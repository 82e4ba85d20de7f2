/**
 * The appliance image booted under QEMU (`npm run image:test`, after `npm run
 * image`): four virtio NICs — eth0 management on QEMU's user network with
 * NETCONF (830) and SNMP (161) forwarded to loopback, eth1..eth3 on taps in
 * namespaces (a client, a server, a bystander). Checks the serial console
 * (the TUI's first-boot wizard, then filled in by keys typed into ttyS0: admin
 * password and SNMPv3 user), NETCONF with Debian's ncclient, SNMPv3, a
 * datagram through a committed service and back, that a power cycle keeps the
 * configuration, and that an image update (image/update.sh) keeps it too.
 * VCN_IMAGE_FROM=DIR starts from an earlier build's output and updates to this one.
 *
 * Needs root (taps, namespaces) and /dev/kvm; without KVM it is skipped with
 * that reason unless VCN_IMAGE_TCG=1 asks for QEMU's (much slower) TCG.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Taps } from './taps.js';
import { Vm } from './qemu-vm.js';
import { SerialScreen } from './serial-screen.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const OUT = resolve(ROOT, process.env.VCN_IMAGE_OUT ?? 'output');
/**
 * The image the appliance starts from: this build's, or with VCN_IMAGE_FROM an
 * earlier build's output folder, so the update check goes from that build to this one.
 */
const FROM = process.env.VCN_IMAGE_FROM ? resolve(ROOT, process.env.VCN_IMAGE_FROM) : OUT;
const IMAGE = join(FROM, 'vcn-appliance.qcow2');
const HERE = import.meta.dirname;

function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
const KVM = kvmUsable();
const TCG = !KVM && process.env.VCN_IMAGE_TCG === '1';
const isRoot = process.getuid?.() === 0;
const skipReason = !isRoot
  ? 'needs root (tap devices, network namespaces)'
  : !KVM && !TCG
    ? 'no usable /dev/kvm on this machine (VCN_IMAGE_TCG=1 runs it under TCG, slowly)'
    : '';
/** Generous bounds: TCG emulates every instruction. */
const SLOW = TCG ? 6 : 1;
const BOOT_MS = 150_000 * SLOW;

const features = (() => {
  try {
    return JSON.parse(readFileSync(join(FROM, 'build.json'), 'utf8')).features as { snmp?: boolean; tui?: boolean };
  } catch {
    return {};
  }
})();

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** The console once set up: the TUI's dashboard (or, without the TUI, the banner). */
const AFTER_SETUP = /\| Dashboard|VCN appliance serial console/;

const MACS = ['52:54:00:56:43:10', '52:54:00:56:43:11', '52:54:00:56:43:12', '52:54:00:56:43:13'];
const CLIENT_IP = '198.51.100.1';
const SERVICE_IP = '203.0.113.10';
const SERVER_IP = '10.9.0.2';
const PORT = 5000;
const CLIENT_MAC = '02:00:00:00:09:01';
const SERVER_MAC = '02:00:00:00:09:02';

describe.skipIf(skipReason !== '')(`appliance image under QEMU ${skipReason ? `(skipped: ${skipReason})` : KVM ? '(KVM)' : '(TCG)'}`, () => {
  /** Made in beforeAll, so a skipped run leaves no folder behind. */
  let dir = '';
  const password = `Vcn-${randomBytes(9).toString('base64url')}7`;
  const snmpAuth = `auth-${randomBytes(6).toString('hex')}`;
  const snmpPriv = `priv-${randomBytes(6).toString('hex')}`;
  const taps = new Taps(['client', 'server', 'other']);
  const [client, server, other] = taps.ports;
  const logLines: string[] = [];
  const log = (l: string) => logLines.push(`${new Date().toISOString()} ${l}`);
  let vm: Vm;
  let screen: SerialScreen;
  let ports: { nc: number; snmp: number; ssh: number };
  let consoleSeconds = 0;
  /** Per-appliance identities kept on vcn-data, as first seen. */
  let hostkey = '';
  let engineId = '';

  const startVm = async () => {
    vm = new Vm({
      disk: join(dir, 'disk.qcow2'),
      serial: join(dir, `serial-${Date.now()}.sock`),
      accel: KVM ? 'kvm' : 'tcg',
      forward: { tcp: { [ports.nc]: 830, [ports.ssh]: 22 }, udp: { [ports.snmp]: 161 } },
      taps: taps.ports.map((p) => p.tap),
      macs: MACS,
      // A build without the TUI has no wizard to set the admin password: the seed does.
      seed: features.tui ? undefined : join(dir, 'seed'),
      log,
    });
    screen = new SerialScreen(vm);
    await vm.start();
    // QEMU has opened the taps by name: now each goes into its namespace.
    taps.move({
      [client.ns]: { addr: `${CLIENT_IP}/24`, routes: [['203.0.113.0/24']], neigh: [[SERVICE_IP, MACS[1]]] },
      // The engine's health probes come from 198.18.0.1 (appliance/probe-sources.ts): the server answers them through the engine too.
      [server.ns]: { addr: `${SERVER_IP}/24`, routes: [['default']], neigh: [[CLIENT_IP, MACS[2]], ['198.18.0.1', MACS[2]]] },
      [other.ns]: { addr: '10.9.0.3/24' },
    });
  };
  const nc = async (action: 'commit' | 'get', cfg?: string) => {
    const args = [join(HERE, 'image-nc.py'), String(ports.nc), 'admin', password, action, cfg ?? '-', String(BOOT_MS / 1000)];
    const { stdout } = await run('/usr/bin/python3', args, { timeout: BOOT_MS + 60_000 });
    return JSON.parse(stdout) as { session_id: string; hostkey: string; edit?: string; commit?: string; running: string; error?: string };
  };
  const probe = async () => {
    const echo = execFile('ip', ['netns', 'exec', server.ns, '/usr/bin/python3', join(HERE, 'udp-probe.py'), 'echo', SERVER_IP, String(PORT), String(60 * SLOW)]);
    let echoed = '';
    echo.stdout?.on('data', (d: Buffer) => (echoed += d.toString()));
    const sniff = execFile('ip', ['netns', 'exec', other.ns, 'timeout', String(30 * SLOW), 'tcpdump', '-n', '-l', '-i', other.tap, '-c', '1', 'udp port 5000'], () => {});
    let sniffed = '';
    sniff.stdout?.on('data', (d: Buffer) => (sniffed += d.toString()));
    sniff.stderr?.on('data', (d: Buffer) => (sniffed += d.toString()));
    // The bystander's capture must be running before the first datagram.
    for (let i = 0; i < 100 && !sniffed.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100));
    try {
      const r = await run('ip', ['netns', 'exec', client.ns, '/usr/bin/python3', join(HERE, 'udp-probe.py'), 'send', SERVICE_IP, String(PORT), 'hello-vcn', String(30 * SLOW)]).catch((e: { stdout: string }) => e);
      return { reply: JSON.parse(r.stdout) as { reply: string | null; from?: string; sent: number }, echoed, sniffed: () => sniffed };
    } finally {
      echo.kill();
      setTimeout(() => sniff.kill(), 2000).unref();
    }
  };

  beforeAll(async () => {
    if (!existsSync(IMAGE)) throw new Error(`${IMAGE} is missing: run npm run image first`);
    dir = mkdtempSync(join(tmpdir(), 'vcn-image-test-'));
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', IMAGE, join(dir, 'disk.qcow2')]);
    writeFileSync(join(dir, 'seed'), `admin-password=${password}\n`, { mode: 0o600 });
    ports = { nc: await freePort(), snmp: await freePort(), ssh: await freePort() };
    taps.create([CLIENT_MAC, SERVER_MAC, '02:00:00:00:09:03']);
    await startVm();
  }, BOOT_MS);

  afterAll(async () => {
    await vm?.stop();
    taps.cleanup();
    if (process.env.VCN_IMAGE_KEEP) console.log(`kept ${dir}`);
    else if (dir) rmSync(dir, { recursive: true, force: true });
    writeFileSync(join(OUT, 'image-test.log'), `${logLines.join('\n')}\n--- serial console ---\n${vm?.raw ?? ''}`);
  });

  it('the serial console shows the first-boot wizard of the TUI (or, in a build without the TUI, the console banner)', async () => {
    const tui = /First-boot setup/;
    const banner = /VCN appliance serial console/;
    consoleSeconds = await vm.waitConsole(features.tui === false ? banner : new RegExp(`${tui.source}|${banner.source}`), BOOT_MS);
    const shown = tui.test(vm.text) ? 'tui wizard' : 'banner';
    log(`console: ${shown} after ${consoleSeconds.toFixed(1)} s`);
    console.log(`image boot: ${shown} on ttyS0 ${consoleSeconds.toFixed(1)} s after QEMU started (${KVM ? 'KVM' : 'TCG'})`);
    if (features.tui) expect(shown).toBe('tui wizard');
    expect(vm.text).not.toMatch(/login:\s*$/m);
  }, BOOT_MS + 10_000);

  it.runIf(features.tui)('scripted setup over the serial console: the wizard sets the admin password and an SNMPv3 user, and commits', async () => {
    const t0 = Date.now();
    await screen.waitFor(/\[ Apply and commit \]/, BOOT_MS);
    const step = 60_000 * SLOW;
    await screen.field(4, 'Admin password', password, step);
    await screen.field(5, 'Admin password again', password, step);
    await screen.field(7, 'SNMPv3 auth pass phrase', snmpAuth, step);
    await screen.field(8, 'SNMPv3 priv pass phrase', snmpPriv, step);
    const done = await screen.pick(10, /Setup committed as commit \d+|ERROR \S+/, step);
    log(`wizard over ttyS0 (${((Date.now() - t0) / 1000).toFixed(1)} s):\n${done}`);
    expect(done).toMatch(/Setup committed as commit \d+/);
    expect(done).toMatch(/\| Dashboard/);
  }, BOOT_MS + 600_000);

  it('ncclient connects over port 830 with the admin password and commits a service', async () => {
    // Without the TUI (and its wizard) in the build, the SNMPv3 user comes with the service.
    const snmp = features.snmp && !features.tui
      ? `<system xmlns="urn:vcn:appliance"><snmp><v3-user><name>nms</name><auth-password>${snmpAuth}</auth-password><priv-password>${snmpPriv}</priv-password></v3-user></snmp></system>`
      : '';
    const cfg = `<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">${snmp}
      <interfaces xmlns="urn:vcn:appliance">
        <interface><name>eth1</name><role>uplink</role><gateway><ip>${CLIENT_IP}</ip><mac>${CLIENT_MAC}</mac></gateway></interface>
        <interface><name>eth2</name><role>device-segment</role></interface>
        <interface><name>eth3</name><role>device-segment</role></interface>
      </interfaces>
      <devices xmlns="urn:vcn:appliance"><device><name>srv</name><function>server</function><delivery-mode>nat</delivery-mode><ip>${SERVER_IP}</ip>
        <leg><name>s0</name><interface>eth2</interface><mac>${SERVER_MAC}</mac></leg></device></devices>
      <services xmlns="urn:vcn:appliance"><service><name>web</name><customer>acme</customer><service-ip>${SERVICE_IP}</service-ip>
        <port><port>${PORT}</port><protocol>udp</protocol><step><seq>1</seq><device>srv</device></step></port></service></services>
    </config>`;
    writeFileSync(join(dir, 'config.xml'), cfg);
    const r = await nc('commit', join(dir, 'config.xml'));
    log(`ncclient: ${JSON.stringify(r).slice(0, 500)}`);
    expect(r.error).toBeUndefined();
    expect(r.edit).toContain('ok');
    expect(r.commit).toContain('ok');
    expect(r.running).toContain(`<service-ip>${SERVICE_IP}</service-ip>`);
    hostkey = r.hostkey;
  }, BOOT_MS + 60_000);

  it('no sshd in the image: port 22 gives no SSH banner', async () => {
    const got = await new Promise<string>((res) => {
      let data = '';
      const c = createConnection(ports.ssh, '127.0.0.1');
      c.on('data', (d) => (data += d.toString()));
      c.on('error', () => res(data));
      c.on('close', () => res(data));
      setTimeout(() => {
        c.destroy();
        res(data);
      }, 5000 * SLOW);
    });
    expect(got).not.toContain('SSH-');
  }, 60_000 * SLOW);

  it('a UDP datagram to the service address goes in eth1, out eth2 to the server (NAT), and its reply back out eth1; eth3 sees none', async () => {
    const p = await probe();
    log(`probe: ${JSON.stringify(p.reply)} echo=${p.echoed.trim()} sniffed=${p.sniffed().trim()}`);
    expect(p.reply.reply).toBe('echo:hello-vcn');
    expect(p.reply.from).toBe(`${SERVICE_IP}:${PORT}`);
    expect(p.echoed).toContain(`from ${CLIENT_IP}:`);
    expect(p.sniffed()).toContain('listening on');
    expect(p.sniffed()).not.toContain('UDP');
  }, 120_000 * SLOW);

  /** snmpget over SNMPv3 authPriv as the wizard's user, retried while snmpd starts. */
  const snmpget = async (...oids: string[]) => {
    const args = ['-v3', '-l', 'authPriv', '-u', 'nms', '-a', 'SHA-256', '-A', snmpAuth, '-x', 'AES', '-X', snmpPriv, '-t', String(5 * SLOW), '-r', '3', `udp:127.0.0.1:${ports.snmp}`];
    let out = '';
    for (let i = 0; i < 10 && !out.includes(' = '); i++) {
      out = await run('snmpget', [...args, ...oids]).then((r) => r.stdout, (e: { stderr?: string }) => String(e.stderr));
      if (!out.includes(' = ')) await new Promise((r) => setTimeout(r, 3000));
    }
    log(`snmpget: ${out}`);
    return out;
  };
  const ENGINE_ID = '1.3.6.1.6.3.10.2.1.1.0';
  const engineOf = (out: string) => /10\.2\.1\.1\.0 = Hex-STRING: ([0-9A-F ]+)/.exec(out)?.[1]?.trim() ?? '';

  it.runIf(features.snmp)('snmpget over SNMPv3 authPriv answers sysDescr and a VCN-MIB scalar', async () => {
    const out = await snmpget('1.3.6.1.2.1.1.1.0', '1.3.6.1.4.1.32473.1.1.1.1.0', ENGINE_ID);
    expect(out).toMatch(/iso\.3\.6\.1\.2\.1\.1\.1\.0 = STRING: .*Linux|SNMPv2-MIB::sysDescr\.0 = STRING/);
    expect(out).toMatch(/32473\.1\.1\.1\.1\.0 = STRING/);
    engineId = engineOf(out);
    expect(engineId).toMatch(/^80 00 7E D9/); // enterprise 32473 (0x7ED9) with the "format" bit
  }, 120_000 * SLOW);

  it('after a power cycle the configuration is still committed and the data plane forwards again', async () => {
    await vm.stop();
    taps.reclaim();
    await startVm();
    await screen.waitFor(AFTER_SETUP, BOOT_MS);
    const again = (Date.now() - vm.startedAt) / 1000;
    log(`second boot: console after ${again.toFixed(1)} s`);
    const r = await nc('get');
    expect(r.running).toContain(`<service-ip>${SERVICE_IP}</service-ip>`);
    expect(r.hostkey).toBe(hostkey);
    const p = await probe();
    expect(p.reply.reply).toBe('echo:hello-vcn');
  }, BOOT_MS * 2 + 240_000);

  it('an image update (image/update.sh: new root filesystem, vcn-data kept) keeps the configuration', async () => {
    await vm.stop();
    taps.reclaim();
    const raw = join(dir, 'disk.raw');
    execFileSync('qemu-img', ['convert', '-O', 'raw', join(dir, 'disk.qcow2'), raw]);
    const release = (d: string) => (JSON.parse(readFileSync(join(d, 'build.json'), 'utf8')) as { release: string }).release;
    // The root filesystem (partition 1 at 1 MiB, image/build-base.sh) read without mounting it.
    const onDisk = () => execFileSync('debugfs', ['-R', 'cat /etc/vcn/release', `${raw}?offset=1048576`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const before = onDisk();
    execFileSync('bash', [join(ROOT, 'image/update.sh'), join(OUT, 'vcn-appliance.raw'), raw], { stdio: 'pipe' });
    log(`update: root ${before} -> ${onDisk()} (builds: ${release(FROM)} -> ${release(OUT)})`);
    expect(before).toBe(release(FROM));
    expect(onDisk()).toBe(release(OUT));
    execFileSync('qemu-img', ['convert', '-O', 'qcow2', raw, join(dir, 'disk.qcow2')]);
    rmSync(raw);
    await startVm();
    await screen.waitFor(AFTER_SETUP, BOOT_MS);
    log(`after the update: console after ${((Date.now() - vm.startedAt) / 1000).toFixed(1)} s`);
    const r = await nc('get');
    expect(r.running).toContain(`<service-ip>${SERVICE_IP}</service-ip>`);
    // The identities on vcn-data came through the update: same host key, same SNMP engine.
    expect(r.hostkey).toBe(hostkey);
    if (features.snmp) expect(engineOf(await snmpget(ENGINE_ID))).toBe(engineId);
    const p = await probe();
    expect(p.reply.reply).toBe('echo:hello-vcn');
  }, BOOT_MS * 2 + 240_000);
});
