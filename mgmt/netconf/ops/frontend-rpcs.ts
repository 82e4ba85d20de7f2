/**
 * RPCs for the local front ends (the serial-console TUI and the vcn command),
 * in their own namespace so they stay apart from the standard operations:
 *
 *   <commit>[<comment>][<confirm-timeout>N</confirm-timeout>]</commit>
 *       → <commit-id>, [<confirm-deadline>]. A confirmed commit made here is
 *         persistent (as in Junos): it survives the session that made it, so
 *         `vcn commit confirmed 5` can exit and `vcn confirm` confirm later.
 *   <confirm/>        confirms the pending confirmed commit, whoever made it
 *   <cancel-commit/>  reverts the pending confirmed commit now, whoever made it
 *   <events>[<limit>]</events>  → <event>* (newest first) from the store's event log
 *   <create-service>  a service from a package into the shared candidate
 *       (<name>, <package>, <port>, [<protocol>], <service-ip> | <service-ip-pool>,
 *        [<customer>], [<description>], <choices> with one <device>, <pool> or
 *        <none/> per package function, in the package's order)
 */
import { randomUUID } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import type { Protocol } from '../../../appliance/model/config.generated.js';
import type { FunctionChoice } from '../../northbound/provision.js';
import { need, roles, type OpContext, type OpDef } from '../rpc-dispatch.js';
import { rpcError } from '../rpc-error.js';
import { children, esc, leaf, text } from '../xml.js';

export const FRONTEND_NS = 'urn:vcn:appliance:frontend';

const SHARED = { shared: true } as const;

function optText(ctx: OpContext, name: string): string | undefined {
  const el = ctx.params.get(name);
  return el ? text(el) : undefined;
}

function positive(ctx: OpContext, name: string, max = 4294967295): number | undefined {
  const v = optText(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) {
    throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `<${name}> '${v}' must be a whole number from 1 to ${max}`, { info: `<bad-element>${esc(name)}</bad-element>` });
  }
  return Number(v);
}

async function commit(ctx: OpContext): Promise<string> {
  const { server, session } = ctx;
  server.checkUnlocked(session, 'running');
  server.checkUnlocked(session, 'candidate');
  const timeout = positive(ctx, 'confirm-timeout');
  if (timeout === undefined && server.nb.pendingConfirm()) {
    // As in Junos, a plain commit while a confirmed one waits confirms it (and commits later edits).
    await server.nb.confirm(session.nbSession);
    server.confirmOwner = undefined;
    const pendingId = server.nb.runningCommit();
    if (!server.nb.compare(session.nbSession, 'running', 'candidate', SHARED).length) return `<commit-id xmlns="${FRONTEND_NS}">${pendingId}</commit-id>`;
  }
  const r = await server.nb.commit(session.nbSession, { ...SHARED, comment: optText(ctx, 'comment'), confirmTimeout: timeout });
  server.noteCommit(r.commit.id, session);
  // persist: the session ending does not cancel it (RFC 6241 §8.4.1 persist semantics).
  if (timeout !== undefined) server.confirmOwner = { session: session.id, persist: `local-${randomUUID()}` };
  server.poll();
  const deadline = r.confirmDeadline !== undefined ? `<confirm-deadline xmlns="${FRONTEND_NS}">${new Date(r.confirmDeadline).toISOString()}</confirm-deadline>` : '';
  return `<commit-id xmlns="${FRONTEND_NS}">${r.commit.id}</commit-id>${deadline}`;
}

async function confirm(ctx: OpContext): Promise<string> {
  const { server, session } = ctx;
  await server.nb.confirm(session.nbSession);
  server.confirmOwner = undefined;
  return '';
}

async function cancelCommit(ctx: OpContext): Promise<string> {
  const { server, session } = ctx;
  const r = await server.nb.cancelCommit(session.nbSession);
  server.noteCommit(r.commit.id, session);
  server.confirmOwner = undefined;
  server.poll();
  return `<commit-id xmlns="${FRONTEND_NS}">${r.commit.id}</commit-id>`;
}

function events(ctx: OpContext): string {
  const limit = positive(ctx, 'limit', 10000) ?? 50;
  return ctx.server.store
    .events(limit)
    .map(
      (e) =>
        `<event xmlns="${FRONTEND_NS}">${leaf('id', e.id)}${leaf('time', new Date(e.time).toISOString())}${leaf('kind', e.kind)}` +
        `${e.subject !== null ? leaf('subject', e.subject) : ''}${e.detail !== null ? leaf('detail', e.detail) : ''}</event>`,
    )
    .join('');
}

function choiceOf(el: Element): FunctionChoice {
  const name = el.localName ?? '';
  if (name === 'none') return 'none';
  if (name === 'device') return { device: text(el) };
  if (name === 'pool') return { pool: text(el) };
  throw rpcError('unknown-element', 'NETCONF_UNKNOWN_ELEMENT', `<choices> holds <device>, <pool> or <none/>, not <${name}>`, { info: `<bad-element>${esc(name)}</bad-element>` });
}

function createService(ctx: OpContext): string {
  const { server, session } = ctx;
  server.checkUnlocked(session, 'candidate');
  const port = positive(ctx, 'port', 65535);
  if (port === undefined) need(ctx, 'port');
  const protocol = optText(ctx, 'protocol');
  if (protocol !== undefined && !['tcp', 'udp', 'any'].includes(protocol)) {
    throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `<protocol> '${protocol}' is not tcp, udp or any`, { info: '<bad-element>protocol</bad-element>' });
  }
  const name = text(need(ctx, 'name'));
  const cfg = server.nb.createServiceFromPackage(
    session.nbSession,
    {
      service: name,
      package: text(need(ctx, 'package')),
      choices: children(need(ctx, 'choices')).map(choiceOf),
      port: port!,
      protocol: protocol as Protocol | undefined,
      serviceIp: optText(ctx, 'service-ip'),
      serviceIpPool: optText(ctx, 'service-ip-pool'),
      customer: optText(ctx, 'customer'),
      description: optText(ctx, 'description'),
    },
    SHARED,
  );
  const svc = cfg.services.service.find((s) => s.name === name);
  return `<service-ip xmlns="${FRONTEND_NS}">${esc(svc?.['service-ip'] ?? '')}</service-ip>`;
}

export const frontendOps: OpDef[] = [
  { ns: FRONTEND_NS, name: 'commit', params: ['comment', 'confirm-timeout'], roles: roles.editors, run: commit },
  { ns: FRONTEND_NS, name: 'confirm', params: [], roles: roles.admin, run: confirm },
  { ns: FRONTEND_NS, name: 'cancel-commit', params: [], roles: roles.admin, run: cancelCommit },
  { ns: FRONTEND_NS, name: 'events', params: ['limit'], roles: roles.staff, run: events },
  {
    ns: FRONTEND_NS,
    name: 'create-service',
    params: ['name', 'package', 'port', 'protocol', 'service-ip', 'service-ip-pool', 'customer', 'description', 'choices'],
    roles: roles.admin,
    run: createService,
  },
];
