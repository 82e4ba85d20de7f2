/**
 * A small topology for the health tests: a pool of two bridge firewalls and
 * two loopback-mode servers around the engine's namespace, plus a management
 * link to an NMS namespace (snmptrapd). Names carry the run's random tag;
 * cleanup() removes everything (MiniNet).
 *
 *   cl ── e0 ┐               ┌ e1 ══ fwa (bridge) ══ e2 ┐
 *            │  eng (nft)    ├ e3 ══ fwb (bridge) ══ e4 ┤
 *   nms ─ m0 ┘  (management) ├ e5 ── srv  (W1, W2, W3, W9 on lo, tcp 80, udp 9)
 *                            └ e6 ── srvb (the same)
 */
import { join } from 'node:path';
import type { Config, Device, Service, Step } from '../../../appliance/model/config.generated.js';
import { defaultSystem } from '../../../mgmt/schema/defaults.js';
import { MiniNet } from './netns-mini.js';

export const SERVER_PY = join(import.meta.dirname, 'health-server.py');

const mac = (a: number, b: number) => `02:81:00:00:${a.toString(16).padStart(2, '0')}:${b.toString(16).padStart(2, '0')}`;

export class HealthNet {
  readonly net = new MiniNet();
  readonly ns = { eng: '', cl: '', fwa: '', fwb: '', srv: '', srvb: '', nms: '' };
  readonly ifs = {
    e0: this.net.ifname('he0'),
    e1: this.net.ifname('he1'),
    e2: this.net.ifname('he2'),
    e3: this.net.ifname('he3'),
    e4: this.net.ifname('he4'),
    e5: this.net.ifname('he5'),
    e6: this.net.ifname('he6'),
    m0: this.net.ifname('hm0'),
    cl: this.net.ifname('hc0'),
    fa0: this.net.ifname('fa0'),
    fa1: this.net.ifname('fa1'),
    fb0: this.net.ifname('fb0'),
    fb1: this.net.ifname('fb1'),
    srv: this.net.ifname('hs0'),
    srvb: this.net.ifname('ht0'),
    nms: this.net.ifname('hn0'),
  };
  readonly mac = {
    e0: mac(0, 0),
    e1: mac(0, 1),
    e2: mac(0, 2),
    e3: mac(0, 3),
    e4: mac(0, 4),
    e5: mac(0, 5),
    e6: mac(0, 6),
    m0: mac(0, 9),
    cl: mac(1, 0),
    fa0: mac(3, 0),
    fa1: mac(3, 1),
    fb0: mac(4, 0),
    fb1: mac(4, 1),
    srv: mac(5, 0),
    srvb: mac(6, 0),
    nms: mac(9, 0),
  };
  readonly ip = { cl: '10.81.0.2', srv: '10.81.5.2', srvb: '10.81.6.2', agent: '10.81.9.1', nms: '10.81.9.2' };
  /**
   * Health-check settings of every device: a 500 ms timeout instead of the default 200 ms, because
   * the test machine runs many tests at once (load averages of 15-20 on 2 cores were seen).
   * VCN_HEALTH_DEFAULTS=1 runs with the schema defaults (1000 ms / 200 ms / 3) to measure them.
   */
  check: Device['health-check'] = process.env.VCN_HEALTH_DEFAULTS ? undefined : { kind: 'auto', 'interval-ms': 500, 'timeout-ms': 500, retries: 3 };
  readonly W = { W1: '10.81.100.1', W2: '10.81.100.2', W3: '10.81.100.3', W9: '10.81.100.9' };

  async up(): Promise<void> {
    const n = this.net;
    for (const k of Object.keys(this.ns) as (keyof HealthNet['ns'])[]) this.ns[k] = await n.addNs(`h${k}`);
    const { ns, ifs, mac: m } = this;
    const pair = (a: keyof HealthNet['ifs'], an: string, b: keyof HealthNet['ifs'], bn: string) => n.veth({ ns: an, name: ifs[a], mac: m[a] }, { ns: bn, name: ifs[b], mac: m[b] });
    await pair('e0', ns.eng, 'cl', ns.cl);
    await pair('e1', ns.eng, 'fa0', ns.fwa);
    await pair('e2', ns.eng, 'fa1', ns.fwa);
    await pair('e3', ns.eng, 'fb0', ns.fwb);
    await pair('e4', ns.eng, 'fb1', ns.fwb);
    await pair('e5', ns.eng, 'srv', ns.srv);
    await pair('e6', ns.eng, 'srvb', ns.srvb);
    await pair('m0', ns.eng, 'nms', ns.nms);
    // Bridges: bump-in-the-wire firewalls.
    for (const [fw, a, b] of [
      [ns.fwa, ifs.fa0, ifs.fa1],
      [ns.fwb, ifs.fb0, ifs.fb1],
    ]) {
      await n.sh(fw, `ip link add br0 type bridge && ip link set ${a} master br0 && ip link set ${b} master br0 && ip link set br0 up`);
    }
    // Hosts: addresses, a default route via a fake gateway .1 whose MAC is the engine port's (the engine answers no ARP).
    await n.sh(ns.cl, `ip addr add ${this.ip.cl}/24 dev ${ifs.cl} && ip neigh add 10.81.0.1 lladdr ${m.e0} dev ${ifs.cl} nud permanent && ip route add default via 10.81.0.1`);
    for (const [host, ifname, ip, gwMac] of [
      [ns.srv, ifs.srv, this.ip.srv, m.e5],
      [ns.srvb, ifs.srvb, this.ip.srvb, m.e6],
    ]) {
      const gw = ip.replace(/\.2$/, '.1');
      const lo = Object.values(this.W)
        .map((w) => `ip addr add ${w}/32 dev lo`)
        .join(' && ');
      await n.sh(host, `ip addr add ${ip}/24 dev ${ifname} && ip neigh add ${gw} lladdr ${gwMac} dev ${ifname} nud permanent && ip route add default via ${gw} && ${lo}`);
    }
    await n.exec(ns.eng, ['ip', 'addr', 'add', `${this.ip.agent}/24`, 'dev', ifs.m0]);
    await n.exec(ns.nms, ['ip', 'addr', 'add', `${this.ip.nms}/24`, 'dev', ifs.nms]);
  }

