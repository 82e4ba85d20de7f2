/**
 * The rows of one chain (SPEC §5). A packet travels client → d1 → … → dn and
 * back; segment j joins d_j and d_(j+1) (d_0 is the client side). Each row
 * recognises a packet arriving at the engine from one hop and sends it to the
 * next, with the copies of the step it enters (forward) or leaves (reverse).
 */
import type { Device, Protocol } from '../model/config.generated.js';
import { inLeg, outLeg } from '../model/config-index.js';
import type { ShareResolution } from './resolve-step.js';
import type { PortMatch, Receive, Row, Send, Share } from './sequence-table.js';

export interface ResolvedStep {
  seq: number;
  device: Device;
  copies: Device[];
  translatePort?: number;
  outputPort?: number;
  /** Load sharing: the step's usable members and bucket owners (device is then the first member). */
  share?: ShareResolution;
}

/** The client side of a destination-keyed service: the uplink and its gateway. */
export interface UplinkEnd {
  kind: 'uplink';
  interface: string;
  gatewayIp?: string;
  gatewayMac?: string;
}

/** Either end of a source-keyed chain: a device (router toward clients, proxy, upstream router). */
export interface DeviceEnd {
  kind: 'device';
  device: Device;
}

export interface DestinationChain {
  keyedBy: 'destination';
  service: string;
  serviceIp: string;
  portEntry: PortMatch;
  protocol: Protocol;
  client: UplinkEnd;
  steps: ResolvedStep[];
}

export interface SourceChain {
  keyedBy: 'source';
  service: string;
  clientPrefix: string;
  protocol: Protocol;
  client: DeviceEnd;
  upstream: DeviceEnd;
  steps: ResolvedStep[];
}

const label = (s: ResolvedStep, d: Device = s.device) => `step ${s.seq} (${d.name})`;
const membersOf = (s: ResolvedStep): Device[] => s.share?.members ?? [s.device];

/*
 * Rows and sends are built with every field present (undefined when absent) so
 * that all objects share one shape: at 100k services that halves compile time.
 */
function send(f: Partial<Send> & Pick<Send, 'interface' | 'mode'>): Send {
  return { interface: f.interface, mode: f.mode, mac: f.mac, ip: f.ip, port: f.port, nextHop: f.nextHop, copy: f.copy ?? false, device: f.device };
}

function receive(
  from: Pick<Receive, 'interface' | 'srcMac'>,
  addr: { srcIp?: string; dstIp?: string },
  port: PortMatch | undefined,
  protocol: Protocol,
  direction: Receive['direction'],
): Receive {
  return { interface: from.interface, srcMac: from.srcMac, srcIp: addr.srcIp, dstIp: addr.dstIp, port, protocol, direction };
}

interface Target {
  sends: Send[];
  share?: Share;
}

function row(service: string, servicePort: number | undefined, fromStep: number, origin: string, rcv: Receive, target: Target, member?: string): Row {
  return { service, servicePort, fromStep, origin, receive: rcv, sends: target.sends, share: target.share, member };
}

/** Where a row sends toward a step: its device, or a share over its members when the step is load-shared. */
function toward(step: ResolvedStep, by: Share['by'], build: (d: Device) => Send[]): Target {
  if (!step.share) return { sends: build(step.device) };
  const members = step.share.members.map((d) => ({ device: d.name, sends: build(d) }));
  return { sends: members[0].sends, share: { by, seed: step.share.seed, buckets: step.share.buckets, members } };
}

function deliver(device: Device, leg: 'in' | 'out', ip?: string, port?: number, copy = false): Send {
  const l = leg === 'in' ? inLeg(device) : outLeg(device);
  const mode = device['delivery-mode'];
  return { interface: l.interface, mode, mac: l.mac, ip, port, nextHop: mode === 'router' ? device.ip : undefined, copy, device: device.name };
}

function fromDevice(device: Device, leg: 'in' | 'out'): Pick<Receive, 'interface' | 'srcMac'> {
  const l = leg === 'in' ? inLeg(device) : outLeg(device);
  return { interface: l.interface, srcMac: l.mac };
}

const tapCopies = (step: ResolvedStep, ip?: string, port?: number): Send[] => step.copies.map((tap) => deliver(tap, 'in', ip, port, true));

