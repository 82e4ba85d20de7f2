/**
 * Provisioning basics, as pure functions from a configuration to the next:
 * allocate a service IP from a pool, and instantiate a package into a service
 * by choosing a device or pool per function, "none", or a reordered sequence.
 * The result still goes through validate and commit like any edit.
 */
import { unsharedCopy } from '../store/config-intern.js';
import { VcnError } from '../../appliance/errors.js';
import type { Config, Port, Protocol, Service, Step } from '../../appliance/model/config.generated.js';
import { canonicalAddress, formatAddress, parseSpan } from '../../appliance/compile/render-addr.js';

/** Addresses a service or device already uses (canonical text). */
function usedAddresses(config: Config): Set<string> {
  const used = new Set<string>();
  for (const s of config.services.service) if (s['service-ip']) used.add(canonicalAddress(s['service-ip']));
  for (const d of config.devices.device) if (d.ip) used.add(canonicalAddress(d.ip));
  for (const i of config.interfaces.interface) for (const a of i.address) used.add(canonicalAddress(a.split('/')[0]));
  return used;
}

/** Candidate addresses tried per prefix at most (an IPv6 /64 is not walked to its end). */
const MAX_SCAN = 1 << 20;

/** The first free address of the pool: network and broadcast addresses of IPv4 prefixes up to /30 are skipped. */
export function allocateServiceIp(config: Config, poolName: string): string {
  const pool = config['service-ip-pools']?.pool.find((p) => p.name === poolName);
  if (!pool) throw new VcnError('UNKNOWN_SERVICE_IP_POOL', `service IP pool '${poolName}' does not exist`);
  const used = usedAddresses(config);
  for (const prefix of pool.prefix) {
    const span = parseSpan(prefix);
    let lo = span.lo;
    let hi = span.hi;
    if (span.family === 4 && hi - lo >= 3n) {
      lo += 1n;
      hi -= 1n;
    }
    let tried = 0;
    for (let a = lo; a <= hi && tried < MAX_SCAN; a++, tried++) {
      const text = formatAddress(a, span.family);
      if (!used.has(text)) return text;
    }
  }
  throw new VcnError('POOL_EXHAUSTED', `service IP pool '${poolName}' (${pool.prefix.join(', ')}) has no free address`);
}

/** Per package function: a device, a pool, or "none" (leave the function out). */
export type FunctionChoice = { device: string } | { pool: string } | 'none';

export interface PackageRequest {
  service: string;
  package: string;
  /** One choice per function of the package, in the package's order. */
  choices: FunctionChoice[];
  /** A reordered sequence: indices into the package's functions (default: the package order). Functions left out are "none". */
  order?: number[];
  port: number;
  protocol?: Protocol;
  /** Reuse a customer's own address ... */
  serviceIp?: string;
  /** ... or allocate the first free one from this pool. */
  serviceIpPool?: string;
  customer?: string;
  description?: string;
  /** Taps per function index (e.g. an IDS copy on the firewall step). */
  copyTo?: Record<number, string[]>;
}

/** The configuration with the service built from the package (the service must not exist yet). */
export function instantiatePackage(config: Config, req: PackageRequest): { config: Config; service: Service } {
  const bad = (message: string): never => {
    throw new VcnError('PROVISION_INVALID', message, [{ code: 'PROVISION_INVALID', path: `/services/service[name='${req.service}']`, message }]);
  };
  const pkg = config.packages.package.find((p) => p.name === req.package);
  if (!pkg) throw new VcnError('UNKNOWN_PACKAGE', `package '${req.package}' does not exist`);
  if (config.services.service.some((s) => s.name === req.service)) bad(`service '${req.service}' already exists`);
  if (req.choices.length !== pkg.function.length) {
    bad(`package '${pkg.name}' has ${pkg.function.length} functions (${pkg.function.join(', ')}); ${req.choices.length} choices were given`);
  }
  const order = req.order ?? pkg.function.map((_, i) => i);
  if (new Set(order).size !== order.length || order.some((i) => !Number.isInteger(i) || i < 0 || i >= pkg.function.length)) {
    bad(`order ${JSON.stringify(order)} is not a sequence of distinct function indices 0..${pkg.function.length - 1}`);
  }
  const steps: Step[] = [];
  for (const i of order) {
    const choice = req.choices[i];
    const fn = pkg.function[i];
    if (choice === 'none') continue;
    let target: { device?: string; pool?: string };
    if ('device' in choice) {
      const d = config.devices.device.find((x) => x.name === choice.device);
      if (!d) throw new VcnError('UNKNOWN_DEVICE', `device '${choice.device}' does not exist`);
      if (d.function !== fn) bad(`function ${i + 1} of package '${pkg.name}' is ${fn}; device '${d.name}' is ${d.function}`);
      target = { device: d.name };
    } else {
      const p = config.pools.pool.find((x) => x.name === choice.pool);
      if (!p) throw new VcnError('UNKNOWN_POOL', `pool '${choice.pool}' does not exist`);
      if (p.function !== fn) bad(`function ${i + 1} of package '${pkg.name}' is ${fn}; pool '${p.name}' is ${p.function}`);
      target = { pool: p.name };
    }
    steps.push({ seq: steps.length + 1, ...target, 'copy-to': [...(req.copyTo?.[i] ?? [])] });
  }
  if (!steps.length) bad(`every function of package '${pkg.name}' is "none": the chain would be empty`);
  if (req.serviceIp && req.serviceIpPool) bad('give a service IP or a pool to allocate from, not both');
  const serviceIp = req.serviceIp ?? (req.serviceIpPool ? allocateServiceIp(config, req.serviceIpPool) : undefined);
  if (!serviceIp) bad('a service needs a service IP or a pool to allocate one from');
  const port: Port = { port: req.port, protocol: req.protocol ?? 'any', step: steps };
  const service: Service = {
    name: req.service,
    ...(req.customer !== undefined ? { customer: req.customer } : {}),
    ...(req.description !== undefined ? { description: req.description } : {}),
    package: pkg.name,
    'service-ip': serviceIp,
    port: [port],
    acl: { 'default-action': 'permit', rule: [] },
  } as Service;
  const next = unsharedCopy(config);
  next.services.service.push(service);
  return { config: next, service };
}
