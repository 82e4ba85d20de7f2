/**
 * Derives the schema descriptor and the configuration types from vcn.yang.
 * Run `npm run generate` after changing the module; the schema integrity test
 * fails when the checked-in files differ from what this produces.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readYin } from './yin-reader.js';
import { emitDescriptor, emitTypes } from './emit.js';

const here = dirname(fileURLToPath(import.meta.url));
export const YANG_FILE = join(here, 'vcn.yang');
export const DESCRIPTOR_FILE = join(here, 'schema.generated.ts');
export const TYPES_FILE = join(here, '../../appliance/model/config.generated.ts');

export function generate(): { descriptor: string; types: string } {
  const yin = execFileSync('yanglint', ['-f', 'yin', YANG_FILE], { encoding: 'utf8' });
  const schema = readYin(yin);
  return { descriptor: emitDescriptor(schema), types: emitTypes(schema) };
}

export function generatedFilesMatch(): boolean {
  const { descriptor, types } = generate();
  return readFileSync(DESCRIPTOR_FILE, 'utf8') === descriptor && readFileSync(TYPES_FILE, 'utf8') === types;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { descriptor, types } = generate();
  writeFileSync(DESCRIPTOR_FILE, descriptor);
  writeFileSync(TYPES_FILE, types);
  console.log(`wrote ${DESCRIPTOR_FILE}\nwrote ${TYPES_FILE}`);
}
