/**
 * Operational state for <get> (not in vcn.yang yet, so in its own namespace):
 * the running commit, a pending confirmed commit, per service-port counters
 * and per-member counters of load-shared rows, read from the data plane.
 */
import type { NetconfServer } from '../server.js';
import { esc, leaf } from '../xml.js';
import { healthStateXml } from './health-rpcs.js';

export const STATE_NS = 'urn:vcn:appliance:state';

export async function stateXml(server: NetconfServer): Promise<string> {
  const parts: string[] = [];
  const running = server.nb.runningCommit();
  if (running !== null) parts.push(leaf('running-commit', running));
  const p = server.nb.pendingConfirm();
  if (p) parts.push(`<pending-confirm>${leaf('commit-id', p.commitId)}${leaf('revert-to', p.revertTo)}${leaf('deadline', new Date(p.deadline).toISOString())}${leaf('user', p.user)}</pending-confirm>`);
  if (server.datapath) {
    try {
      const snap = await server.datapath.readCounters();
      for (const [key, c] of snap.servicePorts) {
        const [service, port] = key.split('/');
        parts.push(
          `<service-port>${leaf('service', service)}${leaf('port', port)}` +
            `<in>${leaf('packets', c.in.packets)}${leaf('bytes', c.in.bytes)}</in><out>${leaf('packets', c.out.packets)}${leaf('bytes', c.out.bytes)}</out></service-port>`,
        );
      }
      // Load sharing: what each member of a shared step got from each shared row.
      const members = server.datapath.running()?.shareCounters;
      for (const [name, c] of snap.share ?? []) {
        const m = members?.get(name);
        if (!m) continue;
        parts.push(`<share-member>${leaf('row', m.row)}${leaf('service', m.service)}${leaf('device', m.device)}${leaf('packets', c.packets)}${leaf('bytes', c.bytes)}</share-member>`);
      }
    } catch (e) {
      parts.push(`<counters-error>${esc((e as Error).message)}</counters-error>`);
    }
  }
  return `<state xmlns="${STATE_NS}">${parts.join('')}</state>${healthStateXml(server)}`;
}
