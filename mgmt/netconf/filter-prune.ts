/**
 * A cheap first pass of a subtree filter (RFC 6241 §6) on the configuration
 * tree itself, before it becomes XML: list entries that cannot match any
 * filter element for their list (a content-match leaf of the filter differs
 * from the entry's leaf) are left out. Only entries are removed, never added,
 * and only where the filter says so unambiguously, so the exact filter
 * (filters.ts), which runs after on the XML, gives the same answer — on the
 * entries that are left, which for a filter naming one service of 10k is a
 * few elements instead of a DOM of the whole configuration.
 */
import type { Element } from '@xmldom/xmldom';
import type { Config } from '../../appliance/model/config.generated.js';
import type { SchemaNode } from '../schema/schema-types.js';
import { VCN_SCHEMA } from '../schema/schema.generated.js';
import { children, isLeafLike, NS, text } from './xml.js';

type Obj = Record<string, unknown>;

/** A filter element without a namespace matches any namespace (as in filters.ts). */
const names = (f: Element, name: string) => f.localName === name && (!f.namespaceURI || f.namespaceURI === VCN_SCHEMA.namespace);

function pruneNode(node: SchemaNode, value: unknown, specs: Element[]): unknown {
  if (node.kind === 'leaf' || node.kind === 'leaf-list' || value === undefined) return value;
  // A filter element with no element children selects the whole node.
  if (specs.some((s) => children(s).length === 0)) return value;
  if (node.kind === 'container') return pruneChildren(node.children, value as Obj, specs);
  const entries = Array.isArray(value) ? (value as Obj[]) : [];
  const out: Obj[] = [];
  for (const e of entries) {
    const matching = specs.filter((s) =>
      children(s)
        .filter(isLeafLike)
        .every((m) => {
          const leaf = node.children.find((c) => names(m, c.name));
          // Content match on something that is not a leaf of the entry: let the exact filter decide.
          if (!leaf || leaf.kind !== 'leaf') return true;
          const v = e[leaf.name];
          return v !== undefined && String(v) === text(m);
        }),
    );
    if (matching.length) out.push(pruneChildren(node.children, e, matching));
  }
  return out;
}

function pruneChildren(nodes: SchemaNode[], value: Obj, specs: Element[]): Obj {
  const out: Obj = { ...value };
  for (const n of nodes) {
    if (n.kind !== 'container' && n.kind !== 'list') continue;
    if (out[n.name] === undefined) continue;
    const sub = specs.flatMap((s) => children(s).filter((c) => names(c, n.name) && !isLeafLike(c)));
    // Not named by any filter element: the exact filter drops it (or keeps it whole for a content match): left as is.
    if (sub.length === 0) continue;
    out[n.name] = pruneNode(n, out[n.name], sub);
  }
  return out;
}

/** The tree with the list entries a subtree filter cannot select left out (the tree is not changed). */
export function prune(tree: Config, filter: Element | undefined): Config {
  if (!filter) return tree;
  const type = filter.getAttributeNS(NS.base, 'type') || filter.getAttribute('type') || 'subtree';
  if (type !== 'subtree') return tree;
  const out: Obj = { ...(tree as unknown as Obj) };
  for (const top of VCN_SCHEMA.children) {
    if (out[top.name] === undefined) continue;
    const specs = children(filter).filter((f) => names(f, top.name));
    if (specs.length === 0) continue; // the exact filter drops it
    out[top.name] = pruneNode(top, out[top.name], specs);
  }
  return out as unknown as Config;
}
