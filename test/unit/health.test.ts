/** Health checking's pure parts: probe plans, failover impact, passive suspects, service operations, trace parsing. */
import { describe, expect, it } from 'vitest';
import { planProbe } from '../../appliance/health/probe-plan.js';
import { parseTrace } from '../../appliance/datapath/nft-trace.js';
import { parseLinkLine, RecreatedLinks } from '../../appliance/health/link-watch.js';
import { demoConfig, planLab } from '../../cli/lab/index.js';
import { checkConfig } from '../../mgmt/schema/load-config.js';
import { healthImpact, unavailableServices } from '../../mgmt/health/affected.js';
import { suspects, type FlowTotals } from '../../mgmt/health/passive.js';
import { cloneService, replaceDevice } from '../../mgmt/health/service-ops.js';
import { loadFailed, restoreFailed, saveFailed } from '../../mgmt/health/persist.js';
import { Store } from '../../mgmt/store/store.js';
import type { Northbound } from '../../mgmt/northbound/northbound.js';
import type { RuntimeState } from '../../appliance/compile/compile.js';

const plan = planLab({ runId: 'abcd' });
const config = checkConfig(demoConfig(plan)).config;
const macs = Object.fromEntries(plan.engine.ports.map((p) => [p.name, p.mac]));
const dev = (n: string) => config.devices.device.find((d) => d.name === n)!;

describe('probe plans', () => {
  it('a bridge gets a broadcast heartbeat from its first leg to its last, a loopback server a TCP handshake to its service port', () => {
    const fw = planProbe(config, dev('fw'), macs);
    expect('request' in fw && fw.request).toMatchObject({ op: 'heartbeat', out: 'e1', in: 'e2', dstMac: 'ff:ff:ff:ff:ff:ff', srcMac: macs.e1 });
    const slo = planProbe(config, dev('slo'), macs);
    expect('request' in slo && slo.request).toMatchObject({ op: 'tcp', ifname: 'e6', dstIp: dev('slo').ip, port: 80 });
    expect(slo.settings).toMatchObject({ intervalMs: 1000, timeoutMs: 200, retries: 3 });
  });

  it('one-armed devices and taps are not checked unless configured; an explicit kind wins', () => {
    expect('skip' in planProbe(config, dev('oa'), macs)).toBe(true);
    expect('skip' in planProbe(config, dev('ids'), macs)).toBe(true);
    const ids = structuredClone(dev('ids'));
    ids['health-check'] = { kind: 'icmp', 'interval-ms': 1000, 'timeout-ms': 200, retries: 3 };
    expect(planProbe(config, ids, macs)).toMatchObject({ request: { op: 'icmp', dstIp: ids.ip } });
  });
});

describe('failover impact', () => {
  it('a failed pool member moves to the alternate; services naming the device itself become unavailable', () => {
    const impact = healthImpact(config, {}, { failed: new Set(['fw']) });
    expect(impact.moves).toEqual([{ service: 'web-alias', step: '80/1', from: 'fw', to: 'oa' }]);
    expect(impact.unavailable.map((u) => u.service).sort()).toEqual(['isp', 'web', 'web-ids', 'web6']);
    expect(unavailableServices(config, { failed: new Set(['fw']) }).find((u) => u.service === 'web')!.reason).toContain('device fw has failed');
    const back = healthImpact(config, { failed: new Set(['fw']) }, {});
    expect(back.moves).toEqual([{ service: 'web-alias', step: '80/1', from: 'oa', to: 'fw' }]);
    expect(back.restored.sort()).toEqual(['isp', 'web', 'web-ids', 'web6']);
  });
});

describe('passive detection', () => {
  const totals = (to: number, from: number): FlowTotals => ({ to: new Map([['srv', to]]), from: new Map([['srv', from]]) });
  it('packets sent without an answer add up across readings until they reach the threshold; an answer resets them', () => {
    const unanswered = new Map<string, number>();
    expect(suspects(totals(0, 0), totals(2, 0), unanswered)).toEqual([]);
    expect(suspects(totals(2, 0), totals(3, 0), unanswered)).toEqual(['srv']);
    expect(suspects(totals(3, 0), totals(5, 1), unanswered)).toEqual([]);
    expect(unanswered.get('srv')).toBe(0);
  });
});