export function destinationRows(chain: DestinationChain): Row[] {
  const { steps, serviceIp: w, protocol } = chain;
  const n = steps.length;
  // p[j]: the port on segment j; a device may hand packets back on another port (Fig 7).
  const p: number[] = [chain.portEntry.port];
  for (let j = 1; j < n; j++) p.push(steps[j - 1].outputPort ?? p[j - 1]);
  const segment = (j: number): PortMatch =>
    chain.portEntry.range && p[j] === chain.portEntry.port ? { port: p[j], range: chain.portEntry.range } : { port: p[j] };
  // The last step's address: the server's own for nat (per member when the servers share the load).
  const lastIp = (d: Device) => (d['delivery-mode'] === 'nat' ? d.ip : undefined);
  const towardServer = (k: number, d: Device): Send => {
    const isLast = k === n - 1;
    const step = steps[k];
    return deliver(d, 'in', (isLast ? lastIp(d) : undefined) ?? w, isLast && step.translatePort !== undefined ? step.translatePort : p[k]);
  };
  const service = chain.service;
  const servicePort = chain.portEntry.port;
  const rows: Row[] = [];

  for (let k = 0; k < n; k++) {
    const target = toward(steps[k], 'saddr', (d) => [...tapCopies(steps[k], w, p[k]), towardServer(k, d)]);
    if (k === 0) {
      rows.push(row(service, servicePort, 0, 'client', receive({ interface: chain.client.interface, srcMac: undefined }, { dstIp: w }, segment(0), protocol, 'forward'), target));
      continue;
    }
    const prev = steps[k - 1];
    for (const d of membersOf(prev)) {
      rows.push(
        row(service, servicePort, prev.seq, label(prev, d),
          receive(fromDevice(d, 'out'), { dstIp: w }, segment(k), protocol, 'forward'),
          target, prev.share ? d.name : undefined),
      );
    }
  }
  // What a tap injects (e.g. an IDS reset toward the server) continues to the step it watches.
  for (let k = 0; k < n; k++) {
    for (const tap of steps[k].copies) {
      rows.push(
        row(service, servicePort, steps[k].seq, `tap ${tap.name} of ${label(steps[k])}`,
          receive(fromDevice(tap, 'in'), { dstIp: w }, segment(k), protocol, 'forward'),
          toward(steps[k], 'saddr', (d) => [towardServer(k, d)])),
      );
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    const step = steps[k];
    const isLast = k === n - 1;
    const port = isLast && step.translatePort !== undefined ? { port: step.translatePort } : segment(k);
    const target: Target =
      k === 0
        ? { sends: [...tapCopies(step, w, p[k]), send({ interface: chain.client.interface, mode: 'router', mac: chain.client.gatewayMac, nextHop: chain.client.gatewayIp, ip: w, port: p[0] })] }
        : toward(steps[k - 1], 'daddr', (e) => [...tapCopies(step, w, p[k]), deliver(e, 'out', w, p[k])]);
    for (const d of membersOf(step)) {
      const srcIp = (isLast ? lastIp(d) : undefined) ?? w;
      rows.push(
        row(service, servicePort, step.seq, label(step, d),
          receive(fromDevice(d, 'in'), { srcIp }, port, protocol, 'reverse'),
          target, step.share ? d.name : undefined),
      );
    }
  }
  return rows;
}

export function sourceRows(chain: SourceChain): Row[] {
  const { steps, clientPrefix: c, protocol } = chain;
  const n = steps.length;
  const rows: Row[] = [];
  const upstream = chain.upstream.device;
  const clientSide = chain.client.device;
  for (let k = 0; k <= n; k++) {
    const target = k < n ? toward(steps[k], 'saddr', (d) => [...tapCopies(steps[k]), deliver(d, 'in')]) : { sends: [deliver(upstream, 'in')] };
    if (k === 0) {
      rows.push(row(chain.service, undefined, 0, `client side (${clientSide.name})`, receive(fromDevice(clientSide, 'in'), { srcIp: c }, undefined, protocol, 'forward'), target));
      continue;
    }
    const prev = steps[k - 1];
    for (const d of membersOf(prev)) {
      rows.push(
        row(chain.service, undefined, prev.seq, label(prev, d),
          receive(fromDevice(d, 'out'), { srcIp: c }, undefined, protocol, 'forward'),
          target, prev.share ? d.name : undefined),
      );
    }
  }
  for (let k = n; k >= 0; k--) {
    const taps = k < n ? tapCopies(steps[k]) : [];
    const target: Target = k === 0 ? { sends: [...taps, deliver(clientSide, 'in')] } : toward(steps[k - 1], 'daddr', (e) => [...taps, deliver(e, 'out')]);
    if (k === n) {
      rows.push(row(chain.service, undefined, -1, `upstream (${upstream.name})`, receive(fromDevice(upstream, 'in'), { dstIp: c }, undefined, protocol, 'reverse'), target));
      continue;
    }
    for (const d of membersOf(steps[k])) {
      rows.push(
        row(chain.service, undefined, steps[k].seq, label(steps[k], d),
          receive(fromDevice(d, 'in'), { dstIp: c }, undefined, protocol, 'reverse'),
          target, steps[k].share ? d.name : undefined),
      );
    }
  }
  return rows;
}
