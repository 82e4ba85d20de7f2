/**
 * RPCs of the vcn namespace for what the store offers beyond RFC 6241:
 *   <rollback><commit-id>N</commit-id>[<comment>]</rollback>  → <commit-id> of the new commit
 *   <compare><from>N|running|startup|candidate</from><to>…</to></compare> → <change>*
 *   <commit-history>[<limit>]</commit-history>                → <commit>*
 */
import type { ConfigRef } from '../../northbound/northbound.js';
import { VCN_SCHEMA } from '../../schema/schema.generated.js';
import { redactValue } from '../nacm.js';
import { need, roles, type OpContext, type OpDef } from '../rpc-dispatch.js';
import { rpcError, toXPath } from '../rpc-error.js';
import { leaf, text } from '../xml.js';

const NSV = VCN_SCHEMA.namespace;

function ref(ctx: OpContext, name: string): ConfigRef {
  const v = text(need(ctx, name));
  if (/^\d+$/.test(v)) return Number(v);
  if (v === 'running' || v === 'startup' || v === 'candidate') return v;
  throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `<${name}> '${v}' is neither a commit id nor running, startup or candidate`, { info: `<bad-element>${name}</bad-element>` });
}

async function rollback(ctx: OpContext): Promise<string> {
  const { server, session } = ctx;
  server.checkUnlocked(session, 'running');
  const id = ref(ctx, 'commit-id');
  if (typeof id !== 'number') throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', '<commit-id> must be a commit id', { info: '<bad-element>commit-id</bad-element>' });
  const comment = ctx.params.get('comment');
  const r = await server.nb.rollback(session.nbSession, id, { comment: comment ? text(comment) : undefined });
  server.noteCommit(r.commit.id, session);
  server.poll();
  return `<commit-id xmlns="${NSV}">${r.commit.id}</commit-id>`;
}

function compare(ctx: OpContext): string {
  const { server, session } = ctx;
  const all = server.nb.compare(session.nbSession, ref(ctx, 'from'), ref(ctx, 'to'), { shared: true });
  // Secrets (password hashes) are for admins only.
  const changes = session.user.role === 'admin' ? all : all.map((c) => ({ ...c, old: redactValue(c.path, c.old), new: redactValue(c.path, c.new) }));
  const val = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v));
  return changes
    .map(
      (c) =>
        `<change xmlns="${NSV}">${leaf('operation', c.op)}<path xmlns:vcn="${NSV}">${toXPath(c.path).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</path>` +
        `${c.old !== undefined ? leaf('old', val(c.old)) : ''}${c.new !== undefined ? leaf('new', val(c.new)) : ''}</change>`,
    )
    .join('');
}

function history(ctx: OpContext): string {
  const lim = ctx.params.get('limit');
  const n = lim ? Number(text(lim)) : 20;
  if (!Number.isInteger(n) || n < 1) throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', '<limit> must be a positive integer', { info: '<bad-element>limit</bad-element>' });
  return ctx.server.nb
    .history(n)
    .map(
      (c) =>
        `<commit xmlns="${NSV}">${leaf('id', c.id)}${leaf('time', new Date(c.time).toISOString())}${leaf('user', c.user)}${leaf('client', c.client)}${leaf('kind', c.kind)}${leaf('comment', c.comment)}${c.parent !== null ? leaf('parent', c.parent) : ''}</commit>`,
    )
    .join('');
}

export const vcnOps: OpDef[] = [
  { ns: NSV, name: 'rollback', params: ['commit-id', 'comment'], roles: roles.admin, run: rollback },
  { ns: NSV, name: 'compare', params: ['from', 'to'], roles: roles.staff, run: compare },
  { ns: NSV, name: 'commit-history', params: ['limit'], roles: roles.staff, run: history },
];
