/**
 * Reads the YIN form of a YANG module (as printed by `yanglint -f yin`) into the
 * schema descriptor. Groupings are expanded, local typedefs resolved, and the
 * few imported typedefs we use are mapped to built-in checks.
 */
import { DOMParser, type Element } from '@xmldom/xmldom';
import type {
  BaseType,
  ChoiceInfo,
  ChoiceMember,
  LeafType,
  ModuleSchema,
  SchemaNode,
} from './schema-types.js';

const IMPORTED_TYPES: Record<string, BaseType> = {
  'inet:ip-address': 'ip-address',
  'inet:ip-prefix': 'ip-prefix',
  'inet:port-number': 'port-number',
  'yang:mac-address': 'mac-address',
};

const BUILTIN_TYPES = new Set<BaseType>(['string', 'boolean', 'uint8', 'uint16', 'uint32', 'enumeration', 'leafref']);

const UINT_LIMITS: Record<string, [number, number]> = {
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  'port-number': [0, 65535],
};

function childElements(el: Element, name?: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (!name || (n as Element).localName === name)) out.push(n as Element);
  }
  return out;
}

function first(el: Element, name: string): Element | undefined {
  return childElements(el, name)[0];
}

function attrOf(el: Element, child: string, attr: string): string | undefined {
  const c = first(el, child);
  return c ? (c.getAttribute(attr) ?? undefined) : undefined;
}

function text(el: Element, child: string): string | undefined {
  const c = first(el, child);
  const t = c && first(c, 'text');
  return t?.textContent?.replace(/\s+/g, ' ').trim();
}

function parseIntervals(expr: string, limits: [number, number]): [number, number][] {
  return expr.split('|').map((part) => {
    const [lo, hi] = part.split('..').map((s) => s.trim());
    const num = (s: string) => (s === 'min' ? limits[0] : s === 'max' ? limits[1] : Number(s));
    return [num(lo), num(hi ?? lo)];
  });
}

