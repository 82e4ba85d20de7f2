/** Parameters that name a datastore (<target>, <source>) or carry inline <config>. */
import type { Element } from '@xmldom/xmldom';
import type { Config } from '../../../appliance/model/config.generated.js';
import { applyEdit } from '../edit-tree.js';
import type { OpContext } from '../rpc-dispatch.js';
import { need } from '../rpc-dispatch.js';
import { RpcError, rpcError } from '../rpc-error.js';
import type { DatastoreName } from '../server.js';
import { children, esc, NS } from '../xml.js';

export type Source = { ds: DatastoreName } | { config: Element };

export function datastoreParam(ctx: OpContext, param: 'target' | 'source', allowed: DatastoreName[], inline = false): Source {
  const el = need(ctx, param);
  const kids = children(el);
  const bad = (message: string, tag = 'invalid-value') =>
    rpcError(tag, tag === 'operation-not-supported' ? 'NETCONF_NOT_SUPPORTED' : 'NETCONF_BAD_VALUE', message, { type: 'protocol', path: `/nc:rpc/nc:${ctx.op.localName}/nc:${param}`, info: `<bad-element>${esc(param)}</bad-element>` });
  if (kids.length !== 1) throw bad(`<${param}> names exactly one datastore`);
  const k = kids[0];
  const name = k.localName ?? '';
  if (k.namespaceURI !== NS.base) throw bad(`<${param}>: <${name}> is not in the NETCONF namespace`);
  if (name === 'config' && inline) return { config: k };
  if (name === 'url') throw bad('the :url capability is not supported', 'operation-not-supported');
  if (!allowed.includes(name as DatastoreName)) {
    const known = ['running', 'candidate', 'startup', 'config'].includes(name);
    throw bad(`<${ctx.op.localName}> does not take ${name} as its ${param}${inline ? '' : ''}`, known ? 'operation-not-supported' : 'invalid-value');
  }
  return { ds: name as DatastoreName };
}

/** The configuration a source names (inline <config> is decoded by the schema; structure is checked). */
export function sourceConfig(ctx: OpContext, src: Source): Config {
  if ('ds' in src) return ctx.server.nb.getConfig(ctx.session.nbSession, src.ds, { shared: true });
  const tree: Record<string, unknown> = {};
  const errors = applyEdit(tree, src.config, 'merge', false);
  if (errors.length) throw new RpcError(errors);
  return tree as unknown as Config;
}
