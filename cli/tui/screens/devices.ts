/** Devices and pools: status, function, delivery, legs, pool membership; m puts a device in or out of maintenance (candidate). */
import type { Config } from '../../../appliance/model/config.generated.js';
import type { App, Screen } from '../app.js';
import { list, text } from '../widgets.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function devicesScreen(app: App): Screen {
  let config: Config | undefined;
  let selected = 0;
  const draw = async () => {
    for (const ch of [...app.body.children]) ch.destroy();
    config = await app.client.getConfig('candidate');
    const c = config;
    // Response time comes from health probes; none run yet, so the column says so.
    text(app, 0, 1, ` ${'NAME'.padEnd(10)} ${'STATE'.padEnd(11)} ${'FUNCTION'.padEnd(10)} ${'MODE'.padEnd(11)} ${'IP'.padEnd(14)} ${'RTT'.padEnd(6)} LEGS`);
    const health = new Map((app.state.health?.devices ?? []).map((h) => [h.name, h]));
    const rows = c.devices.device.map((d) => {
      const h = health.get(d.name);
      // Without health checks (daemon without --health) the state is the configured one.
      const state = d['admin-state'] === 'maintenance' ? 'maintenance' : h ? (h.outOfService ? 'FAILED' : h.oper) : d['admin-state'];
      const ms = h?.avgResponseUs !== undefined ? h.avgResponseUs / 1000 : undefined;
      const rtt = ms === undefined ? '-' : ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`;
      return ` ${d.name.padEnd(10)} ${state.slice(0, 11).padEnd(11)} ${d.function.padEnd(10)} ${d['delivery-mode'].padEnd(11)} ${(d.ip ?? '').padEnd(14)} ${rtt.padEnd(6)} ${d.leg.map((l) => l.interface).join('/')}`.slice(0, 79);
    });
    const h = Math.min(Math.max(rows.length, 1), 12);
    const l = list(app, { top: 1, height: h, items: rows.length ? rows : [' (no devices)'] });
    l.select(Math.min(selected, Math.max(rows.length - 1, 0)));
    l.on('select item', (_: unknown, i: number) => (selected = i));
    const pools = c.pools.pool.map((p) => ` ${p.name.padEnd(14)} ${p.function.padEnd(10)} ${p.member.map((m) => (c.devices.device.find((d) => d.name === m)?.['admin-state'] === 'maintenance' ? `(${m})` : m)).join(' > ')}`);
    const ipPools = c['service-ip-pools']?.pool.map((p) => ` ${p.name.padEnd(14)} ${p.prefix.join(' ')}`) ?? [];
    text(app, h + 2, 21 - h - 2, [' POOLS (first member in service is used; the rest are alternates)', ...(pools.length ? pools : [' (none)']), ' SERVICE IP POOLS', ...(ipPools.length ? ipPools : [' (none)'])].join('\n'));
    app.screen.render();
  };
  return {
    title: 'Devices and pools',
    help: 'm:maintenance on/off',
    show: draw,
    async key(name) {
      if (name !== 'm' || !config) return false;
      const d = config.devices.device[selected];
      if (!d) return true;
      const next = d['admin-state'] === 'maintenance' ? 'in-service' : 'maintenance';
      await app.client.editConfig(`<devices xmlns="urn:vcn:appliance"><device><name>${esc(d.name)}</name><admin-state>${next}</admin-state></device></devices>`);
      await draw();
      app.info(`${d.name} set to ${next} in the candidate (c: commit)`);
      return true;
    },
  };
}
