/** <copy-config> and <delete-config> (RFC 6241 §7.3, §7.4) on candidate and startup. */
import { protectSecrets } from '../../northbound/secrets.js';
import { checkConfig } from '../../schema/load-config.js';
import { unsharedCopy } from '../../store/config-intern.js';
import { roles, type OpContext, type OpDef } from '../rpc-dispatch.js';
import { fromIssue, RpcError } from '../rpc-error.js';
import { NS } from '../xml.js';
import { datastoreParam, sourceConfig } from './datastore.js';

function copyConfig(ctx: OpContext): string {
  const { server, session } = ctx;
  const target = datastoreParam(ctx, 'target', ['candidate', 'startup']);
  const source = datastoreParam(ctx, 'source', ['running', 'candidate', 'startup'], true);
  if (!('ds' in target)) throw new Error('unreachable');
  server.checkUnlocked(session, target.ds);
  if ('ds' in source && source.ds === target.ds) return '';
  if (target.ds === 'candidate' && 'ds' in source && source.ds === 'running') {
    server.nb.discardChanges(session.nbSession, { shared: true });
    return '';
  }
  if (target.ds === 'startup' && 'ds' in source && source.ds === 'running') {
    server.nb.copyRunningToStartup(session.nbSession);
    return '';
  }
  const config = sourceConfig(ctx, source);
  if (target.ds === 'candidate') {
    server.nb.setCandidate(session.nbSession, config, { shared: true });
    return '';
  }
  // startup from candidate or inline: only a valid configuration may become startup.
  const checked = checkConfig(protectSecrets(unsharedCopy(config)));
  if (checked.issues.length) throw new RpcError(checked.issues.map(fromIssue));
  server.store.putDatastore('startup', checked.config, server.nb.runningCommit(), { user: session.user.name, client: session.info.client, session: session.nbSession }, 'copy-config');
  return '';
}

function deleteConfig(ctx: OpContext): string {
  const { server, session } = ctx;
  const target = datastoreParam(ctx, 'target', ['startup']);
  if (!('ds' in target)) throw new Error('unreachable');
  server.checkUnlocked(session, target.ds);
  server.store.deleteDatastore('startup', { user: session.user.name, client: session.info.client, session: session.nbSession });
  return '';
}

export const copyOps: OpDef[] = [
  { ns: NS.base, name: 'copy-config', params: ['target', 'source', 'with-defaults'], roles: roles.admin, run: copyConfig },
  { ns: NS.base, name: 'delete-config', params: ['target'], roles: roles.admin, run: deleteConfig },
];
