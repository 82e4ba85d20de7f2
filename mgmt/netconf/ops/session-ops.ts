/** <close-session> and <kill-session> (RFC 6241 §7.8, §7.9). */
import { need, roles, type OpContext, type OpDef } from '../rpc-dispatch.js';
import { rpcError } from '../rpc-error.js';
import { NS, text } from '../xml.js';

function closeSession(ctx: OpContext): string {
  ctx.session.closeAfterReply = true;
  return '';
}

function killSession(ctx: OpContext): string {
  const raw = text(need(ctx, 'session-id'));
  const id = /^\d+$/.test(raw) ? Number(raw) : NaN;
  const bad = (message: string) => rpcError('invalid-value', 'NETCONF_NO_SUCH_SESSION', message, { path: '/nc:rpc/nc:kill-session/nc:session-id', info: '<bad-element>session-id</bad-element>' });
  if (id === ctx.session.id) throw bad('a session cannot kill itself: use close-session');
  const target = ctx.server.sessions.get(id);
  if (!target) throw bad(`session ${raw} does not exist`);
  target.close(`killed by session ${ctx.session.id} (${ctx.session.user.name})`);
  return '';
}

export const sessionOps: OpDef[] = [
  { ns: NS.base, name: 'close-session', params: [], roles: roles.all, run: closeSession },
  { ns: NS.base, name: 'kill-session', params: ['session-id'], roles: roles.admin, run: killSession },
];
