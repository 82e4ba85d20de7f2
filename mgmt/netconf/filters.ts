/**
 * Subtree (RFC 6241 §6) and XPath (:xpath, §8.9) filters over the reply data,
 * evaluated on a DOM of the full data. The result is a list of elements to put
 * inside <data>.
 */
import type { Element } from '@xmldom/xmldom';
import xpath from 'xpath';
import { VCN_SCHEMA } from '../schema/schema.generated.js';
import type { SchemaNode } from '../schema/schema-types.js';
import { rpcError } from './rpc-error.js';
import { children, esc, isLeafLike, NS, parseXml, serialize, text } from './xml.js';

const TRUSTED = { maxDepth: Infinity, maxElements: Infinity };

/** Applies the <filter> element (or none) to data given as XML text of top-level elements. */
export function applyFilter(dataXml: string, filter: Element | undefined): string {
  if (!filter) return dataXml;
  const type = filter.getAttributeNS(NS.base, 'type') || filter.getAttribute('type') || 'subtree';
  // The server's own data: the request limits do not apply.
  const doc = parseXml(`<data xmlns="${NS.base}">${dataXml}</data>`, TRUSTED);
  const data = doc.documentElement as unknown as Element;
  if (type === 'subtree') {
    const specs = children(filter);
    const out: string[] = [];
    for (const d of children(data)) {
      for (const f of specs) {
        if (!sameName(d, f)) continue;
        const r = subtree(d, f);
        if (r) out.push(r);
        break;
      }
    }
    return out.join('');
  }
  if (type === 'xpath') {
    const select = filter.getAttribute('select');
    if (!select) throw rpcError('missing-attribute', 'NETCONF_MISSING_ATTRIBUTE', 'an xpath filter needs a select attribute', { info: '<bad-attribute>select</bad-attribute><bad-element>filter</bad-element>' });
    return xpathFilter(data, select, filter);
  }
  throw rpcError('bad-attribute', 'NETCONF_BAD_VALUE', `filter type '${type}' is not supported (subtree, xpath)`, { info: '<bad-attribute>type</bad-attribute><bad-element>filter</bad-element>' });
}

/** A filter element without a namespace matches any namespace. */
function sameName(d: Element, f: Element): boolean {
  return d.localName === f.localName && (!f.namespaceURI || f.namespaceURI === d.namespaceURI);
}

function whole(el: Element): string {
  return serialize(el);
}

/** One data node against one filter node of the same name: the selected part, or undefined. */
function subtree(d: Element, f: Element): string | undefined {
  const fk = children(f);
  if (fk.length === 0) {
    if (text(f) !== '') return text(d) === text(f) ? serializeWithNs(d) : undefined;
    return serializeWithNs(d); // selection node
  }
  const matches = fk.filter(isLeafLike);
  const dk = children(d);
  for (const m of matches) {
    if (!dk.some((c) => sameName(c, m) && text(c) === text(m))) return undefined;
  }
  const others = fk.filter((c) => !isLeafLike(c));
  if (others.length === 0) return serializeWithNs(d);
  const parts: string[] = [];
  for (const c of dk) {
    if (matches.some((m) => sameName(c, m))) {
      parts.push(serializeWithNs(c));
      continue;
    }
    for (const o of others) {
      if (!sameName(c, o)) continue;
      const r = subtree(c, o);
      if (r) parts.push(r);
      break;
    }
  }
  if (parts.length === 0 || parts.length === matches.length) return undefined;
  return `${openWithNs(d)}${parts.join('')}</${d.localName}>`;
}

function openWithNs(el: Element): string {
  const parent = el.parentNode as Element | null;
  const inherited = parent && parent.nodeType === 1 && parent.localName !== 'data' && parent.namespaceURI === el.namespaceURI;
  return el.namespaceURI && !inherited ? `<${el.localName} xmlns="${esc(el.namespaceURI)}">` : `<${el.localName}>`;
}

/** An element as text, with its namespace declared on it (it leaves its parent). */
function serializeWithNs(el: Element): string {
  const clone = el.cloneNode(true) as Element;
  const parentNs = (el.parentNode as Element | null)?.namespaceURI;
  const top = !el.parentNode || el.parentNode.nodeType !== 1 || (el.parentNode as Element).localName === 'data';
  if (el.namespaceURI && (top || parentNs !== el.namespaceURI) && !clone.getAttribute('xmlns')) clone.setAttribute('xmlns', el.namespaceURI);
  return whole(clone);
}

/** The schema list node for a path of local names under the vcn module, if it is one. */
function schemaAt(names: string[]): SchemaNode | undefined {
  let nodes: SchemaNode[] = VCN_SCHEMA.children;
  let node: SchemaNode | undefined;
  for (const n of names) {
    node = nodes.find((x) => x.name === n);
    if (!node) return undefined;
    nodes = node.kind === 'container' || node.kind === 'list' ? node.children : [];
  }
  return node;
}

/**
 * XPath filter: every selected node is returned with its ancestors (list
 * entries keep their keys so the reply still identifies them).
 */
function xpathFilter(data: Element, select: string, filter: Element): string {
  // RFC 6241 §8.9.1: the context is the conceptual root whose children are the top-level nodes;
  // each top-level node is evaluated as the document element of its own document.
  const resolver = { lookupNamespaceURI: (p: string | null) => (p ? filter.lookupNamespaceURI(p) : null) };
  const nodes: Element[] = [];
  const roots: Element[] = [];
  for (const top of children(data)) {
    const doc = parseXml(serialize(top), TRUSTED);
    let found: unknown;
    try {
      found = xpath.selectWithResolver(select, doc as never, resolver as never);
    } catch (e) {
      throw rpcError('invalid-value', 'NETCONF_BAD_VALUE', `the xpath filter does not evaluate: ${(e as Error).message}`, { info: '<bad-attribute>select</bad-attribute><bad-element>filter</bad-element>' });
    }
    if (Array.isArray(found)) nodes.push(...(found as Element[]));
    roots.push(doc.documentElement as unknown as Element);
  }
  // Build a pruned tree: mark the selected elements and their ancestors.
  const keep = new Set<unknown>();
  const full = new Set<unknown>();
  for (const n of nodes as Element[]) {
    let e: Element | null = n.nodeType === 1 ? n : n.nodeType === 2 ? ((n as unknown as Attr).ownerElement as unknown as Element) : (n.parentNode as Element | null);
    if (!e || e.nodeType !== 1) continue;
    full.add(e);
    for (; e && e.nodeType === 1; e = e.parentNode as Element | null) keep.add(e);
  }
  const render = (el: Element, names: string[]): string => {
    if (full.has(el)) return serializeWithNs(el);
    const node = el.namespaceURI === VCN_SCHEMA.namespace ? schemaAt(names) : undefined;
    const keys = node?.kind === 'list' ? node.keys : [];
    const inner = children(el)
      .filter((c) => keep.has(c) || keys.includes(c.localName ?? ''))
      .map((c) => (keep.has(c) ? render(c, [...names, c.localName ?? '']) : serializeWithNs(c)))
      .join('');
    return `${openWithNs(el)}${inner}</${el.localName}>`;
  };
  return roots
    .filter((c) => keep.has(c))
    .map((c) => render(c, [c.localName ?? '']))
    .join('');
}

type Attr = { ownerElement: unknown };
