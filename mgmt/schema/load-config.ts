/** Reads a configuration file (YANG JSON or XML of the vcn module) and validates it fully. */
import { readFileSync } from 'node:fs';
import { VcnError, type ValidationIssue } from '../../appliance/errors.js';
import type { Config } from '../../appliance/model/config.generated.js';
import { validateSemantics } from '../../appliance/compile/validate-semantics.js';
import { fromJson7951, fromXml } from './config-codec.js';
import { validateTree } from './validate-tree.js';

export interface CheckedConfig {
  config: Config;
  issues: ValidationIssue[];
}

/** Structure first; semantics only on a structurally sound tree (they assume it). */
export function checkConfig(tree: unknown): CheckedConfig {
  const { config, issues } = validateTree(tree);
  if (issues.length) return { config, issues };
  return { config, issues: validateSemantics(config) };
}

export function parseConfigText(text: string, format: 'json' | 'xml'): CheckedConfig {
  let decoded;
  if (format === 'xml') {
    decoded = fromXml(text);
  } else {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return { config: undefined as unknown as Config, issues: [{ code: 'CONFIG_READ', path: '/', message: `malformed JSON: ${(e as Error).message}` }] };
    }
    decoded = fromJson7951(json);
  }
  if (decoded.issues.length) return { config: undefined as unknown as Config, issues: decoded.issues };
  return checkConfig(decoded.tree);
}

export function formatOf(file: string, text: string): 'json' | 'xml' {
  if (file.endsWith('.xml')) return 'xml';
  if (file.endsWith('.json')) return 'json';
  return text.trimStart().startsWith('<') ? 'xml' : 'json';
}

/** Loads and validates a configuration file; throws a VcnError listing every issue. */
export function loadConfigFile(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new VcnError('CONFIG_READ', `cannot read ${file}: ${(e as Error).message}`, [
      { code: 'CONFIG_READ', path: '/', message: `cannot read ${file}: ${(e as Error).message}` },
    ]);
  }
  const { config, issues } = parseConfigText(text, formatOf(file, text));
  if (issues.length) throw new VcnError(issues[0].code, `${file}: ${issues.length} configuration error(s)`, issues);
  return config;
}
