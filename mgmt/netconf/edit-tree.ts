/**
 * edit-config on a configuration tree (RFC 6241 §7.2): the <config> elements
 * are walked together with the schema descriptor, so list entries are found by
 * their keys, leaf values are typed by the schema, and each node's operation
 * (merge, replace, create, delete, remove; inherited, default-operation at the
 * top) is applied to the tree. Errors carry the node's path.
 */
import type { Element } from '@xmldom/xmldom';
import type { ContainerNode, ListNode, SchemaNode } from '../schema/schema-types.js';
import { VCN_SCHEMA } from '../schema/schema.generated.js';
import { checkValue } from '../schema/value-types.js';
import { RpcError, toXPath, type RpcErrorSpec } from './rpc-error.js';
import { children, esc, NS, text } from './xml.js';

type Obj = Record<string, unknown>;
export type EditOp = 'merge' | 'replace' | 'create' | 'delete' | 'remove' | 'none';
const OPS: EditOp[] = ['merge', 'replace', 'create', 'delete', 'remove'];

interface Ctx {
  continueOnError: boolean;
  errors: RpcErrorSpec[];
}

function fail(tag: string, appTag: string, path: string, message: string, badElement?: string): never {
  throw new RpcError({ type: 'application', tag, appTag, path: toXPath(path), message, info: badElement ? `<bad-element>${esc(badElement)}</bad-element>` : undefined });
}

/**
 * Applies the children of <config> to `tree` (changed in place). With
 * continue-on-error the errors are collected and the rest applied; otherwise
 * the first error is thrown.
 */
export function applyEdit(tree: Obj, config: Element, defaultOp: 'merge' | 'replace' | 'none', continueOnError: boolean): RpcErrorSpec[] {
  const ctx: Ctx = { continueOnError, errors: [] };
  if (defaultOp === 'replace') {
    // The whole configuration is replaced by <config>'s content.
    for (const k of Object.keys(tree)) delete tree[k];
  }
  editChildren(tree, children(config), VCN_SCHEMA.children, defaultOp, '', ctx, []);
  return ctx.errors;
}

function editChildren(target: Obj, elements: Element[], nodes: SchemaNode[], inherited: EditOp, path: string, ctx: Ctx, skip: string[]): void {
  for (const el of elements) {
    if (skip.includes(el.localName ?? '') && el.namespaceURI === VCN_SCHEMA.namespace) continue;
    try {
      editOne(target, el, nodes, inherited, path, ctx);
    } catch (e) {
      if (ctx.continueOnError && e instanceof RpcError) ctx.errors.push(...e.errors);
      else throw e;
    }
  }
}

function opOf(el: Element, inherited: EditOp, path: string): EditOp {
  const a = el.getAttributeNS(NS.base, 'operation');
  if (!a) return inherited;
  if (!OPS.includes(a as EditOp)) {
    throw new RpcError({ type: 'application', tag: 'bad-attribute', appTag: 'NETCONF_BAD_VALUE', path: toXPath(path), message: `operation '${a}' is not one of ${OPS.join(', ')}`, info: `<bad-attribute>operation</bad-attribute><bad-element>${esc(el.localName ?? '')}</bad-element>` });
  }
  return a as EditOp;
}

function typed(node: Extract<SchemaNode, { kind: 'leaf' | 'leaf-list' }>, el: Element, path: string): unknown {
  if (children(el).length) fail('invalid-value', 'SCHEMA_TYPE', path, `'${node.name}' is a ${node.kind}: it holds text, not elements`, node.name);
  const r = checkValue(node.type, text(el));
  if ('code' in r) fail('invalid-value', r.code, path, r.message, node.name);
  return r.value;
}

function editOne(target: Obj, el: Element, nodes: SchemaNode[], inherited: EditOp, path: string, ctx: Ctx): void {
  const name = el.localName ?? '';
  const p = `${path}/${name}`;
  if (el.namespaceURI !== VCN_SCHEMA.namespace) {
    throw new RpcError({
      type: 'application',
      tag: 'unknown-namespace',
      appTag: 'NETCONF_UNKNOWN_NAMESPACE',
      message: `element '${name}' is in namespace '${el.namespaceURI ?? ''}', expected '${VCN_SCHEMA.namespace}'`,
      info: `<bad-element>${esc(name)}</bad-element><bad-namespace>${esc(el.namespaceURI ?? '')}</bad-namespace>`,
    });
  }
  const node = nodes.find((n) => n.name === name);
  if (!node) fail('unknown-element', 'SCHEMA_UNKNOWN_NODE', p, `'${name}' is not a node of ${path || '/'}`, name);
  const op = opOf(el, inherited, p);
  switch (node.kind) {
    case 'leaf': {
      if (op === 'delete' || op === 'remove') {
        if (target[name] === undefined) {
          if (op === 'delete') fail('data-missing', 'NETCONF_DATA_MISSING', p, `'${name}' does not exist: nothing to delete`);
          return;
        }
        delete target[name];
        return;
      }
      if (op === 'none') return;
      const v = typed(node, el, p);
      if (op === 'create' && target[name] !== undefined) fail('data-exists', 'NETCONF_DATA_EXISTS', p, `'${name}' already exists`);
      target[name] = v;
      return;
    }
    case 'leaf-list': {
      const v = typed(node, el, p);
      const lp = `${p}[.='${String(v)}']`;
      const arr = Array.isArray(target[name]) ? (target[name] as unknown[]) : (target[name] = []);
      const i = arr.findIndex((x) => String(x) === String(v));
      if (op === 'delete' || op === 'remove') {
        if (i < 0) {
          if (op === 'delete') fail('data-missing', 'NETCONF_DATA_MISSING', lp, `'${String(v)}' is not in ${name}`);
          return;
        }
        arr.splice(i, 1);
        return;
      }
      if (op === 'none') return;
      if (op === 'create' && i >= 0) fail('data-exists', 'NETCONF_DATA_EXISTS', lp, `'${String(v)}' is already in ${name}`);
      if (i < 0) arr.push(v);
      return;
    }
    case 'container':
      return editContainer(target, el, node, op, p, ctx);
    case 'list':
      return editList(target, el, node, op, p, ctx);
  }
}

