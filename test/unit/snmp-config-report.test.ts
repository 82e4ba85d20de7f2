/** snmpd.conf generated from system/snmp, and usage reports from accounting samples (pure parts). */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { VcnError } from '../../appliance/errors.js';
import { reportCsv, reportJson, usageReport } from '../../mgmt/accounting/report.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';
import { snmpdConf } from '../../mgmt/snmp/snmpd-config.js';
import { MIGRATIONS } from '../../mgmt/store/migrations.js';

const base = () => checkConfig({}).config;

describe('snmpd.conf from system/snmp', () => {
  it('v2c communities are limited to their sources (never rocommunity: it admits v1), v3 users are authPriv only', () => {
    const c = base();
    c.system.snmp.community = [{ name: 'ro', source: ['192.0.2.0/24', '2001:db8::/64'] }];
    c.system.snmp['v3-user'] = [{ name: 'nms', 'auth-protocol': 'sha-512', 'auth-password': 'authpass1', 'priv-protocol': 'aes-128', 'priv-password': 'privpass1' }];
    c.system.snmp['trap-destination'] = [
      { name: 't1', address: '192.0.2.9', port: 162, version: 'v3', user: 'nms' },
      { name: 't2', address: '2001:db8::9', port: 1162, version: 'v2c', community: 'traps' },
    ];
    const conf = snmpdConf(c, { agentxSocket: '/run/x/agentx.sock', engineId: '80007ed90501' });
    expect(conf).toContain('agentaddress udp:0.0.0.0:161,udp6:[::]:161');
    expect(conf).toContain('com2sec c0_0 192.0.2.0/24 ro');
    expect(conf).toContain('com2sec6 c0_1 2001:db8::/64 ro');
    expect(conf).toContain('access g_c0 "" v2c noauth exact vcn_all none none');
    expect(conf).not.toMatch(/rocommunity|rouser/);
    expect(conf).toContain('createUser nms SHA-512 "authpass1" AES "privpass1"');
    expect(conf).toContain('access g_v3 "" usm priv exact vcn_all none none');
    expect(conf).toContain('trapsess -v 3 -u nms -l authPriv -a SHA-512 -A "authpass1" -x AES -X "privpass1" udp:192.0.2.9:162');
    expect(conf).toContain('trap2sink udp6:[2001:db8::9]:1162 traps');
    expect(conf).toContain('agentXSocket /run/x/agentx.sock');
    expect(conf).toContain('exactEngineID 0x80007ed90501');
  });

  it('listens on the management address by default and refuses a pass phrase snmpd.conf cannot carry', () => {
    const c = base();
    c.system.management.address = '198.51.100.7/24';
    expect(snmpdConf(c, { agentxSocket: 's', engineId: '00' })).toContain('agentaddress udp:198.51.100.7:161\n');
    c.system.snmp['v3-user'] = [{ name: 'x', 'auth-protocol': 'sha-256', 'auth-password': 'has"quote', 'priv-protocol': 'aes-128', 'priv-password': 'privpass1' }];
    expect(() => snmpdConf(c, { agentxSocket: 's', engineId: '00' })).toThrow(VcnError);
    c.system.snmp['v3-user'] = [{ name: 'x', 'auth-protocol': 'sha-256', 'auth-password': `0x${'ab'.repeat(32)}`, 'priv-protocol': 'aes-128', 'priv-password': `0x${'cd'.repeat(16)}` }];
    expect(snmpdConf(c, { agentxSocket: 's', engineId: '00' })).toContain(`createUser x SHA-256 -l 0x${'ab'.repeat(32)} AES -l 0x${'cd'.repeat(16)}`);
  });
});

describe('usage report', () => {
  it('sums the rises between samples from the last one at or before the start; a fall is a re-created row', () => {
    const db = new Database(':memory:');
    for (const m of MIGRATIONS) db.exec(m.sql);
    const put = db.prepare('INSERT INTO accounting (time, scope, subject, packets, bytes) VALUES (?, ?, ?, ?, ?)');
    const near64 = BigInt.asIntN(64, 2n ** 64n - 100n); // stored signed, read back unsigned
    for (const [t, p, b] of [
      [100, 1, 1000],
      [200, 2, 2000],
      [300, 3, 2500],
      [400, 1, 300], // row re-created: 300 new bytes
      [500, 2, 900],
    ] as const)
      put.run(t, 'service-port', 'web/80/in', p, b);
    put.run(150, 'service-port', 'web/80/out', 5, near64);
    put.run(450, 'service-port', 'web/80/out', 6, BigInt.asIntN(64, 2n ** 64n - 40n));
    put.run(450, 'client', 'acl/web/10', 4, 400);
    put.run(460, 'client', 'acl/web/10', 9, 900);
    const r = usageReport(db, 200, 500);
    expect(r.servicePorts).toEqual([{ service: 'web', port: '80', inPackets: 3n, inBytes: 500n + 300n + 600n, outPackets: 1n, outBytes: 60n }]);
    expect(r.clients).toEqual([{ service: 'web', rule: '10', packets: 5n, bytes: 500n }]);
    expect(reportCsv(r)).toBe('kind,service,port_or_rule,in_packets,in_bytes,out_packets,out_bytes\nservice-port,web,80,3,1400,1,60\nclient,web,10,5,500,,\n');
    expect(JSON.parse(reportJson(r)).servicePorts[0].inBytes).toBe('1400');
    expect(() => usageReport(db, 5, 1)).toThrow(VcnError);
  });
});

describe('SNMPv3 keys localized to the engine ID', () => {
  it('matches RFC 3414 A.3.2 (SHA-1 vector), and the transform replaces pass phrases once', async () => {
    const { localizeKey, usmKeyTransform } = await import('../../mgmt/snmp/usm-keys.js');
    expect(localizeKey('maplesyrup', '000000000000000000000002', 'sha1').toString('hex')).toBe('6695febc9288e36282235fc7151f128497b38f3f');
    const tree = { system: { snmp: { 'v3-user': [{ name: 'nms', 'auth-password': 'authpass1', 'priv-password': 'privpass1' }] } } };
    const t = usmKeyTransform('80007ed90501');
    t(tree);
    const u = tree.system.snmp['v3-user'][0];
    expect(u['auth-password']).toMatch(/^0x[0-9a-f]{64}$/);
    expect(u['priv-password']).toMatch(/^0x[0-9a-f]{32}$/);
    const again = structuredClone(tree);
    t(again);
    expect(again).toEqual(tree);
  });
});
