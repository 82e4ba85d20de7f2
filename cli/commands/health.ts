/**
 * vcn commands for health and service operations (issue 7), each one RPC of
 * the urn:vcn:appliance:health namespace (mgmt/netconf/ops/health-rpcs.ts):
 *
 *   health                               device health (oper state, failures, response times) and unavailable services
 *   failback DEVICE [--force]            a failed device back into service (one commit)
 *   maintenance DEVICE on|off            admin-state maintenance / in-service (one commit)
 *   replace-device FROM TO [--preview]   replace FROM by TO in every service (one commit; --preview lists only)
 *   clone-service SERVICE NAME IP        a copy of SERVICE as NAME on service IP IP (one commit)
 *   trace CLIENT SERVICE-IP [SECONDS]    the path a test flow takes through the engine (nftables tracing)
 */
import type { Element } from '@xmldom/xmldom';
import type { CommandIo } from '../compile-command.js';
import type { NetconfClient } from '../netconf-client/client.js';
import { children, esc, text } from '../../mgmt/netconf/xml.js';
import { columns, UsageError } from './common.js';

export const HEALTH_NS = 'urn:vcn:appliance:health';
export const HEALTH_COMMANDS = ['health', 'failback', 'maintenance', 'replace-device', 'clone-service', 'trace'];

/** An element's leaf children as a record (repeated leaves joined by ", "). */
export function leaves(el: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of children(el)) {
    const k = c.localName ?? '';
    out[k] = out[k] !== undefined ? `${out[k]}, ${text(c)}` : text(c);
  }
  return out;
}

const named = (els: Element[], name: string) => els.filter((e) => e.localName === name).map(leaves);

function commitLine(els: Element[]): string {
  const id = els.find((e) => e.localName === 'commit-id');
  return id ? `committed as commit ${text(id)}\n` : '';
}

/** validate-service replies as a table, the broken hop named. */
export function formatHops(els: Element[]): string {
  const hops = named(els, 'hop');
  const rows = [['port', 'seq', 'device', 'check', 'result', 'latency', 'error']];
  for (const h of hops) rows.push([h.port ?? '-', h.seq, `${h.device}${h.copy ? ' (copy)' : ''}`, h.check ?? '', h.result, h['latency-us'] ? `${(Number(h['latency-us']) / 1000).toFixed(2)} ms` : '', h.error ?? '']);
  const broken = els.find((e) => e.localName === 'broken-hop');
  return columns(rows) + (broken ? `broken hop: ${text(broken)}\n` : 'every hop answered\n');
}

export async function healthCommand(c: NetconfClient, command: string, args: string[], o: { json: boolean; force?: boolean; preview?: boolean }, io: CommandIo): Promise<number> {
  const rpc = (name: string, inner = '') => c.rpc(`<${name} xmlns="${HEALTH_NS}">${inner}</${name}>`);
  const need = (n: number, usage: string) => {
    if (args.length < n) throw new UsageError(`usage: vcn ${usage}`);
  };
  let els: Element[];
  switch (command) {
    case 'health': {
      els = await rpc('health-status');
      const devices = named(els, 'device');
      const unavailable = named(els, 'unavailable');
      if (o.json) {
        io.out(`${JSON.stringify({ devices, unavailable }, null, 2)}\n`);
        return 0;
      }
      const rows = [['device', 'check', 'oper', 'in service', 'failures', 'avg response', 'last change', 'last error']];
      for (const d of devices) {
        const inService = d.maintenance === 'true' ? 'maintenance' : d['out-of-service'] === 'true' ? 'no (failed over)' : 'yes';
        rows.push([d.name, d.check, d.oper, inService, d.failures, d['avg-response-us'] ? `${(Number(d['avg-response-us']) / 1000).toFixed(2)} ms` : '', d['last-change'], d['last-error'] ?? '']);
      }
      io.out(columns(rows));
      for (const u of unavailable) io.out(`service ${u.service} is unavailable: ${u.reason}\n`);
      return 0;
    }
    case 'failback':
      need(1, 'failback DEVICE [--force]');
      els = await rpc('failback', `<device>${esc(args[0])}</device>${o.force ? '<force/>' : ''}`);
      io.out(commitLine(els));
      return 0;
    case 'maintenance':
      need(2, 'maintenance DEVICE on|off');
      if (args[1] !== 'on' && args[1] !== 'off') throw new UsageError('usage: vcn maintenance DEVICE on|off');
      els = await rpc('set-maintenance', `<device>${esc(args[0])}</device><enabled>${args[1] === 'on'}</enabled>`);
      io.out(commitLine(els));
      return 0;
    case 'replace-device': {
      need(2, 'replace-device FROM TO [--preview]');
      els = await rpc('replace-device', `<from>${esc(args[0])}</from><to>${esc(args[1])}</to>${o.preview ? '<preview/>' : ''}`);
      const uses = named(els, 'use');
      if (o.json) io.out(`${JSON.stringify({ uses, commit: commitLine(els).match(/\d+/)?.[0] ?? null }, null, 2)}\n`);
      else {
        io.out(uses.length ? columns([['service', 'where'], ...uses.map((u) => [u.service, u.where])]) : `no service uses ${args[0]}\n`);
        io.out(o.preview ? `${new Set(uses.map((u) => u.service)).size} service(s) would change (preview: nothing committed)\n` : commitLine(els));
      }
      return 0;
    }
    case 'clone-service':
      need(3, 'clone-service SERVICE NAME SERVICE-IP');
      els = await rpc('clone-service', `<service>${esc(args[0])}</service><name>${esc(args[1])}</name><service-ip>${esc(args[2])}</service-ip>`);
      io.out(commitLine(els));
      return 0;
    case 'trace': {
      need(2, 'trace CLIENT-IP SERVICE-IP [SECONDS]');
      els = await rpc('trace', `<client>${esc(args[0])}</client><service-ip>${esc(args[1])}</service-ip>${args[2] ? `<seconds>${esc(args[2])}</seconds>` : ''}`);
      const hops = named(els, 'hop');
      if (o.json) io.out(`${JSON.stringify(hops, null, 2)}\n`);
      else io.out(hops.length ? columns([['ms', 'in', 'src', 'dst', 'sent'], ...hops.map((h) => [h.ms, h.iif, h.src, h.dst, h.out ?? ''])]) : 'no packet of that flow was seen\n');
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}
