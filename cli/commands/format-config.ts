/**
 * A configuration as text the way Junos shows it: containers and list entries
 * in braces, leaves as `name value;`, leaf-lists as `name [ a b ];`. Driven
 * by the schema, so the order is the module's.
 */
import type { Config } from '../../appliance/model/config.generated.js';
import type { SchemaNode } from '../../mgmt/schema/schema-types.js';
import { VCN_SCHEMA } from '../../mgmt/schema/schema.generated.js';

type Obj = Record<string, unknown>;

const word = (v: unknown) => {
  const s = String(v);
  return /^[A-Za-z0-9._:/@-]+$/.test(s) ? s : JSON.stringify(s);
};

function isEmpty(nodes: SchemaNode[], v: Obj): boolean {
  return nodes.every((n) => {
    const x = v[n.name];
    if (x === undefined) return true;
    if (Array.isArray(x)) return x.length === 0;
    if (n.kind === 'container') return !n.presence && isEmpty(n.children, x as Obj);
    return false;
  });
}

function lines(nodes: SchemaNode[], v: Obj, indent: string, skip: string[] = []): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    if (skip.includes(n.name)) continue;
    const x = v[n.name];
    if (x === undefined) continue;
    if (n.kind === 'leaf') out.push(`${indent}${n.name} ${word(x)};`);
    else if (n.kind === 'leaf-list') {
      const xs = x as unknown[];
      if (xs.length === 1) out.push(`${indent}${n.name} ${word(xs[0])};`);
      else if (xs.length) out.push(`${indent}${n.name} [ ${xs.map(word).join(' ')} ];`);
    } else if (n.kind === 'container') {
      if (isEmpty(n.children, x as Obj) && !n.presence) continue;
      const body = lines(n.children, x as Obj, `${indent}    `);
      out.push(body.length ? `${indent}${n.name} {` : `${indent}${n.name};`, ...(body.length ? [...body, `${indent}}`] : []));
    } else {
      for (const e of x as Obj[]) {
        const keys = n.keys.map((k) => word(e[k])).join(' ');
        const body = lines(n.children, e, `${indent}    `, n.keys);
        out.push(body.length ? `${indent}${n.name} ${keys} {` : `${indent}${n.name} ${keys};`, ...(body.length ? [...body, `${indent}}`] : []));
      }
    }
  }
  return out;
}

export function formatConfig(config: Config): string {
  const l = lines(VCN_SCHEMA.children, config as unknown as Obj, '');
  return l.length ? `${l.join('\n')}\n` : '';
}
