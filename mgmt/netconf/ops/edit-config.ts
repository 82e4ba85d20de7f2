/**
 * <edit-config> on the candidate (RFC 6241 §7.2). The edit is applied to a
 * copy of the shared candidate (edit-tree.ts); NACM checks the result; with
 * test-option test-then-set (the default) or test-only the result must pass
 * full validation (schema + semantics). The candidate changes only when
 * everything passed — so stop-on-error and rollback-on-error both leave it
 * untouched on error, and continue-on-error keeps what applied.
 */
import type { Config } from '../../../appliance/model/config.generated.js';
import { checkConfig } from '../../schema/load-config.js';
import { unsharedCopy } from '../../store/config-intern.js';
import { applyEdit } from '../edit-tree.js';
import { checkWrite } from '../nacm.js';
import { need, roles, type OpContext, type OpDef } from '../rpc-dispatch.js';
import { fromIssue, RpcError, rpcError } from '../rpc-error.js';
import { esc, NS, text } from '../xml.js';
import { datastoreParam } from './datastore.js';

function choice<T extends string>(ctx: OpContext, param: string, allowed: T[], dflt: T): T {
  const el = ctx.params.get(param);
  if (!el) return dflt;
  const v = text(el);
  if (!allowed.includes(v as T)) {
    throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `<${param}> '${v}' is not one of ${allowed.join(', ')}`, { path: `/nc:rpc/nc:edit-config/nc:${param}`, info: `<bad-element>${esc(param)}</bad-element>` });
  }
  return v as T;
}

function editConfig(ctx: OpContext): string {
  const { server, session } = ctx;
  datastoreParam(ctx, 'target', ['candidate']);
  const defaultOp = choice(ctx, 'default-operation', ['merge', 'replace', 'none'], 'merge');
  const testOption = choice(ctx, 'test-option', ['test-then-set', 'set', 'test-only'], 'test-then-set');
  const errorOption = choice(ctx, 'error-option', ['stop-on-error', 'continue-on-error', 'rollback-on-error'], 'stop-on-error');
  const config = need(ctx, 'config');
  server.checkUnlocked(session, 'candidate');
  // Read without a copy (only read here); the edit works on the one copy.
  const before = server.nb.getConfig(session.nbSession, 'candidate', { shared: true, readonly: true });
  const after = unsharedCopy(before) as unknown as Record<string, unknown>;
  const errors = applyEdit(after, config, defaultOp, errorOption === 'continue-on-error');
  const next = after as unknown as Config;
  checkWrite(session.user, before, next);
  if (testOption !== 'set') {
    const { issues } = checkConfig(next);
    if (issues.length) throw new RpcError(issues.map(fromIssue));
  }
  if (testOption !== 'test-only') server.nb.setCandidate(session.nbSession, next, { shared: true });
  if (errors.length) throw new RpcError(errors);
  return '';
}

export const editOps: OpDef[] = [
  {
    ns: NS.base,
    name: 'edit-config',
    params: ['target', 'default-operation', 'test-option', 'error-option', 'config', 'url'],
    roles: roles.editors,
    run: editConfig,
  },
];
