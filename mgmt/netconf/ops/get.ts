/** <get> and <get-config> (RFC 6241 §7.1, §7.7) with subtree/XPath filters and with-defaults. */
import { configXml, normalise, withDefaultsMode } from '../data.js';
import { applyFilter } from '../filters.js';
import { prune } from '../filter-prune.js';
import { monitoringXml, yangLibraryXml } from '../monitoring.js';
import { readView } from '../nacm.js';
import { roles, type OpDef, type OpContext } from '../rpc-dispatch.js';
import { NS } from '../xml.js';
import { datastoreParam } from './datastore.js';
import { stateXml } from './state.js';

/**
 * The configuration a session may read, as reply XML: read from the store
 * without a copy, normalised once per snapshot, cut down to the list entries
 * a subtree filter can select before it is serialised (the exact filter runs
 * after, on what is left).
 */
function readableXml(ctx: OpContext, ds: 'running' | 'candidate' | 'startup'): string {
  const { session, server } = ctx;
  const mode = withDefaultsMode(ctx.params.get('with-defaults'));
  const stored = server.nb.getConfig(session.nbSession, ds, { shared: true, readonly: true });
  const view = readView(session.user, normalise(stored));
  return configXml(prune(view, ctx.params.get('filter')), mode, { normalised: true });
}

async function get(ctx: OpContext): Promise<string> {
  const { session, server } = ctx;
  let data = readableXml(ctx, 'running');
  if (session.user.role !== 'customer') data += monitoringXml(server) + yangLibraryXml() + (await stateXml(server));
  return `<data>${applyFilter(data, ctx.params.get('filter'))}</data>`;
}

function getConfig(ctx: OpContext): string {
  const src = datastoreParam(ctx, 'source', ['running', 'candidate', 'startup']);
  if (!('ds' in src)) throw new Error('unreachable');
  return `<data>${applyFilter(readableXml(ctx, src.ds), ctx.params.get('filter'))}</data>`;
}

export const getOps: OpDef[] = [
  { ns: NS.base, name: 'get', params: ['filter', 'with-defaults'], roles: roles.all, run: get },
  { ns: NS.base, name: 'get-config', params: ['source', 'filter', 'with-defaults'], roles: roles.all, run: getConfig },
];
