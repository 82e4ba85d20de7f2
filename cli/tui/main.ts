/**
 * `vcn tui [--socket PATH]`: the console interface. Starts with the
 * first-boot wizard when no admin user is configured yet, else the dashboard.
 */
import { parseArgs } from 'node:util';
import type { CommandIo } from '../compile-command.js';
import { socketPath } from '../commands/common.js';
import { NetconfClient } from '../netconf-client/client.js';
import { App, type ScreenName } from './app.js';
import { commitScreen } from './screens/commit.js';
import { countersScreen } from './screens/counters.js';
import { dashboardScreen } from './screens/dashboard.js';
import { devicesScreen } from './screens/devices.js';
import { historyScreen } from './screens/history.js';
import { interfacesScreen } from './screens/interfaces.js';
import { servicesScreen } from './screens/services.js';
import { wizardScreen } from './screens/wizard.js';

export async function tuiCommand(argv: string[], io: CommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { socket: { type: 'string' }, screen: { type: 'string' }, 'refresh-ms': { type: 'string' } } }));
  } catch (e) {
    io.err(`vcn tui: ${(e as Error).message}\n`);
    return 2;
  }
  let client: NetconfClient;
  try {
    client = await NetconfClient.connect({ socket: socketPath(values.socket) });
  } catch (e) {
    io.err(`vcn tui: ${(e as Error).message}\n`);
    return 3;
  }
  const running = await client.getConfig('running');
  const first: ScreenName = (values.screen as ScreenName | undefined) ?? (running.system.login.user.length ? 'dashboard' : 'wizard');
  const app = new App({
    client,
    refreshMs: values['refresh-ms'] ? Number(values['refresh-ms']) : 2000,
    screens: (a) => ({
      wizard: wizardScreen(a),
      dashboard: dashboardScreen(a),
      services: servicesScreen(a),
      devices: devicesScreen(a),
      interfaces: interfacesScreen(a),
      commit: commitScreen(a),
      history: historyScreen(a),
      counters: countersScreen(a),
    }),
  });
  app.hostname = running.system.hostname ?? '';
  const code = await app.run(first);
  await client.close();
  return code;
}
