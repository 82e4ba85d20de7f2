/**
 * <commit> (plain, confirmed, confirming; persist/persist-id), <cancel-commit>,
 * <discard-changes> and <validate> (RFC 6241 §8.3, §8.4, §8.6) onto the
 * Northbound's shared candidate and its confirmed commit.
 */
import { checkConfig } from '../../schema/load-config.js';
import { roles, type OpContext, type OpDef } from '../rpc-dispatch.js';
import { fromIssue, RpcError, rpcError } from '../rpc-error.js';
import { NS, text } from '../xml.js';
import { datastoreParam, sourceConfig } from './datastore.js';

const SHARED = { shared: true } as const;

function persistIdMatches(ctx: OpContext, op: string): void {
  const owner = ctx.server.confirmOwner;
  const given = ctx.params.get('persist-id');
  if (given !== undefined) {
    if (owner?.persist === undefined || text(given) !== owner.persist) {
      throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `persist-id '${text(given)}' does not name the pending confirmed commit`, { path: `/nc:rpc/nc:${op}/nc:persist-id`, info: '<bad-element>persist-id</bad-element>' });
    }
    return;
  }
  if (owner?.persist !== undefined) {
    throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', 'the pending confirmed commit was made with persist: give its persist-id', { info: '<bad-element>persist-id</bad-element>' });
  }
  if (owner && owner.session !== ctx.session.id) {
    throw rpcError('in-use', 'CONFIRMED_COMMIT_PENDING', `the pending confirmed commit belongs to session ${owner.session}`, { type: 'application' });
  }
}

async function commit(ctx: OpContext): Promise<string> {
  const { server, session } = ctx;
  server.checkUnlocked(session, 'running');
  server.checkUnlocked(session, 'candidate');
  const confirmed = ctx.params.has('confirmed');
  const timeoutText = ctx.params.get('confirm-timeout') && text(ctx.params.get('confirm-timeout')!);
  const persist = ctx.params.get('persist') && text(ctx.params.get('persist')!);
  if (!confirmed && (timeoutText !== undefined || persist !== undefined)) {
    throw rpcError('missing-element', 'NETCONF_MISSING_ELEMENT', '<confirm-timeout> and <persist> need <confirmed/>', { info: '<bad-element>confirmed</bad-element>' });
  }
  let timeout = 600;
  if (timeoutText !== undefined) {
    if (!/^\d+$/.test(timeoutText) || Number(timeoutText) < 1 || Number(timeoutText) > 4294967295) {
      throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `confirm-timeout '${timeoutText}' is not a number of seconds (1..4294967295)`, { path: '/nc:rpc/nc:commit/nc:confirm-timeout', info: '<bad-element>confirm-timeout</bad-element>' });
    }
    timeout = Number(timeoutText);
  }
  if (server.nb.pendingConfirm()) {
    persistIdMatches(ctx, 'commit');
    if (confirmed) {
      throw rpcError('operation-not-supported', 'NETCONF_NOT_SUPPORTED', 'a follow-up confirmed commit is not supported: confirm or cancel the pending one first');
    }
    // The confirming commit: the pending commit stays; changes made since are committed too.
    await server.nb.confirm(session.nbSession);
    server.confirmOwner = undefined;
    if (server.nb.compare(session.nbSession, 'running', 'candidate', SHARED).length) server.noteCommit((await server.nb.commit(session.nbSession, SHARED)).commit.id, session);
    server.poll();
    return '';
  }
  if (ctx.params.has('persist-id')) {
    throw rpcError('invalid-value', 'NO_PENDING_CONFIRM', 'no confirmed commit waits for confirmation', { info: '<bad-element>persist-id</bad-element>' });
  }
  const r = await server.nb.commit(session.nbSession, { ...SHARED, confirmTimeout: confirmed ? timeout : undefined });
  server.noteCommit(r.commit.id, session);
  if (confirmed) server.confirmOwner = { session: session.id, persist };
  server.poll();
  return '';
}

async function cancelCommit(ctx: OpContext): Promise<string> {
  const { server, session } = ctx;
  if (!server.nb.pendingConfirm()) throw rpcError('operation-failed', 'NO_PENDING_CONFIRM', 'no confirmed commit waits for confirmation', { type: 'application' });
  persistIdMatches(ctx, 'cancel-commit');
  server.noteCommit((await server.nb.cancelCommit(session.nbSession)).commit.id, session);
  server.confirmOwner = undefined;
  server.poll();
  return '';
}

function discardChanges(ctx: OpContext): string {
  ctx.server.checkUnlocked(ctx.session, 'candidate');
  ctx.server.nb.discardChanges(ctx.session.nbSession, SHARED);
  return '';
}

async function validate(ctx: OpContext): Promise<string> {
  const { server, session } = ctx;
  const src = datastoreParam(ctx, 'source', ['candidate', 'running', 'startup'], true);
  if ('ds' in src && src.ds === 'candidate') {
    const issues = await server.nb.validate(session.nbSession, { ...SHARED, prepare: true });
    if (issues.length) throw new RpcError(issues.map(fromIssue));
    return '';
  }
  const { issues } = checkConfig(sourceConfig(ctx, src));
  if (issues.length) throw new RpcError(issues.map(fromIssue));
  return '';
}

export const commitOps: OpDef[] = [
  { ns: NS.base, name: 'commit', params: ['confirmed', 'confirm-timeout', 'persist', 'persist-id'], roles: roles.editors, run: commit },
  { ns: NS.base, name: 'cancel-commit', params: ['persist-id'], roles: roles.admin, run: cancelCommit },
  { ns: NS.base, name: 'discard-changes', params: [], roles: roles.editors, run: discardChanges },
  { ns: NS.base, name: 'validate', params: ['source'], roles: roles.all, run: validate },
];
