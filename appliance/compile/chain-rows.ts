/**
 * The rows of one chain (SPEC §5). A packet travels client → d1 → … → dn and
 * back; segment j joins d_j and d_(j+1) (d_0 is the client side). Each row
 * recognises a packet arriving at the engine from one hop and sends it to the
 * next, with the copies of the step it enters (forward) or leaves (reverse).
 */
import type { Device, Protocol } from '../model/config.generated.js';
import { inLeg, outLeg } from '../model/config-index.js';
import type { PortMatch, Receive, Row, Send } from './sequence-table.js';

export interface ResolvedStep {
  seq: number;
  device: Device;
  copies: Device[];
  translatePort?: number;
  outputPort?: number;
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

const label = (s: ResolvedStep) => `step ${s.seq} (${s.device.name})`;

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

function row(service: string, servicePort: number | undefined, fromStep: number, origin: string, rcv: Receive, sends: Send[]): Row {
  return { service, servicePort, fromStep, origin, receive: rcv, sends };
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
  const last = steps[n - 1];
  // p[j]: the port on segment j; a device may hand packets back on another port (Fig 7).
  const p: number[] = [chain.portEntry.port];
  for (let j = 1; j < n; j++) p.push(steps[j - 1].outputPort ?? p[j - 1]);
  const segment = (j: number): PortMatch =>
    chain.portEntry.range && p[j] === chain.portEntry.port ? { port: p[j], range: chain.portEntry.range } : { port: p[j] };
  const lastMode = last.device['delivery-mode'];
  const natIp = lastMode === 'nat' ? last.device.ip : undefined;
  const towardServer = (k: number): Send => {
    const isLast = k === n - 1;
    const step = steps[k];
    return deliver(step.device, 'in', isLast && natIp ? natIp : w, isLast && step.translatePort !== undefined ? step.translatePort : p[k]);
  };
  const service = chain.service;
  const servicePort = chain.portEntry.port;
  const rows: Row[] = [];

  for (let k = 0; k < n; k++) {
    const from = k === 0 ? { interface: chain.client.interface, srcMac: undefined } : fromDevice(steps[k - 1].device, 'out');
    rows.push(
      row(service, servicePort, k === 0 ? 0 : steps[k - 1].seq, k === 0 ? 'client' : label(steps[k - 1]),
        receive(from, { dstIp: w }, segment(k), protocol, 'forward'),
        [...tapCopies(steps[k], w, p[k]), towardServer(k)]),
    );
  }
  // What a tap injects (e.g. an IDS reset toward the server) continues to the step it watches.
  for (let k = 0; k < n; k++) {
    for (const tap of steps[k].copies) {
      rows.push(
        row(service, servicePort, steps[k].seq, `tap ${tap.name} of ${label(steps[k])}`,
          receive(fromDevice(tap, 'in'), { dstIp: w }, segment(k), protocol, 'forward'),
          [towardServer(k)]),
      );
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    const step = steps[k];
    const isLast = k === n - 1;
    const srcIp = isLast && natIp ? natIp : w;
    const port = isLast && step.translatePort !== undefined ? { port: step.translatePort } : segment(k);
    const onward =
      k === 0
        ? send({ interface: chain.client.interface, mode: 'router', mac: chain.client.gatewayMac, nextHop: chain.client.gatewayIp, ip: w, port: p[0] })
        : deliver(steps[k - 1].device, 'out', w, p[k]);
    rows.push(
      row(service, servicePort, step.seq, label(step),
        receive(fromDevice(step.device, 'in'), { srcIp }, port, protocol, 'reverse'),
        [...tapCopies(step, w, p[k]), onward]),
    );
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
    const from = k === 0 ? fromDevice(clientSide, 'in') : fromDevice(steps[k - 1].device, 'out');
    rows.push(
      row(chain.service, undefined, k === 0 ? 0 : steps[k - 1].seq, k === 0 ? `client side (${clientSide.name})` : label(steps[k - 1]),
        receive(from, { srcIp: c }, undefined, protocol, 'forward'),
        k < n ? [...tapCopies(steps[k]), deliver(steps[k].device, 'in')] : [deliver(upstream, 'in')]),
    );
  }
  for (let k = n; k >= 0; k--) {
    const from = k === n ? fromDevice(upstream, 'in') : fromDevice(steps[k].device, 'in');
    const onward = k === 0 ? deliver(clientSide, 'in') : deliver(steps[k - 1].device, 'out');
    rows.push(
      row(chain.service, undefined, k === n ? -1 : steps[k].seq, k === n ? `upstream (${upstream.name})` : label(steps[k]),
        receive(from, { dstIp: c }, undefined, protocol, 'reverse'),
        [...(k < n ? tapCopies(steps[k]) : []), onward]),
    );
  }
  return rows;
}
