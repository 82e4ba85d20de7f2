/** Loading fixture configurations through the real loader (schema + semantics). */
import type { Config } from '../../appliance/model/config.generated.js';
import type { Symbols } from '../../appliance/compile/format-table.js';
import { loadConfigFile } from '../../mgmt/schema/load-config.js';

export const loadFixture = (file: string): Config => loadConfigFile(file);

/** Names in the style of the patent's figures: W1, S1, FW0_M, GW_M. */
export function figureSymbols(config: Config): Symbols {
  const symbols: Symbols = new Map();
  for (const s of config.services.service) if (s['service-ip']) symbols.set(s['service-ip'], s.name);
  for (const d of config.devices.device) {
    if (d.ip) symbols.set(d.ip, d.name);
    for (const leg of d.leg) if (leg.mac) symbols.set(leg.mac, `${leg.name.toUpperCase()}_M`);
  }
  for (const i of config.interfaces.interface) if (i.gateway.mac) symbols.set(i.gateway.mac, 'GW_M');
  return symbols;
}
