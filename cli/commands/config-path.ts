/**
 * Junos-style configuration paths onto the schema: `services service web
 * port 80 step 1 device fw` walks containers by name, takes a list's key
 * values right after the list's name, and ends at a leaf (then its value) or
 * a leaf-list value. The result is the edit-config XML for `set` (merge) or
 * `delete` (nc:operation="delete" on the last node).
 */
import { NS } from '../../mgmt/netconf/xml.js';
import type { SchemaNode } from '../../mgmt/schema/schema-types.js';
import { VCN_SCHEMA } from '../../mgmt/schema/schema.generated.js';

export class PathError extends Error {}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Frame {
  open: string;
  close: string;
}

/** The edit XML for `set WORDS… VALUE` (op merge) or `delete WORDS…` (op delete). */
export function pathEdit(words: string[], op: 'set' | 'delete'): string {
  if (!words.length) throw new PathError(`${op} needs a path`);
  let nodes: SchemaNode[] = VCN_SCHEMA.children;
  const frames: Frame[] = [];
  const del = ` nc:operation="delete" xmlns:nc="${NS.base}"`;
  let i = 0;
  let inner = '';
  let where = '';
  for (;;) {
    const word = words[i];
    const node = nodes.find((n) => n.name === word);
    if (!node) {
      const known = nodes.map((n) => n.name).join(', ');
      throw new PathError(`'${word ?? ''}' is not a node of ${where || 'the configuration'} (one of: ${known})`);
    }
    where = `${where}/${word}`;
    i++;
    const last = i === words.length;
    const xmlns = frames.length === 0 ? ` xmlns="${VCN_SCHEMA.namespace}"` : '';
    if (node.kind === 'leaf') {
      if (op === 'set') {
        if (last) throw new PathError(`${where} needs a value`);
        if (i !== words.length - 1) throw new PathError(`${where} takes one value; got '${words.slice(i).join(' ')}'`);
        inner = `<${word}${xmlns}>${esc(words[i])}</${word}>`;
      } else {
        if (!last) throw new PathError(`${where} is a leaf: nothing may follow it in a delete`);
        inner = `<${word}${xmlns}${del}/>`;
      }
      break;
    }
    if (node.kind === 'leaf-list') {
      if (last) {
        if (op === 'set') throw new PathError(`${where} needs a value`);
        inner = `<${word}${xmlns}${del}/>`;
      } else {
        if (i !== words.length - 1) throw new PathError(`${where} takes one value; got '${words.slice(i).join(' ')}'`);
        inner = `<${word}${xmlns}${op === 'delete' ? del : ''}>${esc(words[i])}</${word}>`;
      }
      break;
    }
    if (node.kind === 'container') {
      if (last) {
        inner = op === 'delete' ? `<${word}${xmlns}${del}/>` : `<${word}${xmlns}/>`;
        break;
      }
      frames.push({ open: `<${word}${xmlns}>`, close: `</${word}>` });
      nodes = node.children;
      continue;
    }
    // list: the key values follow the list's name
    const keys = words.slice(i, i + node.keys.length);
    if (keys.length < node.keys.length) throw new PathError(`${where} needs its key${node.keys.length > 1 ? 's' : ''} (${node.keys.join(' ')})`);
    i += node.keys.length;
    where += `[${node.keys.map((k, j) => `${k}='${keys[j]}'`).join('][')}]`;
    const keyXml = node.keys.map((k, j) => `<${k}>${esc(keys[j])}</${k}>`).join('');
    if (i === words.length) {
      inner = `<${word}${xmlns}${op === 'delete' ? del : ''}>${keyXml}</${word}>`;
      break;
    }
    frames.push({ open: `<${word}${xmlns}>${keyXml}`, close: `</${word}>` });
    nodes = node.children.filter((c) => !node.keys.includes(c.name));
  }
  for (let f = frames.length - 1; f >= 0; f--) inner = `${frames[f].open}${inner}${frames[f].close}`;
  return inner;
}
