/**
 * Edits of the shared candidate: `set PATH VALUE`, `delete PATH`, `load
 * merge|replace FILE`. Like Junos, edits are checked for structure and types
 * only; the whole configuration is validated at commit (or `vcn validate`),
 * so a service can be built up one `set` at a time.
 */
import { readFileSync } from 'node:fs';
import { formatIssue } from '../../appliance/errors.js';
import { fromJson7951, fromXml, toXml } from '../../mgmt/schema/config-codec.js';
import { formatOf } from '../../mgmt/schema/load-config.js';
import { VCN_SCHEMA } from '../../mgmt/schema/schema.generated.js';
import { NS } from '../../mgmt/netconf/xml.js';
import type { CommandIo } from '../compile-command.js';
import type { NetconfClient } from '../netconf-client/client.js';
import { UsageError } from './common.js';
import { PathError, pathEdit } from './config-path.js';

function edit(words: string[], op: 'set' | 'delete'): string {
  try {
    return pathEdit(words, op);
  } catch (e) {
    if (e instanceof PathError) throw new UsageError(e.message);
    throw e;
  }
}

export async function setCommand(c: NetconfClient, words: string[]): Promise<number> {
  await c.editConfig(edit(words, 'set'), { testOption: 'set' });
  return 0;
}

export async function deleteCommand(c: NetconfClient, words: string[]): Promise<number> {
  await c.editConfig(edit(words, 'delete'), { testOption: 'set' });
  return 0;
}

/** Reads FILE (YANG JSON or XML of the vcn module) and merges it into, or replaces, the candidate. */
export async function loadCommand(c: NetconfClient, args: string[], io: CommandIo): Promise<number> {
  const [mode, file] = args;
  if ((mode !== 'merge' && mode !== 'replace') || !file) throw new UsageError('usage: vcn load merge|replace FILE');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let decoded;
  if (formatOf(file, text) === 'xml') decoded = fromXml(text);
  else {
    try {
      decoded = fromJson7951(JSON.parse(text));
    } catch (e) {
      io.err(`vcn: error CONFIG_READ: ${file} is not JSON: ${(e as Error).message}\n`);
      return 1;
    }
  }
  if (decoded.issues.length) {
    for (const i of decoded.issues) io.err(`vcn: error ${formatIssue(i)}\n`);
    return 1;
  }
  let xml = toXml(decoded.tree);
  // replace: the file is the whole configuration, so top-level containers it leaves out go too.
  if (mode === 'replace') {
    for (const n of VCN_SCHEMA.children) if (decoded.tree[n.name] === undefined) xml += `<${n.name} xmlns="${VCN_SCHEMA.namespace}" xmlns:nc="${NS.base}" nc:operation="remove"/>`;
  }
  await c.editConfig(xml, { defaultOperation: mode, testOption: 'set' });
  return 0;
}
