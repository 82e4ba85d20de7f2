/**
 * Encodings of configuration data: YANG JSON (RFC 7951) and XML (RFC 7950 §7),
 * converted to and from the plain tree validate-tree.ts checks. Conversion from
 * XML is schema-driven: the schema says which elements are lists, leaf-lists
 * and leaves, so repeated elements become arrays.
 */
import { DOMParser, type Element } from '@xmldom/xmldom';
import type { ValidationIssue } from '../../appliance/errors.js';
import type { ModuleSchema, SchemaNode } from './schema-types.js';
import { VCN_SCHEMA } from './schema.generated.js';
import { writeConfigXml } from './xml-writer.js';

type Obj = Record<string, unknown>;

export interface DecodeResult {
  tree: Obj;
  issues: ValidationIssue[];
}

/** RFC 7951: top-level members are qualified by module name ("vcn:services"); inner ones may be. */
export function fromJson7951(input: unknown, schema: ModuleSchema = VCN_SCHEMA): DecodeResult {
  const issues: ValidationIssue[] = [];
  const strip = (value: unknown, path: string, top: boolean): unknown => {
    if (Array.isArray(value)) return value.map((v) => strip(v, path, false));
    if (typeof value !== 'object' || value === null) return value;
    const out: Obj = {};
    for (const [key, v] of Object.entries(value)) {
      const colon = key.indexOf(':');
      const module = colon >= 0 ? key.slice(0, colon) : undefined;
      const name = colon >= 0 ? key.slice(colon + 1) : key;
      if (module !== undefined && module !== schema.module) {
        issues.push({ code: 'SCHEMA_UNKNOWN_NODE', path: `${path}/${key}`, message: `module '${module}' is not known; expected '${schema.module}'` });
        continue;
      }
      if (top && module === undefined) {
        issues.push({ code: 'SCHEMA_UNKNOWN_NODE', path: `/${key}`, message: `top-level member '${key}' must be qualified as '${schema.module}:${key}' (RFC 7951)` });
        continue;
      }
      out[name] = strip(v, `${path}/${name}`, false);
    }
    return out;
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { tree: {}, issues: [{ code: 'CONFIG_READ', path: '/', message: 'JSON configuration must be an object' }] };
  }
  return { tree: strip(input, '', true) as Obj, issues };
}

export function toJson7951(tree: Obj, schema: ModuleSchema = VCN_SCHEMA): Obj {
  return Object.fromEntries(Object.entries(tree).map(([k, v]) => [`${schema.module}:${k}`, v]));
}

function elementChildren(el: Element): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

/**
 * Decodes XML configuration: either top-level elements of our namespace, or a
 * wrapper (<config>, <data>) whose children are.
 */
export function fromXml(xml: string, schema: ModuleSchema = VCN_SCHEMA): DecodeResult {
  const issues: ValidationIssue[] = [];
  const errors: string[] = [];
  const body = xml.replace(/^\s*<\?xml[^>]*\?>/, '');
  let doc;
  try {
    doc = new DOMParser({
      onError: (level, msg) => {
        if (level !== 'warning') errors.push(msg);
      },
    }).parseFromString(`<vcn-wrapper>${body}</vcn-wrapper>`, 'text/xml');
  } catch (e) {
    errors.push((e as Error).message);
  }
  if (errors.length || !doc?.documentElement) {
    return { tree: {}, issues: [{ code: 'CONFIG_READ', path: '/', message: `malformed XML: ${errors[0] ?? 'no root element'}` }] };
  }
  let tops = elementChildren(doc.documentElement as unknown as Element);
  if (tops.length === 1 && ['config', 'data'].includes(tops[0].localName ?? '') && tops[0].namespaceURI !== schema.namespace) {
    tops = elementChildren(tops[0]);
  }
  return { tree: decodeElements(tops, schema.children, '', issues, schema.namespace), issues };
}

export function decodeElements(elements: Element[], nodes: SchemaNode[], path: string, issues: ValidationIssue[], ns: string): Obj {
  const out: Obj = {};
  for (const el of elements) {
    const name = el.localName ?? '';
    const node = nodes.find((n) => n.name === name);
    if (el.namespaceURI !== ns) {
      issues.push({ code: 'SCHEMA_UNKNOWN_NODE', path: `${path}/${name}`, message: `element '${name}' is in namespace '${el.namespaceURI ?? ''}', expected '${ns}'` });
      continue;
    }
    if (!node) {
      issues.push({ code: 'SCHEMA_UNKNOWN_NODE', path: `${path}/${name}`, message: `'${name}' is not a node of ${path || '/'}` });
      continue;
    }
    const text = () => el.textContent?.trim() ?? '';
    switch (node.kind) {
      case 'leaf':
        out[name] = text();
        break;
      case 'leaf-list':
        ((out[name] ??= []) as unknown[]).push(text());
        break;
      case 'container':
        out[name] = decodeElements(elementChildren(el), node.children, `${path}/${name}`, issues, ns);
        break;
      case 'list':
        ((out[name] ??= []) as unknown[]).push(decodeElements(elementChildren(el), node.children, `${path}/${name}`, issues, ns));
        break;
    }
  }
  return out;
}

/** Encodes a tree as XML elements of our namespace (one per top-level container); see xml-writer.ts. */
export function toXml(tree: Obj, schema: ModuleSchema = VCN_SCHEMA): string {
  return writeConfigXml(tree, schema);
}
