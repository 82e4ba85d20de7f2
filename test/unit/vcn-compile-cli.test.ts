/** `vcn compile` as a script sees it: real process, exit codes, stdout and stderr. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/golden/compile');
const tmp = mkdtempSync(join(tmpdir(), 'vcn-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const vcn = (...args: string[]) => spawnSync(join(root, 'bin/vcn'), args, { encoding: 'utf8' });

describe('vcn compile', () => {
  it('prints the sequence table', () => {
    const r = vcn('compile', '--config', join(fixtures, 'fig6b-loopback.json'));
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^service\s+from\s+recv\s+src MAC/);
    expect(r.stdout).toContain('W1:8080');
  });

  it('--json prints the rows and service policies', () => {
    const r = vcn('compile', '--config', join(fixtures, 'fig8c-nat.json'), '--json');
    expect(r.status).toBe(0);
    const table = JSON.parse(r.stdout);
    expect(table.rows[1].sends).toEqual([
      { interface: 'I1', mode: 'transparent', mac: '02:00:00:00:0d:01', ip: '203.0.113.1', port: 80, copy: true, device: 'IDS' },
      { interface: 'I3', mode: 'nat', mac: '02:00:00:00:0a:01', ip: '10.0.3.1', port: 8080, copy: false, device: 'APP1' },
    ]);
    expect(table.services[0]).toMatchObject({ service: 'W1', address: '203.0.113.1' });
  });

  it('reads XML configuration too', () => {
    const xml = join(tmp, 'c.xml');
    writeFileSync(xml, `<?xml version="1.0"?>
<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">
  <interfaces xmlns="urn:vcn:appliance"><interface><name>I0</name><role>uplink</role></interface>
    <interface><name>I1</name><role>device-segment</role></interface></interfaces>
  <devices xmlns="urn:vcn:appliance"><device><name>S1</name><function>server</function><delivery-mode>alias</delivery-mode>
    <leg><name>s1</name><interface>I1</interface><mac>02:00:00:00:05:01</mac></leg></device></devices>
  <services xmlns="urn:vcn:appliance"><service><name>web</name><service-ip>203.0.113.5</service-ip>
    <port><port>443</port><step><seq>1</seq><device>S1</device></step></port></service></services>
</config>`);
    const r = vcn('compile', '--config', xml, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).rows).toHaveLength(2);
  });

  it('an invalid config exits 1 with every error as CODE path: message', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({
      'vcn:interfaces': { interface: [{ name: 'I0', role: 'uplink' }] },
      'vcn:services': { service: [{ name: 'web', 'service-ip': '203.0.113.5', dscp: 70, port: [{ port: 80, step: [{ seq: 1, device: 'nope' }] }] }] },
    }));
    const r = vcn('compile', '--config', bad);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      "SCHEMA_RANGE /services/service[name='web']/dscp: 70 is outside the allowed range 0..63",
      "UNKNOWN_DEVICE /services/service[name='web']/port[port='80']/step[seq='1']/device: device 'nope' does not exist",
    ]);
  });

  it('a missing file exits 1 with CONFIG_READ', () => {
    const r = vcn('compile', '--config', join(tmp, 'none.json'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^CONFIG_READ \/: cannot read .*none\.json/);
  });

  it('usage errors exit 2', () => {
    expect(vcn('compile').status).toBe(2);
    expect(vcn('frobnicate').status).toBe(2);
  });
});
