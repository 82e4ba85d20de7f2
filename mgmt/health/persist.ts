/**
 * The failed-over devices survive a daemon restart: they are kept in the
 * store (setting health.failed) and the daemon compiles with them out of
 * service from its first load, so a restart never fails back by itself.
 */
import type { Northbound } from '../northbound/northbound.js';
import type { Store } from '../store/store.js';

const KEY = 'health.failed';

export function saveFailed(store: Store, failed: ReadonlySet<string> | undefined): void {
  store.setSetting(KEY, JSON.stringify([...(failed ?? [])].sort()));
}

export function loadFailed(store: Store): Set<string> {
  try {
    const v = JSON.parse(store.setting(KEY) ?? '[]') as unknown;
    return new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  } catch {
    return new Set();
  }
}

/** Before Northbound.start(): the stored failed devices become the runtime state the first load compiles with. */
export function restoreFailed(store: Store, northbound: Northbound): void {
  const failed = loadFailed(store);
  if (failed.size) northbound.restoreRuntimeState({ failed });
}
