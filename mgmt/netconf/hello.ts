/** Capabilities the server advertises, and the hello exchange (RFC 6241 §8.1). */
import type { Element } from '@xmldom/xmldom';
import { VCN_SCHEMA } from '../schema/schema.generated.js';
import { children, esc, NS, text } from './xml.js';

export const BASE_10 = 'urn:ietf:params:netconf:base:1.0';
export const BASE_11 = 'urn:ietf:params:netconf:base:1.1';

export const YANG_LIBRARY_CONTENT_ID = `vcn-${VCN_SCHEMA.revision}`;

export const CAPABILITIES = [
  BASE_10,
  BASE_11,
  'urn:ietf:params:netconf:capability:candidate:1.0',
  'urn:ietf:params:netconf:capability:confirmed-commit:1.0',
  'urn:ietf:params:netconf:capability:confirmed-commit:1.1',
  'urn:ietf:params:netconf:capability:validate:1.0',
  'urn:ietf:params:netconf:capability:validate:1.1',
  'urn:ietf:params:netconf:capability:rollback-on-error:1.0',
  'urn:ietf:params:netconf:capability:startup:1.0',
  'urn:ietf:params:netconf:capability:xpath:1.0',
  'urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=report-all&also-supported=trim',
  'urn:ietf:params:netconf:capability:notification:1.0',
  'urn:ietf:params:netconf:capability:interleave:1.0',
  `urn:ietf:params:netconf:capability:yang-library:1.1?revision=2019-01-04&content-id=${YANG_LIBRARY_CONTENT_ID}`,
  `${VCN_SCHEMA.namespace}?module=${VCN_SCHEMA.module}&revision=${VCN_SCHEMA.revision}`,
  `${NS.monitoring}?module=ietf-netconf-monitoring&revision=2010-10-04`,
  `${NS.withDefaults}?module=ietf-netconf-with-defaults&revision=2011-06-01`,
  `${NS.ncNotifications}?module=ietf-netconf-notifications&revision=2012-02-06`,
];

export function serverHello(sessionId: number): string {
  const caps = CAPABILITIES.map((c) => `<capability>${esc(c)}</capability>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><hello xmlns="${NS.base}"><capabilities>${caps}</capabilities><session-id>${sessionId}</session-id></hello>`;
}

/** The client's capabilities, or an error message when the element is not a usable hello. */
export function readClientHello(root: Element): { capabilities: string[] } | { error: string } {
  if (root.localName !== 'hello' || root.namespaceURI !== NS.base) return { error: `expected <hello> in ${NS.base}, got <${root.localName}> in '${root.namespaceURI ?? ''}'` };
  const caps = children(root).find((c) => c.localName === 'capabilities' && c.namespaceURI === NS.base);
  if (!caps) return { error: 'the hello has no capabilities' };
  if (children(root).some((c) => c.localName === 'session-id')) return { error: 'a client hello must not carry a session-id' };
  const list = children(caps)
    .filter((c) => c.localName === 'capability')
    .map(text);
  if (!list.includes(BASE_10) && !list.includes(BASE_11)) return { error: 'the client supports neither base:1.0 nor base:1.1' };
  return { capabilities: list };
}
