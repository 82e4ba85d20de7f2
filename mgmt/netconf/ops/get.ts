/** <get> and <get-config> (RFC 6241 §7.1, §7.7) with subtree/XPath filters and with-defaults. */
import { configXml, withDefaultsMode } from '../data.js';
import { applyFilter } from '../filters.js';
import { monitoringXml, yangLibraryXml } from '../monitoring.js';
import { readView } from '../nacm.js';
import { roles, type OpDef, type OpContext } from '../rpc-dispatch.js';
import { NS } from '../xml.js';
import { datastoreParam } from './datastore.js';
import { stateXml } from './state.js';

async function get(ctx: OpContext): Promise<string> {
  const mode = withDefaultsMode(ctx.params.get('with-defaults'));
  const { session, server } = ctx;
  const running = readView(session.user, server.nb.getConfig(session.nbSession, 'running'));
  let data = configXml(running, mode);
  if (session.user.role !== 'customer') data += monitoringXml(server) + yangLibraryXml() + (await stateXml(server));
  return `<data>${applyFilter(data, ctx.params.get('filter'))}</data>`;
}

function getConfig(ctx: OpContext): string {
  const src = datastoreParam(ctx, 'source', ['running', 'candidate', 'startup']);
  const mode = withDefaultsMode(ctx.params.get('with-defaults'));
  const { session, server } = ctx;
  if (!('ds' in src)) throw new Error('unreachable');
  const config = readView(session.user, server.nb.getConfig(session.nbSession, src.ds, { shared: true }));
  return `<data>${applyFilter(configXml(config, mode), ctx.params.get('filter'))}</data>`;
}

export const getOps: OpDef[] = [
  { ns: NS.base, name: 'get', params: ['filter', 'with-defaults'], roles: roles.all, run: get },
  { ns: NS.base, name: 'get-config', params: ['source', 'filter', 'with-defaults'], roles: roles.all, run: getConfig },
];
