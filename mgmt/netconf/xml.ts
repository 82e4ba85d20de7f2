/**
 * The XML layer of the NETCONF server: strict, namespace-aware parsing and
 * small helpers to build replies. saxes checks the text is well-formed XML
 * with every prefix bound, and the @xmldom/xmldom DOM that the operations and
 * the XPath filter work on is built from its events (xmldom's own parser
 * recovers from many errors silently, and it is slow: ~1 MB/s). DOCTYPEs are
 * refused (no entity expansion from the network); elements nested deeper than
 * MAX_DEPTH or more than MAX_ELEMENTS in one message are refused before the
 * DOM grows (a few MB of `<a>` would otherwise cost a GB of heap or the stack).
 */
import { DOMImplementation, XMLSerializer, type Document, type Element, type Node } from '@xmldom/xmldom';
import { SaxesParser, type SaxesTagNS } from 'saxes';

export const NS = {
  base: 'urn:ietf:params:xml:ns:netconf:base:1.0',
  notification: 'urn:ietf:params:xml:ns:netconf:notification:1.0',
  monitoring: 'urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring',
  withDefaults: 'urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults',
  ncNotifications: 'urn:ietf:params:xml:ns:yang:ietf-netconf-notifications',
  yangLibrary: 'urn:ietf:params:xml:ns:yang:ietf-yang-library',
  datastores: 'urn:ietf:params:xml:ns:yang:ietf-datastores',
} as const;

/** Deepest element nesting accepted (the deepest request the schema needs is about 15). */
export const MAX_DEPTH = 64;
/**
 * Most elements in one message: a DOM costs up to ~1 KB per element, so this
 * bounds one request's heap to about 1 GB (a copy-config of 10k services
 * needs about 200 000 elements).
 */
export const MAX_ELEMENTS = 1_000_000;

export class XmlSyntaxError extends Error {}

/** Well-formed, but beyond what the server accepts (depth, element count). */
export class XmlLimitError extends XmlSyntaxError {}

export function parseXml(text: string, limits: { maxDepth?: number; maxElements?: number } = {}): Document {
  const maxDepth = limits.maxDepth ?? MAX_DEPTH;
  const maxElements = limits.maxElements ?? MAX_ELEMENTS;
  const doc = new DOMImplementation().createDocument(null, '') as unknown as Document;
  const stack: Node[] = [doc as unknown as Node];
  let elements = 0;
  const sax = new SaxesParser({ xmlns: true, position: true });
  sax.on('doctype', () => {
    throw new XmlSyntaxError('DOCTYPE is not allowed');
  });
  sax.on('opentag', (tag) => {
    if (stack.length > maxDepth) throw new XmlLimitError(`elements are nested deeper than ${maxDepth} levels`);
    if (++elements > maxElements) throw new XmlLimitError(`the message has more than ${maxElements} elements`);
    const t = tag as SaxesTagNS;
    const el = doc.createElementNS(t.uri || null, t.name);
    for (const a of Object.values(t.attributes)) {
      if (a.uri) el.setAttributeNS(a.uri, a.name, a.value);
      else el.setAttribute(a.name, a.value);
    }
    stack[stack.length - 1].appendChild(el as unknown as Node);
    stack.push(el as unknown as Node);
  });
  sax.on('closetag', () => {
    stack.pop();
  });
  const addText = (s: string) => {
    // Text outside the root element can only be whitespace (saxes checks); it is not kept.
    if (stack.length > 1) stack[stack.length - 1].appendChild(doc.createTextNode(s) as unknown as Node);
  };
  sax.on('text', addText);
  sax.on('cdata', addText);
  try {
    sax.write(text).close();
  } catch (e) {
    if (e instanceof XmlSyntaxError) throw e;
    throw new XmlSyntaxError((e as Error).message);
  }
  if (!doc.documentElement) throw new XmlSyntaxError('no root element');
  return doc;
}

export function children(el: Element): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

export function child(el: Element, local: string, ns?: string): Element | undefined {
  return children(el).find((c) => c.localName === local && (ns === undefined || c.namespaceURI === ns));
}

/** Text of an element's direct text children, trimmed. */
export function text(el: Element): string {
  return (el.textContent ?? '').trim();
}

/** True when an element has non-whitespace text and no element children. */
export function isLeafLike(el: Element): boolean {
  return children(el).length === 0 && text(el) !== '';
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function serialize(el: Element | Document): string {
  return new XMLSerializer().serializeToString(el as never);
}

/** `<name>text</name>` with escaping. */
export function leaf(name: string, value: string | number | boolean): string {
  return `<${name}>${esc(String(value))}</${name}>`;
}
