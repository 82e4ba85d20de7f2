/**
 * Which device a step delivers to now: the named device, or the first member of
 * the named pool that is in service and not failed (the others are alternates).
 */
import type { Device, Step } from '../model/config.generated.js';
import type { ConfigIndex } from '../model/config-index.js';

export interface RuntimeState {
  /** Devices the health checks have declared failed. */
  failed?: ReadonlySet<string>;
}

export type Resolution = { device: Device } | { unavailable: string };

export function isUsable(device: Device, state: RuntimeState): boolean {
  return device['admin-state'] === 'in-service' && !state.failed?.has(device.name);
}

function whyNot(device: Device, state: RuntimeState): string {
  return state.failed?.has(device.name) ? `device ${device.name} has failed` : `device ${device.name} is in maintenance`;
}

export function resolveStep(index: ConfigIndex, step: Step, state: RuntimeState): Resolution {
  if (step.device !== undefined) {
    const device = index.devices.get(step.device)!;
    return isUsable(device, state) ? { device } : { unavailable: whyNot(device, state) };
  }
  const pool = index.pools.get(step.pool!)!;
  for (const name of pool.member) {
    const device = index.devices.get(name)!;
    if (isUsable(device, state)) return { device };
  }
  return { unavailable: `pool ${pool.name} has no member in service` };
}

/** Copies go only to taps that are usable; a missing tap never stops the service. */
export function resolveCopies(index: ConfigIndex, step: Step, state: RuntimeState): Device[] {
  return step['copy-to'].map((name) => index.devices.get(name)!).filter((d) => isUsable(d, state));
}

/** Most buckets a shared step hashes into: a bound on the per-rule anonymous maps. */
const MAX_BUCKETS = 64;

export interface ShareResolution {
  /** Usable members in pool order. */
  members: Device[];
  /** Member name per hash bucket. */
  buckets: string[];
  /** Hash seed of the pool: both directions use it; consecutive shared pools spread independently. */
  seed: number;
}

/** A stable 32-bit seed per pool name (FNV-1a), so that two shared steps do not pick members in lockstep. */
function poolSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The members of a load-shared pool step and who owns each hash bucket.
 * The bucket count depends on the configured members only (M·(M−1), so one
 * member's buckets split evenly over the rest), never on who is up: bucket b
 * belongs to member b mod M, and only the buckets of members that are down
 * are dealt round-robin to the usable ones. Clients of healthy members thus
 * keep their member when another fails. Undefined when the step does not share.
 */
export function resolveShare(index: ConfigIndex, step: Step, state: RuntimeState): ShareResolution | undefined {
  if (step.pool === undefined) return undefined;
  const pool = index.pools.get(step.pool)!;
  if (!pool['load-sharing']) return undefined;
  const all = pool.member.map((name) => index.devices.get(name)!);
  const members = all.filter((d) => isUsable(d, state));
  if (members.length < 2) return undefined;
  const m = all.length;
  const count = Math.min(MAX_BUCKETS, m * (m - 1));
  const buckets: string[] = [];
  let next = 0;
  for (let b = 0; b < count; b++) {
    const owner = all[b % m];
    buckets.push(isUsable(owner, state) ? owner.name : members[next++ % members.length].name);
  }
  return { members, buckets, seed: poolSeed(pool.name) };
}
