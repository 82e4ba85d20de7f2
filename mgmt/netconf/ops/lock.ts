/** <lock> and <unlock> (RFC 6241 §7.5, §7.6). Locks live in the server and end with their session. */
import { roles, type OpContext, type OpDef } from '../rpc-dispatch.js';
import { rpcError } from '../rpc-error.js';
import { NS } from '../xml.js';
import { datastoreParam } from './datastore.js';

function lock(ctx: OpContext): string {
  const { server, session } = ctx;
  const t = datastoreParam(ctx, 'target', ['running', 'candidate', 'startup']);
  if (!('ds' in t)) throw new Error('unreachable');
  const holder = server.locks.get(t.ds);
  if (holder) {
    throw rpcError('lock-denied', 'NETCONF_LOCKED', `the ${t.ds} datastore is already locked by session ${holder.id}`, { info: `<session-id>${holder === session ? holder.id : holder.id}</session-id>` });
  }
  if (t.ds === 'candidate' && server.nb.compare(session.nbSession, 'running', 'candidate', { shared: true }).length) {
    // §8.3.5.1: the candidate cannot be locked while it holds uncommitted changes.
    throw rpcError('lock-denied', 'NETCONF_LOCKED', 'the candidate has uncommitted changes: commit or discard them first', { info: '<session-id>0</session-id>' });
  }
  server.locks.set(t.ds, session);
  return '';
}

function unlock(ctx: OpContext): string {
  const { server, session } = ctx;
  const t = datastoreParam(ctx, 'target', ['running', 'candidate', 'startup']);
  if (!('ds' in t)) throw new Error('unreachable');
  const holder = server.locks.get(t.ds);
  if (holder !== session) {
    throw rpcError('operation-failed', 'NETCONF_LOCKED', holder ? `the ${t.ds} lock is held by session ${holder.id}, not this one` : `the ${t.ds} datastore is not locked`, {
      info: holder ? `<session-id>${holder.id}</session-id>` : undefined,
    });
  }
  server.locks.delete(t.ds);
  return '';
}

export const lockOps: OpDef[] = [
  { ns: NS.base, name: 'lock', params: ['target'], roles: roles.editors.concat('operator'), run: lock },
  { ns: NS.base, name: 'unlock', params: ['target'], roles: roles.editors.concat('operator'), run: unlock },
];
