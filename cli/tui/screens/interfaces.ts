/** Interfaces: role, addresses, next hop, and the device legs attached to each. */
import type { App, Screen } from '../app.js';
import { text } from '../widgets.js';

export function interfacesScreen(app: App): Screen {
  return {
    title: 'Interfaces',
    help: '(read only)',
    async show() {
      const c = await app.client.getConfig('candidate');
      const L = [` ${'NAME'.padEnd(8)} ${'ROLE'.padEnd(15)} ${'ADDRESSES'.padEnd(22)} ${'GATEWAY'.padEnd(16)} DEVICES`];
      for (const i of c.interfaces.interface) {
        const legs = c.devices.device.flatMap((d) => d.leg.filter((l) => l.interface === i.name).map((l) => `${d.name}.${l.name}`));
        L.push(` ${i.name.padEnd(8)} ${i.role.padEnd(15)} ${(i.address.join(',') || '-').padEnd(22)} ${(i.gateway.ip ?? '-').padEnd(16)} ${legs.join(' ') || '-'}`.slice(0, 79));
        if (i.description) L.push(`          ${i.description}`.slice(0, 79));
      }
      if (L.length === 1) L.push(' (no interfaces configured)');
      text(app, 0, 21, L.slice(0, 21).join('\n'));
    },
  };
}
