/**
 * Structural validation of a configuration tree against the schema descriptor
 * derived from vcn.yang: unknown nodes, types, ranges, patterns, mandatory
 * nodes, list keys, element counts, choices and leafrefs. It also returns the
 * normalised tree (defaults filled, empty lists present) the engine consumes.
 */
import type { ErrorCode, ValidationIssue } from '../../appliance/errors.js';
import type { Config } from '../../appliance/model/config.generated.js';
import type { ChoiceInfo, LeafType, ModuleSchema, SchemaNode } from './schema-types.js';
import { VCN_SCHEMA } from './schema.generated.js';
import { checkValue } from './value-types.js';

type Obj = Record<string, unknown>;

interface Reference {
  path: string;
  value: string;
  target: string;
}

const knownNames = new WeakMap<SchemaNode[], Set<string>>();

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** UNKNOWN_DEVICE for a leafref to /devices/device/name, and so on. */
function leafrefCode(target: string): ErrorCode {
  const list = target.split('/').filter(Boolean).slice(-2)[0] ?? '';
  const code = `UNKNOWN_${list.toUpperCase()}`;
  return (['UNKNOWN_DEVICE', 'UNKNOWN_POOL', 'UNKNOWN_INTERFACE', 'UNKNOWN_PACKAGE'].includes(code) ? code : 'SCHEMA_TYPE') as ErrorCode;
}

function keyPredicate(entry: Obj, keys: string[]): string {
  return keys.map((k) => `[${k}='${String(entry[k] ?? '')}']`).join('');
}

export interface TreeResult {
  config: Config;
  issues: ValidationIssue[];
}

