/** Default-filled parts of a configuration, derived from the schema so they never drift from it. */
import type { Config } from '../../appliance/model/config.generated.js';
import { validateTree } from './validate-tree.js';

/** The `system` container as an empty configuration normalises it (all defaults). */
export function defaultSystem(): Config['system'] {
  return structuredClone(validateTree({}).config.system);
}
