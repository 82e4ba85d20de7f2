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
