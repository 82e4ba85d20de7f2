/**
 * Changes between two configurations as lines in the words of `vcn set`:
 *   ~ system hostname: vcn -> edge1
 *   + services service shop port 8080 step 1 device oa
 *   - services service old
 * An added list entry or container is spelled out leaf by leaf (a diff
 * preview an operator can read); a removed one is one line.
 */
import type { SchemaNode } from '../../mgmt/schema/schema-types.js';
import { VCN_SCHEMA } from '../../mgmt/schema/schema.generated.js';
import type { Change } from '../netconf-client/client.js';

type Obj = Record<string, unknown>;

/** /vcn:services/vcn:service[vcn:name='web']/vcn:port[vcn:port='80'] → words, and the schema node it ends at. */
function pathWords(xpath: string): { words: string[]; node?: SchemaNode } {
  const words: string[] = [];
  let nodes: SchemaNode[] = VCN_SCHEMA.children;
  let node: SchemaNode | undefined;
  for (const seg of xpath.match(/[^/[\]]+(\[[^\]]*\])*/g) ?? []) {
    const name = seg.split('[')[0].replace(/^[a-z]+:/, '');
    words.push(name);
    for (const m of seg.matchAll(/\[[^=]+='([^']*)'\]/g)) words.push(m[1]);
    node = nodes.find((n) => n.name === name);
    nodes = node && (node.kind === 'container' || node.kind === 'list') ? node.children : [];
  }
  return { words, node };
}

const word = (v: unknown) => {
  const s = String(v);
  return /^[^\s"]+$/.test(s) ? s : JSON.stringify(s);
};

/** Leaf lines of a subtree: each is the words below `node` down to one value. */
function leaves(nodes: SchemaNode[], v: Obj, skip: string[] = []): string[][] {
  const out: string[][] = [];
  for (const n of nodes) {
    if (skip.includes(n.name)) continue;
    const x = v[n.name];
    if (x === undefined) continue;
    if (n.kind === 'leaf') out.push([n.name, word(x)]);
    else if (n.kind === 'leaf-list') for (const e of x as unknown[]) out.push([n.name, word(e)]);
    else if (n.kind === 'container') {
      const sub = leaves(n.children, x as Obj);
      if (sub.length) out.push(...sub.map((s) => [n.name, ...s]));
      else if (n.presence) out.push([n.name]);
    } else
      for (const e of x as Obj[]) {
        const head = [n.name, ...n.keys.map((k) => word(e[k]))];
        const sub = leaves(n.children, e, n.keys);
        out.push(...(sub.length ? sub.map((s) => [...head, ...s]) : [head]));
      }
  }
  return out;
}

const SECRET = /(^|-)password$/;
/** Secrets (login and SNMP pass phrases) never appear in a diff, not even hashed. */
function mask(line: string[]): string[] {
  return line.map((w, i) => (i > 0 && SECRET.test(line[i - 1]) ? '********' : w));
}

function parse(s: string | undefined): unknown {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

export function changeLines(changes: Change[]): string[] {
  const out: string[] = [];
  for (const c of changes) {
    const { words, node } = pathWords(c.path);
    const at = words.join(' ');
    if (c.operation === 'changed') {
      out.push(SECRET.test(words.at(-1) ?? '') ? `~ ${at}: ******** -> ********` : `~ ${at}: ${c.old} -> ${c.new}`);
      continue;
    }
    if (c.operation === 'removed') {
      out.push(`- ${at}`);
      continue;
    }
    const v = parse(c.new);
    if (node?.kind === 'list' && v && typeof v === 'object') {
      const sub = leaves(node.children, v as Obj, node.keys);
      out.push(...(sub.length ? sub.map((s) => `+ ${at} ${mask(s).join(' ')}`) : [`+ ${at}`]));
    } else if (node?.kind === 'container' && v && typeof v === 'object') {
      const sub = leaves(node.children, v as Obj);
      out.push(...(sub.length ? sub.map((s) => `+ ${at} ${mask(s).join(' ')}`) : [`+ ${at}`]));
    } else if (Array.isArray(v)) out.push(...v.map((e) => `+ ${at} ${word(e)}`));
    else out.push(`+ ${mask([...words, c.new !== undefined ? word(c.new) : '']).join(' ').trimEnd()}`);
  }
  return out;
}
