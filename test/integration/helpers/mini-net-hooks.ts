import { afterAll, beforeAll } from 'vitest';
import type { MiniNet } from './netns-mini.js';
import { requireRoot } from './root.js';

/**
 * The vitest hooks of a MiniNet test file: root required; `setup` builds the
 * topology, and if it throws what it built is torn down before the error is
 * reported; after all tests `teardown` runs (closing what uses the
 * namespaces), then every namespace and process of the run goes.
 */
export function miniNetHooks(net: MiniNet, setup: () => Promise<void>, opts: { teardown?: () => unknown; setupMs?: number } = {}): void {
  beforeAll(async () => {
    requireRoot();
    try {
      await setup();
    } catch (e) {
      await net.cleanup();
      throw e;
    }
  }, opts.setupMs ?? 120_000);
  afterAll(async () => {
    try {
      await opts.teardown?.();
    } finally {
      await net.cleanup();
    }
  }, 60_000);
}
