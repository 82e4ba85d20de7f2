/**
 * SNMP through Debian's snmpd with the daemon's VCN-MIB subagent (AgentX over
 * a unix socket), queried with Debian's snmp tools from another network
 * namespace. The data plane is the dry driver here (no traffic): the tables
 * come from the demo configuration; snmp-lab.test.ts counts real bytes.
 *
 *   nms namespace 10.77.0.2 (+ .3, a source no community admits)
 *      └─ veth ─ agent namespace 10.77.0.1: snmpd (-f -C -c <dir>/snmpd.conf), run by the daemon
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DryDriver } from '../../appliance/datapath/dry-driver.js';
import type { Config } from '../../appliance/model/config.generated.js';
import { demoConfig, planLab } from '../../cli/lab/index.js';
import { setCounterBase } from '../../mgmt/accounting/ledger.js';
import { startDaemon, type Daemon } from '../../mgmt/daemon.js';
import { MiniNet } from './helpers/netns-mini.js';
import { requireRoot } from './helpers/root.js';
import { column, DEV_ENTRY, HOP_ENTRY, snmpTool, SVC_ENTRY, svcIndex, VCN } from './helpers/snmp-tools.js';

const AGENT = '10.77.0.1';
const NMS = '10.77.0.2';
const STRANGER = '10.77.0.3';
const AUTH = 'auth-secret-1';
const PRIV = 'priv-secret-1';
const V3 = ['-v3', '-l', 'authPriv', '-u', 'nms', '-a', 'SHA-256', '-A', AUTH, '-x', 'AES', '-X', PRIV];
const V2C = ['-v2c', '-c', 'nms-ro'];

const net = new MiniNet();
const dir = mkdtempSync(join(tmpdir(), 'vcn-snmp-'));
const plan = planLab({ runId: net.tag.slice(0, 4) });
const macs = Object.fromEntries(plan.engine.ports.map((p) => [p.name, p.mac]));
let nsA: string;
let nsM: string;
let daemon: Daemon | undefined;
let config: Config;
const logs: string[] = [];

const tool = (name: string, args: string[], timeoutMs?: number) => snmpTool(nsM, join(dir, 'cli'), name, args, timeoutMs);
const target = `udp:${AGENT}:161`;

function snmpConfig(c: Config): Config {
  c.system.snmp = {
    enabled: true,
    'listen-address': [AGENT],
    port: 161,
    'v3-user': [{ name: 'nms', 'auth-protocol': 'sha-256', 'auth-password': AUTH, 'priv-protocol': 'aes-128', 'priv-password': PRIV }],
    community: [{ name: 'nms-ro', source: [`${NMS}/32`] }],
    'trap-destination': [{ name: 'nms', address: NMS, port: 1162, version: 'v3', user: 'nms' }],
    location: 'lab rack 1',
    contact: 'noc@vcn.invalid',
  };
  return c;
}

async function start(): Promise<Daemon> {
  return startDaemon({
    db: join(dir, 'vcn.db'),
    datapath: new DryDriver(),
    facts: async () => ({ interfaceMacs: macs }),
    log: (l) => logs.push(l),
    snmp: { dir: join(dir, 'snmp'), netns: nsA },
    sampleEveryMs: 0,
  });
}

async function commit(d: Daemon, c: Config, comment: string) {
  const s = d.northbound.openSession('admin', 'cli');
  d.northbound.setCandidate(s.id, c);
  const r = await d.northbound.commit(s.id, { comment });
  d.northbound.closeSession(s.id);
  return r;
}

beforeAll(async () => {
  requireRoot();
  nsA = await net.addNs('snmpa');
  nsM = await net.addNs('snmpm');
  await net.veth({ ns: nsA, name: net.ifname('sa'), mac: '02:77:00:00:00:01' }, { ns: nsM, name: net.ifname('sm'), mac: '02:77:00:00:00:02' });
  await net.exec(nsA, ['ip', 'addr', 'add', `${AGENT}/24`, 'dev', net.ifname('sa')]);
  await net.exec(nsM, ['ip', 'addr', 'add', `${NMS}/24`, 'dev', net.ifname('sm')]);
  await net.exec(nsM, ['ip', 'addr', 'add', `${STRANGER}/24`, 'dev', net.ifname('sm')]);
  daemon = await start();
  config = snmpConfig(demoConfig(plan));
  await commit(daemon, config, 'demo with SNMP');
  await daemon.snmp!.settle();
  await daemon.snmp!.agent!.registered();
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await net.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('SNMP through snmpd and the VCN-MIB subagent', () => {
  it('snmpbulkwalk over v3 authPriv (SHA-256 + AES-128) returns the service, hop and device tables', async () => {
    const r = await tool('snmpbulkwalk', [...V3, target, VCN]);
    expect(r.code, r.stderr).toBe(0);
    const names = column(r.values, SVC_ENTRY, 4);
    expect(names.get(svcIndex(plan.service.W1, 80))).toBe('web');
    expect(names.get(svcIndex(plan.service.W4, 9))).toBe('web-ids');
    expect([...names.values()]).toEqual(expect.arrayContaining(['web', 'web-alias', 'web-nat', 'web-ids', 'web6', 'isp']));
    // Hops of web/80: forward from the client (step 0) and from the firewall (step 1), and back.
    const hopDevices = column(r.values, HOP_ENTRY, 5);
    expect(hopDevices.get(`${svcIndex(plan.service.W1, 80)}.1.0.1`)).toBe('fw');
    expect(hopDevices.get(`${svcIndex(plan.service.W1, 80)}.1.1.1`)).toBe('slo');
    const devName = (n: string) => `${[...Buffer.from(n)].join('.')}`;
    const devFunction = column(r.values, DEV_ENTRY, 2);
    expect(devFunction.get(devName('fw'))).toBe('1'); // firewall(1)
    expect(column(r.values, DEV_ENTRY, 10).get(devName('slo'))).toBe('slo');
    // The pass phrases were stored only as keys localized to the engine ID, and snmpd.conf carries those keys.
    const stored = daemon!.store.running().config!.system.snmp['v3-user'][0];
    expect(stored['auth-password']).toMatch(/^0x[0-9a-f]{64}$/);
    expect(stored['priv-password']).toMatch(/^0x[0-9a-f]{32}$/);
    const { readFileSync } = await import('node:fs');
    const conf = readFileSync(daemon!.snmp!.snmpd.conf, 'utf8');
    expect(conf).not.toContain(AUTH);
    expect(conf).toContain(`createUser nms SHA-256 -l ${stored['auth-password']} AES -l ${stored['priv-password']}`);
    // snmpd answers its own MIB-II too, from the configuration.
    const sys = await tool('snmpget', [...V3, target, '.1.3.6.1.2.1.1.6.0', '.1.3.6.1.2.1.1.4.0']);
    expect([...sys.values.values()]).toEqual(['lab rack 1', 'noc@vcn.invalid']);
  });

  it('snmpbulkwalk over v2c from the allowed source returns the same tables', async () => {
    const v3 = await tool('snmpbulkwalk', [...V3, target, `${VCN}.1.2`]);
    const v2 = await tool('snmpbulkwalk', [...V2C, target, `${VCN}.1.2`]);
    expect(v2.code, v2.stderr).toBe(0);
    expect(v2.values.size).toBeGreaterThan(40);
    expect(v2.values).toEqual(v3.values);
  });

  it('wrong user, wrong keys, a wrong community or a disallowed source get nothing, and the daemon keeps serving', async () => {
    const quick = ['-t', '1', '-r', '0'];
    const oid = `${VCN}.1.1.3.0`;
    const wrongUser = await tool('snmpget', [...quick, ...V3.map((a) => (a === 'nms' ? 'intruder' : a)), target, oid]);
    expect(wrongUser.values.size).toBe(0);
    expect(wrongUser.stderr).toMatch(/Unknown user name/);
    const wrongAuth = await tool('snmpget', [...quick, ...V3.map((a) => (a === AUTH ? 'not-the-auth-key' : a)), target, oid]);
    expect(wrongAuth.values.size).toBe(0);
    expect(wrongAuth.stderr).toMatch(/Authentication failure/);
    const wrongPriv = await tool('snmpget', [...quick, ...V3.map((a) => (a === PRIV ? 'not-the-priv-key' : a)), target, oid]);
    expect(wrongPriv.values.size).toBe(0);
    const wrongCommunity = await tool('snmpget', [...quick, '-v2c', '-c', 'public', target, oid]);
    expect(wrongCommunity.values.size).toBe(0);
    expect(wrongCommunity.stderr).toMatch(/Timeout/);
    const stranger = await tool('snmpget', [...quick, ...V2C, `--clientaddr=${STRANGER}`, target, oid]);
    expect(stranger.values.size).toBe(0);
    expect(stranger.stderr).toMatch(/Timeout/);
    const v1 = await tool('snmpget', [...quick, '-v1', '-c', 'nms-ro', target, oid]);
    expect(v1.values.size).toBe(0);
    const ok = await tool('snmpget', [...V2C, target, oid]);
    expect(ok.values.get(oid)).toBe(String(daemon!.store.runningId()));
  });

  it('40 concurrent bulkwalks all complete with the full table', async () => {
    const reference = await tool('snmpbulkwalk', [...V3, target, `${VCN}.1.3`]);
    expect(reference.values.size).toBeGreaterThan(50);
    const walks = await Promise.all(
      Array.from({ length: 40 }, (_, i) => tool('snmpbulkwalk', [...(i % 2 ? V3 : V2C), '-t', '10', '-r', '1', '-Cr5', target, `${VCN}.1.3`], 120_000)),
    );
    for (const w of walks) {
      expect(w.code, w.stderr).toBe(0);
      expect(w.values).toEqual(reference.values);
    }
  });

  it('a missing row answers noSuchInstance, an unknown object noSuchObject', async () => {
    const r = await tool('snmpget', [...V3, target, `${SVC_ENTRY}.7.${svcIndex('192.0.2.99', 80)}`, `${SVC_ENTRY}.99.${svcIndex(plan.service.W1, 80)}`]);
    const [missingRow, unknownColumn] = r.stdout.trim().split('\n');
    expect(missingRow).toMatch(/No Such Instance/);
    expect(unknownColumn).toMatch(/No Such Object/);
  });

  it('after snmpd restarts the subagent registers again within 5 s, by itself', async () => {
    const snmp = daemon!.snmp!;
    const before = snmp.agent!.registrations;
    const oldPid = snmp.snmpd.pid!;
    const t0 = Date.now();
    process.kill(oldPid, 'SIGKILL');
    let served = 0;
    while (Date.now() - t0 < 10_000) {
      const r = await tool('snmpget', ['-t', '0.5', '-r', '0', ...V2C, target, `${VCN}.1.1.3.0`]);
      if (r.values.get(`${VCN}.1.1.3.0`) === String(daemon!.store.runningId())) {
        served = Date.now() - t0;
        break;
      }
    }
    expect(served, logs.slice(-5).join('\n')).toBeGreaterThan(0);
    expect(served).toBeLessThan(5000);
    expect(snmp.snmpd.pid).not.toBe(oldPid);
    expect(snmp.agent!.registrations).toBe(before + 1);
  });

  it('snmptrapd receives vcnConfigCommitted (v3 authPriv) with the commit\'s user, client, kind and comment', async () => {
    const conf = join(dir, 'snmptrapd.conf');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(conf, `createUser -e 0x${daemon!.snmp!.engineId} nms SHA-256 "${AUTH}" AES "${PRIV}"\nauthUser log nms priv\ndisableAuthorization no\n`);
    const trapd = net.start(nsM, ['env', `SNMP_PERSISTENT_DIR=${join(dir, 'trapd')}`, 'MIBS=', 'snmptrapd', '-f', '-C', '-c', conf, '-Lo', '-On', '-X', `udp:${NMS}:1162`]);
    let out = '';
    trapd.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    await net.waitFor(trapd, /NET-SNMP version/);
    const c = structuredClone(config);
    c.services.service.find((s) => s.name === 'web')!.description = 'trap test';
    const r = await commit(daemon!, c, 'trap-test comment');
    const id = r.commit.id;
    await expect.poll(() => out, { timeout: 10_000 }).toMatch(new RegExp(`${VCN.replace(/\./g, '\\.')}\\.1\\.6\\.1\\.6\\.${id} = STRING: "trap-test comment"`));
    expect(out).toContain(`.1.3.6.1.6.3.1.1.4.1.0 = OID: ${VCN}.0.5`);
    expect(out).toContain(`${VCN}.1.6.1.3.${id} = STRING: "admin"`);
    expect(out).toContain(`${VCN}.1.6.1.4.${id} = INTEGER: 3`); // cli(3)
    expect(out).toContain(`${VCN}.1.6.1.5.${id} = INTEGER: 1`); // commit(1)
    // Device events (written by health checking) become notifications too.
    daemon!.store.event('device-down', 'fw', { reason: 'no heartbeat through fw0 → fw1' });
    await daemon!.snmp!.settle();
    await expect.poll(() => out, { timeout: 10_000 }).toContain(`.1.3.6.1.6.3.1.1.4.1.0 = OID: ${VCN}.0.1`);
    expect(out).toContain(`${VCN}.1.7.1.0 = STRING: "fw"`);
    // …and the device table shows it down with one failure.
    const dev = await tool('snmpget', [...V3, target, `${DEV_ENTRY}.6.102.119`, `${DEV_ENTRY}.8.102.119`]);
    expect([...dev.values.values()]).toEqual(['2', '1']);
  });

  it('Counter64 values above 2^53 and near 2^64 read back exactly (bases set in the store between daemon runs)', async () => {
    await daemon!.stop();
    daemon = undefined;
    const db = new Database(join(dir, 'vcn.db'));
    const above53 = 2n ** 53n + 3n;
    const near64 = 2n ** 64n - 7n;
    setCounterBase(db, 'svc/web/80/in', { packets: above53, bytes: near64 });
    setCounterBase(db, 'hop/web/80/f1', { packets: 1n, bytes: 2n ** 63n + 5n });
    db.close();
    daemon = await start();
    await daemon.snmp!.agent!.registered();
    const idx = svcIndex(plan.service.W1, 80);
    const r = await tool('snmpget', [...V3, target, `${SVC_ENTRY}.7.${idx}`, `${SVC_ENTRY}.8.${idx}`, `${HOP_ENTRY}.6.${idx}.1.1.1`]);
    expect(r.values.get(`${SVC_ENTRY}.7.${idx}`)).toBe(String(near64));
    expect(r.values.get(`${SVC_ENTRY}.8.${idx}`)).toBe(String(above53));
    expect(r.values.get(`${HOP_ENTRY}.6.${idx}.1.1.1`)).toBe(String(2n ** 63n + 5n));
  });
});
