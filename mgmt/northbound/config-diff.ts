/**
 * Compare two configurations node by node, guided by the schema: list
 * entries are matched by their keys, so a changed service shows up as the
 * leaves that changed inside it, with instance paths like
 * /services/service[name='web']/port[port='80']/step[seq='1']/device.
 */
import type { Config } from '../../appliance/model/config.generated.js';
import type { SchemaNode } from '../schema/schema-types.js';
import { VCN_SCHEMA } from '../schema/schema.generated.js';

export interface ConfigChange {
  op: 'added' | 'removed' | 'changed';
  path: string;
  old?: unknown;
  new?: unknown;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const isEmpty = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0);

function keyOf(entry: Obj, keys: string[]): string {
  return keys.map((k) => `[${k}='${String(entry[k] ?? '')}']`).join('');
}

function walk(nodes: SchemaNode[], a: Obj, b: Obj, path: string, out: ConfigChange[]): void {
  for (const n of nodes) {
    const p = `${path}/${n.name}`;
    const va = a[n.name];
    const vb = b[n.name];
    if (isEmpty(va) && isEmpty(vb)) continue;
    switch (n.kind) {
      case 'leaf':
        if (va === undefined) out.push({ op: 'added', path: p, new: vb });
        else if (vb === undefined) out.push({ op: 'removed', path: p, old: va });
        else if (va !== vb) out.push({ op: 'changed', path: p, old: va, new: vb });
        break;
      case 'leaf-list':
        if (isEmpty(va)) out.push({ op: 'added', path: p, new: vb });
        else if (isEmpty(vb)) out.push({ op: 'removed', path: p, old: va });
        else if (!same(va, vb)) out.push({ op: 'changed', path: p, old: va, new: vb });
        break;
      case 'container':
        if (!isObj(va)) out.push({ op: 'added', path: p, new: vb });
        else if (!isObj(vb)) out.push({ op: 'removed', path: p, old: va });
        else walk(n.children, va, vb, p, out);
        break;
      case 'list': {
        const la = (Array.isArray(va) ? va : []) as Obj[];
        const lb = (Array.isArray(vb) ? vb : []) as Obj[];
        const ia = new Map(la.map((e) => [keyOf(e, n.keys), e]));
        const ib = new Map(lb.map((e) => [keyOf(e, n.keys), e]));
        for (const [k, e] of ia) {
          const f = ib.get(k);
          if (!f) out.push({ op: 'removed', path: `${p}${k}`, old: e });
          else if (!same(e, f)) walk(n.children, e, f, `${p}${k}`, out);
        }
        for (const [k, e] of ib) if (!ia.has(k)) out.push({ op: 'added', path: `${p}${k}`, new: e });
        if (n.orderedByUser) {
          const oa = [...ia.keys()].filter((k) => ib.has(k));
          const ob = [...ib.keys()].filter((k) => ia.has(k));
          if (!same(oa, ob)) out.push({ op: 'changed', path: p, old: oa, new: ob });
        }
        break;
      }
    }
  }
}

/** Changes that turn `a` into `b` (both normalised configurations). */
export function diffConfigs(a: Config | undefined, b: Config | undefined): ConfigChange[] {
  const out: ConfigChange[] = [];
  walk(VCN_SCHEMA.children, (a ?? {}) as unknown as Obj, (b ?? {}) as unknown as Obj, '', out);
  return out;
}

/** One line per change, for a CLI or a log. */
export function formatChange(c: ConfigChange): string {
  const v = (x: unknown) => (typeof x === 'object' ? JSON.stringify(x) : String(x));
  if (c.op === 'added') return `+ ${c.path} ${v(c.new)}`;
  if (c.op === 'removed') return `- ${c.path} ${v(c.old)}`;
  return `~ ${c.path} ${v(c.old)} -> ${v(c.new)}`;
}
