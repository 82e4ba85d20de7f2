/**
 * `vcn cutover-name NAME IP [-m COMMENT]` and `vcn detect-server-mode DEVICE [SERVICE-IP [PORT]]`:
 * the service operations of issue 7 part B, as NETCONF RPCs (mgmt/netconf/ops/share-rpcs.ts).
 */
import type { CommandIo } from '../compile-command.js';
import { FRONTEND_NS, type NetconfClient } from '../netconf-client/client.js';
import { children, esc, text } from '../../mgmt/netconf/xml.js';
import { UsageError } from './common.js';

export async function cutoverNameCommand(c: NetconfClient, args: string[], comment: string | undefined, json: boolean, io: CommandIo): Promise<number> {
  if (args.length !== 2) throw new UsageError('cutover-name needs NAME and SERVICE-IP');
  const [name, ip] = args;
  const reply = await c.rpc(
    `<cutover-name xmlns="${FRONTEND_NS}"><name>${esc(name)}</name><service-ip>${esc(ip)}</service-ip>${comment !== undefined ? `<comment>${esc(comment)}</comment>` : ''}</cutover-name>`,
  );
  const id = Number(text(reply.find((e) => e.localName === 'commit-id')!));
  io.out(json ? `${JSON.stringify({ commitId: id, name, serviceIp: ip })}\n` : `${name} now resolves to ${ip} (commit ${id}; vcn rollback ${id - 1} maps it back)\n`);
  return 0;
}

export async function detectModeCommand(c: NetconfClient, args: string[], json: boolean, io: CommandIo): Promise<number> {
  if (args.length < 1 || args.length > 3) throw new UsageError('detect-server-mode needs DEVICE [SERVICE-IP [PORT]]');
  const [device, ip, port] = args;
  const reply = await c.rpc(
    `<detect-server-mode xmlns="${FRONTEND_NS}"><device>${esc(device)}</device>${ip ? `<service-ip>${esc(ip)}</service-ip>` : ''}${port ? `<port>${esc(port)}</port>` : ''}</detect-server-mode>`,
  );
  const out: Record<string, string> = {};
  const evidence: Record<string, string> = {};
  for (const e of reply) {
    if (e.localName === 'evidence') for (const k of children(e)) evidence[k.localName ?? ''] = text(k);
    else out[e.localName ?? ''] = text(e);
  }
  if (json) io.out(`${JSON.stringify({ device, ...out, evidence })}\n`);
  else {
    const note = out['configured-mode'] && out['configured-mode'] !== out.mode ? ` (configured: ${out['configured-mode']})` : '';
    io.out(`${device}: ${out.mode}${note}\n  SYN to ${out['service-ip']}:${out.port}: ${evidence['service-ip']}; SYN to its own IP: ${evidence['own-ip']}; ARP for ${out['service-ip']}: ${evidence['arp-for-service-ip'] === 'true' ? 'answered' : 'silent'}\n`);
  }
  return 0;
}
