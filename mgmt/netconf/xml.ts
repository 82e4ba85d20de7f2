/**
 * The XML layer of the NETCONF server: strict, namespace-aware parsing and
 * small helpers to build replies. Parsing is two steps: saxes checks the text
 * is well-formed XML with every prefix bound (xmldom recovers from many errors
 * silently, which would let malformed requests through), then @xmldom/xmldom
 * builds the DOM the operations and the XPath filter work on. DOCTYPEs are
 * refused (no entity expansion from the network).
 */
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { SaxesParser } from 'saxes';

export const NS = {
  base: 'urn:ietf:params:xml:ns:netconf:base:1.0',
  notification: 'urn:ietf:params:xml:ns:netconf:notification:1.0',
  monitoring: 'urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring',
  withDefaults: 'urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults',
  ncNotifications: 'urn:ietf:params:xml:ns:yang:ietf-netconf-notifications',
  yangLibrary: 'urn:ietf:params:xml:ns:yang:ietf-yang-library',
  datastores: 'urn:ietf:params:xml:ns:yang:ietf-datastores',
} as const;

export class XmlSyntaxError extends Error {}

export function parseXml(text: string): Document {
  const sax = new SaxesParser({ xmlns: true, position: true });
  sax.on('doctype', () => {
    throw new XmlSyntaxError('DOCTYPE is not allowed');
  });
  try {
    sax.write(text).close();
  } catch (e) {
    throw new XmlSyntaxError((e as Error).message);
  }
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level, msg) => {
      if (level !== 'warning') errors.push(msg);
    },
  }).parseFromString(text, 'text/xml');
  if (errors.length || !doc.documentElement) throw new XmlSyntaxError(errors[0] ?? 'no root element');
  return doc as unknown as Document;
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
