/** Live counters per service port, with rates since the previous reading. */
import type { ServicePortState } from '../../netconf-client/client.js';
import { human } from '../../views/config-views.js';
import type { App, Screen } from '../app.js';
import { text } from '../widgets.js';

export function countersScreen(app: App): Screen {
  let box: ReturnType<typeof text> | undefined;
  let prev: { at: number; ports: Map<string, number> } | undefined;
  return {
    title: 'Live counters',
    help: '(refreshes every 2 s)',
    async show() {
      box = text(app, 0, 21, ' reading counters ...');
      prev = undefined;
    },
    async refresh() {
      const ports: ServicePortState[] = app.state.servicePorts;
      const now = Date.now();
      const L = [` ${'SERVICE'.padEnd(16)} ${'PORT'.padEnd(6)} ${'IN PKTS'.padStart(10)} ${'IN BYTES'.padStart(10)} ${'OUT PKTS'.padStart(10)} ${'OUT BYTES'.padStart(10)} ${'PKT/S'.padStart(8)}`];
      const cur = new Map<string, number>();
      for (const p of ports) {
        const key = `${p.service}/${p.port}`;
        const total = p.in.packets + p.out.packets;
        cur.set(key, total);
        const before = prev?.ports.get(key);
        const rate = prev && before !== undefined ? Math.max(0, Math.round(((total - before) * 1000) / Math.max(now - prev.at, 1))) : undefined;
        L.push(` ${p.service.padEnd(16)} ${p.port.padEnd(6)} ${String(p.in.packets).padStart(10)} ${human(p.in.bytes).padStart(10)} ${String(p.out.packets).padStart(10)} ${human(p.out.bytes).padStart(10)} ${(rate === undefined ? '-' : String(rate)).padStart(8)}`.slice(0, 79));
      }
      if (!ports.length) L.push(app.state.countersError ? ` counters unavailable: ${app.state.countersError}` : ' (no service counters: nothing committed yet)');
      prev = { at: now, ports: cur };
      box?.setContent(L.slice(0, 21).join('\n'));
    },
  };
}
