/**
 * Configuration trees as reply data: normalised when valid (report-all), or
 * trimmed of default values (with-defaults trim, RFC 6243), encoded as XML of
 * the vcn module by the schema codec.
 */
import type { Element } from '@xmldom/xmldom';
import type { Config } from '../../appliance/model/config.generated.js';
import { toXml } from '../schema/config-codec.js';
import type { SchemaNode } from '../schema/schema-types.js';
import { VCN_SCHEMA } from '../schema/schema.generated.js';
import { validateTree } from '../schema/validate-tree.js';
import { checkValue } from '../schema/value-types.js';
import { rpcError } from './rpc-error.js';
import { text } from './xml.js';

type Obj = Record<string, unknown>;
export type WithDefaults = 'report-all' | 'trim';

export function withDefaultsMode(el: Element | undefined): WithDefaults {
  if (!el) return 'report-all';
  const mode = text(el);
  if (mode === 'report-all' || mode === 'trim') return mode;
  throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `with-defaults '${mode}' is not supported (report-all, trim)`, { info: '<bad-element>with-defaults</bad-element>' });
}

/**
 * Normal forms of trees the store shares read-only (see Store.running's
 * `readonly`): the same snapshot object is normalised once, not at every read.
 */
const normalForms = new WeakMap<object, Config>();

/** A tree in its normal form (defaults present) when it is structurally valid, else as stored. Do not change the result. */
export function normalise(tree: Config): Config {
  const hit = normalForms.get(tree);
  if (hit) return hit;
  const { config, issues } = validateTree(tree);
  const out = issues.length ? tree : config;
  normalForms.set(tree, out);
  return out;
}

function trim(nodes: SchemaNode[], v: Obj): Obj {
  const out: Obj = {};
  for (const n of nodes) {
    const x = v[n.name];
    if (x === undefined) continue;
    if (n.kind === 'leaf') {
      if (n.default !== undefined) {
        const d = checkValue(n.type, n.default);
        if ('value' in d && d.value === x) continue;
      }
      out[n.name] = x;
    } else if (n.kind === 'leaf-list') out[n.name] = x;
    else if (n.kind === 'container') out[n.name] = trim(n.children, x as Obj);
    else out[n.name] = (x as Obj[]).map((e) => trim(n.children, e));
  }
  return out;
}

/**
 * The tree as XML; only its own top-level containers (a NACM view leaves some
 * out: defaults must not bring them back). `normalised`: the tree already is
 * in normal form (made from normalise()'s result).
 */
export function configXml(tree: Config, mode: WithDefaults = 'report-all', o: { normalised?: boolean } = {}): string {
  const full = (o.normalised ? tree : normalise(tree)) as unknown as Obj;
  const t = Object.fromEntries(Object.keys(tree).map((k) => [k, full[k]]));
  return toXml(mode === 'trim' ? trim(VCN_SCHEMA.children, t) : t);
}