  /** Starts the test server (tcp 80, udp 9 recorder/echo) in a server namespace; resolves when it listens. */
  async server(which: 'srv' | 'srvb') {
    const child = this.net.start(this.ns[which], ['/usr/bin/python3', '-u', SERVER_PY, ...Object.values(this.W)]);
    await this.net.waitFor(child, /^READY/m);
    return child;
  }

  private bridgeFw(name: string, a: string, b: string): Device {
    return {
      name,
      function: 'firewall',
      'delivery-mode': 'transparent',
      'admin-state': 'in-service',
      'health-check': this.check,
      leg: [
        { name: `${name}0`, interface: a },
        { name: `${name}1`, interface: b },
      ],
    };
  }

  private loopbackServer(name: string, ip: string, ifname: string, m: string): Device {
    return { name, function: 'server', 'delivery-mode': 'loopback', 'admin-state': 'in-service', 'health-check': this.check, ip, leg: [{ name: `${name}0`, interface: ifname, mac: m }] };
  }

  /** web (W1, udp 9 + tcp 80): firewall pool → srv; more services for the operation tests. */
  config(extra: { services?: Service[]; snmp?: boolean } = {}): Config {
    const { ifs } = this;
    const step = (seq: number, target: { device: string } | { pool: string }): Step => ({ seq, ...target, 'copy-to': [] });
    const chain = [step(1, { pool: 'fws' }), step(2, { device: 'srv' })];
    const system = defaultSystem();
    if (extra.snmp) {
      system.snmp = {
        enabled: true,
        'listen-address': [this.ip.agent],
        port: 161,
        'v3-user': [],
        community: [{ name: 'health-ro', source: [`${this.ip.nms}/32`] }],
        'trap-destination': [{ name: 'nms', address: this.ip.nms, port: 1162, version: 'v2c', community: 'health-traps' }],
      };
    }
    return {
      system,
      interfaces: {
        interface: [
          { name: ifs.e0, role: 'uplink', address: [], gateway: { ip: this.ip.cl, mac: this.mac.cl } },
          ...[ifs.e1, ifs.e2, ifs.e3, ifs.e4, ifs.e5, ifs.e6].map((name) => ({ name, role: 'device-segment' as const, address: [], gateway: {} })),
          { name: ifs.m0, role: 'management', address: [`${this.ip.agent}/24`], gateway: {} },
        ],
      },
      devices: {
        device: [
          this.bridgeFw('fwa', ifs.e1, ifs.e2),
          this.bridgeFw('fwb', ifs.e3, ifs.e4),
          this.loopbackServer('srv', this.ip.srv, ifs.e5, this.mac.srv),
          this.loopbackServer('srvb', this.ip.srvb, ifs.e6, this.mac.srvb),
        ],
      },
      pools: { pool: [{ name: 'fws', function: 'firewall', member: ['fwa', 'fwb'] }] },
      packages: { package: [] },
      services: {
        service: [
          {
            name: 'web',
            'service-ip': this.W.W1,
            port: [
              { port: 9, protocol: 'udp', step: structuredClone(chain) },
              { port: 80, protocol: 'tcp', step: structuredClone(chain) },
            ],
            acl: { 'default-action': 'permit', rule: [] },
          },
          ...(extra.services ?? []),
        ],
      },
    } as unknown as Config;
  }

  /** Packets a namespace's interface received (kernel counter). */
  async rxPackets(ns: string, ifname: string): Promise<number> {
    const r = await this.net.exec(ns, ['ip', '-s', '-j', 'link', 'show', ifname]);
    return (JSON.parse(r.stdout) as { stats64: { rx: { packets: number } } }[])[0].stats64.rx.packets;
  }

  cleanup(): Promise<void> {
    return this.net.cleanup();
  }
}

/** Polls `fn` until it returns a truthy value (for setup code, where expect.poll is not allowed). */
export async function waitUntil<T>(fn: () => T | Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