describe('service operations', () => {
  it('replace-device changes every use in steps and copies, and refuses unlike devices', () => {
    const { config: next, uses } = replaceDevice(config, 'slo', 'sal');
    expect([...new Set(uses.map((u) => u.service))].sort()).toEqual(['web', 'web-ids', 'web6']);
    expect(next.services.service.flatMap((s) => s.port.flatMap((p) => p.step.map((st) => st.device))).includes('slo')).toBe(false);
    expect(config.services.service.find((s) => s.name === 'web')!.port[0].step[1].device).toBe('slo'); // input untouched
    expect(() => replaceDevice(config, 'slo', 'fw')).toThrow(/only like devices/);
  });

  it('clone-service copies a service under a new name and service IP', () => {
    const next = cloneService(config, 'web', 'web2', '10.60.100.50');
    const c = next.services.service.find((s) => s.name === 'web2')!;
    expect(c['service-ip']).toBe('10.60.100.50');
    expect(c.port).toEqual(config.services.service.find((s) => s.name === 'web')!.port);
    expect(() => cloneService(next, 'web', 'web2', '10.60.100.51')).toThrow(/exists already/);
  });
});

describe('trace parsing', () => {
  it('one hop per trace id: the interface it came in on and where the engine sent it', () => {
    const t0 = 1000;
    const hops = parseTrace(
      [
        '1010 trace id 1a2b netdev vcntrace_x t0 packet: iif "e0" ether saddr 02:00:00:00:00:01 ether daddr 02:00:00:00:00:02 ip saddr 10.0.0.2 ip daddr 10.0.100.1 udp sport 5000 udp dport 9',
        '1011 trace id 1a2b netdev vcn a_7 rule ether saddr set 02:00:00:00:00:03 ether daddr set ff:ff:ff:ff:ff:ff fwd to "e1" (verdict stolen)',
        '1020 trace id 3c4d netdev vcn in_e9 packet: iif "e9" ip saddr 10.0.0.9 ip daddr 10.0.100.1',
        '1021 trace id 3c4d netdev vcn in_e9 policy drop',
      ],
      t0,
    );
    expect(hops).toEqual([
      { iif: 'e0', out: ['fwd e1'], src: '10.0.0.2', dst: '10.0.100.1', at: 10 },
      { iif: 'e9', out: ['drop'], src: '10.0.0.9', dst: '10.0.100.1', at: 20 },
    ]);
  });
});

describe('link watch', () => {
  it('ip monitor link lines: no carrier or no lower layer is down, the rest up, continuation lines ignored', () => {
    expect(parseLinkLine('3: lwa@lwb: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default')).toEqual({ ifname: 'lwa', index: 3, down: true, deleted: false });
    expect(parseLinkLine('2: lwb@lwa: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default')).toEqual({ ifname: 'lwb', index: 2, down: true, deleted: false });
    expect(parseLinkLine('2: lwb@lwa: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default')).toEqual({ ifname: 'lwb', index: 2, down: false, deleted: false });
    expect(parseLinkLine('    link/ether a6:53:2a:5b:22:65 brd ff:ff:ff:ff:ff:ff')).toBeUndefined();
  });

  it('an interface deleted and made again, or another renamed to its name, is reported once; carrier changes are not', () => {
    // What `ip monitor link` printed for: add veth x1/q1, x1 up, delete x1, add x1/q1 again.
    const lines = [
      '2: q1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default',
      '3: x1@q1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default',
      '3: x1@q1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default',
      '3: x1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default',
      'Deleted 3: x1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default',
      'Deleted 2: q1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default',
      '4: q1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default',
      '5: x1@q1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default',
      '5: x1@q1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default',
      '9: x1@q1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default',
    ];
    const r = new RecreatedLinks();
    expect(lines.map((l) => r.see(parseLinkLine(l)!))).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, 'q1', 'x1', undefined, 'x1']);
  });
});

describe('failed devices across restarts', () => {
  it('are saved in the store and restored as the runtime state before the first load', () => {
    const store = Store.open(':memory:');
    try {
      saveFailed(store, new Set(['fwb', 'fwa']));
      expect([...loadFailed(store)]).toEqual(['fwa', 'fwb']);
      let restored: RuntimeState | undefined;
      restoreFailed(store, { restoreRuntimeState: (s: RuntimeState) => (restored = s) } as unknown as Northbound);
      expect([...restored!.failed!]).toEqual(['fwa', 'fwb']);
      saveFailed(store, new Set());
      expect(loadFailed(store).size).toBe(0);
    } finally {
      store.close();
    }
  });
});
