/**
 * What a change of the health state does to the services (pure): for every
 * service whose chain resolves differently, which device replaced which, and
 * which services became unavailable (no pool member left).
 */
import { compileService, type RuntimeState } from '../../appliance/compile/compile.js';
import { indexConfig } from '../../appliance/model/config-index.js';
import type { Config } from '../../appliance/model/config.generated.js';

export interface ServiceMove {
  service: string;
  /** "port/seq" (or "seq" for a source-keyed chain). */
  step: string;
  from: string;
  to: string;
}

export interface HealthImpact {
  moves: ServiceMove[];
  /** Services with a reason that were steered before. */
  unavailable: { service: string; reason: string }[];
  /** Services steered again. */
  restored: string[];
}

export function healthImpact(config: Config, before: RuntimeState, after: RuntimeState): HealthImpact {
  const index = indexConfig(config);
  const out: HealthImpact = { moves: [], unavailable: [], restored: [] };
  for (const service of config.services.service) {
    const a = compileService(index, service, before).policy;
    const b = compileService(index, service, after).policy;
    for (const [step, dev] of Object.entries(a.resolved)) {
      const now = b.resolved[step];
      if (now !== undefined && now !== dev) out.moves.push({ service: service.name, step, from: dev, to: now });
    }
    if (b.unavailable && b.unavailable !== a.unavailable) out.unavailable.push({ service: service.name, reason: b.unavailable });
    if (a.unavailable && !b.unavailable) out.restored.push(service.name);
  }
  return out;
}

/** Why each service is not steered now (oper state). */
export function unavailableServices(config: Config, state: RuntimeState): { service: string; reason: string }[] {
  const index = indexConfig(config);
  const out: { service: string; reason: string }[] = [];
  for (const service of config.services.service) {
    const p = compileService(index, service, state).policy;
    if (p.unavailable) out.push({ service: service.name, reason: p.unavailable });
  }
  return out;
}
