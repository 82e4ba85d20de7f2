/** `vcn show config|services|devices|counters|commits|events [--json]`. */
import { toJson7951 } from '../../mgmt/schema/config-codec.js';
import type { CommandIo } from '../compile-command.js';
import type { Datastore, NetconfClient } from '../netconf-client/client.js';
import { devicesView, servicesView } from '../views/config-views.js';
import { columns, UsageError } from './common.js';
import { formatConfig } from './format-config.js';

export const SHOW_WHAT = ['config', 'services', 'devices', 'counters', 'commits', 'events'] as const;

export async function show(c: NetconfClient, args: string[], json: boolean, io: CommandIo): Promise<number> {
  const [what, arg] = args;
  const out = (v: unknown, text: string) => io.out(json ? `${JSON.stringify(v, null, 2)}\n` : text);
  switch (what) {
    case 'config': {
      const ds = (arg ?? 'running') as Datastore;
      if (!['running', 'candidate', 'startup'].includes(ds)) throw new UsageError(`show config takes running, candidate or startup, not '${ds}'`);
      const cfg = await c.getConfig(ds);
      out(toJson7951(cfg as unknown as Record<string, unknown>), formatConfig(cfg));
      return 0;
    }
    case 'services': {
      const v = servicesView(await c.getConfig('running'));
      const rows = [['NAME', 'ADDRESS', 'PORT', 'CHAIN']];
      for (const s of v) for (const ch of s.chains) rows.push([s.name, s.serviceIp, `${ch.port}/${ch.protocol}${ch.range ? ` ${ch.range}` : ''}`, ch.hops.join(' > ')]);
      out(v, columns(rows));
      return 0;
    }
    case 'devices': {
      const health = (await c.state()).health;
      const byName = new Map((health?.devices ?? []).map((h) => [h.name, h]));
      // With health checks (daemon --health) each device also carries its oper state and response time.
      const v = devicesView(await c.getConfig('running')).map((d) => {
        const h = byName.get(d.name);
        return health ? { ...d, oper: h ? (h.outOfService ? 'failed' : h.oper) : 'unchecked', avgResponseUs: h?.avgResponseUs } : d;
      });
      const rows = v.map((d) => {
        const h = d as { oper?: string; avgResponseUs?: number };
        return [d.name, d.function, d.mode, d.ip, d.adminState, ...(health ? [h.oper ?? '', h.avgResponseUs !== undefined ? `${(h.avgResponseUs / 1000).toFixed(1)}ms` : '-'] : []), d.legs];
      });
      out(v, columns([['NAME', 'FUNCTION', 'MODE', 'IP', 'STATE', ...(health ? ['OPER', 'RTT'] : []), 'LEGS'], ...rows]));
      return 0;
    }
    case 'counters': {
      const st = await c.state();
      const rows = [['SERVICE', 'PORT', 'IN-PKTS', 'IN-BYTES', 'OUT-PKTS', 'OUT-BYTES']];
      for (const p of st.servicePorts) rows.push([p.service, p.port, String(p.in.packets), String(p.in.bytes), String(p.out.packets), String(p.out.bytes)]);
      out(st.servicePorts, columns(rows) + (st.countersError ? `counters unavailable: ${st.countersError}\n` : ''));
      return 0;
    }
    case 'commits': {
      const h = await c.history(arg ? Number(arg) : 20);
      out(h, columns([['ID', 'TIME', 'USER', 'CLIENT', 'KIND', 'COMMENT'], ...h.map((x) => [String(x.id), x.time.replace('T', ' ').slice(0, 19), x.user, x.client, x.kind, x.comment])]));
      return 0;
    }
    case 'events': {
      const ev = await c.events(arg ? Number(arg) : 50);
      out(ev, columns([['ID', 'TIME', 'KIND', 'SUBJECT', 'DETAIL'], ...ev.map((e) => [String(e.id), e.time.replace('T', ' ').slice(0, 19), e.kind, e.subject ?? '', e.detail ?? ''])]));
      return 0;
    }
    default:
      throw new UsageError(`show what? one of ${SHOW_WHAT.join(', ')}`);
  }
}
