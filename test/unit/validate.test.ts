/**
 * One test per validation error: the code, the path of the node at fault and
 * the message an operator reads. Each case breaks one thing in a valid config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_ERROR_CODES, type ValidationIssue } from '../../appliance/errors.js';
import { checkConfig, parseConfigText } from '../../mgmt/schema/load-config.js';
import { fromJson7951 } from '../../mgmt/schema/config-codec.js';

type Tree = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const fixture = (name: string): Tree =>
  fromJson7951(JSON.parse(readFileSync(join(import.meta.dirname, '../golden/compile', name), 'utf8'))).tree;

const dev = (t: Tree, name: string) => t.devices.device.find((d: Tree) => d.name === name);
const svc = (t: Tree) => t.services.service[0];

interface Case {
  name: string;
  base?: string;
  mutate: (t: Tree) => void;
  expect: ValidationIssue;
}

const cases: Case[] = [
  {
    name: 'unknown node',
    mutate: (t) => (dev(t, 'FW').colour = 'red'),
    expect: { code: 'SCHEMA_UNKNOWN_NODE', path: "/devices/device[name='FW']/colour", message: "'colour' is not a node of /devices/device[name='FW']" },
  },
  {
    name: 'bad enumeration',
    mutate: (t) => (dev(t, 'FW')['delivery-mode'] = 'magic'),
    expect: { code: 'SCHEMA_ENUM', path: "/devices/device[name='FW']/delivery-mode", message: "'magic' is not one of transparent, loopback, alias, nat, router, server-ip" },
  },
  {
    name: 'bad IP address',
    mutate: (t) => (svc(t)['service-ip'] = '203.0.113.300'),
    expect: { code: 'SCHEMA_TYPE', path: "/services/service[name='W1']/service-ip", message: "'203.0.113.300' is not an IPv4 or IPv6 address" },
  },
  {
    name: 'bad MAC address',
    mutate: (t) => (dev(t, 'IDS').leg[0].mac = '02:00:00:0d:01'),
    expect: { code: 'SCHEMA_TYPE', path: "/devices/device[name='IDS']/leg[name='ids']/mac", message: "'02:00:00:0d:01' is not a MAC address (xx:xx:xx:xx:xx:xx)" },
  },
  {
    name: 'port out of range',
    mutate: (t) => (svc(t).port[0].port = 70000),
    expect: { code: 'SCHEMA_TYPE', path: "/services/service[name='W1']/port[port='70000']/port", message: "'70000' is not a port-number (0..65535)" },
  },
  {
    name: 'DSCP out of range',
    mutate: (t) => (svc(t).dscp = 64),
    expect: { code: 'SCHEMA_RANGE', path: "/services/service[name='W1']/dscp", message: '64 is outside the allowed range 0..63' },
  },
  {
    name: 'name pattern',
    mutate: (t) => (svc(t).name = 'web service'),
    expect: { code: 'SCHEMA_PATTERN', path: "/services/service[name='web service']/name", message: "'web service' does not match the pattern [A-Za-z0-9][A-Za-z0-9._-]*" },
  },
  {
    name: 'interface name too long',
    mutate: (t) => t.interfaces.interface.push({ name: 'a-very-long-ifname', role: 'device-segment' }),
    expect: { code: 'SCHEMA_LENGTH', path: "/interfaces/interface[name='a-very-long-ifname']/name", message: "'a-very-long-ifname' has 18 characters; allowed: 1..15" },
  },
  {
    name: 'mandatory leaf missing',
    mutate: (t) => delete dev(t, 'VPN').function,
    expect: { code: 'SCHEMA_MANDATORY', path: "/devices/device[name='VPN']/function", message: "'function' is mandatory" },
  },
  {
    name: 'duplicate list key',
    mutate: (t) => t.devices.device.push({ ...dev(t, 'IDS') }),
    expect: { code: 'SCHEMA_DUPLICATE_KEY', path: "/devices/device[name='IDS']", message: "entries 3 and 5 of device have the same key 'IDS'" },
  },
  {
    name: 'too many legs',
    mutate: (t) => dev(t, 'FW').leg.push({ name: 'fw2', interface: 'I3' }),
    expect: { code: 'SCHEMA_MAX_ELEMENTS', path: "/devices/device[name='FW']/leg", message: "'leg' allows at most 2 entries, has 3" },
  },
  {
    name: 'no step in a chain',
    mutate: (t) => (svc(t).port[0].step = []),
    expect: { code: 'SCHEMA_MIN_ELEMENTS', path: "/services/service[name='W1']/port[port='500']/step", message: "'step' needs at least 1 entry, has 0" },
  },
  {
    name: 'step naming a device and a pool',
    base: 'fig15c-failover.json',
    mutate: (t) => (svc(t).port[0].step[1].pool = 'FIREWALL'),
    expect: { code: 'SCHEMA_CHOICE', path: "/services/service[name='W1']/port[port='80']/step[seq='2']", message: "choice 'target' has nodes of two cases set: device (device) and pool (pool)" },
  },
  {
    name: 'step naming neither device nor pool',
    mutate: (t) => delete svc(t).port[0].step[0].device,
    expect: { code: 'SCHEMA_MANDATORY', path: "/services/service[name='W1']/port[port='500']/step[seq='1']", message: "choice 'target' is mandatory: set one of device, pool" },
  },
  {
    name: 'service IP and source key together',
    base: 'isp-source-keyed.json',
    mutate: (t) => (svc(t)['service-ip'] = '203.0.113.9'),
    expect: { code: 'SCHEMA_CHOICE', path: "/services/service[name='CUST1']", message: "choice 'selector' has nodes of two cases set: destination (service-ip) and source (source-keyed)" },
  },
  {
    name: 'unknown device',
    mutate: (t) => (svc(t).port[0].step[1].device = 'VPN9'),
    expect: { code: 'UNKNOWN_DEVICE', path: "/services/service[name='W1']/port[port='500']/step[seq='2']/device", message: "device 'VPN9' does not exist" },
  },
  {
    name: 'unknown pool',
    base: 'fig15c-failover.json',
    mutate: (t) => (svc(t).port[0].step[0].pool = 'FIREWALLS'),
    expect: { code: 'UNKNOWN_POOL', path: "/services/service[name='W1']/port[port='80']/step[seq='1']/pool", message: "pool 'FIREWALLS' does not exist" },
  },
  {
    name: 'unknown tap',
    mutate: (t) => (svc(t).port[0].step[2]['copy-to'] = ['IDS2']),
    expect: { code: 'UNKNOWN_DEVICE', path: "/services/service[name='W1']/port[port='500']/step[seq='3']/copy-to[.='IDS2']", message: "device 'IDS2' does not exist" },
  },
  {
    name: 'unknown package',
    mutate: (t) => (svc(t).package = 'gold'),
    expect: { code: 'UNKNOWN_PACKAGE', path: "/services/service[name='W1']/package", message: "package 'gold' does not exist" },
  },
  {
    name: 'unknown interface',
    mutate: (t) => (dev(t, 'VPN').leg[0].interface = 'I9'),
    expect: { code: 'UNKNOWN_INTERFACE', path: "/devices/device[name='VPN']/leg[name='vpn']/interface", message: "interface 'I9' does not exist" },
  },
  {
    name: 'ambiguous step: one leg visited twice',
    mutate: (t) => svc(t).port[0].step.splice(2, 0, { seq: 3, device: 'VPN' }) && (svc(t).port[0].step[3].seq = 4),
    expect: {
      code: 'AMBIGUOUS_STEP',
      path: "/services/service[name='W1']/port[port='500']/step[seq='3']",
      message: 'step 2 (VPN) and step 3 (VPN) of service W1 would have the same classification key (I2, MAC 02:00:00:00:0e:01, dst 203.0.113.1, port 4500, any, forward); give the device legs distinct interfaces or MACs',
    },
  },
  {
    name: 'ambiguous step: two bridges without MACs on one interface',
    base: 'isp-source-keyed.json',
    mutate: (t) => {
      t.devices.device.push({ name: 'FW2', function: 'firewall', 'delivery-mode': 'transparent', leg: [{ name: 'a', interface: 'I1' }, { name: 'b', interface: 'I2' }] });
      svc(t)['source-keyed'].step.push({ seq: 2, device: 'FW2' });
    },
    expect: {
      code: 'AMBIGUOUS_STEP',
      path: "/services/service[name='CUST1']/source-keyed/step[seq='2']",
      message: 'step 1 (FW) and step 2 (FW2) of service CUST1 would have the same classification key (I2, any MAC, src 100.64.10.0/24, any port, any, forward); give the device legs distinct interfaces or MACs',
    },
  },
  {
    name: 'ambiguous across services: two services NAT to one server address and port',
    base: 'fig6b-nat.json',
    mutate: (t) => t.services.service.push({ name: 'W2', 'service-ip': '203.0.113.2', port: [{ port: 80, step: [{ seq: 1, device: 'S1' }] }] }),
    expect: {
      code: 'AMBIGUOUS_STEP',
      path: "/services/service[name='W2']/port[port='80']/step[seq='1']",
      message: 'step 1 (S1) of service W2 port 80 and step 1 (S1) of service W1 port 80 would have the same classification key (I1, MAC 02:00:00:00:05:01, src 10.0.1.1, port 80, any, reverse); a stateless engine cannot tell their packets apart',
    },
  },
  {
    name: 'overlapping port ranges',
    base: 'fig9b-loopback.json',
    mutate: (t) => (svc(t).port[1].range.low = 1100),
    expect: { code: 'PORT_RANGE_OVERLAP', path: "/services/service[name='W1']/port[port='22']", message: 'service port 22 (range 1100-1300) overlaps service port 21 (range 1025-1125) of 203.0.113.1' },
  },
  {
    name: 'empty port range',
    base: 'fig9b-loopback.json',
    mutate: (t) => (svc(t).port[1].range = { low: 1300, high: 1126 }),
    expect: { code: 'PORT_RANGE_INVALID', path: "/services/service[name='W1']/port[port='22']/range", message: 'range 1300-1126 is empty: low must not exceed high' },
  },
  {
    name: 'range with translation',
    base: 'fig9b-loopback.json',
    mutate: (t) => (svc(t).port[0].step[1]['translate-port'] = 8021),
    expect: { code: 'PORT_RANGE_INVALID', path: "/services/service[name='W1']/port[port='21']/range", message: 'a port that owns a dynamic range cannot be translated or changed by a device (translate-port, output-port)' },
  },
  {
    name: 'missing MAC for a MAC-delivered device',
    mutate: (t) => delete dev(t, 'APP1').leg[0].mac,
    expect: { code: 'MAC_REQUIRED', path: "/devices/device[name='APP1']/leg[name='app1']/mac", message: 'device APP1 is reached by MAC (mode loopback, 1 leg) but leg app1 has no mac' },
  },
  {
    name: 'NAT device without IP',
    base: 'fig6b-nat.json',
    mutate: (t) => delete dev(t, 'S2').ip,
    expect: { code: 'IP_REQUIRED', path: "/devices/device[name='S2']/ip", message: 'device S2 in mode nat needs its own ip' },
  },
  {
    name: 'mixed address families in one chain',
    base: 'fig6b-nat.json',
    mutate: (t) => (dev(t, 'S1').ip = '2001:db8::5'),
    expect: { code: 'MIXED_ADDRESS_FAMILY', path: "/services/service[name='W1']/port[port='80']/step[seq='1']", message: 'device S1 has IPv6 address 2001:db8::5 but service W1 is IPv4' },
  },
  {
    name: 'mixed address families in an ACL',
    mutate: (t) => (svc(t).acl = { rule: [{ seq: 1, action: 'deny', source: '2001:db8::/64' }] }),
    expect: { code: 'MIXED_ADDRESS_FAMILY', path: "/services/service[name='W1']/acl/rule[seq='1']/source", message: 'ACL source 2001:db8::/64 is not IPv4 like the service address' },
  },
  {
    name: 'duplicate service address',
    mutate: (t) => t.services.service.push({ ...svc(t), name: 'W2' }),
    expect: { code: 'DUPLICATE_SERVICE_ADDRESS', path: "/services/service[name='W2']/service-ip", message: 'service IP 203.0.113.1 is already the address of service W1' },
  },
  {
    name: 'duplicate IPv6 service address in another spelling',
    base: 'fig6b-ipv6-nat.json',
    mutate: (t) => t.services.service.push({ name: 'W6', 'service-ip': '2001:DB8:100:0::1', port: [{ port: 80, step: [{ seq: 1, device: 'S1' }] }] }),
    expect: { code: 'DUPLICATE_SERVICE_ADDRESS', path: "/services/service[name='W6']/service-ip", message: 'service IP 2001:DB8:100:0::1 is already the address of service W1' },
  },
  {
    name: 'overlapping client prefixes of two source-keyed services',
    base: 'isp-source-keyed.json',
    mutate: (t) => t.services.service.push({ name: 'CUST2', 'source-keyed': { ...svc(t)['source-keyed'], 'client-prefix': '100.64.10.128/25' } }),
    expect: { code: 'DUPLICATE_SERVICE_ADDRESS', path: "/services/service[name='CUST2']/source-keyed/client-prefix", message: 'client prefix 100.64.10.128/25 overlaps 100.64.10.0/24 of service CUST1: a client would select two chains' },
  },
  {
    name: 'service without an address',
    mutate: (t) => delete svc(t)['service-ip'],
    expect: { code: 'SERVICE_SELECTOR_MISSING', path: "/services/service[name='W1']/service-ip", message: 'service W1 needs a service-ip (clients connect to it) or a source-keyed block (ISP mode)' },
  },
  {
    name: 'server-ip device not owning the service IP',
    base: 'fig9e-server-ip.json',
    mutate: (t) => (dev(t, 'APP1').ip = '198.51.100.8'),
    expect: { code: 'SERVER_IP_MISMATCH', path: "/services/service[name='APP1-negotiated']/port[port='1025']/step[seq='2']", message: 'device APP1 is in mode server-ip with ip 198.51.100.8, but the service IP is 198.51.100.7' },
  },
  {
    name: 'server before another step',
    mutate: (t) => ([svc(t).port[0].step[1].device, svc(t).port[0].step[2].device] = ['APP1', 'VPN']),
    expect: { code: 'STEP_NOT_LAST', path: "/services/service[name='W1']/port[port='500']/step[seq='2']", message: 'device APP1 (mode loopback) ends a chain but step 2 is followed by step 3' },
  },
  {
    name: 'chain ending at a firewall',
    mutate: (t) => svc(t).port[0].step.pop(),
    expect: { code: 'CHAIN_END_INVALID', path: "/services/service[name='W1']/port[port='500']/step[seq='2']", message: 'the last step (VPN, mode transparent) must deliver to a server (loopback, alias, nat, server-ip) or a router' },
  },
  {
    name: 'translation before the last step',
    mutate: (t) => (svc(t).port[0].step[0]['translate-port'] = 8443),
    expect: { code: 'TRANSLATE_NOT_LAST', path: "/services/service[name='W1']/port[port='500']/step[seq='1']/translate-port", message: 'translate-port is only allowed on the last step (step 3)' },
  },
  {
    name: 'tap that is not transparent',
    base: 'fig6b-loopback.json',
    mutate: (t) => (svc(t).port[0].step[0]['copy-to'] = ['S2']),
    expect: { code: 'TAP_MODE', path: "/services/service[name='W1']/port[port='80']/step[seq='1']/copy-to[.='S2']", message: 'copy target S2 is in mode loopback; a tap receives unmodified copies and must be transparent' },
  },
  {
    name: 'server with two legs',
    mutate: (t) => dev(t, 'APP1').leg.push({ name: 'app1b', interface: 'I2', mac: '02:00:00:00:0a:02' }),
    expect: { code: 'LEG_COUNT', path: "/devices/device[name='APP1']/leg", message: 'device APP1 in mode loopback attaches by exactly one leg, has 2' },
  },
  {
    name: 'device leg on the management interface',
    mutate: (t) => {
      t.interfaces.interface.push({ name: 'mgmt0', role: 'management' });
      dev(t, 'IDS').leg[0].interface = 'mgmt0';
    },
    expect: { code: 'LEG_ON_MANAGEMENT', path: "/devices/device[name='IDS']/leg[name='ids']/interface", message: 'leg ids of IDS is on management interface mgmt0; use a device segment or the uplink' },
  },
  {
    name: 'pool member of another function',
    base: 'fig15c-failover.json',
    mutate: (t) => t.pools.pool[0].member.push('S1'),
    expect: { code: 'POOL_MISMATCH', path: "/pools/pool[name='FIREWALL']/member[.='S1']", message: 'device S1 (server) cannot be a member of pool FIREWALL (firewall, acme)' },
  },
  {
    name: 'two uplinks and none chosen',
    mutate: (t) => t.interfaces.interface.push({ name: 'I9', role: 'uplink' }),
    expect: { code: 'UPLINK_REQUIRED', path: "/services/service[name='W1']/uplink", message: 'service W1 must name its uplink: there are 2 uplink interfaces (I0, I9)' },
  },
  {
    name: 'upstream that is not a router',
    base: 'isp-source-keyed.json',
    mutate: (t) => (svc(t)['source-keyed'].upstream = 'FW'),
    expect: { code: 'ROUTER_REQUIRED', path: "/services/service[name='CUST1']/source-keyed/upstream", message: 'upstream FW is in mode transparent; the last hop of a source-keyed chain must be a router' },
  },
];

describe('validation errors', () => {
  for (const c of cases) {
    it(`${c.expect.code}: ${c.name}`, () => {
      const tree = fixture(c.base ?? 'fig7b-loopback.json');
      expect(checkConfig(tree).issues).toEqual([]);
      c.mutate(tree);
      const { issues } = checkConfig(tree);
      expect(issues).toContainEqual(c.expect);
    });
  }

  it('every error code of the configuration is exercised above', () => {
    const configCodes = Object.keys(CONFIG_ERROR_CODES);
    const tested = new Set(cases.map((c) => c.expect.code));
    expect(configCodes.filter((c) => !tested.has(c as ValidationIssue['code']))).toEqual([]);
  });

  it('malformed JSON names the parse error', () => {
    expect(parseConfigText('{"vcn:services": ', 'json').issues[0]).toMatchObject({ code: 'CONFIG_READ', path: '/' });
  });

  it('unqualified top-level JSON members are rejected (RFC 7951)', () => {
    expect(parseConfigText('{"services": {}}', 'json').issues).toEqual([
      { code: 'SCHEMA_UNKNOWN_NODE', path: '/services', message: "top-level member 'services' must be qualified as 'vcn:services' (RFC 7951)" },
    ]);
  });

  it('malformed XML is a CONFIG_READ error, not a crash', () => {
    expect(parseConfigText('<services xmlns="urn:vcn:appliance"><service>', 'xml').issues[0].code).toBe('CONFIG_READ');
  });

  it('XML in a foreign namespace is rejected with the namespace named', () => {
    const { issues } = parseConfigText('<services xmlns="urn:other"/>', 'xml');
    expect(issues[0]).toEqual({ code: 'SCHEMA_UNKNOWN_NODE', path: '/services', message: "element 'services' is in namespace 'urn:other', expected 'urn:vcn:appliance'" });
  });
});
