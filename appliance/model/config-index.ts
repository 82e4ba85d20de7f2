/** Name lookups over a validated configuration, built once per compile. */
import type { Config, Device, Interface, Pool, Service, Step } from './config.generated.js';

export interface ConfigIndex {
  config: Config;
  devices: Map<string, Device>;
  pools: Map<string, Pool>;
  interfaces: Map<string, Interface>;
}

export function indexConfig(config: Config): ConfigIndex {
  return {
    config,
    devices: new Map(config.devices.device.map((d) => [d.name, d])),
    pools: new Map(config.pools.pool.map((p) => [p.name, p])),
    interfaces: new Map(config.interfaces.interface.map((i) => [i.name, i])),
  };
}

/** Delivery modes that end a chain: the packet reaches its destination there. */
export const TERMINAL_MODES = new Set(['loopback', 'alias', 'nat', 'server-ip', 'router']);

/** The chain of a service, whatever selects it: one entry per service port, or one for a source-keyed service. */
export interface ChainSpec {
  steps: Step[];
  /** Path of the chain's parent node, for messages. */
  path: string;
  /** The service port entry's key; absent for source-keyed chains. */
  port?: number;
}

export function chainsOf(service: Service): ChainSpec[] {
  const base = `/services/service[name='${service.name}']`;
  if (service['source-keyed']) {
    return [{ steps: sortedSteps(service['source-keyed'].step), path: `${base}/source-keyed` }];
  }
  return [...service.port]
    .sort((a, b) => a.port - b.port)
    .map((p) => ({ steps: sortedSteps(p.step), path: `${base}/port[port='${p.port}']`, port: p.port }));
}

export function sortedSteps(steps: Step[]): Step[] {
  return [...steps].sort((a, b) => a.seq - b.seq);
}

export const stepPath = (chainPath: string, step: Step) => `${chainPath}/step[seq='${step.seq}']`;

export function inLeg(device: Device) {
  return device.leg[0];
}

export function outLeg(device: Device) {
  return device.leg[device.leg.length - 1];
}