/**
 * Entries of a list array by key, built on first use and kept up to date by
 * the edits below (a replace of 10k entries would otherwise scan the list once
 * per entry). Dropped when an entry is removed (indices shift).
 */
const listIndexes = new WeakMap<Obj[], Map<string, number>>();
const keyOf = (node: ListNode, e: Obj) => node.keys.map((k) => String(e[k])).join('\u0000');

function indexOf(node: ListNode, arr: Obj[], key: Obj): number {
  let idx = listIndexes.get(arr);
  if (!idx) {
    idx = new Map();
    for (let i = 0; i < arr.length; i++) if (!idx.has(keyOf(node, arr[i]))) idx.set(keyOf(node, arr[i]), i);
    listIndexes.set(arr, idx);
  }
  return idx.get(keyOf(node, key)) ?? -1;
}

function pushEntry(node: ListNode, arr: Obj[], entry: Obj): void {
  arr.push(entry);
  listIndexes.get(arr)?.set(keyOf(node, entry), arr.length - 1);
}

const isEmpty = (v: unknown) => v === undefined || (typeof v === 'object' && v !== null && Object.values(v).every((x) => x === undefined || (Array.isArray(x) && x.length === 0)));

function editContainer(target: Obj, el: Element, node: ContainerNode, op: EditOp, p: string, ctx: Ctx): void {
  const name = node.name;
  const exists = node.presence ? target[name] !== undefined : !isEmpty(target[name]);
  if (op === 'delete' || op === 'remove') {
    if (!exists && op === 'delete') fail('data-missing', 'NETCONF_DATA_MISSING', p, `'${name}' does not exist: nothing to delete`);
    delete target[name];
    return;
  }
  if (op === 'create' && exists) fail('data-exists', 'NETCONF_DATA_EXISTS', p, `'${name}' already exists`);
  if (op === 'replace' || op === 'create') {
    target[name] = {};
    editChildren(target[name] as Obj, children(el), node.children, op, p, ctx, []);
    return;
  }
  const had = target[name] !== undefined;
  const obj = (had ? target[name] : {}) as Obj;
  editChildren(obj, children(el), node.children, op, p, ctx, []);
  if (!had && (op === 'merge' || Object.keys(obj).length)) target[name] = obj;
}

function editList(target: Obj, el: Element, node: ListNode, op: EditOp, p: string, ctx: Ctx): void {
  const kids = children(el);
  const key: Obj = {};
  for (const k of node.keys) {
    const kn = node.children.find((c) => c.name === k) as Extract<SchemaNode, { kind: 'leaf' }>;
    const kel = kids.find((c) => c.localName === k && c.namespaceURI === VCN_SCHEMA.namespace);
    if (!kel) {
      throw new RpcError({ type: 'application', tag: 'missing-element', appTag: 'NETCONF_MISSING_ELEMENT', path: toXPath(p), message: `an entry of ${node.name} needs its key '${k}'`, info: `<bad-element>${esc(k)}</bad-element>` });
    }
    key[k] = typed(kn, kel, `${p}/${k}`);
  }
  const ep = `${p}${node.keys.map((k) => `[${k}='${String(key[k])}']`).join('')}`;
  const arr = Array.isArray(target[node.name]) ? (target[node.name] as Obj[]) : (target[node.name] = []);
  const i = indexOf(node, arr, key);
  if (op === 'delete' || op === 'remove') {
    if (i < 0) {
      if (op === 'delete') fail('data-missing', 'NETCONF_DATA_MISSING', ep, `${node.name} ${Object.values(key).join(' ')} does not exist: nothing to delete`);
      return;
    }
    arr.splice(i, 1);
    listIndexes.delete(arr);
    return;
  }
  if (op === 'create' && i >= 0) fail('data-exists', 'NETCONF_DATA_EXISTS', ep, `${node.name} ${Object.values(key).join(' ')} already exists`);
  if (op === 'replace' || op === 'create' || (op === 'merge' && i < 0)) {
    const entry: Obj = { ...key };
    if (i >= 0 && op === 'replace') arr[i] = entry;
    else pushEntry(node, arr, entry);
    editChildren(entry, kids, node.children, op, ep, ctx, node.keys);
    return;
  }
  if (i >= 0) {
    editChildren(arr[i], kids, node.children, op, ep, ctx, node.keys);
    return;
  }
  // default-operation none on an entry that does not exist: only explicit operations below may create it.
  const entry: Obj = { ...key };
  editChildren(entry, kids, node.children, op, ep, ctx, node.keys);
  if (Object.keys(entry).length > node.keys.length) pushEntry(node, arr, entry);
}
