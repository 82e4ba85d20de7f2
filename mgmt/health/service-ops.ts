/**
 * Service operations on a configuration (pure; the RPCs commit the result):
 * regeneration (Fig 20: replace device X by Y in every service that uses it)
 * and replication (Fig 21: clone a service to a new service IP and name).
 */
import { VcnError } from '../../appliance/errors.js';
import type { Config } from '../../appliance/model/config.generated.js';
import { unsharedCopy } from '../store/config-intern.js';

export interface ReplaceUse {
  service: string;
  /** "port 80 step 1", "port 80 step 2 copy", "source-keyed step 1", "client-side", "upstream". */
  where: string;
}

/** Every use of device `from` in services replaced by `to`; the affected uses (empty: nothing to do). */
export function replaceDevice(input: Config, from: string, to: string): { config: Config; uses: ReplaceUse[] } {
  const devices = new Map(input.devices.device.map((d) => [d.name, d]));
  const a = devices.get(from);
  const b = devices.get(to);
  if (!a) throw new VcnError('NO_SUCH_DEVICE', `device ${from} does not exist`);
  if (!b) throw new VcnError('NO_SUCH_DEVICE', `device ${to} does not exist`);
  if (from === to) throw new VcnError('CONFIG_INVALID', 'a device cannot replace itself');
  if (a.function !== b.function) throw new VcnError('CONFIG_INVALID', `device ${to} is a ${b.function}, device ${from} a ${a.function}: only like devices replace each other`);
  const config = unsharedCopy(input);
  const uses: ReplaceUse[] = [];
  for (const s of config.services.service) {
    const chains: { label: string; steps: Config['services']['service'][number]['port'][number]['step'] }[] = s.port.map((p) => ({ label: `port ${p.port}`, steps: p.step }));
    const keyed = s['source-keyed'];
    if (keyed) {
      chains.push({ label: 'source-keyed', steps: keyed.step });
      if (keyed['client-side'] === from) {
        keyed['client-side'] = to;
        uses.push({ service: s.name, where: 'client-side' });
      }
      if (keyed.upstream === from) {
        keyed.upstream = to;
        uses.push({ service: s.name, where: 'upstream' });
      }
    }
    for (const c of chains) {
      for (const st of c.steps) {
        if (st.device === from) {
          st.device = to;
          uses.push({ service: s.name, where: `${c.label} step ${st.seq}` });
        }
        const i = st['copy-to'].indexOf(from);
        if (i >= 0) {
          st['copy-to'][i] = to;
          uses.push({ service: s.name, where: `${c.label} step ${st.seq} copy` });
        }
      }
    }
  }
  return { config, uses };
}

/** A copy of service `name` under a new name and service IP (destination-keyed services only). */
export function cloneService(input: Config, name: string, newName: string, serviceIp: string): Config {
  const src = input.services.service.find((s) => s.name === name);
  if (!src) throw new VcnError('NO_SUCH_SERVICE', `service ${name} does not exist`);
  if (input.services.service.some((s) => s.name === newName)) throw new VcnError('CONFIG_INVALID', `service ${newName} exists already`);
  if (src['source-keyed']) throw new VcnError('CONFIG_INVALID', `service ${name} is source-keyed (ISP mode): it has no service IP to clone to`);
  const config = unsharedCopy(input);
  const copy = unsharedCopy(src);
  copy.name = newName;
  copy['service-ip'] = serviceIp;
  copy.description = `clone of ${name}${src.description ? `: ${src.description}` : ''}`;
  config.services.service.push(copy);
  return config;
}
