/**
 * The operation table: which element (namespace + name) runs which handler,
 * which parameters it takes, and which roles may call it (NACM-lite: the
 * data-node rules live in nacm.ts).
 */
import type { Element } from '@xmldom/xmldom';
import type { NetconfServer } from './server.js';
import type { NcSession } from './session.js';
import { rpcError } from './rpc-error.js';
import type { Role } from './users.js';
import { children, esc, NS } from './xml.js';

export interface OpContext {
  server: NetconfServer;
  session: NcSession;
  rpc: Element;
  op: Element;
  /** The operation's parameters by local name (checked against OpDef.params). */
  params: Map<string, Element>;
}

export interface OpDef {
  ns: string;
  name: string;
  /** Parameter elements the operation takes (others are unknown-element). */
  params: string[];
  roles: Role[];
  run(ctx: OpContext): Promise<string> | string;
}

const ALL: Role[] = ['admin', 'operator', 'customer'];
export const roles = { all: ALL, readers: ALL, admin: ['admin'] as Role[], staff: ['admin', 'operator'] as Role[], editors: ['admin', 'customer'] as Role[] };

export class OpTable {
  private readonly ops = new Map<string, OpDef>();
  private readonly namespaces = new Set<string>();

  add(...defs: OpDef[]): this {
    for (const d of defs) {
      this.ops.set(`${d.ns} ${d.name}`, d);
      this.namespaces.add(d.ns);
    }
    return this;
  }

  async dispatch(server: NetconfServer, session: NcSession, rpc: Element): Promise<string> {
    const ops = children(rpc);
    if (ops.length !== 1) {
      throw rpcError(ops.length ? 'unknown-element' : 'missing-element', ops.length ? 'NETCONF_UNKNOWN_ELEMENT' : 'NETCONF_MISSING_ELEMENT', `an rpc holds exactly one operation, found ${ops.length}`, {
        type: 'rpc',
        info: ops.length ? `<bad-element>${esc(ops[1].localName ?? '')}</bad-element>` : '<bad-element>rpc</bad-element>',
      });
    }
    const op = ops[0];
    const ns = op.namespaceURI ?? '';
    const def = this.ops.get(`${ns} ${op.localName}`);
    if (!def) {
      if (!this.namespaces.has(ns)) {
        throw rpcError('unknown-namespace', 'NETCONF_UNKNOWN_NAMESPACE', `operation <${op.localName}> is in namespace '${ns}', which the server does not know`, {
          type: 'protocol',
          info: `<bad-element>${esc(op.localName ?? '')}</bad-element><bad-namespace>${esc(ns)}</bad-namespace>`,
        });
      }
      throw rpcError('operation-not-supported', 'NETCONF_UNKNOWN_OPERATION', `the server has no operation <${op.localName}>`, { type: 'protocol' });
    }
    if (!def.roles.includes(session.user.role)) {
      throw rpcError('access-denied', 'NETCONF_ACCESS_DENIED', `user ${session.user.name} (${session.user.role}) may not call <${def.name}>`, { type: 'protocol' });
    }
    const params = new Map<string, Element>();
    for (const p of children(op)) {
      const name = p.localName ?? '';
      const pns = p.namespaceURI ?? '';
      const known = def.params.includes(name) && (pns === def.ns || pns === NS.base || (name === 'with-defaults' && pns === NS.withDefaults));
      if (!known || params.has(name)) {
        throw rpcError('unknown-element', 'NETCONF_UNKNOWN_ELEMENT', `<${def.name}> does not take ${params.has(name) ? 'a second ' : ''}<${name}>${known ? '' : ` in '${pns}'`}`, {
          type: 'protocol',
          path: `/nc:rpc/nc:${def.name}`,
          info: `<bad-element>${esc(name)}</bad-element>`,
        });
      }
      params.set(name, p);
    }
    return def.run({ server, session, rpc, op, params });
  }
}

/** The required parameter, or missing-element. */
export function need(ctx: OpContext, name: string): Element {
  const p = ctx.params.get(name);
  if (!p) throw rpcError('missing-element', 'NETCONF_MISSING_ELEMENT', `<${ctx.op.localName}> needs <${name}>`, { type: 'protocol', info: `<bad-element>${esc(name)}</bad-element>` });
  return p;
}