export function readYin(yin: string): ModuleSchema {
  const doc = new DOMParser().parseFromString(yin, 'text/xml');
  const mod = doc.documentElement as unknown as Element;
  const prefix = attrOf(mod, 'prefix', 'value') ?? '';
  const typedefs = new Map(childElements(mod, 'typedef').map((t) => [t.getAttribute('name') ?? '', t]));
  const groupings = new Map(childElements(mod, 'grouping').map((g) => [g.getAttribute('name') ?? '', g]));

  function resolveType(typeEl: Element): LeafType {
    const rawName = typeEl.getAttribute('name') ?? '';
    const name = rawName.startsWith(`${prefix}:`) ? rawName.slice(prefix.length + 1) : rawName;
    let type: LeafType;
    if (IMPORTED_TYPES[name]) {
      type = { base: IMPORTED_TYPES[name], typedef: name };
    } else if (BUILTIN_TYPES.has(name as BaseType)) {
      type = { base: name as BaseType };
    } else {
      const def = typedefs.get(name);
      if (!def) throw new Error(`unsupported YANG type ${rawName}`);
      type = { ...resolveType(first(def, 'type')!), typedef: name };
    }
    const limits = UINT_LIMITS[type.base] ?? [0, 0];
    const range = attrOf(typeEl, 'range', 'value');
    if (range) type.range = parseIntervals(range, limits);
    const length = attrOf(typeEl, 'length', 'value');
    if (length) type.length = parseIntervals(length, [0, 2 ** 32]);
    const patterns = childElements(typeEl, 'pattern').map((p) => p.getAttribute('value') ?? '');
    if (patterns.length) type.pattern = [...(type.pattern ?? []), ...patterns];
    const enums = childElements(typeEl, 'enum').map((e) => e.getAttribute('name') ?? '');
    if (enums.length) type.enums = enums;
    const path = attrOf(typeEl, 'path', 'value');
    if (path) type.path = path.replace(new RegExp(`${prefix}:`, 'g'), '');
    return type;
  }

  function common(el: Element) {
    const description = text(el, 'description');
    return description ? { description } : {};
  }

  function readNodes(parent: Element, member?: ChoiceMember): { nodes: SchemaNode[]; choices: ChoiceInfo[] } {
    const nodes: SchemaNode[] = [];
    const choices: ChoiceInfo[] = [];
    const inChoice = member ? { choice: member } : {};
    for (const el of childElements(parent)) {
      const name = el.getAttribute('name') ?? '';
      switch (el.localName) {
        case 'leaf': {
          const mandatory = attrOf(el, 'mandatory', 'value') === 'true';
          const def = attrOf(el, 'default', 'value');
          nodes.push({
            kind: 'leaf',
            name,
            type: resolveType(first(el, 'type')!),
            ...(mandatory ? { mandatory } : {}),
            ...(def !== undefined ? { default: def } : {}),
            ...inChoice,
            ...common(el),
          });
          break;
        }
        case 'leaf-list': {
          const min = attrOf(el, 'min-elements', 'value');
          const max = attrOf(el, 'max-elements', 'value');
          nodes.push({
            kind: 'leaf-list',
            name,
            type: resolveType(first(el, 'type')!),
            ...(min ? { min: Number(min) } : {}),
            ...(max && max !== 'unbounded' ? { max: Number(max) } : {}),
            ...(attrOf(el, 'ordered-by', 'value') === 'user' ? { orderedByUser: true } : {}),
            ...inChoice,
            ...common(el),
          });
          break;
        }
        case 'container': {
          const inner = readNodes(el);
          nodes.push({
            kind: 'container',
            name,
            ...(first(el, 'presence') ? { presence: true } : {}),
            children: inner.nodes,
            ...(inner.choices.length ? { choices: inner.choices } : {}),
            ...inChoice,
            ...common(el),
          });
          break;
        }
        case 'list': {
          const inner = readNodes(el);
          const min = attrOf(el, 'min-elements', 'value');
          const max = attrOf(el, 'max-elements', 'value');
          nodes.push({
            kind: 'list',
            name,
            keys: (attrOf(el, 'key', 'value') ?? '').split(/\s+/).filter(Boolean),
            ...(min ? { min: Number(min) } : {}),
            ...(max && max !== 'unbounded' ? { max: Number(max) } : {}),
            ...(attrOf(el, 'ordered-by', 'value') === 'user' ? { orderedByUser: true } : {}),
            children: inner.nodes,
            ...(inner.choices.length ? { choices: inner.choices } : {}),
            ...inChoice,
            ...common(el),
          });
          break;
        }
        case 'uses': {
          const grouping = groupings.get(name);
          if (!grouping) throw new Error(`unknown grouping ${name}`);
          const inner = readNodes(grouping, member);
          nodes.push(...inner.nodes);
          choices.push(...inner.choices);
          break;
        }
        case 'choice': {
          const info: ChoiceInfo = { name, cases: {} };
          if (attrOf(el, 'mandatory', 'value') === 'true') info.mandatory = true;
          for (const c of childElements(el)) {
            if (c.localName === 'case') {
              const caseName = c.getAttribute('name') ?? '';
              const inner = readNodes(c, { choice: name, case: caseName });
              info.cases[caseName] = inner.nodes.map((n) => n.name);
              nodes.push(...inner.nodes);
              choices.push(...inner.choices);
            } else if (['leaf', 'leaf-list', 'container', 'list'].includes(c.localName ?? '')) {
              // A shorthand case: the data node is its own case.
              const caseName = c.getAttribute('name') ?? '';
              const wrapper = c.ownerDocument!.createElement('case');
              wrapper.appendChild(c.cloneNode(true));
              const inner = readNodes(wrapper as unknown as Element, { choice: name, case: caseName });
              info.cases[caseName] = inner.nodes.map((n) => n.name);
              nodes.push(...inner.nodes);
            }
          }
          choices.push(info);
          break;
        }
        default:
          break;
      }
    }
    return { nodes, choices };
  }

  return {
    module: mod.getAttribute('name') ?? '',
    namespace: attrOf(mod, 'namespace', 'uri') ?? '',
    prefix,
    revision: first(mod, 'revision')?.getAttribute('date') ?? '',
    children: readNodes(mod).nodes,
  };
}