export function validateTree(data: unknown, schema: ModuleSchema = VCN_SCHEMA): TreeResult {
  const issues: ValidationIssue[] = [];
  const refs: Reference[] = [];
  const report = (code: ErrorCode, path: string, message: string) => issues.push({ code, path, message });

  function activeCases(choices: ChoiceInfo[] | undefined, input: Obj, path: string): Map<string, string> {
    const active = new Map<string, string>();
    for (const choice of choices ?? []) {
      // An empty list or leaf-list does not exist in YANG: it selects no case.
      const isSet = (n: string) => input[n] !== undefined && !(Array.isArray(input[n]) && (input[n] as unknown[]).length === 0);
      const present = Object.entries(choice.cases).filter(([, names]) => names.some(isSet));
      if (present.length > 1) {
        const [a, b] = present.map(([c, names]) => `${c} (${names.filter(isSet).join(', ')})`);
        report('SCHEMA_CHOICE', path, `choice '${choice.name}' has nodes of two cases set: ${a} and ${b}`);
      } else if (present.length === 0 && choice.mandatory) {
        report('SCHEMA_MANDATORY', path, `choice '${choice.name}' is mandatory: set one of ${Object.values(choice.cases).flat().join(', ')}`);
      }
      if (present[0]) active.set(choice.name, present[0][0]);
    }
    return active;
  }

  function leaf(type: LeafType, raw: unknown, path: string): unknown {
    const result = checkValue(type, raw);
    if ('code' in result) {
      report(result.code, path, result.message);
      return undefined;
    }
    if (type.base === 'leafref' && type.path) refs.push({ path, value: String(result.value), target: type.path });
    return result.value;
  }

  function children(nodes: SchemaNode[], choices: ChoiceInfo[] | undefined, input: Obj, path: string): Obj {
    const out: Obj = {};
    let known = knownNames.get(nodes);
    if (!known) knownNames.set(nodes, (known = new Set(nodes.map((n) => n.name))));
    for (const key in input) {
      if (!known.has(key)) report('SCHEMA_UNKNOWN_NODE', `${path}/${key}`, `'${key}' is not a node of ${path || '/'}`);
    }
    const active = activeCases(choices, input, path || '/');
    for (const node of nodes) {
      const inActiveCase = !node.choice || active.get(node.choice.choice) === node.choice.case;
      const value = node.kind === 'leaf' ? leafNode(node, input[node.name], `${path}/${node.name}`, inActiveCase) : dataNode(node, input[node.name], `${path}/${node.name}`);
      if (value !== undefined) out[node.name] = value;
    }
    return out;
  }

  function leafNode(node: Extract<SchemaNode, { kind: 'leaf' }>, raw: unknown, path: string, inActiveCase: boolean): unknown {
    if (raw === undefined) {
      if (node.mandatory && inActiveCase) report('SCHEMA_MANDATORY', path, `'${node.name}' is mandatory`);
      return node.default !== undefined && inActiveCase ? leaf(node.type, node.default, path) : undefined;
    }
    return leaf(node.type, raw, path);
  }

  function dataNode(node: SchemaNode, raw: unknown, path: string): unknown {
    switch (node.kind) {
      case 'leaf':
        throw new Error('unreachable');
      case 'leaf-list': {
        if (raw === undefined) raw = [];
        if (!Array.isArray(raw)) {
          report('SCHEMA_TYPE', path, `'${node.name}' is a leaf-list: expected an array`);
          return [];
        }
        countCheck(node, raw.length, path);
        const seen = new Set<string>();
        const values: unknown[] = [];
        raw.forEach((v) => {
          const value = leaf(node.type, v, `${path}[.='${String(v)}']`);
          if (value === undefined) return;
          if (seen.has(String(value))) report('SCHEMA_DUPLICATE_KEY', `${path}[.='${String(v)}']`, `'${String(v)}' appears twice in ${node.name}`);
          seen.add(String(value));
          values.push(value);
        });
        return values;
      }
      case 'container': {
        if (raw === undefined) {
          if (node.presence) return undefined;
          raw = {};
        }
        if (!isObject(raw)) {
          report('SCHEMA_TYPE', path, `'${node.name}' is a container: expected an object`);
          return undefined;
        }
        return children(node.children, node.choices, raw, path);
      }
      case 'list': {
        if (raw === undefined) raw = [];
        if (!Array.isArray(raw)) {
          report('SCHEMA_TYPE', path, `'${node.name}' is a list: expected an array of entries`);
          return [];
        }
        countCheck(node, raw.length, path);
        const seen = new Map<string, number>();
        const entries: Obj[] = [];
        raw.forEach((entry, i) => {
          if (!isObject(entry)) {
            report('SCHEMA_TYPE', `${path}[${i + 1}]`, `entry ${i + 1} of ${node.name} is not an object`);
            return;
          }
          const entryPath = `${path}${keyPredicate(entry, node.keys)}`;
          for (const k of node.keys) {
            if (entry[k] === undefined) report('SCHEMA_MANDATORY', `${path}[${i + 1}]/${k}`, `list key '${k}' is missing in entry ${i + 1} of ${node.name}`);
          }
          const keyText = node.keys.map((k) => String(entry[k])).join(' ');
          if (seen.has(keyText)) {
            report('SCHEMA_DUPLICATE_KEY', entryPath, `entries ${seen.get(keyText)} and ${i + 1} of ${node.name} have the same key '${keyText}'`);
          }
          seen.set(keyText, i + 1);
          entries.push(children(node.children, node.choices, entry, entryPath));
        });
        return entries;
      }
    }
  }

  function countCheck(node: { name: string; min?: number; max?: number }, n: number, path: string) {
    if (node.min !== undefined && n < node.min) report('SCHEMA_MIN_ELEMENTS', path, `'${node.name}' needs at least ${node.min} entr${node.min === 1 ? 'y' : 'ies'}, has ${n}`);
    if (node.max !== undefined && n > node.max) report('SCHEMA_MAX_ELEMENTS', path, `'${node.name}' allows at most ${node.max} entries, has ${n}`);
  }

  const root = isObject(data) ? data : (report('SCHEMA_TYPE', '/', 'the configuration must be an object'), {});
  const config = children(schema.children, undefined, root, '') as unknown as Config;

  const targets = new Map<string, Set<string>>();
  for (const ref of refs) {
    let values = targets.get(ref.target);
    if (!values) {
      values = new Set(collect(config, ref.target.split('/').filter(Boolean)));
      targets.set(ref.target, values);
    }
    if (!values.has(ref.value)) {
      const kind = ref.target.split('/').filter(Boolean).slice(-2)[0];
      report(leafrefCode(ref.target), ref.path, `${kind} '${ref.value}' does not exist`);
    }
  }
  return { config, issues };
}

function collect(node: unknown, steps: string[]): string[] {
  if (steps.length === 0) return node === undefined ? [] : [String(node)];
  if (Array.isArray(node)) return node.flatMap((n) => collect(n, steps));
  if (!isObject(node)) return [];
  return collect(node[steps[0]], steps.slice(1));
}
